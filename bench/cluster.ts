/**
 * @module bench/cluster — cluster mode (issue 18), in its own process:
 *   node --import tsx bench/cluster.ts [--quick]   (bench/run.ts forks it)
 *
 * 3 clustered nats-servers (JetStream, temp stores, random loopback ports) and 1, 2, 3 engine nodes
 * (`actorflow serve --cluster`, sync full, auth off, 16 partitions). For each node count: starts/s of a
 * 1-step `echo` flow with 64 concurrent HTTP clients spread round-robin over the nodes, then start
 * p50/p99 from one sequential client; the same on a single-node SQLite server (no cluster) as the
 * reference. Failover: SIGKILL one of 3 nodes; time until a `go` signal to an execution waiting on one
 * of its partitions is taken (202) by a survivor. Every wait is bounded; processes and dirs are removed.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHistogram } from 'node:perf_hooks';
import { partitionOf } from '../src/cluster/partitions.ts';
import { startNatsCluster, type NatsCluster } from '../tests/support/nats-cluster.ts';
import { startServerProcess, type ServerProcess } from '../tests/support/process.ts';
import { type Figure, fmtLat, int, recordNs, sleep, summarize } from './common.ts';
import { reportFigures } from './agent-variants.ts';

const quick = process.argv.includes('--quick');
const PART = 'cluster';
const P = 16;
const CLIENTS = 64;
const RATE_MS = quick ? 3_000 : 8_000;
const SEQ_N = quick ? 200 : 1_000;
const FAILOVER_DEADLINE_MS = 30_000;
const ECHO1 = 'name: echo1\nsteps:\n  - { id: a, type: task, agent: echo, input: "$.input" }\n';
const PARK = 'name: park\nsteps:\n  - { id: w, type: wait, signal: go }\n';

const post = async (url: string, path: string, body: unknown): Promise<{ status: number; body: { id?: string; code?: string } }> => {
  const r = await fetch(`${url}/api/v1${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
  const text = await r.text();
  return { status: r.status, body: text ? (JSON.parse(text) as { id?: string }) : {} };
};

/** Starts/s of `echo1` with CLIENTS closed-loop clients spread over `urls`, then one sequential client's latency. */
async function measure(label: string, urls: readonly string[]): Promise<Figure[]> {
  let ok = 0;
  let errors = 0;
  const end = performance.now() + RATE_MS;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, i) => {
      const url = urls[i % urls.length] as string;
      while (performance.now() < end) {
        try {
          const r = await post(url, '/executions', { workflow: 'echo1', input: { i } });
          if (r.status === 201) ok++;
          else errors++;
        } catch {
          errors++;
        }
      }
    }),
  );
  const rate = ok / ((performance.now() - t0) / 1000);
  const h = createHistogram();
  for (let i = 0; i < SEQ_N; i++) {
    const s = process.hrtime.bigint();
    const r = await post(urls[i % urls.length] as string, '/executions', { workflow: 'echo1', input: { i } });
    if (r.status === 201) recordNs(h, s, process.hrtime.bigint());
  }
  const lat = summarize(h);
  return [
    { part: PART, what: `${label}: starts/s of a 1-step echo flow, ${CLIENTS} HTTP clients over ${urls.length} node(s)`, sync: 'full', value: `${int(rate)}/s`, target: '—', pass: null, note: `${int(ok)} in ${RATE_MS / 1000} s, ${errors} non-201` },
    { part: PART, what: `${label}: start latency, 1 sequential client`, sync: 'full', value: fmtLat(lat), target: '—', pass: null },
  ];
}

const figures: Figure[] = [];
const root = await mkdtemp(join(tmpdir(), 'actorflow-bench-cluster-'));
const machines = join(root, 'machines');
await mkdir(machines);
await writeFile(join(machines, 'echo1.yaml'), ECHO1);
await writeFile(join(machines, 'park.yaml'), PARK);
const procs: ServerProcess[] = [];
let nats: NatsCluster | undefined;
const hardStop = setTimeout(() => {
  console.error('cluster bench: over its time bound, giving up');
  for (const p of procs) p.child.kill('SIGKILL');
  void nats?.close().finally(() => rm(root, { recursive: true, force: true }).finally(() => process.exit(1)));
}, quick ? 240_000 : 480_000);
try {
  // Reference: the same server on SQLite, no cluster.
  const single = await startServerProcess({ dataDir: join(root, 'sqlite'), machinesDir: machines, sync: 'full' });
  procs.push(single);
  figures.push(...(await measure('SQLite, 1 node (reference)', [single.url])));
  await single.stop();

  for (const count of [1, 2, 3]) {
    nats = await startNatsCluster(3);
    const nodes: ServerProcess[] = [];
    for (let i = 0; i < count; i++) {
      const n = await startServerProcess({
        dataDir: join(root, `c${count}-node-${i}`),
        machinesDir: machines,
        sync: 'full',
        nats: nats.urls,
        extraArgs: ['--cluster', '--node-id', `node-${i}`],
        env: { ACTORFLOW_CLUSTER_PARTITIONS: String(P) },
      });
      nodes.push(n);
      procs.push(n);
    }
    await allServed(nodes.map((n) => n.url), 30_000);
    figures.push(...(await measure(`JetStream R3, ${count} node(s)`, nodes.map((n) => n.url))));
    if (count === 3) figures.push(await failover(nodes));
    for (const n of nodes) await n.kill();
    await nats.close();
    nats = undefined;
  }
} finally {
  clearTimeout(hardStop);
  for (const p of procs) await p.kill();
  await nats?.close();
  await rm(root, { recursive: true, force: true });
}
reportFigures(figures);

async function servingOf(url: string): Promise<number[]> {
  try {
    const r = await fetch(`${url}/api/v1/cluster`, { signal: AbortSignal.timeout(2_000) });
    return ((await r.json()) as { serving?: number[] }).serving ?? [];
  } catch {
    return [];
  }
}

/** Every partition served by exactly one node, or an error after `timeoutMs`. */
async function allServed(urls: readonly string[], timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const served = (await Promise.all(urls.map(servingOf))).flat();
    if (served.length === P && new Set(served).size === P) return;
    if (Date.now() > end) throw new Error(`partitions not all served by ${urls.join(', ')} within ${timeoutMs} ms`);
    await sleep(50);
  }
}

async function failover(nodes: readonly ServerProcess[]): Promise<Figure> {
  const [victim, ...survivors] = nodes as [ServerProcess, ...ServerProcess[]];
  const owned = await servingOf(victim.url);
  // An execution waiting on one of the victim's partitions: its signal can only be taken by the partition's owner.
  let probe: string | undefined;
  for (let i = 0; i < 50 && probe === undefined; i++) {
    const r = await post(victim.url, '/executions', { workflow: 'park', input: { i } });
    if (r.status === 201 && r.body.id && owned.includes(partitionOf(r.body.id, P))) probe = r.body.id;
  }
  if (probe === undefined) throw new Error('no execution landed on a partition of the victim');
  await sleep(500); // let it reach its wait step
  const killedAt = performance.now();
  await victim.kill();
  let i = 0;
  for (;;) {
    const url = (survivors[i++ % survivors.length] as ServerProcess).url;
    const r = await post(url, `/executions/${probe}/signals/go`, {}).catch(() => undefined);
    if (r?.status === 202) break;
    if (performance.now() - killedAt > FAILOVER_DEADLINE_MS) throw new Error(`failover: no survivor took the signal within ${FAILOVER_DEADLINE_MS} ms (last ${r?.status})`);
    await sleep(20);
  }
  const t = performance.now() - killedAt;
  return { part: PART, what: 'failover: SIGKILL of 1 of 3 nodes → first request served on one of its partitions', sync: 'full', value: `${int(t)} ms`, target: '—', pass: null, note: `lease TTL default 5,000 ms, ${P} partitions; polled every 20 ms` };
}
