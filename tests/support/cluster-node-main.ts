/**
 * @module tests/support/cluster-node-main — one cluster node as its own process, for tests that pause
 * (SIGSTOP) or kill it: it holds partition leases and appends to partition journals on command.
 * argv: <nats urls> <node id> <partitions> <lease ttl ms> <replicas>. stdin: one JSON command a line,
 * `{"cmd":"append","partition":0,"n":1}` or `{"cmd":"close"}`; stdout: one JSON event a line
 * (`ready`, `gained`, `lost`, `append` with `ok` and `seq` or `code`).
 */
import { createInterface } from 'node:readline';
import { connect } from '@nats-io/transport-node';
import { ClusterError } from '../../src/cluster/errors.ts';
import { startLeases } from '../../src/cluster/leases.ts';
import { openPartitionJournal, type PartitionJournal } from '../../src/cluster/partition-journal.ts';

const [urls, nodeId, partitions, ttlMs, replicas] = process.argv.slice(2);
const say = (event: Record<string, unknown>) => process.stdout.write(`${JSON.stringify({ ...event, at: Date.now() })}\n`);

const nc = await connect({ servers: urls!.split(','), name: nodeId!, noAsyncTraces: true });
const leases = await startLeases(nc, { nodeId: nodeId!, partitions: Number(partitions), ttlMs: Number(ttlMs), replicas: Number(replicas) });
leases.on('gained', (partition) => say({ type: 'gained', partition }));
leases.on('lost', (partition, reason) => say({ type: 'lost', partition, reason }));
for (const partition of leases.owned()) say({ type: 'gained', partition });
say({ type: 'ready' });

const journals = new Map<number, PartitionJournal>();
for await (const line of createInterface({ input: process.stdin })) {
  const c = JSON.parse(line) as { cmd: 'append'; partition: number; n: number } | { cmd: 'close' };
  if (c.cmd === 'close') break;
  try {
    const j = journals.get(c.partition) ?? (await openPartitionJournal(nc, { partition: c.partition, replicas: Number(replicas), appendTimeoutMs: 2000 }));
    journals.set(c.partition, j);
    const seq = await j.commit({ events: [{ executionId: `ex_${nodeId}`, seq: c.n, type: 'workflow.started', ts: Date.now(), stepId: null, data: {} }], executions: [], snapshots: [] });
    say({ type: 'append', partition: c.partition, n: c.n, ok: true, seq });
  } catch (err) {
    say({ type: 'append', partition: c.partition, n: c.n, ok: false, code: err instanceof ClusterError ? err.code : String(err) });
  }
}
await leases.close();
await nc.close();
