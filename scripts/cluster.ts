/**
 * `npm run cluster -- --nodes 3`: a local cluster on loopback for trying cluster mode. Starts 3
 * nats-server processes clustered with JetStream (temp stores) and N engine nodes
 * (`actorflow serve --cluster`, each with its own data dir), prints their URLs, and stops everything
 * on Ctrl-C. Flags: --nodes N (default 3), --machines DIR (default ./machines), --auth (an admin key
 * shared by every node, printed; default: --no-auth), --partitions P (a new cluster's count).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { startNatsCluster } from '../tests/support/nats-cluster.ts';
import { startServerProcess, type ServerProcess } from '../tests/support/process.ts';

const { values } = parseArgs({
  options: { nodes: { type: 'string', default: '3' }, machines: { type: 'string', default: './machines' }, auth: { type: 'boolean', default: false }, partitions: { type: 'string' } },
  strict: true,
});
const count = Number(values.nodes);
if (!Number.isInteger(count) || count < 1 || count > 16) throw new Error(`--nodes must be 1..16, not ${values.nodes}`);

const dir = await mkdtemp(join(tmpdir(), 'actorflow-cluster-'));
const nats = await startNatsCluster(3);
const adminKey = values.auth ? `af_${randomBytes(24).toString('hex')}` : undefined;
const nodes: ServerProcess[] = [];
let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  process.stdout.write('\nstopping…\n');
  await Promise.all(nodes.map((n) => n.stop().catch(() => undefined)));
  await nats.close();
  await rm(dir, { recursive: true, force: true });
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());

try {
  for (let i = 1; i <= count; i++) {
    nodes.push(
      await startServerProcess({
        dataDir: join(dir, `node-${i}`),
        machinesDir: resolve(values.machines),
        nats: nats.urls,
        noAuth: adminKey === undefined,
        extraArgs: ['--cluster', '--node-id', `node-${i}`],
        env: {
          ...(adminKey === undefined ? {} : { ACTORFLOW_ADMIN_KEY: adminKey }),
          ...(values.partitions === undefined ? {} : { ACTORFLOW_CLUSTER_PARTITIONS: values.partitions }),
        },
      }),
    );
  }
} catch (err) {
  process.stderr.write(`${String(err)}\n`);
  await stop();
}

process.stdout.write(`NATS (JetStream, R3): ${nats.urls}\n`);
nodes.forEach((n, i) => process.stdout.write(`node-${i + 1}: ${n.url}   (${n.url}/api/v1/cluster)\n`));
if (adminKey !== undefined) process.stdout.write(`admin key (every node): ${adminKey}\n`);
process.stdout.write(`data: ${dir}\nCtrl-C stops the nodes and the servers and removes the data.\n`);
