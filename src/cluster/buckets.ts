/** @module cluster/buckets — the cluster's JetStream KV buckets, opened (created by whichever node comes first) with checked settings. */
import { jetstream } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { TimeoutError, type NatsConnection } from '@nats-io/transport-node';
import { ClusterError, ClusterErrorCode } from './errors.ts';
import { isSetupPending } from './nats-errors.ts';

export interface BucketOptions {
  /** Replicas (1, or 3 on a 3-server NATS cluster). @default 1 */
  readonly replicas?: number;
  /** Each key's value expires this long after its last write (the stream's max age); 0 = never. @default 0 */
  readonly ttlMs?: number;
  /** Each operation's deadline. @default 5000 */
  readonly timeoutMs?: number;
}

/**
 * Opens the bucket, creating it if absent (two nodes creating it at once agree: the server accepts an
 * identical stream config twice). A bucket that exists with another TTL or replica count is refused:
 * leases that expire on a schedule other than the one a node fences on would break the fencing.
 */
export async function openBucket(nc: NatsConnection, name: string, o: BucketOptions = {}): Promise<KV> {
  const replicas = o.replicas ?? 1;
  const ttl = o.ttlMs ?? 0;
  // No direct gets: they may be answered by a replica that lags the leader, and leases and
  // compare-and-set reads must see the latest write.
  const kvm = new Kvm(jetstream(nc, { timeout: SETUP_ATTEMPT_MS }));
  const [kv, status] = await retrySetup(async () => {
    const bucket = await kvm.create(name, { replicas, ttl, history: 1, timeout: o.timeoutMs ?? 5000, allow_direct: false });
    return [bucket, await bucket.status()] as const;
  });
  if (status.ttl !== ttl || status.replicas !== replicas) {
    throw new ClusterError(
      ClusterErrorCode.clusterConfigMismatch,
      `bucket ${name} exists with ttl ${status.ttl} ms and ${status.replicas} replica(s); this node wants ttl ${ttl} ms and ${replicas}`,
    );
  }
  return kv;
}

/** One attempt at a setup request; `retrySetup` tries again after it. */
export const SETUP_ATTEMPT_MS = 2000;

/**
 * Runs an idempotent setup request (creating a stream or bucket, reading its status, creating a
 * watch's consumer) until it is answered, or refused for good. Nodes starting together create the same replicated stream;
 * NATS 2.9 may leave the requests that lost that race unanswered, and a stream's first requests may
 * time out while its replicas elect a leader. The retry then finds the stream made and led.
 */
export async function retrySetup<T>(setup: () => Promise<T>, deadlineMs = 15_000): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    try {
      return await setup();
    } catch (err) {
      if (!(err instanceof TimeoutError || isSetupPending(err)) || Date.now() >= deadline) throw err;
      // Refused for now (peers still joining): not at once again.
      if (!(err instanceof TimeoutError)) await new Promise((r) => setTimeout(r, 100));
    }
  }
}
