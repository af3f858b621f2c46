/** @module store/resources/bulk — the rows and the store interface of bulk operations and their matched sets (re-exported by store/types.ts). */
import type { ExecutionQuery } from '../types.ts';

/** What a bulk operation does to each execution it matched: the control call of the execution's own route. */
export type BulkAction = 'cancel' | 'retry' | 'pause' | 'resume' | 'signal';

/** `creating`: its matched set is being written (never shown; dropped at boot if a crash left it so). */
export type BulkStatus = 'creating' | 'running' | 'completed' | 'cancelled';

/** The filter of a bulk operation as the request gave it (times as RFC 3339 text). */
export interface BulkFilter {
  readonly status?: readonly string[];
  readonly workflow?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly createdAfter?: string;
  readonly createdBefore?: string;
  readonly ids?: readonly string[];
}

/** One failed execution of a bulk operation (the first 100 are kept with the operation). */
export interface BulkError {
  readonly executionId: string;
  readonly code: string;
}

/** A bulk operation as stored (times as epoch ms). */
export interface BulkOperationRow {
  readonly id: string;
  readonly tenant: string;
  readonly action: BulkAction;
  readonly filter: BulkFilter;
  /** The signal of a `signal` operation. */
  readonly signal: { readonly name: string; readonly payload: unknown } | null;
  /** `cancel`'s reason, `retry`'s note. */
  readonly reason: string | null;
  readonly status: BulkStatus;
  readonly matched: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly skipped: number;
  readonly errors: readonly BulkError[];
  /** Every item below this seq has its final outcome (where a resume starts). */
  readonly nextSeq: number;
  readonly createdAt: number;
  readonly finishedAt: number | null;
  readonly idempotencyKey: string | null;
  readonly requestHash: string | null;
}

/**
 * Where one matched execution stands: null not acted on yet; `started`: the control call may have been
 * made (recorded durably before it, with `markSeq`, the execution's last journaled seq then); the rest final.
 */
export type BulkItemOutcome = 'started' | 'succeeded' | 'failed' | 'skipped';

export interface BulkItemRow {
  readonly seq: number;
  readonly executionId: string;
  readonly outcome: BulkItemOutcome | null;
  /** With `started`: the execution's `lastSeq` when it was marked (null when it had no stored row). */
  readonly markSeq: number | null;
}

/** The final outcome of one item; `code` for `failed`. */
export interface BulkItemResult {
  readonly seq: number;
  readonly outcome: 'succeeded' | 'failed' | 'skipped';
  readonly code: string | null;
}

/** An operation's counters after a batch, written with the batch's outcomes (one transaction). */
export interface BulkProgress {
  readonly succeeded: number;
  readonly failed: number;
  readonly skipped: number;
  readonly errors: readonly BulkError[];
  readonly nextSeq: number;
}

/**
 * Bulk operations and their matched executions, numbered 1…matched in `seq` order (src/bulk). Writes
 * are durable when they resolve; none of them holds the event loop while it waits for the disk.
 */
export interface BulkStore {
  /** A new operation in status `creating`, before its items. */
  insertOperation(row: BulkOperationRow): Promise<void>;
  /** Matched executions with seq `fromSeq`, `fromSeq + 1`, …, in one transaction. */
  appendItems(operationId: string, fromSeq: number, executionIds: readonly string[]): Promise<void>;
  /**
   * Appends the executions `q` lists (newest first, at most `q.limit`) as items from seq `fromSeq`, in one
   * transaction, without reading them out of the database; the last one appended is where the next page starts.
   */
  appendMatches(operationId: string, q: ExecutionQuery, fromSeq: number): Promise<{ readonly count: number; readonly lastId: string | undefined }>;
  /** How many executions `q` lists (its `limit` aside), and the first `q.limit` ids, newest first. */
  previewMatches(q: ExecutionQuery): Promise<{ readonly count: number; readonly sample: readonly string[] }>;
  /** `creating` → `running` with its count: from here on it is shown and resumed. */
  openOperation(id: string, matched: number): Promise<void>;
  getOperation(id: string): Promise<BulkOperationRow | undefined>;
  /** The newest operation of `tenant` created with this idempotency key, if any. */
  findByIdempotencyKey(tenant: string, key: string): Promise<BulkOperationRow | undefined>;
  /** `tenant`'s operations, newest first, ids strictly below `beforeId` when given. */
  listOperations(tenant: string, beforeId: string | undefined, limit: number): Promise<BulkOperationRow[]>;
  /** At boot: deletes operations a crash left `creating` (and their items); returns the `running` ones. */
  recover(): Promise<BulkOperationRow[]>;
  /** Items from `fromSeq` on, in seq order, at most `limit`. */
  items(operationId: string, fromSeq: number, limit: number): Promise<BulkItemRow[]>;
  /** Marks items `started`, each with its execution's last journaled seq. */
  markStarted(operationId: string, seqs: readonly number[]): Promise<void>;
  /** Final outcomes of items and the operation's counters after them, in one transaction. */
  recordOutcomes(operationId: string, results: readonly BulkItemResult[], progress: BulkProgress): Promise<void>;
  /** `running` → `completed` or `cancelled`. */
  finishOperation(id: string, status: 'completed' | 'cancelled', at: number): Promise<void>;
  /** Deletes a finished operation's items with seq in [`fromSeq`, `fromSeq + count`) (nothing reads them once it ended). */
  pruneItems(operationId: string, fromSeq: number, count: number): Promise<void>;
  /** Finished operations that still have items (a stop or crash came before their pruning ended), with their item count. */
  finishedWithItems(): Promise<{ readonly id: string; readonly matched: number }[]>;
  close(): Promise<void>;
}
