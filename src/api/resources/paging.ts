/** @module api/resources/paging — cursor paging of the list routes: `?limit=&cursor=` in, `{ items, nextCursor }` out. */
import type { PageRequest } from '../../engine/types.ts';
import type { Page } from '../../common/execution.ts';
import type { RouteInput } from '../routing/route-spec.ts';

/** `?limit=&cursor=` of a validated query (ajv filled in the default limit; `cursor=` means none). */
export function pageOf(query: RouteInput['query']): PageRequest {
  const cursor = query['cursor'] as string | undefined;
  return { limit: query['limit'] as number, cursor: cursor === '' ? undefined : cursor };
}

/** A page of a store, each item as the API shows it. */
export function viewPage<T, V>(page: Page<T>, view: (item: T) => V): Page<V> {
  return { items: page.items.map(view), nextCursor: page.nextCursor };
}

/**
 * A page of items held in memory, ordered by id, each as the API shows it: the cursor is the last
 * id of the previous page (opaque to clients).
 */
export function pageById<T extends { readonly id: string }, V>(items: readonly T[], page: PageRequest, view: (item: T) => V): Page<V> {
  const { limit, cursor } = page;
  const rest = items.filter((t) => cursor === undefined || t.id > cursor).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const kept = rest.slice(0, limit);
  return { items: kept.map(view), nextCursor: rest.length > limit ? (kept[kept.length - 1]?.id ?? null) : null };
}
