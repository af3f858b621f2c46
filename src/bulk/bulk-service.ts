/**
 * @module bulk/bulk-service — bulk operations (issue 17, docs/api/bulk-operations.md): one control call
 * (cancel, retry, pause, resume, signal) on every execution a filter matched when the operation was created.
 * The matched set is stored then, never queried again; the operation is durable and resumes after a restart
 * where it stopped (bulk/runner.ts); it is paced so that it never holds the event loop (bulk/pacer.ts).
 */
import { ConflictError, ErrorCode, NotFoundError, ValidationError } from '../common/errors.ts';
import type { Clock } from '../common/clock.ts';
import { idempotencyExpired } from '../common/idempotency.ts';
import type { Page } from '../common/execution.ts';
import type { Logger } from '../common/logger.ts';
import type { Engine, PageRequest } from '../engine/types.ts';
import type { BulkOperationRow, BulkStore } from '../store/types.ts';
import { hasCriterion, previewMatches, storeMatches } from './match.ts';
import { DEFAULT_MAX_IN_FLIGHT, createPacer } from './pacer.ts';
import { pruneItems } from './prune.ts';
import { OperationRun } from './runner.ts';
import { type BulkEvent, type BulkEventType, type BulkOperation, type BulkPreview, type BulkRequest, isBulkOperationId, newBulkOperationId } from './types.ts';

/** Ids a dry run shows. */
export const SAMPLE_SIZE = 20;

/** An idempotency key of a create and the hash of its request (a different request under the same key is a conflict). */
export interface BulkIdempotency {
  readonly key: string;
  readonly requestHash: string;
}

/** Every call is tenant-scoped: another tenant's operation is `bulk_operation_not_found`. */
export interface BulkOperations {
  /**
   * Stores the matched set (durable when it resolves) and starts the operation. `filter_required` (422) for a
   * filter without a criterion. With `idem`, the same key within 24 h answers the first operation (`replayed`),
   * or `idempotency_key_conflict` (409) for another request.
   */
  create(tenant: string, req: BulkRequest, idem?: BulkIdempotency): Promise<{ readonly operation: BulkOperation; readonly replayed: boolean }>;
  /** What `create` would match, changing nothing. */
  preview(tenant: string, req: Pick<BulkRequest, 'filter'>): Promise<BulkPreview>;
  /** Newest first. */
  list(tenant: string, page: PageRequest): Promise<Page<BulkOperation>>;
  get(tenant: string, id: string): Promise<BulkOperation>;
  /** Stops it: what was done stays done (calls in flight finish). `bulk_operation_finished` (409) once it ended. */
  cancel(tenant: string, id: string): Promise<BulkOperation>;
  /** Resumes the operations a stop or crash left running; call once the engine has recovered. */
  start(): Promise<void>;
  /** `bulk.progress` and `bulk.completed` events. */
  onEvent(listener: (e: BulkEvent) => void): () => void;
  /** Stops every run after its batch in flight (they resume at the next start), then closes the store. Before the engine closes. */
  close(): Promise<void>;
}

export interface BulkOperationsOptions {
  readonly engine: Engine;
  readonly store: BulkStore;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Control calls in flight at most, over all operations. @default DEFAULT_MAX_IN_FLIGHT */
  readonly maxInFlight?: number;
}

function toOperation(row: BulkOperationRow): BulkOperation {
  const { id, tenant, action, filter, matched, succeeded, failed, skipped, errors, createdAt, finishedAt } = row;
  // `creating` rows are never read out of the store.
  const status = row.status === 'creating' ? 'running' : row.status;
  return { id, tenant, action, filter, status, matched, succeeded, failed, skipped, errors, createdAt, finishedAt };
}

const notFound = (id: string): NotFoundError => new NotFoundError(ErrorCode.bulkOperationNotFound, `no bulk operation ${id}`);

export function createBulkOperations(o: BulkOperationsOptions): BulkOperations {
  const { engine, store, clock, logger } = o;
  const pacer = createPacer(o.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT);
  const runs = new Map<string, OperationRun>();
  const listeners = new Set<(e: BulkEvent) => void>();
  /** Creates in progress by tenant and idempotency key: a second one waits for the first. */
  const creating = new Map<string, Promise<unknown>>();
  let closed = false;

  const emit = (row: BulkOperationRow, type: BulkEventType, status: BulkOperation['status'], counts: Pick<BulkOperation, 'succeeded' | 'failed' | 'skipped'>): void => {
    if (listeners.size === 0) return;
    const event: BulkEvent = {
      type,
      operationId: row.id,
      tenant: row.tenant,
      workflow: row.filter.workflow ?? null,
      timestamp: new Date(clock.now()).toISOString(),
      data: { action: row.action, status, matched: row.matched, succeeded: counts.succeeded, failed: counts.failed, skipped: counts.skipped },
    };
    for (const l of listeners) {
      try {
        l(event);
      } catch (err) {
        logger.error('bulk event listener failed', { error: String(err) });
      }
    }
  };

  /** Item deletions in progress (close waits for the slice in flight). */
  const pruning = new Set<Promise<void>>();
  const prune = (id: string, matched: number): void => {
    if (closed) return;
    const p = pruneItems(store, id, matched, () => closed)
      .catch((err: unknown) => logger.warn('bulk operation: its items were not all deleted; the next start goes on', { operationId: id, error: String(err) }))
      .finally(() => pruning.delete(p));
    pruning.add(p);
  };

  const run = (row: BulkOperationRow): void => {
    if (closed) return;
    const r = new OperationRun(row, { engine, store, pacer, clock, logger, announce: (x, type) => emit(x.op, type, x.status, x.progress) });
    runs.set(row.id, r);
    void r.done.finally(() => {
      runs.delete(row.id);
      // Ended (not stopped for a shutdown: that one resumes).
      if (r.status !== 'running') prune(row.id, row.matched);
    });
  };

  const owned = async (tenant: string, id: string): Promise<BulkOperationRow> => {
    const row = isBulkOperationId(id) ? await store.getOperation(id) : undefined;
    if (row === undefined || row.tenant !== tenant) throw notFound(id);
    return row;
  };

  /** Matches, stores the set (items first, then the operation is opened) and starts it. */
  const createNew = async (tenant: string, req: BulkRequest, idem: BulkIdempotency | undefined): Promise<BulkOperation> => {
    const now = clock.now();
    const row: BulkOperationRow = {
      id: newBulkOperationId(now),
      tenant,
      action: req.action,
      filter: req.filter,
      signal: req.signal === undefined ? null : { name: req.signal.name, payload: req.signal.payload ?? null },
      reason: req.reason ?? null,
      status: 'creating',
      matched: 0,
      succeeded: 0,
      failed: 0,
      skipped: 0,
      errors: [],
      nextSeq: 1,
      createdAt: now,
      finishedAt: null,
      idempotencyKey: idem?.key ?? null,
      requestHash: idem?.requestHash ?? null,
    };
    await store.insertOperation(row);
    const matched = await storeMatches(engine, store, row.id, tenant, req.filter);
    // A crash before this line leaves a `creating` operation, dropped at the next start: the client got no 202.
    await store.openOperation(row.id, matched);
    const opened: BulkOperationRow = { ...row, status: 'running', matched };
    run(opened);
    return toOperation(opened);
  };

  const requireCriterion = (req: Pick<BulkRequest, 'filter'>): void => {
    if (!hasCriterion(req.filter)) {
      throw new ValidationError('the filter names no criterion: give status, workflow, labels, createdAfter, createdBefore or ids', [{ path: '/filter', message: 'needs at least one criterion' }], ErrorCode.filterRequired);
    }
  };

  return {
    async create(tenant, req, idem) {
      requireCriterion(req);
      if (idem === undefined) return { operation: await createNew(tenant, req, undefined), replayed: false };
      const key = `${tenant}\u0000${idem.key}`;
      // One create per key at a time: the second sees what the first stored.
      while (creating.has(key)) await creating.get(key)?.catch(() => undefined);
      const attempt = (async () => {
        const prior = await store.findByIdempotencyKey(tenant, idem.key);
        if (prior !== undefined && !idempotencyExpired(prior.createdAt, clock.now())) {
          if (prior.requestHash !== idem.requestHash) throw new ConflictError(ErrorCode.idempotencyKeyConflict, 'the idempotency key was used with a different request');
          return { operation: toOperation(prior), replayed: true };
        }
        return { operation: await createNew(tenant, req, idem), replayed: false };
      })();
      creating.set(key, attempt);
      try {
        return await attempt;
      } finally {
        creating.delete(key);
      }
    },

    async preview(tenant, req) {
      requireCriterion(req);
      return previewMatches(engine, store, tenant, req.filter, SAMPLE_SIZE);
    },

    async list(tenant, page) {
      const rows = await store.listOperations(tenant, page.cursor, page.limit + 1);
      const items = rows.slice(0, page.limit).map(toOperation);
      return { items, nextCursor: rows.length > page.limit ? (items[items.length - 1]?.id ?? null) : null };
    },

    get: async (tenant, id) => toOperation(await owned(tenant, id)),

    async cancel(tenant, id) {
      const row = await owned(tenant, id);
      const r = runs.get(id);
      // The run's own status first: it may have completed (not yet durable) since the read.
      const status = r?.status ?? row.status;
      if (status !== 'running') throw new ConflictError(ErrorCode.bulkOperationFinished, `bulk operation ${id} is ${status}`);
      r?.cancel();
      const at = clock.now();
      await store.finishOperation(id, 'cancelled', at);
      const counts = r?.progress ?? row;
      // A run announces its end once its batch in flight is counted (and prunes after it); without one, the end is now.
      if (r === undefined) {
        emit(row, 'bulk.completed', 'cancelled', counts);
        prune(row.id, row.matched);
      }
      return { ...toOperation(row), succeeded: counts.succeeded, failed: counts.failed, skipped: counts.skipped, errors: counts.errors, status: 'cancelled', finishedAt: at };
    },

    async start() {
      for (const row of await store.recover()) {
        if (runs.has(row.id)) continue;
        logger.info('bulk operation resumed', { operationId: row.id, action: row.action, done: row.nextSeq - 1, matched: row.matched });
        run(row);
      }
      for (const f of await store.finishedWithItems()) prune(f.id, f.matched);
    },

    onEvent(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },

    async close() {
      if (closed) return;
      closed = true;
      await Promise.allSettled([...runs.values()].map((r) => r.stop()));
      await Promise.allSettled([...creating.values()]);
      await Promise.allSettled([...pruning]);
      await store.close();
    },
  };
}
