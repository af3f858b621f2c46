/**
 * Cluster failover with real processes: 3 nats-server processes (JetStream, R3) and 3 engine nodes
 * (`actorflow serve --cluster`). Under a steady load of starts and signals one node is SIGKILLed: its
 * partitions are served again (503 `partition_unavailable` meanwhile), every acknowledged start
 * completes, no execution's event seq has a gap or a duplicate (in the read model and in the journal
 * stream itself), no step completes twice. Then a node paused (SIGSTOP) past its leases is taken over
 * and, resumed, writes nothing to its former partitions with its old writers once the new owners
 * fenced them (fencing).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager, type JetStreamManager, type MsgRequest } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { msgpackCodec as codec } from '../../src/common/codec.ts';
import { JOURNAL_STREAM, JOURNAL_SUBJECTS } from '../../src/cluster/partition-journal.ts';
import { partitionOf } from '../../src/cluster/partitions.ts';
import type { CommitBatch } from '../../src/store/types.ts';
import { api } from '../support/http.ts';
import { startNatsCluster, type NatsCluster } from '../support/nats-cluster.ts';
import { startServerProcess, type ServerProcess } from '../support/process.ts';
import { pollUntil } from '../support/wait.ts';

const P = 16;
const TTL = 3000;
const STEADY = `
name: steady
steps:
  - { id: first, type: task, agent: echo, input: "$.input" }
  - { id: go, type: wait, signal: go }
  - { id: nap, type: sleep, ms: 200 }
  - { id: last, type: task, agent: echo, input: { done: "$.input.n" } }
`;
const NAPPER = `
name: napper
steps:
  - { id: first, type: task, agent: echo, input: "$.input" }
  - { id: nap, type: sleep, ms: 1500 }
  - { id: last, type: task, agent: echo, input: { done: "$.input.n" } }
`;

let nats: NatsCluster;
let nc: NatsConnection;
let jsm: JetStreamManager;
let dir = '';
const nodes: ServerProcess[] = [];

const startNode = (i: number) =>
  startServerProcess({
    dataDir: join(dir, `node-${i}`),
    machinesDir: join(dir, 'machines'),
    sync: 'normal',
    nats: nats.urls,
    extraArgs: ['--cluster', '--node-id', `node-${i}`],
    env: { ACTORFLOW_CLUSTER_PARTITIONS: String(P), ACTORFLOW_LEASE_TTL_MS: String(TTL), ACTORFLOW_FORWARD_DEADLINE_MS: '1000' },
  });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)] as T;
/** A request that a dead node answers with an exception: undefined instead. */
const tryReq = async <T>(f: () => Promise<T>): Promise<T | undefined> => {
  try {
    return await f();
  } catch {
    return undefined;
  }
};
const clusterOf = async (url: string) => (await api(url).get('/cluster')).body as { serving: number[]; nodes: string[] };

/** Every partition served by exactly one of the nodes at `urls`. */
function allServed(urls: readonly string[], timeoutMs: number): Promise<number> {
  return pollUntil(async () => {
    const served = (await Promise.all(urls.map(async (u) => (await tryReq(() => clusterOf(u)))?.serving ?? []))).flat();
    return served.length === P && new Set(served).size === P ? Date.now() : undefined;
  }, `every partition served once by ${urls.join(', ')}`, timeoutMs, 50);
}

/** Signals `go` through any live node until one answers it (202), or it has finished meanwhile (409). */
async function signal(id: string, alive: () => readonly string[], deadline: number): Promise<void> {
  for (;;) {
    const r = await tryReq(() => api(pick(alive())).post(`/executions/${id}/signals/go`, {}));
    if (r?.status === 202 || (r?.status === 409 && r.body.code === 'execution_finished')) return;
    if (Date.now() > deadline) throw new Error(`signal of ${id} not taken: ${r?.status} ${r?.text}`);
    await sleep(100);
  }
}

/** Clients that start `steady` executions on random live nodes and signal each through another one, until stopped. */
function startLoad(alive: () => readonly string[], clients: number) {
  const acked: string[] = [];
  const unexpected: string[] = [];
  let stopped = false;
  let n = 0;
  const loop = async () => {
    while (!stopped) {
      const res = await tryReq(() => api(pick(alive())).post('/executions', { workflow: 'steady', input: { n: n++ } }));
      if (res === undefined || res.status === 503) {
        // A node killed under the request, or a partition handed over: not acknowledged, not counted.
        await sleep(50);
        continue;
      }
      if (res.status !== 201) {
        unexpected.push(`${res.status} ${res.text}`);
        continue;
      }
      acked.push(res.body.id as string);
      await signal(res.body.id as string, alive, Date.now() + 30_000);
    }
  };
  const loops = Array.from({ length: clients }, loop);
  return {
    acked,
    unexpected,
    stop: async () => {
      stopped = true;
      await Promise.all(loops);
    },
  };
}

/** Every commit of the journal stream, in order, with the id of the writer that appended it. */
async function streamCommits(fromSeq = 1): Promise<{ seq: number; partition: number; msgId: string; batch: CommitBatch }[]> {
  const out: { seq: number; partition: number; msgId: string; batch: CommitBatch }[] = [];
  for (let seq = fromSeq; ; ) {
    const m = await jsm.streams.getMessage(JOURNAL_STREAM, { seq, next_by_subj: JOURNAL_SUBJECTS } as unknown as MsgRequest);
    if (m === null) return out;
    out.push({ seq: m.seq, partition: Number(m.subject.split('.').pop()), msgId: m.header?.get('Nats-Msg-Id') ?? '', batch: codec.decode<CommitBatch>(m.data) });
    seq = m.seq + 1;
  }
}

const lastStreamSeq = async () => (await jsm.streams.info(JOURNAL_STREAM)).state.last_seq;

/** Waits until every id is completed (read on `url`), then checks each history: seqs 1..lastSeq, no step completed twice. */
async function expectCompleted(url: string, ids: readonly string[]): Promise<void> {
  for (const id of ids) {
    const x = await pollUntil(async () => {
      const r = await tryReq(() => api(url).get(`/executions/${id}`));
      return r?.body.status === 'completed' ? r.body : undefined;
    }, `${id} completed`, 30_000, 50);
    const events = (await api(url).get(`/executions/${id}/events`, { query: { limit: 1000 } })).body.items as { seq: number; type: string; stepId: string | null }[];
    expect(events.map((e) => e.seq), id).toEqual(Array.from({ length: x.lastSeq }, (_, i) => i + 1));
    const completed = events.filter((e) => e.type === 'workflow.step.completed').map((e) => e.stepId);
    expect(new Set(completed).size, `${id}: a step completed twice`).toBe(completed.length);
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'actorflow-cluster-failover-'));
  await mkdir(join(dir, 'machines'));
  await writeFile(join(dir, 'machines', 'steady.yaml'), STEADY);
  await writeFile(join(dir, 'machines', 'napper.yaml'), NAPPER);
  nats = await startNatsCluster(3);
  nc = await connect({ servers: nats.urls.split(',') });
  jsm = await jetstreamManager(nc);
  nodes.push(...(await Promise.all([1, 2, 3].map(startNode))));
  await allServed(nodes.map((n) => n.url), 30_000);
}, 90_000);

afterAll(async () => {
  for (const n of nodes) {
    n.child.kill('SIGCONT');
    await n.kill();
  }
  await nc?.close();
  await nats?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('cluster failover (3 nats-servers, 3 engine nodes)', () => {
  it('SIGKILL of a node under load: its partitions are served again, every acknowledged start completes, histories have no gap or duplicate', async () => {
    const [victim, ...survivors] = nodes as [ServerProcess, ...ServerProcess[]];
    let alive = nodes.map((n) => n.url);
    const load = startLoad(() => alive, 4);
    await pollUntil(async () => (load.acked.length >= 30 ? true : undefined), '30 acknowledged starts', 30_000, 50);
    // Executions waiting on the victim's partitions: the first signal one of them takes after the kill is the failover time.
    const victimParts = (await clusterOf(victim.url)).serving;
    const probes: string[] = [];
    for (let i = 0; i < 8; i++) probes.push((await api(victim.url).post('/executions', { workflow: 'steady', input: { probe: i } })).body.id as string);
    for (const id of probes) expect(victimParts).toContain(partitionOf(id, P));
    for (const id of probes) await pollUntil(async () => ((await api(victim.url).get(`/executions/${id}`)).body.status === 'waiting' ? true : undefined), `probe ${id} waiting`);

    alive = survivors.map((n) => n.url);
    const killedAt = Date.now();
    await victim.kill();
    let unavailable: { status: number; code: string; type: string; retryAfter: string | null } | undefined;
    let firstServed: number | undefined;
    for (const id of probes) {
      for (;;) {
        const r = await tryReq(() => api(pick(alive)).post(`/executions/${id}/signals/go`, {}));
        if (r?.status === 202) {
          firstServed ??= Date.now();
          break;
        }
        if (r?.status === 503 && r.body.code === 'partition_unavailable') unavailable ??= { status: r.status, code: r.body.code, type: r.contentType, retryAfter: r.headers.get('retry-after') };
        expect(Date.now() - killedAt, `probe ${id}: ${r?.status} ${r?.text}`).toBeLessThan(TTL + 20_000);
        await sleep(50);
      }
    }
    const allServedAt = await allServed(alive, TTL + 20_000);
    // Keep the load on the two survivors for a while after the hand-over.
    const ackedAtFailover = load.acked.length;
    await pollUntil(async () => (load.acked.length >= ackedAtFailover + 20 ? true : undefined), '20 more starts after the failover', 30_000, 50);
    await load.stop();
    const firstMs = (firstServed as number) - killedAt;
    const allMs = allServedAt - killedAt;
    process.stdout.write(`cluster failover (lease TTL ${TTL} ms, ${P} partitions): first request served on a moved partition ${firstMs} ms after SIGKILL, every partition served ${allMs} ms after; ${load.acked.length} starts acknowledged\n`);

    // While the partitions had no owner, commands on them were refused as the contract says.
    expect(unavailable).toMatchObject({ status: 503, code: 'partition_unavailable', retryAfter: '1' });
    expect(unavailable?.type).toContain('application/problem+json');
    // The lease TTL, a renewal period, the take-over itself, and a loaded 2-core machine.
    expect(firstMs).toBeLessThan(TTL + 10_000);
    expect(load.unexpected).toEqual([]);
    await expectCompleted(survivors[0]!.url, [...load.acked, ...probes]);

    // The journal itself: every (execution, seq) appended once, each partition's events only on its subject.
    const seen = new Set<string>();
    for (const c of await streamCommits()) {
      for (const e of c.batch.events) {
        const key = `${e.executionId}#${e.seq}`;
        expect(seen.has(key), `${key} appended twice (stream seq ${c.seq})`).toBe(false);
        seen.add(key);
        expect(partitionOf(e.executionId, P)).toBe(c.partition);
      }
    }
  }, 180_000);

  it('a node paused (SIGSTOP) past its leases is taken over and, resumed, writes nothing more with its old writers (fencing)', async () => {
    // The killed node comes back on its data dir: it rejoins and the partitions spread over three nodes again.
    nodes[0] = await startNode(1);
    const urls = nodes.map((n) => n.url);
    await pollUntil(async () => {
      const views = await Promise.all(urls.map((u) => tryReq(() => clusterOf(u))));
      const served = views.flatMap((v) => v?.serving ?? []);
      return served.length === P && new Set(served).size === P && views.every((v) => (v?.serving.length ?? 0) >= 4) ? true : undefined;
    }, 'rebalanced over 3 nodes', 30_000, 100);
    const paused = nodes[1] as ServerProcess;
    const others = [nodes[0] as ServerProcess, nodes[2] as ServerProcess].map((n) => n.url);
    const pausedParts = (await clusterOf(paused.url)).serving;
    // Work in flight on the paused node when it stops: its sleeps fall due while it is paused.
    const nappers: string[] = [];
    for (let i = 0; i < 3 * pausedParts.length; i++) nappers.push((await api(paused.url).post('/executions', { workflow: 'napper', input: { n: i } })).body.id as string);
    const before = await streamCommits();
    const oldWriters = new Set(before.filter((c) => pausedParts.includes(c.partition) && c.msgId.startsWith('node-2.')).map((c) => c.msgId.split('.').slice(0, 2).join('.')));
    expect(oldWriters.size).toBeGreaterThan(0);
    const pauseSeq = await lastStreamSeq();

    paused.child.kill('SIGSTOP');
    await allServed(others, TTL + 20_000);
    // The others finish the paused node's executions: their partitions get new commits.
    await expectCompleted(others[0] as string, nappers);
    paused.child.kill('SIGCONT');
    // Resumed: it learns its leases are gone, rejoins, and the partitions spread over three nodes again.
    await pollUntil(async () => {
      const views = await Promise.all(urls.map((u) => tryReq(() => clusterOf(u))));
      const served = views.flatMap((v) => v?.serving ?? []);
      return served.length === P && new Set(served).size === P && views.every((v) => (v?.serving.length ?? 0) >= 4) ? true : undefined;
    }, 'rebalanced over 3 nodes after the resume', 30_000, 100);

    // On each of its former partitions: once another writer appended (the new owner's fence, first thing
    // at a take-over), nothing of the paused node's old writers follows. (An append it sent before the
    // pause may land before the fence: it was written while the lease was still its own.)
    const writerOf = (c: { msgId: string }) => c.msgId.split('.').slice(0, 2).join('.');
    const after = (await streamCommits(pauseSeq + 1)).filter((c) => pausedParts.includes(c.partition));
    for (const p of pausedParts) {
      const mine = after.filter((c) => c.partition === p);
      const fence = mine.find((c) => !oldWriters.has(writerOf(c)));
      expect(fence, `partition ${p} was taken over`).toBeDefined();
      const stale = mine.filter((c) => c.seq > (fence?.seq ?? 0) && oldWriters.has(writerOf(c)));
      expect(stale.map((c) => `${c.seq} ${c.msgId}`), `partition ${p}`).toEqual([]);
    }
    // The resumed node's read model agrees with the others' on what the others wrote.
    await expectCompleted(paused.url, nappers);
  }, 180_000);
});
