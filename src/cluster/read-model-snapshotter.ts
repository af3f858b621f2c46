/**
 * @module cluster/read-model-snapshotter — when a node snapshots its read model and compacts the journal
 * (cluster/read-model-snapshots.ts), and the step before its store opens that loads a snapshot.
 *
 * Only the node serving partition 0 takes snapshots, so one node writes them at a time (a brief overlap
 * across a hand-over is harmless: each copy is whole and the newest manifest wins). A tick does nothing
 * until `minCommits` commits were applied since the last copy. Compaction goes up to the copy before
 * the one just taken (minus a margin): a node's feed may lag by up to an interval without missing a commit.
 */
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from '../common/logger.ts';
import type { ReadModelFiles, Store } from '../store/types.ts';
import { SETUP_ATTEMPT_MS } from './buckets.ts';
import type { ClusterNode } from './cluster-node.ts';
import { ensureClusterConfig } from './partitions.ts';
import { compactJournal, firstBehind, latestManifest, prepareReadModel, takeReadModelSnapshot, type PrepareOutcome } from './read-model-snapshots.ts';

export interface SnapshotSettings {
  /** How often the partition-0 owner considers a snapshot (`ACTORFLOW_SNAPSHOT_INTERVAL_MS`); 0: never. @default 600000 */
  readonly intervalMs?: number;
  /** Journal commits applied since the last snapshot before another is taken (`ACTORFLOW_SNAPSHOT_MIN_COMMITS`). @default 1000 */
  readonly minCommits?: number;
  /** Stream sequences kept below what a snapshot covers, for nodes slightly behind it (`ACTORFLOW_COMPACT_MARGIN`). @default 10000 */
  readonly compactMargin?: number;
}

const connectTo = (servers: string, name: string): Promise<NatsConnection> =>
  connect({ servers: servers.split(',').map((s) => s.trim()), name, maxReconnectAttempts: -1, reconnectTimeWait: 250, waitOnFirstConnect: true, noAsyncTraces: true });

/** Before the store opens: loads the latest snapshot into a missing, empty or stale file (read-model-snapshots.ts). */
export async function prepareClusterStore(o: { readonly servers: string; readonly nodeId: string; readonly dbPath: string; readonly files: ReadModelFiles; readonly replicas: number; readonly partitions?: number; readonly logger: Logger }): Promise<PrepareOutcome> {
  const nc = await connectTo(o.servers, `actorflow-${o.nodeId}-prepare`);
  try {
    const config = await ensureClusterConfig(nc, { ...(o.partitions === undefined ? {} : { partitions: o.partitions }), replicas: o.replicas });
    return await prepareReadModel(nc, { dbPath: o.dbPath, files: o.files, partitions: config.partitions, replicas: o.replicas, logger: o.logger });
  } finally {
    await nc.close();
  }
}

export interface Snapshotter {
  close(): Promise<void>;
}

export async function startSnapshotter(o: SnapshotSettings & { readonly servers: string; readonly dbPath: string; readonly files: ReadModelFiles; readonly node: ClusterNode; readonly store: Store; readonly logger: Logger }): Promise<Snapshotter | undefined> {
  const intervalMs = o.intervalMs ?? 600_000;
  if (intervalMs <= 0) return undefined;
  const nc = await connectTo(o.servers, `actorflow-${o.node.nodeId}-snapshots`);
  const jsm = await jetstreamManager(nc, { timeout: SETUP_ATTEMPT_MS });
  let lastApplied = -1;
  let running: Promise<void> = Promise.resolve();
  let busy = false;
  const tick = async () => {
    // Every node: a feed that fell behind a compaction (more than an interval plus the margin) is told loudly; a restart reloads the snapshot.
    const positions = await o.store.journalPositions();
    const behind = await firstBehind(jsm, o.node.partitions, (p) => positions.get(p) ?? 0);
    if (behind !== undefined) o.logger.error('this node missed commits the journal compaction removed; restart it to reload the latest snapshot', { partition: behind, position: positions.get(behind) ?? 0 });
    const status = o.node.status();
    const applied = status.journalLag.applied;
    if (!status.serving.includes(0) || applied - lastApplied < (o.minCommits ?? 1000)) return;
    const previous = await latestManifest(jsm);
    const taken = await takeReadModelSnapshot(nc, { dbPath: o.dbPath, files: o.files, nodeId: o.node.nodeId, replicas: o.node.replicas });
    lastApplied = applied;
    // Up to the previous copy only: a running node whose feed is behind this one (less than an interval) still finds every commit it lacks.
    const purged = previous === undefined ? 0 : await compactJournal(jsm, previous, o.compactMargin ?? 10_000);
    o.logger.info('read-model snapshot stored; journal compacted', { id: taken.manifest.id, bytes: taken.manifest.bytes, copyMs: taken.copyMs, uploadMs: taken.uploadMs, purged });
  };
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    running = tick()
      .catch((err: unknown) => o.logger.warn('read-model snapshot failed; tried again at the next tick', { err: String(err) }))
      .finally(() => (busy = false));
  }, intervalMs);
  timer.unref();
  return {
    close: async () => {
      clearInterval(timer);
      await running;
      await nc.close();
    },
  };
}
