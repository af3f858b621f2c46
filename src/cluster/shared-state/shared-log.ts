/**
 * @module cluster/shared-state/shared-log — `SharedWrites` in cluster mode: the writes of shared
 * resources go through the `actorflow-shared` stream, and every node applies them in stream order.
 *
 * - write: the op is published (acknowledged by a quorum of the stream's replicas), then the writer
 *   waits until its own node applied it, and answers with that apply's outcome. Two nodes racing on
 *   one resource get the same order everywhere: the first op wins on every node, the second gets the
 *   conflict its applier finds (e.g. `version_exists`).
 * - apply: one ordered consumer per node, from the position its SQLite recorded, hands each op to its
 *   resource's applier, one at a time. Ops of a resource whose applier is not registered yet (the
 *   node is still booting) wait in order for it; the others go on. The position is written after the
 *   applies it covers (an op may be applied twice across a crash: appliers are idempotent).
 * - `caughtUp()`: resolves once every op the stream held when the node joined is applied here: the
 *   node serves only after it (a restarted node first applies the writes it missed).
 */
import { DeliverPolicy, jetstream, jetstreamManager, type ConsumerMessages } from '@nats-io/jetstream';
import { nuid, type NatsConnection } from '@nats-io/transport-node';
import { msgpackCodec as codec } from '../../common/codec.ts';
import { ActorflowError, ErrorCode } from '../../common/errors.ts';
import type { Logger } from '../../common/logger.ts';
import type { Applier, SharedResource, SharedWrites } from '../../common/shared-writes.ts';
import { SHARED_POSITION, type Store } from '../../store/types.ts';
import { SETUP_ATTEMPT_MS, retrySetup } from '../buckets.ts';
import { isSetupPending } from '../nats-errors.ts';
import { SHARED_STREAM, SHARED_SUBJECT, ensureSharedStream, type SharedEntry } from './shared-stream.ts';

export interface SharedLogOptions {
  readonly nc: NatsConnection;
  readonly nodeId: string;
  /** Where the position is kept (journal_positions, key SHARED_POSITION). */
  readonly store: Store;
  readonly logger: Logger;
  /** Replicas of the stream, as the journal's. @default 1 */
  readonly replicas?: number;
  /** How long a write waits for its publish ack and then for its apply here. @default 5000 */
  readonly timeoutMs?: number;
}

/** What `/status` shows of the shared state. */
export interface SharedLogStatus {
  /** Stream sequence this node applied everything up to. */
  readonly applied: number;
  /** Ops waiting for the applier of their resource. */
  readonly waiting: number;
}

export interface SharedLog extends SharedWrites {
  /** Without a resource: once every op the stream held at open is applied here (every resource's). */
  caughtUp(resource?: SharedResource): Promise<void>;
  status(): SharedLogStatus;
  close(): Promise<void>;
}

interface Waiter {
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: unknown) => void;
}

interface Held {
  readonly seq: number;
  readonly entry: SharedEntry;
}

export async function openSharedLog(o: SharedLogOptions): Promise<SharedLog> {
  const jsm = await jetstreamManager(o.nc, { timeout: SETUP_ATTEMPT_MS });
  await retrySetup(() => ensureSharedStream(jsm, o.replicas ?? 1));
  const tail = (await retrySetup(() => jsm.streams.info(SHARED_STREAM))).state.last_seq;
  const position = (await o.store.journalPositions()).get(SHARED_POSITION) ?? 0;
  const log = new Log(o, position, tail);
  log.start();
  return log;
}

class Log implements SharedLog {
  private readonly appliers = new Map<string, Applier<unknown, unknown>>();
  /** Ops of resources without an applier yet, in stream order. */
  private readonly held = new Map<string, Held[]>();
  private readonly waiters = new Map<string, Waiter>();
  /** Applies run one at a time, in stream order. */
  private chain: Promise<void> = Promise.resolve();
  /** The last stream sequence handed to the chain or held. */
  private delivered: number;
  private persisted: number;
  private persisting: Promise<void> = Promise.resolve();
  private persistArmed = false;
  private messages: ConsumerMessages | undefined;
  private loop: Promise<void> = Promise.resolve();
  private closed = false;
  /** `caughtUp` calls still waiting. */
  private catching: { readonly resource: string | undefined; readonly resolve: () => void }[] = [];
  private readonly timeoutMs: number;

  constructor(
    private readonly o: SharedLogOptions,
    position: number,
    private readonly tail: number,
  ) {
    this.delivered = position;
    this.persisted = position;
    this.timeoutMs = o.timeoutMs ?? 5000;
  }

  start(): void {
    this.loop = this.run();
  }

  channel<Op, R>(resource: SharedResource, apply: Applier<Op, R>): Applier<Op, R> {
    if (this.appliers.has(resource)) throw new Error(`the shared resource ${resource} has an applier already`);
    this.appliers.set(resource, apply as Applier<unknown, unknown>);
    const held = this.held.get(resource);
    if (held !== undefined) {
      // In the chain: after whatever was handed to it before, and ops arriving meanwhile join the held list.
      this.chain = this.chain.then(async () => {
        // Out of the list once applied: until then the position stays before it.
        for (let h = held[0]; h !== undefined; h = held[0]) {
          await this.applyOne(h.seq, h.entry);
          held.shift();
        }
        this.held.delete(resource);
        this.progressed();
      });
    }
    return (op: Op) => this.write(resource, op) as Promise<R>;
  }

  caughtUp(resource?: SharedResource): Promise<void> {
    if (this.isCaughtUp(resource)) return Promise.resolve();
    return new Promise((resolve) => this.catching.push({ resource, resolve }));
  }

  private isCaughtUp(resource: string | undefined): boolean {
    if (resource === undefined) return this.appliedThrough() >= this.tail;
    return this.delivered >= this.tail && this.appliers.has(resource) && (this.held.get(resource)?.length ?? 0) === 0;
  }

  status(): SharedLogStatus {
    let waiting = 0;
    for (const h of this.held.values()) waiting += h.length;
    return { applied: this.appliedThrough(), waiting };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.messages?.stop();
    await this.loop;
    await this.chain;
    await this.persist();
    for (const w of this.waiters.values()) w.reject(this.unavailable('the node is closing'));
    this.waiters.clear();
  }

  private async write(resource: string, op: unknown): Promise<unknown> {
    if (this.closed) throw this.unavailable('the node is closing');
    const i = `${this.o.nodeId}.${nuid.next()}`;
    const applied = new Promise<unknown>((resolve, reject) => this.waiters.set(i, { resolve, reject }));
    // A rejection nobody waits on yet (the publish failed first) is not unhandled.
    applied.catch(() => undefined);
    const began = Date.now();
    const data = codec.encode({ r: resource, o: op, n: this.o.nodeId, i } satisfies SharedEntry);
    for (let attempt = 0; ; attempt++) {
      try {
        await jetstream(this.o.nc).publish(SHARED_SUBJECT, data, { msgID: i, timeout: Math.max(100, this.timeoutMs - (Date.now() - began)) });
        break;
      } catch (err) {
        // Nothing answers yet (the stream was just made, its leader is being elected): again, deduped by its id.
        if (isSetupPending(err) && Date.now() - began < this.timeoutMs) {
          await new Promise((r) => setTimeout(r, Math.min(50 * 2 ** attempt, 500)));
          continue;
        }
        this.waiters.delete(i);
        throw this.unavailable(`the write was not acknowledged (its outcome is unknown): ${String(err)}`, err);
      }
    }
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(this.unavailable('the write was acknowledged but not applied on this node in time; it will be')), Math.max(100, this.timeoutMs - (Date.now() - began)));
    });
    try {
      return await Promise.race([applied, late]);
    } finally {
      clearTimeout(timer);
      this.waiters.delete(i);
    }
  }

  /** Consumes from the position; after any failure starts again after the last op delivered. */
  private async run(): Promise<void> {
    const js = jetstream(this.o.nc);
    for (let failures = 0; !this.closed; ) {
      try {
        const from = this.delivered + 1;
        const consumer = await js.consumers.get(SHARED_STREAM, from > 1 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: from } : { deliver_policy: DeliverPolicy.All });
        if (this.closed) return;
        const messages = await consumer.consume({ max_messages: 256 });
        this.messages = messages;
        for await (const m of messages) {
          failures = 0;
          if (m.seq <= this.delivered) continue;
          let entry: SharedEntry;
          try {
            entry = codec.decode<SharedEntry>(m.data);
          } catch (err) {
            this.o.logger.error('an unreadable shared-state write was skipped', { seq: m.seq, err: String(err) });
            this.delivered = m.seq;
            continue;
          }
          const seq = m.seq;
          const held = this.held.get(entry.r);
          if (held !== undefined || !this.appliers.has(entry.r)) {
            if (held === undefined) this.held.set(entry.r, [{ seq, entry }]);
            else held.push({ seq, entry });
          } else {
            this.chain = this.chain.then(() => this.applyOne(seq, entry));
            await this.chain;
          }
          // Delivered once applied (or held): the position never passes an op still being applied.
          this.delivered = seq;
          this.progressed();
        }
      } catch (err) {
        if (this.closed) return;
        this.o.logger.warn('the shared-state consumer failed; it starts again after its last op', { err: String(err) });
      }
      if (!this.closed) await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** failures++)));
    }
  }

  /** One op through its applier; the writer (if it is this node) gets the outcome. Never throws. */
  private async applyOne(seq: number, entry: SharedEntry): Promise<void> {
    const apply = this.appliers.get(entry.r) as Applier<unknown, unknown>;
    const waiter = entry.n === this.o.nodeId ? this.waiters.get(entry.i) : undefined;
    try {
      const value = await apply(entry.o);
      waiter?.resolve(value);
    } catch (err) {
      // A typed refusal (a lost race, a row gone) is the op's outcome on every node; anything else is a fault here.
      if (!(err instanceof ActorflowError)) this.o.logger.error('a shared-state write could not be applied on this node', { seq, resource: entry.r, err: String(err) });
      waiter?.reject(err);
    }
  }

  /** Every op up to this sequence is applied here. */
  private appliedThrough(): number {
    let first = Infinity;
    for (const h of this.held.values()) if (h[0] !== undefined && h[0].seq < first) first = h[0].seq;
    return first === Infinity ? this.delivered : first - 1;
  }

  private progressed(): void {
    this.checkCaught();
    if (this.persistArmed || this.appliedThrough() <= this.persisted) return;
    this.persistArmed = true;
    // Once per turn of the event loop, however many ops it applied.
    setImmediate(() => void this.persist());
  }

  private checkCaught(): void {
    if (this.catching.length === 0) return;
    const still = this.catching.filter((c) => !this.isCaughtUp(c.resource));
    for (const c of this.catching) if (!still.includes(c)) c.resolve();
    this.catching = still;
  }

  private persist(): Promise<void> {
    this.persistArmed = false;
    this.persisting = this.persisting.then(async () => {
      const seq = this.appliedThrough();
      if (seq <= this.persisted) return;
      try {
        await this.o.store.commit({ events: [], executions: [], snapshots: [], positions: [{ partition: SHARED_POSITION, seq }] });
        this.persisted = seq;
      } catch (err) {
        // Only means applying a few ops again after a restart.
        this.o.logger.warn('the shared-state position could not be written', { seq, err: String(err) });
      }
    });
    return this.persisting;
  }

  private unavailable(message: string, cause?: unknown): ActorflowError {
    return new ActorflowError(ErrorCode.sharedStateUnavailable, `cluster-wide write: ${message}`, { retryable: true, retryAfterS: 1, ...(cause === undefined ? {} : { cause }) });
  }
}
