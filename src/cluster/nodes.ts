/**
 * @module cluster/nodes — which engine nodes are alive: each node puts a heartbeat key (its node id)
 * in the KV bucket `actorflow-nodes` every `heartbeatMs`; the bucket's TTL removes a dead node's key.
 * Expiry sends no notification on NATS 2.9, so each node also forgets a node it has not heard from
 * for `ttlMs` (by its own clock, from when it received the heartbeat).
 */
import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { openBucket, retrySetup } from './buckets.ts';

export const NODES_BUCKET = 'actorflow-nodes';
const NODE_ID = /^[A-Za-z0-9_-]{1,64}$/;

export interface NodeRegistryOptions {
  /** Letters, digits, `_` and `-` (it is a KV key and a subject token). */
  readonly nodeId: string;
  /** A node unheard of for this long is dead. @default 5000 */
  readonly ttlMs?: number;
  /** @default ttlMs / 4 */
  readonly heartbeatMs?: number;
  /** @default 1 */
  readonly replicas?: number;
}

export interface NodeRegistry {
  readonly nodeId: string;
  /** Live node ids, sorted; always includes this node while it runs. */
  live(): string[];
  /** Called after the live set changed. Returns the unsubscribe function. */
  onChange(listener: (live: readonly string[]) => void): () => void;
  /** Stops heartbeating and deletes this node's key, so the others rebalance at once. Never throws. */
  close(): Promise<void>;
}

export function assertNodeId(nodeId: string): void {
  if (!NODE_ID.test(nodeId)) throw new RangeError(`a node id is 1-64 letters, digits, '_' or '-': got ${JSON.stringify(nodeId)}`);
}

export async function startNodeRegistry(nc: NatsConnection, o: NodeRegistryOptions): Promise<NodeRegistry> {
  assertNodeId(o.nodeId);
  const ttlMs = o.ttlMs ?? 5000;
  const kv = await openBucket(nc, NODES_BUCKET, { replicas: o.replicas ?? 1, ttlMs, timeoutMs: Math.max(250, ttlMs / 2) });
  const reg = new NodeRegistryImpl(kv, o.nodeId, ttlMs, o.heartbeatMs ?? ttlMs / 4);
  await reg.start();
  return reg;
}

class NodeRegistryImpl implements NodeRegistry {
  /** node id → local time its last heartbeat arrived. */
  private readonly seen = new Map<string, number>();
  private readonly listeners = new Set<(live: readonly string[]) => void>();
  private timer: NodeJS.Timeout | undefined;
  private stopWatch: (() => void) | undefined;
  private closed = false;

  constructor(
    private readonly kv: KV,
    readonly nodeId: string,
    private readonly ttlMs: number,
    private readonly heartbeatMs: number,
  ) {}

  async start(): Promise<void> {
    await this.beat();
    // The keys present now, then every change: a node joining right after start is not missed, since
    // its heartbeat repeats anyway.
    const keys = await retrySetup(async () => {
      const out: string[] = [];
      for await (const k of await this.kv.keys()) out.push(k);
      return out;
    });
    const now = Date.now();
    for (const k of keys) this.seen.set(k, now);
    const w = await retrySetup(() => this.kv.watch({ include: 'updates' }));
    this.stopWatch = () => w.stop();
    void (async () => {
      for await (const e of w) {
        if (e.operation === 'PUT') this.mark(e.key, true);
        else this.mark(e.key, false);
      }
    })().catch(() => undefined);
    this.timer = setInterval(() => {
      void this.beat();
      this.prune();
    }, this.heartbeatMs);
    this.timer.unref();
  }

  live(): string[] {
    const out = new Set<string>([this.nodeId]);
    const horizon = Date.now() - this.ttlMs;
    for (const [id, at] of this.seen) if (at >= horizon) out.add(id);
    if (this.closed) out.delete(this.nodeId);
    return [...out].sort();
  }

  onChange(listener: (live: readonly string[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.stopWatch?.();
    await this.kv.delete(this.nodeId).catch(() => undefined);
  }

  private async beat(): Promise<void> {
    // A failed heartbeat is retried on the next beat; missing several is what makes a node dead.
    await this.kv.put(this.nodeId, String(Date.now())).catch(() => undefined);
  }

  private mark(id: string, alive: boolean): void {
    const was = this.live().includes(id);
    if (alive) this.seen.set(id, Date.now());
    else this.seen.delete(id);
    if (was !== this.live().includes(id)) this.emit();
  }

  private prune(): void {
    const horizon = Date.now() - this.ttlMs;
    let changed = false;
    for (const [id, at] of this.seen) {
      if (at < horizon) {
        this.seen.delete(id);
        changed = id !== this.nodeId || changed;
      }
    }
    if (changed) this.emit();
  }

  private emit(): void {
    const live = this.live();
    for (const l of this.listeners) l(live);
  }
}
