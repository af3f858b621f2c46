/** @module engine/journal/commit-queue — group commit: everything one event-loop turn writes shares one transaction. */
import { ActorflowError, ErrorCode } from '../../common/errors.ts';
import type { EventRecord } from '../../common/execution.ts';
import type { CommitBatch, DocumentWrite, ExecutionRow, InputRow, SnapshotRow } from '../../store/types.ts';
import type { Journal } from './journal.ts';

/** A live execution as the commit queue sees it. */
export interface Committable {
  stored: boolean;
  toCommitRow(): ExecutionRow;
  /** Null when no restore will ever read it (a completed or cancelled execution), or none is due (its inputs are journaled). */
  toSnapshot(): SnapshotRow | null;
  /** After toSnapshot: its journaled inputs not yet written into `out`; its id into `done` when they can all go (it completed). */
  takeInputs?(out: InputRow[], done: string[]): void;
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

/** How long deferred writes alone wait for company before they commit (relaxed, see `appendDeferred`). */
export const DEFERRED_LINGER_MS = 20;

export class CommitQueue<T extends Committable> {
  private events: EventRecord[] = [];
  /** Document versions, each with the seq of the `document.saved` event it commits with (dropped with that event). */
  private documents: { executionId: string; seq: number; write: DocumentWrite }[] = [];
  /** Effects (dispatches to agents, cancels) released only once the events appended before them are durable. */
  private effects: (() => void)[] = [];
  private dirty = new Set<T>();
  /** Rows of executions not in memory, changed outside any actor (a released idempotency key): written ahead of the live ones. */
  private rows: ExecutionRow[] = [];
  private next: Waiter | null = null;
  private scheduled = false;
  private linger: NodeJS.Timeout | undefined = undefined;
  private running = false;
  /**
   * Something in the pending batch needs the fsync (an event, a row, a document appended the usual way).
   * A batch of deferred writes alone (`appendDeferred`: a direct execution's end) commits relaxed.
   */
  private eager = false;
  /** Commit latency and batch size of the last commits, for the bench and /status. */
  readonly stats = { commits: 0, rows: 0, lastMs: 0 };
  /** Told of every successful commit (metrics); one call per batch, never per event. */
  observer: ((ms: number, events: number) => void) | undefined = undefined;
  /** Told of every document version once its commit settled (either way) or it was dropped: its reserved version is free. */
  releaseDocument: (w: DocumentWrite) => void = () => undefined;

  constructor(
    private readonly journal: Journal,
    private readonly onCommitted: (events: EventRecord[], execs: T[], rows: ExecutionRow[]) => void,
    /** A commit failed: `execs` were in the batch (their memory is now ahead of the journal). */
    private readonly onFailed: (err: unknown, execs: T[]) => void,
    private readonly onEffectError: (err: unknown) => void = () => undefined,
  ) {}

  /**
   * Runs `effect` after the commit of everything appended so far, never before; a failed commit
   * drops it. Effects run in the order they were added.
   */
  afterCommit(effect: () => void): void {
    this.effects.push(effect);
    this.eager = true;
    this.schedule();
  }

  append(event: EventRecord): void {
    this.eager = true;
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
    this.eager = true;
    this.lingerFor(lingerMs);
  }

  /**
   * Writes that nobody waits on and that need no fsync of their own (API.md: a direct execution's end
   * is "written once in a later batch that is not fsynced"): they ride with the next batch, or are
   * committed after `DEFERRED_LINGER_MS` with the store's relaxed sync (no fsync; the next durable
   * commit's fsync covers them). One lingering batch takes the ends of every flow of those ms.
   */
  appendDeferred(exec: T, executionId: string, events: readonly EventRecord[], documents: readonly DocumentWrite[]): void {
    for (const e of events) this.events.push(e);
    const seq = events.length > 0 ? (events[events.length - 1] as EventRecord).seq : 0;
    for (const write of documents) this.documents.push({ executionId, seq, write });
    this.dirty.add(exec);
    this.lingerFor(DEFERRED_LINGER_MS);
  }

  private lingerFor(ms: number): void {
    if (this.scheduled || this.running || this.linger !== undefined) return;
    this.linger = setTimeout(() => {
      this.linger = undefined;
      this.schedule();
    }, ms);
  }

  /** A document version that commits with event `seq` of `executionId` (appended just before). */
  appendDocument(executionId: string, seq: number, write: DocumentWrite): void {
    this.documents.push({ executionId, seq, write });
    this.eager = true;
    this.schedule();
  }

  /** Forgets the events of one execution after `seq` that are not committed yet (a transition that failed), and their documents. */
  dropEvents(executionId: string, seq: number): void {
    this.events = this.events.filter((e) => e.executionId !== executionId || e.seq <= seq);
    if (this.documents.length === 0) return;
    const kept: typeof this.documents = [];
    for (const d of this.documents) {
      if (d.executionId !== executionId || d.seq <= seq) kept.push(d);
      else this.releaseDocument(d.write);
    }
    this.documents = kept;
  }

  /** Forgets an execution's pending events and row (it went back to its last durable state). */
  forget(exec: T, executionId: string, committedSeq: number): void {
    this.dropEvents(executionId, committedSeq);
    this.dirty.delete(exec);
  }

  /** A row to write with the next batch, ahead of the live executions' rows (which may need it gone first: a unique key). */
  appendRow(row: ExecutionRow): void {
    this.rows.push(row);
    this.eager = true;
    this.schedule();
  }

  touch(exec: T): void {
    this.dirty.add(exec);
    this.eager = true;
    this.schedule();
  }

  /** Resolves once everything appended so far is committed. */
  flushed(): Promise<void> {
    if (this.events.length === 0 && this.dirty.size === 0 && this.rows.length === 0 && this.effects.length === 0 && !this.running) return Promise.resolve();
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
    if (this.events.length === 0 && this.dirty.size === 0 && this.rows.length === 0) {
      // Nothing to write: effects added after the last commit are durable already.
      this.release(this.effects);
      this.effects = [];
      this.next?.resolve();
      this.next = null;
      return;
    }
    this.running = true;
    const events = this.events;
    const documents = this.documents.map((d) => d.write);
    const execs = [...this.dirty];
    const loose = this.rows;
    const effects = this.effects;
    const batchWaiter = this.next;
    const relaxed = !this.eager;
    this.eager = false;
    if (this.linger !== undefined) {
      clearTimeout(this.linger);
      this.linger = undefined;
    }
    this.events = [];
    this.documents = [];
    this.dirty = new Set();
    this.rows = [];
    this.effects = [];
    this.next = null;
    const t0 = performance.now();
    let failure: unknown = null;
    let rows: ExecutionRow[] = [];
    try {
      // Inside the try: a row that cannot be encoded fails this batch, never wedges the queue.
      rows = execs.map((e) => e.toCommitRow());
      const snapshots: SnapshotRow[] = [];
      const inputs: InputRow[] = [];
      const inputsDone: string[] = [];
      for (const e of execs) {
        const snap = e.toSnapshot();
        if (snap !== null) snapshots.push(snap);
        e.takeInputs?.(inputs, inputsDone);
      }
      const executions = loose.length === 0 ? rows : [...loose, ...rows];
      const batch: CommitBatch = {
        events, executions, snapshots, waited: batchWaiter !== null,
        ...(relaxed ? { relaxed } : {}), ...(inputs.length > 0 ? { inputs } : {}), ...(inputsDone.length > 0 ? { inputsDone } : {}), ...(documents.length > 0 ? { documents } : {}),
      };
      await this.journal.append(batch);
      this.stats.commits++;
      this.stats.rows += events.length;
      this.stats.lastMs = performance.now() - t0;
      this.observer?.(this.stats.lastMs, events.length);
    } catch (err) {
      failure = new ActorflowError(ErrorCode.storeUnavailable, 'the journal could not commit this change; nothing of it was kept', { cause: err, retryable: true });
    }
    this.running = false;
    for (const w of documents) this.releaseDocument(w);
    if (failure === null) {
      for (const e of execs) e.stored = true;
      // Effects first: an agent gets its task as soon as its dispatch is durable.
      this.release(effects);
      batchWaiter?.resolve();
      this.onCommitted(events, execs, rows);
    } else {
      this.onFailed(failure, execs);
      batchWaiter?.reject(failure);
    }
    if (this.events.length > 0 || this.dirty.size > 0 || this.rows.length > 0 || this.effects.length > 0 || this.next) this.schedule();
  }

  private release(effects: readonly (() => void)[]): void {
    for (const f of effects) {
      try {
        f();
      } catch (err) {
        this.onEffectError(err);
      }
    }
  }
}
