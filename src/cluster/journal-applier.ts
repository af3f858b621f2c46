/**
 * @module cluster/journal-applier — this node's local copy of the cluster journal: every partition's
 * commits written to the local SQLite store (the read model, and what the engine restores from), each
 * exactly once and in its partition's order. Three writers feed it: the owner's own appends (after their
 * publish ack), the catch-up of a partition this node gains, and the journal feed (every commit of the
 * stream). They meet here: one drain loop writes whatever is pending as one transaction, skips a commit
 * whose sequence its partition already has, and records the positions in the same transaction.
 */
import type { EventRecord } from '../common/execution.ts';
import { FEED_POSITION, SHARED_POSITION, type CommitBatch, type DocumentWrite, type ExecutionRow, type InputRow, type JournalPosition, type SnapshotRow, type Store } from '../store/types.ts';

/** One partition commit to apply. */
export interface JournalItem {
  readonly partition: number;
  /** Its stream sequence. */
  readonly seq: number;
  readonly batch: CommitBatch;
  /** From the journal feed: it also moves the feed's cursor. */
  readonly feed?: boolean;
  /** Written by this node's engine (its listeners heard of it at commit): not announced again. */
  readonly own?: boolean;
}

export interface JournalApplier {
  /** The last sequence applied of a partition (0: none). */
  position(partition: number): number;
  /** Where the feed resumes after a restart: its last applied stream sequence. */
  feedCursor(): number;
  /** Applies the items not applied yet (in order); resolves once they are durable. Items of one partition must come in sequence order. */
  apply(items: readonly JournalItem[]): Promise<void>;
  /** Items waiting for the next write (the feed holds back past a bound). */
  pending(): number;
}

export interface ApplierOptions {
  readonly store: Store;
  /** Told of each commit applied that another node wrote (after it is durable here). Must not throw. */
  readonly onForeign?: (batch: CommitBatch) => void;
}

interface Pending {
  readonly items: readonly JournalItem[];
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

export async function openJournalApplier(o: ApplierOptions): Promise<JournalApplier> {
  const positions = await o.store.journalPositions();
  return new Applier(o, positions);
}

class Applier implements JournalApplier {
  private queue: Pending[] = [];
  private running = false;
  private cursor: number;

  constructor(
    private readonly o: ApplierOptions,
    private readonly positions: Map<number, number>,
  ) {
    this.cursor = positions.get(FEED_POSITION) ?? 0;
    positions.delete(FEED_POSITION);
    positions.delete(SHARED_POSITION);
  }

  position(partition: number): number {
    return this.positions.get(partition) ?? 0;
  }

  feedCursor(): number {
    return this.cursor;
  }

  pending(): number {
    let n = 0;
    for (const p of this.queue) n += p.items.length;
    return n;
  }

  apply(items: readonly JournalItem[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ items, resolve, reject });
      if (!this.running) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    while (this.queue.length > 0) {
      const group = this.queue;
      this.queue = [];
      // What this group moves each partition to; kept only once its transaction committed.
      const next = new Map<number, number>();
      let cursor = this.cursor;
      const parts: CommitBatch[] = [];
      const positions: JournalPosition[] = [];
      const foreign: CommitBatch[] = [];
      const own: CommitBatch[] = [];
      for (const pending of group) {
        for (const it of pending.items) {
          if (it.feed === true) cursor = Math.max(cursor, it.seq);
          if (it.seq <= (next.get(it.partition) ?? this.position(it.partition))) continue;
          next.set(it.partition, it.seq);
          parts.push(it.batch);
          positions.push({ partition: it.partition, seq: it.seq, ...(it.feed === true ? { feed: true } : {}) });
          if (it.own !== true) foreign.push(it.batch);
          else own.push(it.batch);
        }
      }
      try {
        if (parts.length > 0) await this.o.store.commit(withOriginated(merge(parts, positions), own, foreign.length > 0));
        for (const [p, seq] of next) this.positions.set(p, seq);
        // Skipped feed items move the cursor only in memory: after a restart they are read (and skipped) again.
        this.cursor = cursor;
        for (const b of foreign) this.o.onForeign?.(b);
        for (const pending of group) pending.resolve();
      } catch (err) {
        for (const pending of group) pending.reject(err);
      }
    }
    this.running = false;
  }
}

const NOTHING: CommitBatch = { events: [], executions: [], snapshots: [] };

/** With other nodes' commits in it, the batch names the rows this node wrote: only those get effects here (webhook deliveries). */
function withOriginated(batch: CommitBatch, own: readonly CommitBatch[], anyForeign: boolean): CommitBatch {
  if (!anyForeign) return batch;
  return { ...batch, originated: own.length === 0 ? NOTHING : merge(own, []) };
}

/** Several commits as one transaction, in order: a later row of the same execution wins, as it would have. */
function merge(parts: readonly CommitBatch[], positions: readonly JournalPosition[]): CommitBatch {
  if (parts.length === 1) return { ...(parts[0] as CommitBatch), positions };
  const events: EventRecord[] = [];
  const executions: ExecutionRow[] = [];
  const snapshots: SnapshotRow[] = [];
  const inputs: InputRow[] = [];
  const inputsDone: string[] = [];
  const documents: DocumentWrite[] = [];
  for (const b of parts) {
    events.push(...b.events);
    executions.push(...b.executions);
    snapshots.push(...b.snapshots);
    if (b.inputs !== undefined) inputs.push(...b.inputs);
    if (b.inputsDone !== undefined) inputsDone.push(...b.inputsDone);
    if (b.documents !== undefined) documents.push(...b.documents);
  }
  return {
    events, executions, snapshots, positions,
    ...(inputs.length > 0 ? { inputs } : {}), ...(inputsDone.length > 0 ? { inputsDone } : {}), ...(documents.length > 0 ? { documents } : {}),
  };
}
