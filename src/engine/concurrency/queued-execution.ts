/** @module engine/concurrency/queued-execution — the journal row of an execution held by a concurrency limit (it has no actor while queued). */
import type { ExecutionRow, SnapshotRow } from '../../store/types.ts';
import type { Committable } from '../journal/commit-queue.ts';
import type { QueuedEntry } from './concurrency-queues.ts';

/** What the commit writes: the queued start (its first row and `workflow.queued`), or its cancel (`workflow.cancelled`). */
export type QueuedChange = 'queue' | 'cancel';

/** A queued execution in a group commit: its row as it is to be written; no snapshot (nothing runs yet). */
export class QueuedExecution implements Committable {
  stored: boolean;

  constructor(
    readonly row: ExecutionRow,
    readonly entry: QueuedEntry,
    readonly change: QueuedChange,
  ) {
    this.stored = change === 'cancel';
  }

  toCommitRow(): ExecutionRow {
    // As for live executions: input and one-off document are written once, with the first commit.
    return this.stored ? { ...this.row, input: null, definition: null } : this.row;
  }

  toSnapshot(): SnapshotRow | null {
    return null;
  }
}
