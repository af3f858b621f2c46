/**
 * @module cluster/partitions — how executions are split across the cluster. The partition count is
 * fixed when the cluster is created and stored in NATS (KV `actorflow-cluster`, key `config`), so
 * every node hashes an id to the same partition; the id itself (`ex_` + ULID, API.md) is unchanged.
 */
import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { msgpackCodec as codec } from '../common/codec.ts';
import { openBucket, retrySetup } from './buckets.ts';
import { ClusterError, ClusterErrorCode } from './errors.ts';
import { isWrongLastSequence } from './nats-errors.ts';

export const CLUSTER_BUCKET = 'actorflow-cluster';
export const CONFIG_KEY = 'config';
/** @default partitions of a new cluster */
export const DEFAULT_PARTITIONS = 32;
/** Leases, snapshots and one journal subject each: more partitions than this buys nothing on NATS. */
export const MAX_PARTITIONS = 4096;

/** What every node of a cluster must agree on; written once, by the first node. */
export interface ClusterConfig {
  readonly partitions: number;
  /** Epoch ms when the first node created the cluster. */
  readonly createdAt: number;
}

export interface ClusterConfigOptions {
  /** Used only when this node creates the cluster; a running cluster keeps its own count. @default 32 */
  readonly partitions?: number;
  /** Replicas of the `actorflow-cluster` bucket (3 on a 3-server NATS cluster). @default 1 */
  readonly replicas?: number;
}

/**
 * The cluster's config: created with a KV create (compare-and-set on "no value yet"), so of two
 * nodes racing to create the cluster exactly one writes and both read the same partition count.
 */
export async function ensureClusterConfig(nc: NatsConnection, o: ClusterConfigOptions = {}): Promise<ClusterConfig> {
  const partitions = o.partitions ?? DEFAULT_PARTITIONS;
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > MAX_PARTITIONS) {
    throw new RangeError(`partitions must be an integer from 1 to ${MAX_PARTITIONS}, got ${partitions}`);
  }
  const kv = await openBucket(nc, CLUSTER_BUCKET, { replicas: o.replicas ?? 1 });
  const mine: ClusterConfig = { partitions, createdAt: Date.now() };
  // Retried on a timeout: a fresh replicated bucket may not answer at once while its group settles.
  return retrySetup(async () => {
    try {
      await kv.create(CONFIG_KEY, codec.encode(mine));
      return mine;
    } catch (err) {
      if (!isWrongLastSequence(err)) throw err;
    }
    return readClusterConfig(kv);
  });
}

async function readClusterConfig(kv: KV): Promise<ClusterConfig> {
  const e = await kv.get(CONFIG_KEY);
  if (e === null || e.operation !== 'PUT') throw new ClusterError(ClusterErrorCode.clusterRecordInvalid, 'the cluster config was removed while being read');
  const c = codec.decode<Partial<ClusterConfig>>(e.value);
  if (!Number.isInteger(c.partitions) || (c.partitions as number) < 1 || typeof c.createdAt !== 'number') {
    throw new ClusterError(ClusterErrorCode.clusterRecordInvalid, `the stored cluster config is not one this build reads: ${JSON.stringify(c)}`);
  }
  return { partitions: c.partitions as number, createdAt: c.createdAt };
}

/**
 * The partition of an execution: FNV-1a (32 bits) of the id's UTF-16 code units, modulo the count.
 * Stable across processes, versions and platforms (no seed); a ULID's random tail spreads it evenly.
 */
export function partitionOf(executionId: string, partitions: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < executionId.length; i++) {
    h ^= executionId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % partitions;
}

/** A partition's key in the cluster's KV buckets (leases, snapshots). */
export function partitionKey(partition: number): string {
  return `partition.${partition}`;
}

/**
 * The partition of a start with an idempotency key (as the engine stores it): every start with the
 * key lands on the same partition, so its owner alone decides whether it was seen before.
 */
export function partitionOfKey(tenant: string, idempotencyKey: string, partitions: number): number {
  return partitionOf(`${tenant}\u0000${idempotencyKey}`, partitions);
}
