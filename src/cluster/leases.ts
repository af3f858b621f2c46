/**
 * @module cluster/leases — which node owns which partition. A lease is the key `partition.<n>` of the
 * replicated KV bucket `actorflow-leases`, whose TTL (`ttlMs`) expires it unless renewed:
 * - claim: KV create (compare-and-set on "no live value"), so two nodes never both win;
 * - renew: update with the last revision, every `renewMs`; a refused update means someone else holds it;
 * - fence: a lease is given up locally at (send time of its last successful renewal) + TTL - `safetyMs`,
 *   before the server can expire it and another node claim it, whether or not NATS answers: `lost`
 *   is emitted then, and the partition must not be served from that moment;
 * - balance: each node aims at ceil(P / N) leases (N = live nodes, from the node registry), releasing
 *   the excess and claiming free or expired partitions up to its share;
 * - release on close: delete with the last revision, so others claim at once instead of after the TTL.
 */
import { EventEmitter } from 'node:events';
import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { openBucket, retrySetup } from './buckets.ts';
import { isWrongLastSequence } from './nats-errors.ts';
import { partitionKey } from './partitions.ts';
import { assertNodeId, startNodeRegistry, type NodeRegistry } from './nodes.ts';

export const LEASES_BUCKET = 'actorflow-leases';
/** @default lease TTL */
export const DEFAULT_LEASE_TTL_MS = 5000;

export interface LeaseOptions {
  readonly nodeId: string;
  /** The cluster's partition count (from `ensureClusterConfig`). */
  readonly partitions: number;
  /** @default 5000 */
  readonly ttlMs?: number;
  /** How often leases are renewed and the balance checked. @default ttlMs / 5 */
  readonly renewMs?: number;
  /** A lease is given up locally this long before the server could expire it. @default ttlMs / 4 */
  readonly safetyMs?: number;
  /** Replicas of the leases and nodes buckets. @default 1 */
  readonly replicas?: number;
}

/** Why a partition was lost: given up by balancing or close, taken (a renewal was refused), or expired before a renewal got through. */
export type LostReason = 'released' | 'taken' | 'expired';

export interface LeaseEvents {
  gained: [partition: number];
  lost: [partition: number, reason: LostReason];
}

/**
 * A node's leases. `gained` and `lost` are emitted synchronously, in order per partition; a `lost`
 * listener must stop serving the partition before it returns, and no listener may throw.
 */
export interface PartitionLeases extends EventEmitter<LeaseEvents> {
  readonly nodeId: string;
  /** Partitions this node owns now, ascending. */
  owned(): number[];
  /**
   * True while this node owns `p` by the clock, not only by its fence timer: a process resumed after a
   * pause (SIGSTOP, a long GC) may run other code before the timer fires, and must not write meanwhile.
   */
  holds(p: number): boolean;
  /** Owner of each partition as last seen in the bucket (partitions whose lease looks expired are absent). */
  owners(): Map<number, string>;
  /** `owners()` with when each lease was last written (claimed or renewed), by this node's clock: its age. */
  leaseTimes(): Map<number, { readonly owner: string; readonly writtenAt: number }>;
  /** The node registry's live nodes. */
  liveNodes(): string[];
  /** Emits `lost` for every owned partition, deletes the leases and this node's heartbeat. Never throws. */
  close(): Promise<void>;
}

interface Held {
  revision: number;
  timer: NodeJS.Timeout;
  /** When the write that gave this revision was sent. */
  sentAt: number;
  /** Epoch ms this node gives the lease up at (its fence). */
  validUntil: number;
}

interface Seen {
  readonly owner: string;
  readonly at: number;
}

/** Joins the cluster: opens the buckets, registers the node, then claims its share at once and keeps balancing. */
export async function startLeases(nc: NatsConnection, o: LeaseOptions): Promise<PartitionLeases> {
  assertNodeId(o.nodeId);
  if (!Number.isInteger(o.partitions) || o.partitions < 1) throw new RangeError(`partitions must be a positive integer, got ${o.partitions}`);
  const ttlMs = o.ttlMs ?? DEFAULT_LEASE_TTL_MS;
  const renewMs = o.renewMs ?? ttlMs / 5;
  const safetyMs = o.safetyMs ?? ttlMs / 4;
  if (renewMs * 2 + safetyMs >= ttlMs) throw new RangeError(`renewMs (${renewMs}) must leave room for two renewals before ttlMs - safetyMs (${ttlMs - safetyMs})`);
  const replicas = o.replicas ?? 1;
  const kv = await openBucket(nc, LEASES_BUCKET, { replicas, ttlMs, timeoutMs: Math.max(200, renewMs) });
  const registry = await startNodeRegistry(nc, { nodeId: o.nodeId, ttlMs, replicas });
  const leases = new LeasesImpl(kv, registry, o.partitions, ttlMs, renewMs, safetyMs);
  await leases.start();
  return leases;
}

class LeasesImpl extends EventEmitter<LeaseEvents> implements PartitionLeases {
  private readonly held = new Map<number, Held>();
  private readonly seen = new Map<number, Seen>();
  private timer: NodeJS.Timeout | undefined;
  private stopWatch: (() => void) | undefined;
  private ticking = false;
  private closed = false;
  /** Where this node starts looking for free partitions, so nodes joining together try different ones first. */
  private readonly offset: number;

  constructor(
    private readonly kv: KV,
    private readonly registry: NodeRegistry,
    private readonly partitions: number,
    private readonly ttlMs: number,
    private readonly renewMs: number,
    private readonly safetyMs: number,
  ) {
    super();
    let h = 0;
    for (const c of registry.nodeId) h = (Math.imul(h, 31) + c.charCodeAt(0)) >>> 0;
    this.offset = h % partitions;
  }

  get nodeId(): string {
    return this.registry.nodeId;
  }

  async start(): Promise<void> {
    const w = await retrySetup(() => this.kv.watch());
    this.stopWatch = () => w.stop();
    void (async () => {
      for await (const e of w) {
        const p = Number(e.key.slice('partition.'.length));
        if (e.operation === 'PUT') this.seen.set(p, { owner: new TextDecoder().decode(e.value), at: Date.now() });
        else this.seen.delete(p);
      }
    })().catch(() => undefined);
    // A node joining or leaving changes everyone's share: balance now rather than at the next tick.
    this.registry.onChange(() => void this.tick());
    this.timer = setInterval(() => void this.tick(), this.renewMs);
    this.timer.unref();
    await this.tick();
  }

  owned(): number[] {
    return [...this.held.keys()].sort((a, b) => a - b);
  }

  holds(p: number): boolean {
    const h = this.held.get(p);
    return h !== undefined && Date.now() < h.validUntil;
  }

  owners(): Map<number, string> {
    return new Map([...this.leaseTimes()].map(([p, l]) => [p, l.owner]));
  }

  leaseTimes(): Map<number, { readonly owner: string; readonly writtenAt: number }> {
    const out = new Map<number, { owner: string; writtenAt: number }>();
    const horizon = Date.now() - this.ttlMs;
    for (const [p, s] of this.seen) if (s.at >= horizon) out.set(p, { owner: s.owner, writtenAt: s.at });
    for (const [p, h] of this.held) out.set(p, { owner: this.nodeId, writtenAt: h.sentAt });
    return new Map([...out].sort((a, b) => a[0] - b[0]));
  }

  liveNodes(): string[] {
    return this.registry.live();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.stopWatch?.();
    await Promise.all(this.owned().map((p) => this.release(p)));
    await this.registry.close();
  }

  /** Renew, then balance. Ticks never overlap: a slow NATS makes them rarer, and the fence timers still fire. */
  private async tick(): Promise<void> {
    if (this.ticking || this.closed) return;
    this.ticking = true;
    try {
      await Promise.all(this.owned().map((p) => this.renew(p)));
      if (this.closed) return;
      const share = Math.ceil(this.partitions / Math.max(1, this.registry.live().length));
      const excess = this.held.size - share;
      if (excess > 0) {
        // Give up the ones farthest from this node's offset: what it claims first, it keeps longest.
        const byDistance = this.owned().sort((a, b) => this.distance(b) - this.distance(a));
        await Promise.all(byDistance.slice(0, excess).map((p) => this.release(p)));
      } else if (excess < 0) {
        await this.claim(-excess);
      }
    } finally {
      this.ticking = false;
    }
  }

  private distance(p: number): number {
    return (p - this.offset + this.partitions) % this.partitions;
  }

  /** Tries partitions that look free (no lease seen, or none renewed within the TTL) until `wanted` are won. */
  private async claim(wanted: number): Promise<void> {
    const horizon = Date.now() - this.ttlMs;
    for (let i = 0; i < this.partitions && wanted > 0 && !this.closed; i++) {
      const p = (this.offset + i) % this.partitions;
      if (this.held.has(p)) continue;
      const s = this.seen.get(p);
      if (s !== undefined && s.at >= horizon) continue;
      const sentAt = Date.now();
      try {
        const revision = await this.kv.create(partitionKey(p), this.nodeId);
        if (this.closed) {
          await this.kv.delete(partitionKey(p), { previousSeq: revision }).catch(() => undefined);
          return;
        }
        this.hold(p, revision, sentAt);
        wanted--;
        this.emit('gained', p);
      } catch (err) {
        // Someone holds it (their lease has not expired on the server yet): try the next one.
        if (!isWrongLastSequence(err)) return;
      }
    }
  }

  private async renew(p: number): Promise<void> {
    const h = this.held.get(p);
    if (h === undefined) return;
    const sentAt = Date.now();
    try {
      const revision = await this.kv.update(partitionKey(p), this.nodeId, h.revision, this.renewMs);
      if (this.held.get(p) === h) this.hold(p, revision, sentAt);
    } catch (err) {
      // Refused: the lease expired and someone (maybe nobody yet) wrote over it. Any other failure
      // (timeout, no connection) is retried on the next tick until the fence timer gives the lease up.
      if (isWrongLastSequence(err)) this.lose(p, 'taken');
    }
  }

  private hold(p: number, revision: number, sentAt: number): void {
    const prev = this.held.get(p);
    if (prev) clearTimeout(prev.timer);
    const validUntil = sentAt + this.ttlMs - this.safetyMs;
    const timer = setTimeout(() => this.lose(p, 'expired'), Math.max(0, validUntil - Date.now()));
    timer.unref();
    this.held.set(p, { revision, timer, sentAt, validUntil });
  }

  private lose(p: number, reason: LostReason): boolean {
    const h = this.held.get(p);
    if (h === undefined) return false;
    clearTimeout(h.timer);
    this.held.delete(p);
    this.emit('lost', p, reason);
    return true;
  }

  /** Stops serving first (`lost`), then deletes the lease so another node can claim it before it would expire. */
  private async release(p: number): Promise<void> {
    const h = this.held.get(p);
    if (h === undefined) return;
    this.lose(p, 'released');
    await this.kv.delete(partitionKey(p), { previousSeq: h.revision }).catch(() => undefined);
  }
}
