/** @module engine/commit-queue — group commit: everything one event-loop turn writes shares one transaction. */
import type { EventRecord } from '../shared/execution.ts';
import type { ExecutionRow, SnapshotRow, Store } from '../store/types.ts';

/** A live execution as the commit queue sees it. */
export interface Committable {
  stored: boolean;
  toCommitRow(): ExecutionRow;
  toSnapshot(): SnapshotRow;
}

/** One promise shared by everyone waiting on the same batch (not one per caller: this is the hot path). */
interface Waiter {
  promise: Promise<void>;
  resolve: () => void;
  reject: (err: unknown) => void;
}

function waiter(): Waiter {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  // Marked handled: callers that ignore the result must not turn a failed commit into an unhandled rejection.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

export class CommitQueue<T extends Committable> {
  private events: EventRecord[] = [];
  private dirty = new Set<T>();
  private next: Waiter | null = null;
  private scheduled = false;
  private linger: NodeJS.Timeout | undefined = undefined;
  private running = false;
  /** Commit latency and batch size of the last commits, for the bench and /status. */
  readonly stats = { commits: 0, rows: 0, lastMs: 0 };
  /** Told of every successful commit (metrics); one call per batch, never per event. */
  observer: ((ms: number, events: number) => void) | undefined = undefined;

  constructor(
    private readonly store: Store,
    private readonly onCommitted: (events: EventRecord[], execs: T[], rows: ExecutionRow[]) => void,
    private readonly onError: (err: unknown) => void,
  ) {}

  append(event: EventRecord): void {
    this.events.push(event);
    this.schedule();
  }

  /**
   * Adds an event that needs no commit of its own (nobody waits on it): it rides with the next
   * batch, or is committed after `lingerMs` if nothing else comes. Over NATS an agent's `taken`
   * arrives just before its result; committing it alone cost a whole extra commit per step.
   */
  appendSoon(event: EventRecord, exec: T, lingerMs: number): void {
    this.events.push(event);
    this.dirty.add(exec);
    if (this.scheduled || this.running || this.linger !== undefined) return;
    this.linger = setTimeout(() => {
      this.linger = undefined;
      this.schedule();
    }, lingerMs);
  }

  /** Forgets the events of one execution after `seq` that are not committed yet (a transition that failed). */
  dropEvents(executionId: string, seq: number): void {
    this.events = this.events.filter((e) => e.executionId !== executionId || e.seq <= seq);
  }

  touch(exec: T): void {
    this.dirty.add(exec);
    this.schedule();
  }

  /** Resolves once everything appended so far is committed. */
  flushed(): Promise<void> {
    if (this.events.length === 0 && this.dirty.size === 0 && !this.running) return Promise.resolve();
    this.next ??= waiter();
    this.schedule();
    return this.next.promise;
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
      this.next?.resolve();
      this.next = null;
      return;
    }
    this.running = true;
    const events = this.events;
    const execs = [...this.dirty];
    const batchWaiter = this.next;
    this.events = [];
    this.dirty = new Set();
    this.next = null;
    const t0 = performance.now();
    let failure: unknown = null;
    let rows: ExecutionRow[] = [];
    try {
      // Inside the try: a row that cannot be encoded fails this batch, never wedges the queue.
      rows = execs.map((e) => e.toCommitRow());
      await this.store.commit({ events, executions: rows, snapshots: execs.map((e) => e.toSnapshot()) });
      this.stats.commits++;
      this.stats.rows += events.length;
      this.stats.lastMs = performance.now() - t0;
      this.observer?.(this.stats.lastMs, events.length);
    } catch (err) {
      failure = err;
      this.onError(err);
    }
    this.running = false;
    if (failure === null) for (const e of execs) e.stored = true;
    if (failure === null) batchWaiter?.resolve();
    else batchWaiter?.reject(failure);
    if (failure === null) this.onCommitted(events, execs, rows);
    if (this.events.length > 0 || this.dirty.size > 0 || this.next) this.schedule();
  }
}
