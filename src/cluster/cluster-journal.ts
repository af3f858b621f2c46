/**
 * @module cluster/cluster-journal — the engine's `Journal` in cluster mode. A group commit may hold
 * executions of several partitions: it is split by partition, each part appended to its partition's
 * subject (expected last subject sequence: a deposed owner's part is refused), and the parts that were
 * acknowledged are written to the local store (the read model, what restores read) before the append
 * resolves. Reads go to the local store, which holds every partition this node serves up to its tail.
 */
import { ActorflowError, ErrorCode } from '../common/errors.ts';
import type { EventRecord } from '../common/execution.ts';
import type { Journal } from '../engine/journal/journal.ts';
import type { CommitBatch, DocumentWrite, ExecutionRow, InputRow, SnapshotRow, Store } from '../store/types.ts';
import type { JournalApplier, JournalItem } from './journal-applier.ts';
import type { PartitionJournal } from './partition-journal.ts';

export interface ClusterJournalOptions {
  readonly store: Store;
  readonly applier: JournalApplier;
  readonly partitionOf: (executionId: string) => number;
  /** The writer of a partition this node serves now; undefined for any other. */
  readonly writer: (partition: number) => PartitionJournal | undefined;
  /**
   * A partition whose writer can no longer be trusted: fenced (another node appended), a commit whose
   * outcome is unknown, or a local write that failed after the publish ack. The node stops serving it
   * and takes it over again from the stream. Called before the append rejects; must not throw.
   */
  readonly onBroken: (partition: number, err: unknown) => void;
}

export function clusterJournal(o: ClusterJournalOptions): Journal {
  return {
    append: async (batch) => {
      const parts = splitByPartition(batch, o.partitionOf);
      const results = await Promise.allSettled(
        [...parts].map(async ([partition, part]): Promise<JournalItem> => {
          const w = o.writer(partition);
          if (w === undefined) throw unavailable(partition);
          return { partition, seq: await w.commit(part), batch: part, own: true };
        }),
      );
      const kept: JournalItem[] = [];
      let failure: unknown;
      results.forEach((r, i) => {
        if (r.status === 'fulfilled') return void kept.push(r.value);
        failure ??= r.reason;
        const partition = [...parts.keys()][i] as number;
        // Not served here (dropped meanwhile): nothing was sent, nothing to repair.
        if (!(r.reason instanceof ActorflowError && r.reason.code === ErrorCode.partitionUnavailable)) o.onBroken(partition, r.reason);
      });
      // Acknowledged parts are in the journal whatever happened to the others: the local copy gets them too.
      if (kept.length > 0) {
        try {
          await o.applier.apply(kept);
        } catch (err) {
          for (const it of kept) o.onBroken(it.partition, err);
          failure ??= err;
        }
      }
      if (failure !== undefined) throw failure;
    },
    readSince: (executionId, afterSeq, limit) => o.store.listEvents(executionId, afterSeq, limit),
    loadRestorable: (executionId) => o.store.getRecoverable(executionId),
    // The read model holds the partition's events by the time anything of it is restored (PartitionControl).
    loadStepEvents: (executionId, uptoSeq) => o.store.stepEventData(executionId, uptoSeq),
    // A partition's inputs travel with its commits, so its next owner replays them from its copy like its events.
    keepsInputs: true,
  };
}

function unavailable(partition: number): ActorflowError {
  return new ActorflowError(ErrorCode.partitionUnavailable, `partition ${partition} is not served by this node now`, { retryable: true, retryAfterS: 1 });
}

interface Part {
  events: EventRecord[];
  executions: ExecutionRow[];
  snapshots: SnapshotRow[];
  inputs?: InputRow[];
  inputsDone?: string[];
  documents?: DocumentWrite[];
}

/** The batch's rows grouped by the partition of their execution, in their order. */
export function splitByPartition(batch: CommitBatch, partitionOf: (executionId: string) => number): Map<number, CommitBatch> {
  const parts = new Map<number, Part>();
  const part = (id: string): Part => {
    const p = partitionOf(id);
    let x = parts.get(p);
    if (x === undefined) parts.set(p, (x = { events: [], executions: [], snapshots: [] }));
    return x;
  };
  for (const e of batch.events) part(e.executionId).events.push(e);
  for (const r of batch.executions) part(r.id).executions.push(r);
  for (const s of batch.snapshots) part(s.executionId).snapshots.push(s);
  for (const i of batch.inputs ?? []) (part(i.executionId).inputs ??= []).push(i);
  for (const id of batch.inputsDone ?? []) (part(id).inputsDone ??= []).push(id);
  for (const d of batch.documents ?? []) {
    // The engine saves documents from steps only: each names its execution.
    if (d.executionId === null) throw new RangeError('a document written through the cluster journal must name its execution');
    (part(d.executionId).documents ??= []).push(d);
  }
  return parts as Map<number, CommitBatch>;
}
