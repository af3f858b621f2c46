/**
 * @module engine/journal/journal — where executions' histories become durable. The engine writes and reads
 * its journal only through this interface: single-node mode puts it in SQLite (the Store), cluster
 * mode can put it on a replicated JetStream stream per partition without touching the engine.
 */
import type { EventRecord } from '../../common/execution.ts';
import type { CommitBatch, RecoverableRow, Store } from '../../store/types.ts';

export interface Journal {
  /** Appends one group commit (events, execution rows, snapshots) atomically; resolves once durable, rejects and keeps nothing when it fails. */
  append(batch: CommitBatch): Promise<void>;
  /** Events of an execution with seq greater than `afterSeq`, in seq order, at most `limit`. */
  readSince(executionId: string, afterSeq: number, limit: number): Promise<EventRecord[]>;
  /** What an execution is rebuilt from: its row and its latest snapshot (one read). */
  loadRestorable(executionId: string): Promise<RecoverableRow | undefined>;
}

/** The journal of single-node mode: the SQLite store's transaction, events table and snapshots table. */
export function storeJournal(store: Store): Journal {
  return {
    append: (batch) => store.commit(batch),
    readSince: (executionId, afterSeq, limit) => store.listEvents(executionId, afterSeq, limit),
    loadRestorable: (executionId) => store.getRecoverable(executionId),
  };
}
