/**
 * @module cluster/partition-journal — one partition's journal in cluster mode: the subject
 * `actorflow.journal.<partition>` of the replicated JetStream stream `actorflow-journal`.
 *
 * - `append` publishes one group commit (msgpack) with the expected last subject sequence: if anyone
 *   else appended since this writer's last commit (a new owner), the server refuses it and the append
 *   fails with `partition_fenced`: history never forks. It resolves after the publish ack (the commit
 *   is on a quorum of the stream's replicas). `journal_unavailable` after a timeout is an unknown
 *   outcome (the commit may have landed): the writer then refuses every later append, and the
 *   owner reopens the journal and rebuilds the partition from it before serving it again.
 * - `replay` reads the subject from a stream sequence, for a new owner.
 * - snapshots (`actorflow-snapshots` KV, key `partition.<n>`) carry the journal sequence they cover:
 *   a new owner loads the latest and replays from the sequence after it.
 *
 * Of the engine's `Journal`, only `append` maps onto a partition's log. `readSince` and
 * `loadRestorable` look up one execution; the log is per partition, so they are answered by the
 * read model (a local SQLite copy fed from this stream) and by the owner's in-memory state.
 */
import { jetstream, jetstreamManager, RetentionPolicy, StorageType, type JetStreamClient, type JetStreamManager, type MsgRequest, type NextMsgRequest, type PubAck } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { nuid, type NatsConnection } from '@nats-io/transport-node';
import { msgpackCodec as codec } from '../common/codec.ts';
import type { Journal } from '../engine/journal/journal.ts';
import type { CommitBatch } from '../store/types.ts';
import { SETUP_ATTEMPT_MS, openBucket, retrySetup } from './buckets.ts';
import { ClusterError, ClusterErrorCode } from './errors.ts';
import { isTransient, isWrongLastSequence } from './nats-errors.ts';
import { ensureStream } from './streams.ts';
import { partitionKey } from './partitions.ts';

export const JOURNAL_STREAM = 'actorflow-journal';
export const SNAPSHOTS_BUCKET = 'actorflow-snapshots';

/** Every partition's subject: `actorflow.journal.<partition>`. */
export const JOURNAL_SUBJECTS = 'actorflow.journal.*';

export function journalSubject(partition: number): string {
  return `actorflow.journal.${partition}`;
}

export interface JournalStreamOptions {
  /** 3 on a 3-server NATS cluster (each commit then survives the loss of one server), 1 on one server. @default 1 */
  readonly replicas?: number;
}

/** Creates the journal stream if absent; refuses one that exists with another replica count. */
export async function ensureJournalStream(jsm: JetStreamManager, o: JournalStreamOptions = {}): Promise<void> {
  await ensureStream(jsm, {
    name: JOURNAL_STREAM,
    subjects: [JOURNAL_SUBJECTS],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    num_replicas: o.replicas ?? 1,
    // History is only ever appended: no message is deleted alone (compaction purges whole prefixes).
    deny_delete: true,
    // Dedupes a retried append whose first ack was lost (same msg id) for this long.
    duplicate_window: 120_000_000_000,
  });
}

export interface PartitionJournalOptions {
  readonly partition: number;
  /** Replicas of the journal stream and the snapshots bucket. @default 1 */
  readonly replicas?: number;
  /** How long an append retries through timeouts and a leaderless stream before failing `journal_unavailable`. @default 10000 */
  readonly appendTimeoutMs?: number;
  /** Starts this writer's message ids (`<writer>.<nuid>.<n>`): who wrote a commit, for operators and tests. @default none */
  readonly writer?: string;
  /**
   * Asked before every attempt of an append, retries included: false (the lease is gone, by its clock)
   * sends nothing more and fails `partition_not_owned`. A node resumed from a pause must not retry an
   * append it started before the pause. @default always true
   */
  readonly mayWrite?: () => boolean;
}

export interface JournalEntry {
  /** The commit's stream sequence (ascending along the partition, not contiguous: other partitions share the stream). */
  readonly seq: number;
  readonly batch: CommitBatch;
}

export interface PartitionSnapshot<S> {
  /** The last journal sequence the state includes: replay from `coversSeq + 1`. */
  readonly coversSeq: number;
  readonly state: S;
  readonly savedAt: number;
}

export interface PartitionJournal extends Pick<Journal, 'append'> {
  readonly partition: number;
  /** The sequence of the last commit on the subject as this writer knows it (0: empty); its next append expects it. */
  lastSeq(): number;
  /** Appends one group commit; resolves with its sequence once acknowledged. Appends run one at a time, in call order. */
  commit(batch: CommitBatch): Promise<number>;
  /** `commit` for the engine's `Journal` interface. */
  append(batch: CommitBatch): Promise<void>;
  /** The commits with `seq >= fromSeq` up to the tail as of the call, in order. */
  replay(fromSeq: number): AsyncIterable<JournalEntry>;
  /** Keeps a snapshot unless one covering as much or more is stored; true when written. Refused, as appends are, once the writer is. */
  saveSnapshot(coversSeq: number, state: unknown): Promise<boolean>;
  loadSnapshot<S>(): Promise<PartitionSnapshot<S> | undefined>;
}

/**
 * Opens the partition's journal for writing, positioned at the subject's current tail: call it
 * after winning the partition's lease, then load the snapshot and replay up to `lastSeq()`.
 */
export async function openPartitionJournal(nc: NatsConnection, o: PartitionJournalOptions): Promise<PartitionJournal> {
  if (!Number.isInteger(o.partition) || o.partition < 0) throw new RangeError(`partition must be a non-negative integer, got ${o.partition}`);
  const jsm = await jetstreamManager(nc, { timeout: SETUP_ATTEMPT_MS });
  await retrySetup(() => ensureJournalStream(jsm, { replicas: o.replicas ?? 1 }));
  const snapshots = await openBucket(nc, SNAPSHOTS_BUCKET, { replicas: o.replicas ?? 1 });
  const last = await jsm.streams.getMessage(JOURNAL_STREAM, { last_by_subj: journalSubject(o.partition) });
  const writerId = o.writer === undefined ? nuid.next() : `${o.writer}.${nuid.next()}`;
  return new PartitionJournalImpl(jetstream(nc), jsm, snapshots, o.partition, last?.seq ?? 0, o.appendTimeoutMs ?? 10_000, writerId, o.mayWrite ?? (() => true));
}

class PartitionJournalImpl implements PartitionJournal {
  private readonly subject: string;
  /** Numbers this writer's commits: one msg id per commit, the same across its retries. */
  private commits = 0;
  private tail: Promise<unknown> = Promise.resolve();
  /** Set once this writer must not append again: fenced, or an earlier commit's outcome is unknown. */
  private refusal: ClusterError | undefined;

  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly snapshots: KV,
    readonly partition: number,
    private last: number,
    private readonly appendTimeoutMs: number,
    /** Tells this writer's appends from any other's in msg ids, so dedupe never takes another owner's commit for ours. */
    private readonly writerId: string,
    private readonly mayWrite: () => boolean,
  ) {
    this.subject = journalSubject(partition);
  }

  lastSeq(): number {
    return this.last;
  }

  commit(batch: CommitBatch): Promise<number> {
    const next = this.tail.then(() => this.publish(batch));
    this.tail = next.catch(() => undefined);
    return next;
  }

  async append(batch: CommitBatch): Promise<void> {
    await this.commit(batch);
  }

  private async publish(batch: CommitBatch): Promise<number> {
    if (this.refusal) throw this.refusal;
    const data = codec.encode(batch);
    const msgID = `${this.writerId}.${++this.commits}`;
    const deadline = Date.now() + this.appendTimeoutMs;
    for (let attempt = 0; ; attempt++) {
      if (!this.mayWrite()) {
        const err = new ClusterError(ClusterErrorCode.partitionNotOwned, `partition ${this.partition}: this node no longer holds its lease; nothing more is sent`, { partition: this.partition });
        // After an attempt whose outcome is unknown, this writer stays refused (as after a timeout).
        if (attempt > 0) this.refusal = err;
        throw err;
      }
      let ack: PubAck;
      try {
        ack = await this.js.publish(this.subject, data, {
          msgID,
          expect: { lastSubjectSequence: this.last, streamName: JOURNAL_STREAM },
          timeout: Math.max(100, Math.min(2000, deadline - Date.now())),
        });
      } catch (err) {
        if (isWrongLastSequence(err)) {
          this.refusal = new ClusterError(ClusterErrorCode.partitionFenced, `partition ${this.partition}: another writer appended after seq ${this.last}; this one must stop serving it`, { partition: this.partition, cause: err });
          throw this.refusal;
        }
        // A timeout or a stream without a leader (a server died, an election runs) may pass: retry the
        // same message (same msg id, so a first attempt that did land is not written twice).
        if (!isTransient(err) && attempt === 0) {
          // Refused or never sent, and no earlier attempt: nothing was kept, the writer stays usable.
          throw new ClusterError(ClusterErrorCode.journalUnavailable, `partition ${this.partition}: the journal refused the commit: ${(err as Error).message}`, { partition: this.partition, retryable: true, cause: err });
        }
        if (!isTransient(err) || Date.now() >= deadline) {
          this.refusal = new ClusterError(ClusterErrorCode.journalUnavailable, `partition ${this.partition}: a commit was not acknowledged in time and may have been kept; reopen the journal before appending again`, { partition: this.partition, retryable: true, cause: err });
          throw this.refusal;
        }
        await new Promise((r) => setTimeout(r, Math.min(50 * 2 ** attempt, 500)));
        continue;
      }
      this.last = ack.seq;
      return ack.seq;
    }
  }

  async *replay(fromSeq: number): AsyncIterable<JournalEntry> {
    const upTo = this.last;
    // One "next message on this subject from seq" get per commit, answered by the stream leader. Not an
    // ordered consumer: on NATS 2.9 creating one right after a server died can stall for 20 s and
    // more (measured), which is exactly when a new owner replays.
    for (let seq = Math.max(1, fromSeq); seq <= upTo; ) {
      const query: NextMsgRequest = { seq, next_by_subj: this.subject };
      // The client types `getMessage` without the next-by-subject form, which it sends as is.
      const m = await this.jsm.streams.getMessage(JOURNAL_STREAM, query as unknown as MsgRequest);
      if (m === null || m.seq > upTo) return;
      yield { seq: m.seq, batch: codec.decode<CommitBatch>(m.data) };
      seq = m.seq + 1;
    }
  }

  async saveSnapshot(coversSeq: number, state: unknown): Promise<boolean> {
    if (this.refusal) throw this.refusal;
    if (coversSeq > this.last) throw new RangeError(`partition ${this.partition}: a snapshot covering seq ${coversSeq} is past the journal's last commit ${this.last}`);
    const key = partitionKey(this.partition);
    const value = codec.encode({ coversSeq, state, savedAt: Date.now() } satisfies PartitionSnapshot<unknown>);
    for (;;) {
      const current = await this.snapshots.get(key);
      const stored = current?.operation === 'PUT' ? codec.decode<PartitionSnapshot<unknown>>(current.value) : undefined;
      if (stored !== undefined && stored.coversSeq >= coversSeq) return false;
      try {
        if (current === null) await this.snapshots.create(key, value);
        else await this.snapshots.update(key, value, current.revision);
        return true;
      } catch (err) {
        // A concurrent save won: compare with it again.
        if (!isWrongLastSequence(err)) throw err;
      }
    }
  }

  async loadSnapshot<S>(): Promise<PartitionSnapshot<S> | undefined> {
    const e = await this.snapshots.get(partitionKey(this.partition));
    if (e === null || e.operation !== 'PUT') return undefined;
    const s = codec.decode<Partial<PartitionSnapshot<S>>>(e.value);
    if (typeof s.coversSeq !== 'number' || typeof s.savedAt !== 'number' || !('state' in s)) {
      throw new ClusterError(ClusterErrorCode.clusterRecordInvalid, `partition ${this.partition}: the stored snapshot is not one this build reads`, { partition: this.partition });
    }
    return s as PartitionSnapshot<S>;
  }
}
