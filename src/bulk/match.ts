/**
 * @module bulk/match — the executions a bulk filter matches, as GET /executions would list them (same
 * filters, same tenant scoping, newest first), page by page with a turn of the event loop between pages.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { ActorflowError } from '../common/errors.ts';
import type { ExecutionStatus, ExecutionView } from '../common/execution.ts';
import type { Engine, ExecutionFilter } from '../engine/types.ts';
import type { BulkFilter } from './types.ts';

/** Executions read per page of the matching. */
const PAGE_SIZE = 1000;
/** `ids` looked up between two turns of the event loop. */
const IDS_PER_TURN = 100;

/** True when the filter names at least one criterion (an empty one would match the whole tenant). */
export function hasCriterion(f: BulkFilter): boolean {
  return f.status !== undefined || f.workflow !== undefined || Object.keys(f.labels ?? {}).length > 0 || f.createdAfter !== undefined || f.createdBefore !== undefined || f.ids !== undefined;
}

const epochMs = (value: string | undefined): number | undefined => (value === undefined ? undefined : Date.parse(value));

function executionFilter(f: BulkFilter): ExecutionFilter {
  return {
    status: f.status as readonly ExecutionStatus[] | undefined,
    workflow: f.workflow,
    labels: f.labels,
    createdAfter: epochMs(f.createdAfter),
    createdBefore: epochMs(f.createdBefore),
  };
}

/** The list filter applied to one execution (for `ids`, which the list route does not take). */
function matches(x: ExecutionView, f: ExecutionFilter): boolean {
  if (f.status !== undefined && !f.status.includes(x.status)) return false;
  if (f.workflow !== undefined && x.workflow !== f.workflow) return false;
  for (const [k, v] of Object.entries(f.labels ?? {})) if (x.labels[k] !== v) return false;
  const created = Date.parse(x.createdAt);
  if (f.createdAfter !== undefined && created < f.createdAfter) return false;
  if (f.createdBefore !== undefined && created >= f.createdBefore) return false;
  return true;
}

/**
 * Hands every matching execution id of `tenant` to `onPage`, a page at a time (newest first; with `ids`, in
 * their order, duplicates and unknown or other tenants' ids left out). Resolves with the count.
 */
export async function forEachMatch(engine: Engine, tenant: string, filter: BulkFilter, onPage: (ids: readonly string[]) => Promise<void> | void): Promise<number> {
  const f = executionFilter(filter);
  let count = 0;
  if (filter.ids !== undefined) {
    const ids = [...new Set(filter.ids)];
    for (let i = 0; i < ids.length; i += IDS_PER_TURN) {
      const views = await Promise.all(ids.slice(i, i + IDS_PER_TURN).map((id) => engine.get(tenant, id).catch(absent)));
      const page = views.filter((x): x is ExecutionView => x !== undefined && matches(x, f)).map((x) => x.id);
      count += page.length;
      if (page.length > 0) await onPage(page);
      await nextTurn();
    }
    return count;
  }
  for (let cursor: string | undefined; ; ) {
    const page = await engine.list(tenant, f, { limit: PAGE_SIZE, cursor });
    const ids = page.items.map((x) => x.id);
    count += ids.length;
    if (ids.length > 0) await onPage(ids);
    if (page.nextCursor === null) return count;
    cursor = page.nextCursor;
    await nextTurn();
  }
}

/** An id that names no execution of the tenant is simply not matched; anything else is a real failure. */
function absent(err: unknown): undefined {
  if (err instanceof ActorflowError && err.code.endsWith('_not_found')) return undefined;
  throw err;
}
