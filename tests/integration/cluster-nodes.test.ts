/**
 * Cluster mode end to end with two engine nodes (in this process, each with its own SQLite file and
 * NATS connection) on a real 3-server NATS cluster (JetStream, R3): each node serves its partitions,
 * writes their commits to the partition subjects of the journal stream, answers reads for every
 * partition from its read model, forwards commands to the owner, and takes over the partitions of a
 * node that leaves.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager, type MsgRequest } from '@nats-io/jetstream';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { msgpackCodec as codec } from '../../src/common/codec.ts';
import { JOURNAL_STREAM, journalSubject } from '../../src/cluster/partition-journal.ts';
import { partitionOf } from '../../src/cluster/partitions.ts';
import { RESPONSE_SCHEMAS } from '../../src/api/routing/response-schemas.ts';
import type { CommitBatch } from '../../src/store/types.ts';
import { api, type Api } from '../support/http.ts';
import { startNatsCluster, type NatsCluster } from '../support/nats-cluster.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { pollUntil } from '../support/wait.ts';

const P = 8;
const GATE = `
name: gate
steps:
  - { id: first, type: task, agent: echo, input: "$.input" }
  - { id: go, type: wait, signal: go }
  - { id: last, type: task, agent: echo, input: { done: "$.input.n" } }
`;

const LIMITED = `
name: limited
concurrency: { limit: 1, key: "$.input.customer" }
steps:
  - { id: go, type: wait, signal: go }
`;

let nats: NatsCluster;
let dir = '';
let nc: NatsConnection;
const servers: TestServer[] = [];
let a: TestServer;
let b: TestServer;

async function node(id: string): Promise<TestServer> {
  const s = await startTestServer({ natsUrl: nats.urls, machinesDir: join(dir, 'machines'), cluster: { nodeId: id, partitions: P, replicas: 3, leaseTtlMs: 2000 } });
  servers.push(s);
  return s;
}

const cluster = async (s: TestServer) => (await api(s.url).get('/cluster')).body;
const serving = async (s: TestServer): Promise<number[]> => (await cluster(s)).serving;

/** Every partition served by exactly one of `of`. */
async function settled(of: readonly TestServer[]): Promise<void> {
  await pollUntil(async () => {
    const all = (await Promise.all(of.map(serving))).flat();
    return all.length === P && new Set(all).size === P ? true : undefined;
  }, `every partition served once by ${of.length} node(s)`, 20_000, 50);
}

/** The commits on a partition's subject, in order. */
async function commits(partition: number): Promise<{ seq: number; batch: CommitBatch }[]> {
  const jsm = await jetstreamManager(nc);
  const out: { seq: number; batch: CommitBatch }[] = [];
  for (let seq = 1; ; ) {
    const m = await jsm.streams.getMessage(JOURNAL_STREAM, { seq, next_by_subj: journalSubject(partition) } as unknown as MsgRequest);
    if (m === null) return out;
    out.push({ seq: m.seq, batch: codec.decode<CommitBatch>(m.data) });
    seq = m.seq + 1;
  }
}

/** Waits until `s` reads the execution at `lastSeq` (its read model caught up), and returns it. */
const readAt = (http: Api, id: string, lastSeq: number) =>
  pollUntil(async () => {
    const r = await http.get(`/executions/${id}`);
    return r.status === 200 && r.body.lastSeq >= lastSeq ? r.body : undefined;
  }, `${id} at seq ${lastSeq}`, 10_000, 20);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'actorflow-cluster-nodes-'));
  await import('node:fs/promises').then((fs) => fs.mkdir(join(dir, 'machines')));
  await writeFile(join(dir, 'machines', 'gate.yaml'), GATE);
  await writeFile(join(dir, 'machines', 'limited.yaml'), LIMITED);
  nats = await startNatsCluster(3);
  nc = await connect({ servers: nats.urls.split(',') });
  a = await node('node-a');
  b = await node('node-b');
  await settled([a, b]);
}, 60_000);

afterAll(async () => {
  for (const s of servers) await s.close().catch(() => undefined);
  await nc?.close();
  await nats?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('cluster mode with two nodes', () => {
  it('balances the partitions; /cluster lists the nodes, every owner and its lease age; /status shows the node', async () => {
    const [va, vb] = await Promise.all([cluster(a), cluster(b)]);
    expect(va.nodes).toEqual(['node-a', 'node-b']);
    expect(va.serving.length).toBe(P / 2);
    expect(vb.serving.length).toBe(P / 2);
    expect(va.owners).toHaveLength(P);
    for (const o of va.owners) {
      expect(o.node).toBe(va.serving.includes(o.partition) ? 'node-a' : 'node-b');
      expect(o.leaseAgeMs).toBeGreaterThanOrEqual(0);
      expect(o.leaseAgeMs).toBeLessThan(2000);
    }
    // Both answers as the OpenAPI document describes them.
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    const conforms = (id: string, body: unknown) => {
      const validate = ajv.compile(RESPONSE_SCHEMAS[id] as object);
      expect(validate(body), JSON.stringify(validate.errors)).toBe(true);
    };
    conforms('cluster', va);
    const status = (await api(b.url).get('/status')).body;
    conforms('status', status);
    expect(status.cluster).toMatchObject({ nodeId: 'node-b', partitions: P, serving: vb.serving });
    expect(status.cluster.journalLag).toMatchObject({ behind: expect.any(Number), applied: expect.any(Number) });
    // /metrics: the node, its partitions, one lease-age series per partition it holds, forwarding and read-model lag.
    const metrics = (await api(b.url).get('/metrics')).text;
    expect(metrics).toContain(`actorflow_cluster_node_info{node="node-b",partitions="${P}"} 1`);
    expect(metrics).toContain(`actorflow_cluster_partitions{state="serving"} ${vb.serving.length}`);
    const ages = [...metrics.matchAll(/^actorflow_cluster_lease_age_seconds\{partition="(\d+)"\} ([\d.e-]+)$/gm)];
    expect(ages.map((m) => Number(m[1])).sort((x, y) => x - y)).toEqual([...vb.serving].sort((x: number, y: number) => x - y));
    for (const m of ages) expect(Number(m[2])).toBeLessThan(2);
    expect(metrics).toMatch(/^actorflow_cluster_forwarded_commands\{direction="sent"\} \d+$/m);
    expect(metrics).toMatch(/^actorflow_cluster_read_model_lag_commits \d+$/m);
    // A single node has none of them.
    const single = await startTestServer({});
    try {
      const res = await api(single.url).get('/metrics');
      expect(res.status).toBe(200);
      expect(res.text).toContain('actorflow_executions_started_total');
      expect(res.text).not.toContain('actorflow_cluster_');
    } finally {
      await single.close();
    }
  });

  it('runs a start in a partition of its node, whose commits are on that partition subject of the journal stream', async () => {
    const start = await api(a.url).post('/executions', { workflow: 'gate', input: { n: 1 } });
    expect(start.status).toBe(201);
    const id = start.body.id as string;
    const p = partitionOf(id, P);
    expect(await serving(a)).toContain(p);
    const x = await readAt(api(a.url), id, 1);
    const onSubject = (await commits(p)).flatMap((c) => c.batch.events.filter((e) => e.executionId === id).map((e) => e.seq));
    // Every committed event of the execution is on its partition's subject, once, in order.
    expect(onSubject).toEqual(Array.from({ length: x.lastSeq }, (_, i) => i + 1));
  });

  it('answers reads of any partition on every node, from its read model', async () => {
    const start = await api(a.url).post('/executions', { workflow: 'gate', input: { n: 2 } });
    const id = start.body.id as string;
    const onA = await pollUntil(async () => {
      const r = await api(a.url).get(`/executions/${id}`);
      return r.body.status === 'waiting' ? r.body : undefined;
    }, 'waiting on node a');
    const onB = await readAt(api(b.url), id, onA.lastSeq);
    expect(onB).toEqual(onA);
    const [ea, eb] = await Promise.all([api(a.url), api(b.url)].map((http) => http.get(`/executions/${id}/events`, { query: { limit: 100 } })));
    expect(eb?.body.items).toEqual(ea?.body.items);
    const list = await api(b.url).get('/executions', { query: { workflow: 'gate', limit: 100 } });
    expect(list.body.items.map((i: { id: string }) => i.id)).toContain(id);
  });

  it("forwards a command on another node's partition to its owner", async () => {
    const id = (await api(a.url).post('/executions', { workflow: 'gate', input: { n: 3 } })).body.id as string;
    const before = (await cluster(b)).forwarded.sent;
    // Whichever node owns it, the other one forwards.
    const owner = (await serving(a)).includes(partitionOf(id, P)) ? a : b;
    const other = owner === a ? b : a;
    const sentBefore = owner === a ? before : (await cluster(a)).forwarded.sent;
    await pollUntil(async () => ((await api(other.url).get(`/executions/${id}`)).body.status === 'waiting' ? true : undefined), 'waiting');
    const signalled = await api(other.url).post(`/executions/${id}/signals/go`, { payload: { ok: true } });
    expect(signalled.status, signalled.text).toBe(202);
    expect((await cluster(other)).forwarded.sent).toBe(sentBefore + 1);
    const done = await pollUntil(async () => {
      const r = await api(other.url).get(`/executions/${id}`);
      return r.body.status === 'completed' ? r.body : undefined;
    }, 'completed, read on the forwarding node');
    expect(done.output).toEqual({ done: 3 });
    // A refusal of the owner comes back as is: the same code and status.
    const again = await api(other.url).post(`/executions/${id}/signals/go`, {});
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('execution_finished');
  });

  it('an idempotency key names one partition: both nodes answer with the same execution', async () => {
    const headers = { 'idempotency-key': 'cluster-key-1' };
    const first = await api(a.url).post('/executions', { workflow: 'gate', input: { n: 4 } }, { headers });
    const second = await api(b.url).post('/executions', { workflow: 'gate', input: { n: 4 } }, { headers });
    expect(first.status).toBe(201);
    expect(second.status).toBe(200);
    expect(second.body.id).toBe(first.body.id);
  });

  it('a concurrency limit holds across nodes: the executions of one group share one partition, wherever they were started', async () => {
    const startOn = async (s: TestServer, customer: string) => {
      const r = await api(s.url).post('/executions', { workflow: 'limited', input: { customer } });
      expect(r.status, r.text).toBe(201);
      return r.body as { id: string; status: string };
    };
    // Customer x through both nodes: one runs, the others queue, in one partition.
    const xs = [await startOn(a, 'x'), await startOn(b, 'x'), await startOn(a, 'x'), await startOn(b, 'x')];
    expect(new Set(xs.map((x) => partitionOf(x.id, P))).size).toBe(1);
    expect(xs.map((x) => x.status)).toEqual(['waiting', 'queued', 'queued', 'queued']);
    // Another customer is another group: it runs beside x.
    expect((await startOn(b, 'y')).status).toBe('waiting');
    // Released one by one, in order, whichever node is asked.
    for (let i = 0; i < xs.length; i++) {
      const id = (xs[i] as { id: string }).id;
      await pollUntil(async () => ((await api(b.url).get(`/executions/${id}`)).body.status === 'waiting' ? true : undefined), `x #${i} waiting`);
      for (const later of xs.slice(i + 1)) expect((await api(a.url).get(`/executions/${later.id}`)).body.status).toBe('queued');
      expect((await api(i % 2 === 0 ? b.url : a.url).post(`/executions/${id}/signals/go`, {})).status).toBe(202);
    }
  });

  it("a tenant's quota counts its unfinished executions of every node", async () => {
    const running = async (s: TestServer): Promise<number> => (await api(s.url).get('/tenants/default')).body.usage.running;
    // Earlier tests' executions: both nodes agree on their count once their read models caught up.
    const base = await pollUntil(async () => {
      const [ra, rb] = [await running(a), await running(b)];
      return ra === rb ? ra : undefined;
    }, 'both nodes count the same');
    const ids: string[] = [];
    for (let n = 0; n < 3; n++) ids.push((await api(a.url).post('/executions', { workflow: 'gate', input: { n } })).body.id as string);
    // Node b learns of a's starts from the journal stream (its read model's lag).
    await pollUntil(async () => ((await running(b)) === base + 3 ? true : undefined), "node b counts node a's 3 starts");
    expect(await running(a)).toBe(base + 3);
    try {
      // At the limit on either node, whichever node started them.
      expect((await api(a.url).patch('/tenants/default', { limits: { maxRunning: base + 3 } })).status).toBe(200);
      // Tenants are cluster-wide: node b applies the new limit from the shared-state stream.
      await pollUntil(async () => ((await api(b.url).get('/tenants/default')).body.limits?.maxRunning === base + 3 ? true : undefined), 'the limit on node b');
      const refused = await api(b.url).post('/executions', { workflow: 'gate', input: { n: 9 } });
      expect(refused.status).toBe(429);
      expect(refused.body.code).toBe('tenant_limit');
      expect((await api(a.url).post('/executions', { workflow: 'gate', input: { n: 9 } })).body.code).toBe('tenant_limit');
      // Their ends free the quota on both nodes.
      for (const id of ids) expect((await api(b.url).post(`/executions/${id}/signals/go`, {})).status).toBe(202);
      await pollUntil(async () => ((await running(a)) === base && (await running(b)) === base ? true : undefined), 'both nodes back to the base count');
      const again = await api(b.url).post('/executions', { workflow: 'gate', input: { n: 10 } });
      expect(again.status, again.text).toBe(201);
    } finally {
      await api(a.url).patch('/tenants/default', { limits: { maxRunning: null } });
    }
  });

  it('when a node leaves, the other takes its partitions over and finishes its executions', async () => {
    const aParts = await serving(a);
    const ids: string[] = [];
    for (let n = 0; n < 6; n++) ids.push((await api(a.url).post('/executions', { workflow: 'gate', input: { n } })).body.id as string);
    for (const id of ids) expect(aParts).toContain(partitionOf(id, P));
    for (const id of ids) await pollUntil(async () => ((await api(a.url).get(`/executions/${id}`)).body.status === 'waiting' ? true : undefined), 'waiting');
    await a.close();
    await settled([b]);
    for (const id of ids) {
      const r = await api(b.url).post(`/executions/${id}/signals/go`, {});
      expect(r.status, r.text).toBe(202);
    }
    for (const id of ids) {
      const x = await pollUntil(async () => {
        const r = await api(b.url).get(`/executions/${id}`);
        return r.body.status === 'completed' ? r.body : undefined;
      }, `${id} completed on node b`);
      const seqs = (await api(b.url).get(`/executions/${id}/events`, { query: { limit: 100 } })).body.items.map((e: { seq: number }) => e.seq);
      expect(seqs).toEqual(Array.from({ length: x.lastSeq }, (_, i) => i + 1));
    }
  }, 60_000);
});
