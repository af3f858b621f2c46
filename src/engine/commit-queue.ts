/** @module engine/commit-queue — group commit: everything one event-loop turn writes shares one transaction. */
import type { EventRecord } from '../shared/execution.ts';
import type { ExecutionRow, SnapshotRow, Store } from '../store/types.ts';

/** A live execution as the commit queue sees it. */
export interface Committable {
  stored: boolean;
  toCommitRow(): ExecutionRow;
  toSnapshot(): SnapshotRow;
}

interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class CommitQueue<T extends Committable> {
  private events: EventRecord[] = [];
  private dirty = new Set<T>();
  private waiters: Waiter[] = [];
  private scheduled = false;
  private running = false;
  /** Commit latency and batch size of the last commits, for the bench and /status. */
  readonly stats = { commits: 0, rows: 0, lastMs: 0 };

  constructor(
    private readonly store: Store,
    private readonly onCommitted: (events: EventRecord[], execs: T[], rows: ExecutionRow[]) => void,
    private readonly onError: (err: unknown) => void,
  ) {}

  append(event: EventRecord): void {
    this.events.push(event);
    this.schedule();
  }

  touch(exec: T): void {
    this.dirty.add(exec);
    this.schedule();
  }

  /** Resolves once everything appended so far is committed. */
  flushed(): Promise<void> {
    if (this.events.length === 0 && this.dirty.size === 0 && !this.running) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.running) return;
    this.scheduled = true;
    // setImmediate: runs after this turn's I/O callbacks, so a burst of requests shares one commit.
    setImmediate(() => {
      this.scheduled = false;
      void this.run();
    });
  }

  private async run(): Promise<void> {
    if (this.running) return;
    if (this.events.length === 0 && this.dirty.size === 0) {
      this.settle(this.waiters.splice(0), null);
      return;
    }
    this.running = true;
    const events = this.events;
    const execs = [...this.dirty];
    const waiters = this.waiters;
    this.events = [];
    this.dirty = new Set();
    this.waiters = [];
    const t0 = performance.now();
    let failure: unknown = null;
    const rows = execs.map((e) => e.toCommitRow());
    try {
      await this.store.commit({ events, executions: rows, snapshots: execs.map((e) => e.toSnapshot()) });
      this.stats.commits++;
      this.stats.rows += events.length;
      this.stats.lastMs = performance.now() - t0;
    } catch (err) {
      failure = err;
      this.onError(err);
    }
    this.running = false;
    if (failure === null) for (const e of execs) e.stored = true;
    this.settle(waiters, failure);
    if (failure === null) this.onCommitted(events, execs, rows);
    if (this.events.length > 0 || this.dirty.size > 0 || this.waiters.length > 0) this.schedule();
  }

  private settle(waiters: Waiter[], failure: unknown): void {
    for (const w of waiters) (failure === null ? w.resolve() : w.reject(failure));
  }
}
