/** @module cluster/streams — the cluster's JetStream streams, created by whichever node comes first, with a checked replica count. */
import { JetStreamApiError, type JetStreamManager, type StreamConfig } from '@nats-io/jetstream';
import { ClusterError, ClusterErrorCode } from './errors.ts';

/**
 * Creates the stream `config` describes if absent; refuses one that exists with another replica count
 * (two nodes creating it at once: the loser's add fails, and the one made is checked instead).
 */
export async function ensureStream(jsm: JetStreamManager, config: Partial<StreamConfig> & { readonly name: string; readonly num_replicas: number }): Promise<void> {
  const info = await jsm.streams.info(config.name).catch(() => null);
  if (info === null) {
    try {
      await jsm.streams.add(config);
      return;
    } catch (err) {
      // Another node created it between our two calls: check that one.
      if (!(err instanceof JetStreamApiError)) throw err;
    }
  }
  const current = info ?? (await jsm.streams.info(config.name));
  if (current.config.num_replicas !== config.num_replicas) {
    throw new ClusterError(ClusterErrorCode.clusterConfigMismatch, `stream ${config.name} has ${current.config.num_replicas} replica(s); this node wants ${config.num_replicas}`);
  }
}
