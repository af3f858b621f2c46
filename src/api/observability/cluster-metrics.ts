/**
 * @module api/observability/cluster-metrics — the cluster gauges of `/metrics` (cluster mode only): this node,
 * the partitions it serves and is taking over, the age of its leases, commands forwarded, and how far its read
 * model is behind the journal stream. Read from the node at scrape time; a single node registers none.
 */
import { Gauge, type Registry } from 'prom-client';
import type { ClusterInfo } from '../services.ts';

export function registerClusterGauges(registry: Registry, cluster: ClusterInfo): void {
  const gauge = (name: string, help: string, labelNames: string[], collect: (g: Gauge) => void): void => {
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        collect(this);
      },
    });
  };
  gauge('actorflow_cluster_node_info', 'This node of the cluster (value 1) and the cluster\'s partition count.', ['node', 'partitions'], (g) => {
    const s = cluster.status();
    g.set({ node: s.nodeId, partitions: String(s.partitions) }, 1);
  });
  gauge('actorflow_cluster_partitions', 'Partitions this node serves, and those whose lease it holds but is still taking over.', ['state'], (g) => {
    const s = cluster.status();
    g.set({ state: 'serving' }, s.serving.length);
    g.set({ state: 'adopting' }, s.adopting.length);
  });
  // One series per partition this node holds, reset at each scrape: a partition that moved away leaves no stale series.
  gauge('actorflow_cluster_lease_age_seconds', 'Age of each lease this node holds (since its last renewal), by partition.', ['partition'], (g) => {
    const v = cluster.view();
    g.reset();
    for (const o of v.owners) if (o.node === v.nodeId && o.leaseAgeMs !== null) g.set({ partition: String(o.partition) }, o.leaseAgeMs / 1000);
  });
  gauge('actorflow_cluster_forwarded_commands', 'Commands forwarded since start: sent to another partition\'s owner, received from other nodes, and sent ones that found no owner in time.', ['direction'], (g) => {
    const f = cluster.status().forwarded;
    g.set({ direction: 'sent' }, f.sent);
    g.set({ direction: 'received' }, f.received);
    g.set({ direction: 'unavailable' }, f.unavailable);
  });
  gauge('actorflow_cluster_read_model_lag_commits', 'Journal commits the local read model is behind the journal stream (as of its last sample).', [], (g) => {
    g.set(cluster.status().journalLag.behind);
  });
}
