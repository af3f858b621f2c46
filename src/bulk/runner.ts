/**
 * @module bulk/runner — runs one bulk operation over its stored matched set, batch by batch, from where its
 * durable state says it stopped:
 *
 * 1. the batch's new items are marked `started` (durably, each with its execution's last seq) before any call
 *    (the next batch is read and marked while the calls of the current one run);
 * 2. each item gets its call through the shared pacer (one started per event-loop turn, a bounded number in
 *    flight); an item found `started` (a crash came between 1 and 3) first has its execution's events read
 *    after that seq: if the call's event is there it succeeded and is not made again, so no execution is
 *    acted on twice, signals included;
 * 3. the outcomes and the operation's counters are written in one transaction, then progress is announced.
 *
 * A cancel takes effect between batches (the calls of the batch in flight finish and are counted).
 */
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import type { Clock } from '../common/clock.ts';
import { ActorflowError, ErrorCode } from '../common/errors.ts';
import type { Logger } from '../common/logger.ts';
import type { Engine } from '../engine/types.ts';
import type { BulkError, BulkItemResult, BulkItemRow, BulkOperationRow, BulkProgress, BulkStore } from '../store/types.ts';
import { type ItemOutcome, act, wasJournaled } from './control.ts';
import type { Pacer } from './pacer.ts';
import type { BulkEventType, BulkOperationStatus } from './types.ts';

/**
 * Executions per batch: two durable writes (marks, outcomes) per batch, each holding SQLite's one write lock
 * (and, with sync=full, an fsync) while the journal's commits wait; fewer, larger ones delay them less often.
 */
export const BATCH_SIZE = 250;
/** Errors kept with an operation. */
export const MAX_ERRORS = 100;
/** `bulk.progress` at most this often per operation. */
export const PROGRESS_EVERY_MS = 100;
/** After a store failure, the batch is tried again (from its durable state) this much later. */
const RETRY_AFTER_MS = 1000;

export interface RunnerDeps {
  readonly engine: Engine;
  readonly store: BulkStore;
  readonly pacer: Pacer;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Told after each durable batch (throttled) and at the end. */
  readonly announce: (run: OperationRun, type: BulkEventType) => void;
}

/** One operation being run; its counters are what is durable. */
export class OperationRun {
  status: BulkOperationStatus = 'running';
  progress: BulkProgress;
  private stopping = false;
  private lastProgressAt = 0;
  /** Settles when the loop has stopped (done, cancelled, or closing). */
  readonly done: Promise<void>;

  constructor(
    readonly op: BulkOperationRow,
    private readonly d: RunnerDeps,
  ) {
    this.progress = { succeeded: op.succeeded, failed: op.failed, skipped: op.skipped, errors: op.errors, nextSeq: op.nextSeq };
    this.done = this.loop();
  }

  /** Stops after the batch in flight (a restart resumes it). */
  stop(): Promise<void> {
    this.stopping = true;
    return this.done;
  }

  /** Marks it cancelled now (the caller persists that); the loop ends after the batch in flight. */
  cancel(): void {
    this.status = 'cancelled';
  }

  private async loop(): Promise<void> {
    // Cancelled while it waited to be resumed (the row read at boot may be older than the cancel).
    if ((await this.d.store.getOperation(this.op.id))?.status !== 'running') this.status = 'cancelled';
    /** The next batch, read and marked while the calls of the current one run (its marks' fsync overlaps them). */
    let ahead: Promise<readonly BulkItemRow[]> | undefined;
    while (!this.stopping && this.status === 'running') {
      try {
        const items = await (ahead ?? this.load(this.progress.nextSeq));
        ahead = undefined;
        const last = items[items.length - 1];
        if (last === undefined) {
          // Synchronously with the check: a cancel arriving from here on finds it completed.
          if (this.status !== 'running') break;
          this.status = 'completed';
          await this.d.store.finishOperation(this.op.id, 'completed', this.d.clock.now());
          break;
        }
        if (this.status !== 'running' || this.stopping) break;
        ahead = this.load(last.seq + 1);
        // Awaited next turn (or dropped on a failure: the loop starts again from the durable state).
        ahead.catch(() => undefined);
        await this.batch(items);
      } catch (err) {
        ahead = undefined;
        this.d.logger.error('bulk operation: a batch failed; it is tried again from its durable state', { operationId: this.op.id, error: String(err) });
        await sleep(RETRY_AFTER_MS);
      }
      await nextTurn();
    }
    // Marks of a batch read ahead and never run stay `started`: a resume checks them like any other.
    await ahead?.catch(() => undefined);
    if (this.status !== 'running') this.d.announce(this, 'bulk.completed');
  }

  /** Items from `fromSeq`, the new ones marked `started` (durably) before any call is made on them. */
  private async load(fromSeq: number): Promise<readonly BulkItemRow[]> {
    const items = await this.d.store.items(this.op.id, fromSeq, BATCH_SIZE);
    const fresh = items.filter((i) => i.outcome === null).map((i) => i.seq);
    if (fresh.length > 0) await this.d.store.markStarted(this.op.id, fresh);
    return items;
  }

  private async batch(items: readonly BulkItemRow[]): Promise<void> {
    const outcomes = await Promise.all(items.map((item) => this.d.pacer.run(() => this.item(item))));
    const results: BulkItemResult[] = [];
    let { succeeded, failed, skipped } = this.progress;
    const errors: BulkError[] = [...this.progress.errors];
    items.forEach((item, i) => {
      const o = outcomes[i] as ItemOutcome;
      results.push({ seq: item.seq, outcome: o.outcome, code: o.code });
      if (o.outcome === 'succeeded') succeeded++;
      else if (o.outcome === 'skipped') skipped++;
      else {
        failed++;
        if (errors.length < MAX_ERRORS) errors.push({ executionId: item.executionId, code: o.code });
      }
    });
    const next: BulkProgress = { succeeded, failed, skipped, errors, nextSeq: (items[items.length - 1] as BulkItemRow).seq + 1 };
    await this.d.store.recordOutcomes(this.op.id, results, next);
    this.progress = next;
    const now = this.d.clock.now();
    if (now - this.lastProgressAt >= PROGRESS_EVERY_MS) {
      this.lastProgressAt = now;
      this.d.announce(this, 'bulk.progress');
    }
  }

  /** Never rejects: a batch settles only once every call of it has (a batch tried again must find none in flight). */
  private async item(item: BulkItemRow): Promise<ItemOutcome> {
    const unexpected = (err: unknown): void =>
      this.d.logger.error('bulk operation: unexpected error on an execution', { operationId: this.op.id, executionId: item.executionId, error: String(err) });
    if (item.outcome !== null) {
      // Marked before a crash: its call may have been journaled already.
      let journaled: boolean;
      try {
        journaled = await wasJournaled(this.d.engine, this.op, item.executionId, item.markSeq);
      } catch (err) {
        // Unknown whether it was made: not made again (at most once), reported.
        unexpected(err);
        return { outcome: 'failed', code: err instanceof ActorflowError ? err.code : ErrorCode.internal };
      }
      if (journaled) return { outcome: 'succeeded', code: null };
    }
    return act(this.d.engine, this.op, item.executionId, unexpected);
  }
}
