/**
 * @module cluster/journal-feed — keeps this node's read model up with the whole cluster journal: an
 * ordered consumer over every partition's subject, from the feed's cursor, hands each commit to the
 * applier (which skips what this node already has, e.g. its own appends). Its lag (stream tail minus
 * cursor, in commits) is sampled for /status and /metrics.
 */
import { DeliverPolicy, jetstream, jetstreamManager, type ConsumerMessages, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { msgpackCodec as codec } from '../common/codec.ts';
import type { Logger } from '../common/logger.ts';
import type { CommitBatch } from '../store/types.ts';
import { SETUP_ATTEMPT_MS } from './buckets.ts';
import type { JournalApplier } from './journal-applier.ts';
import { JOURNAL_STREAM, JOURNAL_SUBJECTS, journalSubject } from './partition-journal.ts';

export interface FeedLag {
  /** Stream sequence the read model holds everything up to. */
  readonly applied: number;
  /** The stream's last sequence when last sampled (0 before the first sample). */
  readonly streamLast: number;
  /** Commits the read model is behind the stream (as of the sample). */
  readonly behind: number;
  /** Epoch ms of the sample. */
  readonly sampledAt: number;
}

export interface JournalFeed {
  lag(): FeedLag;
  close(): Promise<void>;
}

export interface JournalFeedOptions {
  readonly applier: JournalApplier;
  /**
   * This node's id: a commit whose message id it starts (partition-journal.ts) is this node's own, even
   * when the feed brings it before the append's own apply does (its effects, e.g. webhook deliveries, are then made here).
   */
  readonly nodeId?: string;
  readonly logger: Logger;
  /** Commits handed to the applier and not yet written past which the feed waits. @default 2000 */
  readonly maxPending?: number;
  /** How often the stream's tail is sampled for the lag. @default 1000 */
  readonly sampleMs?: number;
  /** Behind the stream with nothing applied for this long: the consumer is made again from the cursor. @default 3000 */
  readonly stallMs?: number;
}

const SUBJECT_PREFIX = journalSubject(0).slice(0, -1);

export async function startJournalFeed(nc: NatsConnection, o: JournalFeedOptions): Promise<JournalFeed> {
  const jsm = await jetstreamManager(nc, { timeout: SETUP_ATTEMPT_MS });
  const feed = new Feed(nc, jsm, o);
  feed.start();
  return feed;
}

class Feed implements JournalFeed {
  private closed = false;
  private messages: ConsumerMessages | undefined;
  private streamLast = 0;
  private sampledAt = 0;
  /** The cursor at the last sample, and since when it has not moved. */
  private seenCursor = -1;
  private still = 0;
  private readonly sampler: NodeJS.Timeout;
  private loop: Promise<void> = Promise.resolve();

  constructor(
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    private readonly o: JournalFeedOptions,
  ) {
    this.sampler = setInterval(() => void this.sample(), o.sampleMs ?? 1000);
    this.sampler.unref();
  }

  start(): void {
    void this.sample();
    this.loop = this.run();
  }

  lag(): FeedLag {
    const applied = this.o.applier.feedCursor();
    return { applied, streamLast: this.streamLast, behind: Math.max(0, this.streamLast - applied), sampledAt: this.sampledAt };
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.sampler);
    this.messages?.stop();
    await this.loop;
  }

  /** Consumes from the cursor; after any failure (the consumer, or a local write) starts again from the cursor. */
  private async run(): Promise<void> {
    const js = jetstream(this.nc);
    for (let failures = 0; !this.closed; ) {
      let failed = false;
      try {
        const from = this.o.applier.feedCursor() + 1;
        const consumer = await js.consumers.get(JOURNAL_STREAM, {
          filter_subjects: JOURNAL_SUBJECTS,
          ...(from > 1 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: from } : { deliver_policy: DeliverPolicy.All }),
        });
        if (this.closed) return;
        const messages = await consumer.consume({ max_messages: 512 });
        this.messages = messages;
        for await (const m of messages) {
          failures = 0;
          let batch: CommitBatch;
          try {
            batch = codec.decode<CommitBatch>(m.data);
          } catch (err) {
            // A commit no engine wrote: skipped (logged), never a reason to stop feeding the others.
            this.o.logger.error('an unreadable journal commit was skipped', { seq: m.seq, subject: m.subject, err: String(err) });
            continue;
          }
          const own = this.o.nodeId !== undefined && (m.headers?.get('Nats-Msg-Id') ?? '').startsWith(`${this.o.nodeId}.`);
          const applied = this.o.applier.apply([{ partition: Number(m.subject.slice(SUBJECT_PREFIX.length)), seq: m.seq, batch, feed: true, ...(own ? { own } : {}) }]);
          applied.catch((err: unknown) => {
            if (failed) return;
            failed = true;
            this.o.logger.error('the journal feed could not write a commit; it starts again from its cursor', { seq: m.seq, err: String(err) });
            messages.stop();
          });
          if (this.o.applier.pending() > (this.o.maxPending ?? 2000)) await applied.catch(() => undefined);
        }
      } catch (err) {
        if (this.closed) return;
        this.o.logger.warn('the journal feed lost its consumer; it starts again from its cursor', { err: String(err) });
        failed = true;
      }
      if (failed && !this.closed) await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** failures++)));
    }
  }

  /**
   * After a nats-server died, the ordered consumer can stay silent for good while the stream grows (NATS 2.9:
   * its re-creation fails, measured stuck past 30 s): the read model then misses other nodes' commits. A
   * consumer that delivers nothing while the stream is ahead and the applier idle is stopped; `run` starts again from the cursor.
   */
  private watch(): void {
    const applied = this.o.applier.feedCursor();
    if (applied !== this.seenCursor) {
      this.seenCursor = applied;
      this.still = this.sampledAt;
      return;
    }
    if (this.streamLast <= applied || this.o.applier.pending() > 0 || this.sampledAt - this.still < (this.o.stallMs ?? 3000)) return;
    this.o.logger.warn('the journal feed delivers nothing behind the stream; it starts again from its cursor', { applied, streamLast: this.streamLast });
    this.still = this.sampledAt;
    this.messages?.stop();
  }

  private async sample(): Promise<void> {
    try {
      const info = await this.jsm.streams.info(JOURNAL_STREAM);
      this.streamLast = info.state.last_seq;
      this.sampledAt = Date.now();
      this.watch();
    } catch {
      // Sampled again at the next tick; the lag shows the last sample's time.
    }
  }
}
