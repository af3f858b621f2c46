/**
 * @module cluster/cluster-node — one engine node of a cluster (`actorflow serve --cluster`): it joins
 * (config, leases, journal feed), and moves partitions in and out of its engine as its leases come and go.
 *
 * - gained: open the partition's journal at its tail, write what the local copy misses (replay from its
 *   position), then let the engine restore the partition's unfinished executions; from then on the node
 *   serves it: its engine writes there, and it answers the commands forwarded to it.
 * - lost (balance, takeover, expiry): synchronously stop serving: the engine drops the partition's live
 *   executions without writing, appends for it are refused, forwarded commands are no longer answered.
 * - broken (an append fenced, an outcome unknown, a local write failed): as lost, then taken over again
 *   from the stream while the lease is still this node's.
 *
 * The engine sees none of this but two hooks (`Ownership`, `PartitionControl`): it imports no NATS.
 */
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { ActorflowError, ErrorCode } from '../common/errors.ts';
import type { Logger } from '../common/logger.ts';
import type { Journal, Ownership, PartitionControl } from '../engine/journal/journal.ts';
import type { Engine } from '../engine/types.ts';
import type { CommitBatch, Store } from '../store/types.ts';
import { clusterEngine, type Routing } from './cluster-engine.ts';
import { clusterJournal } from './cluster-journal.ts';
import { Forwarder, type ForwardCounts } from './forwarding.ts';
import { openJournalApplier, type JournalApplier, type JournalItem } from './journal-applier.ts';
import { startJournalFeed, type FeedLag, type JournalFeed } from './journal-feed.ts';
import { startLeases, type PartitionLeases } from './leases.ts';
import { ensureJournalStream, openPartitionJournal, type PartitionJournal } from './partition-journal.ts';
import { SETUP_ATTEMPT_MS, retrySetup } from './buckets.ts';
import { ensureClusterConfig, partitionOf, partitionOfKey } from './partitions.ts';
import { openSharedLog, type SharedLog, type SharedLogStatus } from './shared-state/shared-log.ts';

export interface ClusterNodeOptions {
  /** NATS server URLs, comma-separated. */
  readonly servers: string;
  readonly nodeId: string;
  /** The local store: the read model of every partition, and what the engine restores from. */
  readonly store: Store;
  readonly logger: Logger;
  /** Partitions of a new cluster (a running cluster keeps its own). @default 32 */
  readonly partitions?: number;
  /** Replicas of the journal stream and the buckets: 3 on a 3-server NATS cluster. @default 1 */
  readonly replicas?: number;
  /** @default 5000 */
  readonly leaseTtlMs?: number;
  /** How long a forwarded command waits for its partition to have an owner. @default 5000 */
  readonly forwardDeadlineMs?: number;
}

/** The engine as the node drives it. */
export type PartitionedEngine = Engine & { readonly partitions: PartitionControl };

/** What `/status` and `GET /cluster` show of the node. */
export interface ClusterStatus {
  readonly nodeId: string;
  readonly partitions: number;
  /** Partitions this node serves now, ascending. */
  readonly serving: readonly number[];
  /** Partitions whose lease this node holds and which it is still taking over. */
  readonly adopting: readonly number[];
  readonly journalLag: FeedLag;
  readonly forwarded: Readonly<ForwardCounts>;
  /** Where this node's copy of the shared resources (definitions, keys, tenants…) stands. */
  readonly sharedState: SharedLogStatus;
}

export interface ClusterView extends ClusterStatus {
  /** Live nodes (heartbeats), sorted. */
  readonly nodes: readonly string[];
  /** Every partition with its owner as leases show it (null: none now) and the age of its lease. */
  readonly owners: readonly { readonly partition: number; readonly node: string | null; readonly leaseAgeMs: number | null }[];
}

export interface ClusterNode {
  readonly nodeId: string;
  readonly partitions: number;
  /** Replicas of the cluster's streams and buckets (the task queue's too). */
  readonly replicas: number;
  /** For `createEngine`: where the engine writes, and which executions it runs. */
  readonly journal: Journal;
  readonly ownership: Ownership;
  /** Where writes of definitions, templates, keys, tenants, schedules and webhooks go: applied on every node, in one order. */
  readonly shared: SharedLog;
  /** Starts the feed, claims leases and serves partitions with `engine`; returns the engine the API uses (commands routed). */
  join(engine: PartitionedEngine): Promise<Engine>;
  /** Tells `listener` when this node starts serving a partition (caught up and restored) and when it stops. Must not throw. */
  onServing(listener: (partition: number, serving: boolean) => void): void;
  /** Whether this node serves the partition `key` of `tenant` falls in now (a schedule's id: this node fires it). */
  servesKey(tenant: string, key: string): boolean;
  status(): ClusterStatus;
  view(): ClusterView;
  /** Releases every lease (others take over at once), stops the feed, closes the connection. */
  close(): Promise<void>;
}

/** How long a command for a partition this node is taking over waits for it. */
const ADOPT_WAIT_MS = 3000;

export async function openClusterNode(o: ClusterNodeOptions): Promise<ClusterNode> {
  const nc = await connect({
    servers: o.servers.split(',').map((s) => s.trim()),
    name: `actorflow-${o.nodeId}`,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    waitOnFirstConnect: true,
    noAsyncTraces: true,
  });
  try {
    const config = await ensureClusterConfig(nc, { ...(o.partitions === undefined ? {} : { partitions: o.partitions }), replicas: o.replicas ?? 1 });
    // Before the feed subscribes to it.
    const jsm = await jetstreamManager(nc, { timeout: SETUP_ATTEMPT_MS });
    await retrySetup(() => ensureJournalStream(jsm, { replicas: o.replicas ?? 1 }));
    let node: Node | undefined;
    // Commits other nodes wrote reach this engine's listeners once they are in the local store.
    const applier = await openJournalApplier({ store: o.store, onForeign: (batch) => node?.announce(batch) });
    const shared = await openSharedLog({ nc, nodeId: o.nodeId, store: o.store, logger: o.logger, replicas: o.replicas ?? 1 });
    node = new Node(nc, o, config.partitions, applier, shared);
    return node;
  } catch (err) {
    await nc.close();
    throw err;
  }
}

class Node implements ClusterNode {
  readonly journal: Journal;
  readonly ownership: Ownership;
  private feed: JournalFeed | undefined;
  private leases: PartitionLeases | undefined;
  private engine: PartitionedEngine | undefined;
  private readonly forwarder: Forwarder;
  /** Partitions the engine may write to (taken over, or being restored): their writers. */
  private readonly writers = new Map<number, PartitionJournal>();
  /** Partitions served: caught up and restored. */
  private readonly ready = new Set<number>();
  /** Bumped on every change of a partition's hand-over: a take-over that sees another number stops. */
  private readonly generation = new Map<number, number>();
  private readonly readyWaiters = new Map<number, Set<() => void>>();
  private nextPartition = 0;
  private closed = false;
  private readonly servingListeners: ((partition: number, serving: boolean) => void)[] = [];

  constructor(
    private readonly nc: NatsConnection,
    private readonly o: ClusterNodeOptions,
    readonly partitions: number,
    private readonly applier: JournalApplier,
    readonly shared: SharedLog,
  ) {
    this.forwarder = new Forwarder({ nc, logger: o.logger, ...(o.forwardDeadlineMs === undefined ? {} : { deadlineMs: o.forwardDeadlineMs }) });
    this.journal = clusterJournal({
      store: o.store,
      applier,
      partitionOf: (id) => partitionOf(id, partitions),
      // By the lease's clock too: a node resumed past its lease writes nothing before its fence timer fires.
      writer: (p) => (this.leases?.holds(p) === true ? this.writers.get(p) : undefined),
      onBroken: (p, err) => this.broken(p, err),
    });
    this.ownership = {
      owns: (id) => this.writers.has(partitionOf(id, partitions)),
      newId: (make, hint) => {
        const target =
          hint.parentId !== null ? partitionOf(hint.parentId, partitions)
          : hint.idempotencyKey !== null ? partitionOfKey(hint.tenant, hint.idempotencyKey, partitions)
          : hint.group !== null ? partitionOfKey(hint.tenant, hint.group, partitions)
          : this.pickServed();
        if (target === undefined || !this.writers.has(target)) throw this.unavailable(target);
        // A ULID's random tail spreads ids evenly: about `partitions` tries find one of the target.
        for (let i = 0; i < partitions * 64; i++) {
          const id = make();
          if (partitionOf(id, partitions) === target) return id;
        }
        throw new Error(`no id of partition ${target} found`);
      },
    };
  }

  get nodeId(): string {
    return this.o.nodeId;
  }

  get replicas(): number {
    return this.o.replicas ?? 1;
  }

  announce(batch: CommitBatch): void {
    this.engine?.partitions.announce(batch);
  }

  async join(engine: PartitionedEngine): Promise<Engine> {
    this.engine = engine;
    this.feed = await startJournalFeed(this.nc, { applier: this.applier, logger: this.o.logger, nodeId: this.o.nodeId });
    const leases = await startLeases(this.nc, { nodeId: this.o.nodeId, partitions: this.partitions, replicas: this.o.replicas ?? 1, ...(this.o.leaseTtlMs === undefined ? {} : { ttlMs: this.o.leaseTtlMs }) });
    this.leases = leases;
    leases.on('gained', (p) => void this.takeOver(p));
    leases.on('lost', (p, reason) => {
      this.o.logger.info('partition lost', { partition: p, reason });
      this.stopServing(p);
    });
    // Claimed during start (before the listeners): taken over now.
    for (const p of leases.owned()) void this.takeOver(p);
    const routing: Routing = {
      partitions: this.partitions,
      serves: (p) => this.ready.has(p),
      whenServed: (p) => this.whenServed(p),
      served: () => [...this.ready],
      anyOwned: () => {
        const owned = [...(this.leases?.owners().keys() ?? [])];
        return owned[Math.floor(Math.random() * owned.length)] ?? Math.floor(Math.random() * this.partitions);
      },
    };
    return clusterEngine(engine, routing, this.forwarder);
  }

  servesKey(tenant: string, key: string): boolean {
    return this.ready.has(partitionOfKey(tenant, key, this.partitions));
  }

  onServing(listener: (partition: number, serving: boolean) => void): void {
    this.servingListeners.push(listener);
  }

  status(): ClusterStatus {
    const adopting = [...this.generation.keys()].filter((p) => (this.leases?.owned().includes(p) ?? false) && !this.ready.has(p));
    return {
      nodeId: this.o.nodeId,
      partitions: this.partitions,
      serving: [...this.ready].sort((a, b) => a - b),
      adopting: adopting.sort((a, b) => a - b),
      journalLag: this.feed?.lag() ?? { applied: this.applier.feedCursor(), streamLast: 0, behind: 0, sampledAt: 0 },
      forwarded: { ...this.forwarder.counts },
      sharedState: this.shared.status(),
    };
  }

  view(): ClusterView {
    const times = this.leases?.leaseTimes() ?? new Map<number, { owner: string; writtenAt: number }>();
    const now = Date.now();
    const owners = Array.from({ length: this.partitions }, (_, partition) => {
      const t = times.get(partition);
      return { partition, node: t?.owner ?? null, leaseAgeMs: t === undefined ? null : Math.max(0, now - t.writtenAt) };
    });
    return { ...this.status(), nodes: this.leases?.liveNodes() ?? [this.o.nodeId], owners };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Leases first: `lost` stops serving each partition, then the others claim them at once.
    await this.leases?.close();
    this.forwarder.close();
    await this.feed?.close();
    await this.shared.close();
    await this.nc.drain().catch(() => this.nc.close());
  }

  /** Takes partition `p` over (its lease is this node's): retried until served, or until the lease or the hand-over moves on. */
  private async takeOver(p: number): Promise<void> {
    const gen = this.bump(p);
    const current = () => !this.closed && this.generation.get(p) === gen && (this.leases?.owned().includes(p) ?? false);
    const engine = this.engine as PartitionedEngine;
    const match = (id: string) => partitionOf(id, this.partitions) === p;
    const began = Date.now();
    for (let attempt = 0; current(); attempt++) {
      try {
        const writer = await openPartitionJournal(this.nc, { partition: p, replicas: this.o.replicas ?? 1, writer: this.o.nodeId, mayWrite: () => this.leases?.holds(p) === true });
        if (!current()) return;
        // A fence: an empty commit on the tail. An append the previous owner sent before it lost the lease
        // and that is still on its way now fails its expected sequence instead of landing after this one.
        // The replay goes up to it.
        await writer.commit({ events: [], executions: [], snapshots: [] });
        const replayed = await this.catchUp(p, writer, current);
        if (!current()) return;
        this.writers.set(p, writer);
        const restored = await engine.partitions.adopt((id) => match(id) && current());
        if (!current()) {
          // Lost while restoring: anything restored after the drop goes too.
          if (this.generation.get(p) !== gen) engine.partitions.drop(match);
          return;
        }
        this.ready.add(p);
        this.forwarder.serve(p, engine, () => this.ready.has(p));
        for (const l of this.servingListeners) l(p, true);
        for (const w of this.readyWaiters.get(p) ?? []) w();
        this.readyWaiters.delete(p);
        this.o.logger.info('partition served', { partition: p, replayed, restored, ms: Date.now() - began });
        return;
      } catch (err) {
        this.writers.delete(p);
        this.o.logger.warn('partition take-over failed; retrying', { partition: p, attempt, err: String(err) });
        await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** attempt)));
      }
    }
  }

  /** Writes the commits of `p` the local copy misses, up to the journal's tail as opened. */
  private async catchUp(p: number, writer: PartitionJournal, current: () => boolean): Promise<number> {
    let chunk: JournalItem[] = [];
    let n = 0;
    for await (const e of writer.replay(this.applier.position(p) + 1)) {
      if (!current()) return n;
      chunk.push({ partition: p, seq: e.seq, batch: e.batch });
      n++;
      if (chunk.length >= 100) {
        await this.applier.apply(chunk);
        chunk = [];
      }
    }
    if (chunk.length > 0) await this.applier.apply(chunk);
    return n;
  }

  /** Stops serving `p` at once: no more writes, forwarded commands or live executions of it here. */
  private stopServing(p: number): void {
    this.bump(p);
    const was = this.ready.delete(p);
    this.writers.delete(p);
    this.forwarder.stop(p);
    if (was) for (const l of this.servingListeners) l(p, false);
    this.engine?.partitions.drop((id) => partitionOf(id, this.partitions) === p);
  }

  private broken(p: number, err: unknown): void {
    if (!this.writers.has(p)) return;
    this.o.logger.warn('partition journal refused this node; taking the partition over again from the stream', { partition: p, err: String(err) });
    this.stopServing(p);
    if (!this.closed && (this.leases?.owned().includes(p) ?? false)) void this.takeOver(p);
  }

  private bump(p: number): number {
    const g = (this.generation.get(p) ?? 0) + 1;
    this.generation.set(p, g);
    return g;
  }

  private whenServed(p: number): Promise<boolean> {
    if (this.ready.has(p)) return Promise.resolve(true);
    if (!(this.leases?.owned().includes(p) ?? false)) return Promise.resolve(false);
    return new Promise((resolve) => {
      const waiters = this.readyWaiters.get(p) ?? new Set<() => void>();
      this.readyWaiters.set(p, waiters);
      const done = () => {
        clearTimeout(timer);
        waiters.delete(done);
        resolve(this.ready.has(p));
      };
      const timer = setTimeout(done, ADOPT_WAIT_MS);
      waiters.add(done);
    });
  }

  /** Round robin over the partitions served, for starts without a key. */
  private pickServed(): number | undefined {
    const served = [...this.ready];
    if (served.length === 0) return undefined;
    this.nextPartition = (this.nextPartition + 1) % served.length;
    return served[this.nextPartition];
  }

  private unavailable(p: number | undefined): ActorflowError {
    return new ActorflowError(ErrorCode.partitionUnavailable, p === undefined ? 'this node serves no partition right now; retry' : `partition ${p} is not served by this node now; retry`, { retryable: true, retryAfterS: 1 });
  }
}
