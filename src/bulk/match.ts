/**
 * @module bulk/match — the executions a bulk filter matches: the filters of GET /executions over the journal's
 * executions index, tenant-scoped, newest first. The store copies them into the operation's items page by page
 * without reading them out (no row is decoded on the event loop, and each page is a short transaction, so
 * journal commits interleave); `ids` are looked up one by one and filtered here.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { ActorflowError } from '../common/errors.ts';
import type { ExecutionStatus, ExecutionView } from '../common/execution.ts';
import { ID_PREFIX } from '../engine/runtime/tasks.ts';
import type { Engine } from '../engine/types.ts';
import type { BulkStore, ExecutionQuery } from '../store/types.ts';
import type { BulkFilter, BulkPreview } from './types.ts';

/** Executions matched per transaction. */
const PAGE_SIZE = 1000;
/** `ids` looked up between two turns of the event loop. */
const IDS_PER_TURN = 100;

/** True when the filter names at least one criterion (an empty one would match the whole tenant). */
export function hasCriterion(f: BulkFilter): boolean {
  return f.status !== undefined || f.workflow !== undefined || Object.keys(f.labels ?? {}).length > 0 || f.createdAfter !== undefined || f.createdBefore !== undefined || f.ids !== undefined;
}

const epochMs = (value: string | undefined): number | undefined => (value === undefined ? undefined : Date.parse(value));

/** The list query of a filter (its `ids` aside): executions only, never standalone tasks. */
function queryOf(tenant: string, f: BulkFilter, limit: number): ExecutionQuery {
  return {
    tenant,
    status: f.status,
    workflow: f.workflow,
    labels: f.labels,
    createdAfter: epochMs(f.createdAfter),
    createdBefore: epochMs(f.createdBefore),
    idPrefix: ID_PREFIX.execution,
    limit,
  };
}

/** The list filter applied to one execution (for `ids`, which the list does not take). */
function matches(x: ExecutionView, q: ExecutionQuery): boolean {
  if (q.status !== undefined && !q.status.includes(x.status)) return false;
  if (q.workflow !== undefined && x.workflow !== q.workflow) return false;
  for (const [k, v] of Object.entries(q.labels ?? {})) if (x.labels[k] !== v) return false;
  const created = Date.parse(x.createdAt);
  if (q.createdAfter !== undefined && created < q.createdAfter) return false;
  if (q.createdBefore !== undefined && created >= q.createdBefore) return false;
  return true;
}

/** The executions of `filter.ids` that exist in `tenant` and meet the rest of the filter, in the ids' order, without repeats. */
async function matchIds(engine: Engine, tenant: string, filter: BulkFilter & { ids: readonly string[] }, onPage: (ids: readonly string[]) => Promise<void> | void): Promise<number> {
  const q = queryOf(tenant, filter, 0);
  const ids = [...new Set(filter.ids)];
  let count = 0;
  for (let i = 0; i < ids.length; i += IDS_PER_TURN) {
    const views = await Promise.all(ids.slice(i, i + IDS_PER_TURN).map((id) => engine.get(tenant, id).catch(absent)));
    const page = views.filter((x): x is ExecutionView => x !== undefined && matches(x, q)).map((x) => x.id);
    count += page.length;
    if (page.length > 0) await onPage(page);
    await nextTurn();
  }
  return count;
}

/** Stores what `filter` matches as the items of operation `operationId` (seq 1…); resolves with the count. */
export async function storeMatches(engine: Engine, store: BulkStore, operationId: string, tenant: string, filter: BulkFilter): Promise<number> {
  let seq = 1;
  if (filter.ids !== undefined) {
    return matchIds(engine, tenant, { ...filter, ids: filter.ids }, async (ids) => {
      await store.appendItems(operationId, seq, ids);
      seq += ids.length;
    });
  }
  for (let beforeId: string | undefined; ; ) {
    const page = await store.appendMatches(operationId, { ...queryOf(tenant, filter, PAGE_SIZE), beforeId }, seq);
    seq += page.count;
    if (page.count < PAGE_SIZE || page.lastId === undefined) return seq - 1;
    beforeId = page.lastId;
  }
}

/** What `storeMatches` would store: the count and the first `sampleSize` ids, newest first (with `ids`: in their order). */
export async function previewMatches(engine: Engine, store: BulkStore, tenant: string, filter: BulkFilter, sampleSize: number): Promise<BulkPreview> {
  if (filter.ids === undefined) {
    const { count, sample } = await store.previewMatches(queryOf(tenant, filter, sampleSize));
    return { matched: count, sample };
  }
  const sample: string[] = [];
  const matched = await matchIds(engine, tenant, { ...filter, ids: filter.ids }, (ids) => {
    for (const id of ids) if (sample.length < sampleSize) sample.push(id);
  });
  return { matched, sample };
}

/** An id that names no execution of the tenant is simply not matched; anything else is a real failure. */
function absent(err: unknown): undefined {
  if (err instanceof ActorflowError && err.code.endsWith('_not_found')) return undefined;
  throw err;
}
