/**
 * @module cluster/cluster-bus — the NATS bus of a cluster node: agents keep their JetStream work queues, and
 * each task names its partition's results subject, which this node listens to exactly while it serves the
 * partition. An agent's result so reaches the partition's owner, even one that took it over after the
 * dispatch (the agent resends until someone answers; the owner applies one result per attempt).
 */
import { createNatsBus, type NatsBus, type NatsBusOptions } from '../bus/nats/nats-bus.ts';
import { retrySetup } from './buckets.ts';
import type { ClusterNode } from './cluster-node.ts';
import { partitionOf } from './partitions.ts';

export async function createClusterBus(node: ClusterNode, o: Omit<NatsBusOptions, 'results' | 'replicas' | 'setup'>): Promise<NatsBus> {
  const bus = await createNatsBus({ ...o, replicas: node.replicas, setup: (f) => retrySetup(f), results: { partitionOf: (id) => partitionOf(id, node.partitions) } });
  node.onServing((p, serving) => (serving ? bus.serveResults(p) : bus.stopResults(p)));
  return bus;
}
