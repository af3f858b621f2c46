/**
 * Cluster-wide state (issue 18): definitions, API keys and tenants written on one node are the same on
 * every node of a 3-node cluster on a real 3-server NATS cluster (JetStream R3): every node applies the
 * writes of the `actorflow-shared` stream in one order, racing writes included, and a restarted node
 * applies those it missed before it answers.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withKey, type Api } from '../support/http.ts';
import { startNatsCluster, type NatsCluster } from '../support/nats-cluster.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { pollUntil } from '../support/wait.ts';

const P = 8;
const ADMIN = 'af-cluster-shared-state-admin-key';

let nats: NatsCluster;
let root = '';
const servers: TestServer[] = [];
let a: TestServer;
let b: TestServer;
let c: TestServer;
/** A webhook receiver on 127.0.0.1: the event ids of the deliveries it got, in order. */
let receiver: Server;
const received: string[] = [];

async function node(id: string, dataDir?: string): Promise<TestServer> {
  const s = await startTestServer({
    natsUrl: nats.urls,
    adminKey: ADMIN,
    webhookAllowPrivate: true,
    dataDir: dataDir ?? join(root, id),
    cluster: { nodeId: id, partitions: P, replicas: 3, leaseTtlMs: 2000 },
  });
  servers.push(s);
  return s;
}

const admin = (s: TestServer): Api => withKey(s.url, ADMIN);

const flow = (name: string, agent = 'echo', version?: number) => ({
  name,
  ...(version === undefined ? {} : { version }),
  steps: [{ id: 'first', type: 'task', agent, input: '$.input' }],
});

/** Every partition served by one of `of`. */
async function settled(of: readonly TestServer[]): Promise<void> {
  await pollUntil(async () => {
    const all = (await Promise.all(of.map(async (s) => (await admin(s).get('/cluster')).body.serving as number[]))).flat();
    return all.length === P && new Set(all).size === P ? true : undefined;
  }, `every partition served once by ${of.length} node(s)`, 20_000, 50);
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'actorflow-cluster-shared-'));
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      received.push((JSON.parse(body) as { id: string }).id);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  nats = await startNatsCluster(3);
  a = await node('node-a');
  b = await node('node-b');
  c = await node('node-c');
  await settled([a, b, c]);
}, 60_000);

afterAll(async () => {
  for (const s of servers) await s.close().catch(() => undefined);
  await nats?.close();
  await new Promise((r) => receiver?.close(r));
  if (root) await rm(root, { recursive: true, force: true });
});

describe('cluster-wide state on three nodes', () => {
  it('one ACTORFLOW_ADMIN_KEY on three nodes is one key; a definition registered on one node starts on the others', async () => {
    const keys = (await admin(c).get('/api-keys')).body.items as { name: string }[];
    expect(keys.filter((k) => k.name.startsWith('bootstrap admin'))).toHaveLength(1);
    const began = Date.now();
    const created = await admin(a).post('/workflow-definitions', flow('shared-def'));
    const writeMs = Date.now() - began;
    expect(created.status, created.text).toBe(201);
    for (const s of [b, c]) {
      const got = await pollUntil(async () => {
        const r = await admin(s).get('/workflow-definitions/shared-def');
        return r.status === 200 ? r.body : undefined;
      }, 'the definition on another node', 2000, 5);
      expect(got.document).toEqual(created.body.document);
      const started = await admin(s).post('/executions', { workflow: 'shared-def', input: { n: 1 } });
      expect(started.status, started.text).toBe(201);
    }
    // Write latency in cluster mode: published on the R3 stream, then applied on the node that took it.
    const ms: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t = Date.now();
      expect((await admin([a, b, c][i % 3]!).post('/tenants', { slug: `lat-${i}`, name: 'latency' })).status).toBe(201);
      ms.push(Date.now() - t);
    }
    ms.sort((x, y) => x - y);
    console.log(`[cluster-shared-state] first definition write ${writeMs} ms; 20 tenant creates: p50 ${ms[10]} ms, max ${ms[19]} ms`);
  });

  it('a key made on one node works on another; revoked on a third, every node refuses it within a second', async () => {
    const made = await admin(a).post('/api-keys', { name: 'roaming', scopes: ['read'] });
    expect(made.status, made.text).toBe(201);
    const key = made.body.key as string;
    // Accepted at once on the node that made it (the answer waited for its apply there), soon on the others.
    expect((await withKey(a.url, key).get('/executions')).status).toBe(200);
    for (const s of [b, c]) await pollUntil(async () => ((await withKey(s.url, key).get('/executions')).status === 200 ? true : undefined), 'the new key accepted on another node', 2000, 5);
    const t0 = Date.now();
    const revoked = await admin(b).del(`/api-keys/${made.body.id as string}`);
    expect(revoked.status, revoked.text).toBe(204);
    const refusedAfter = await Promise.all(
      [a, c].map((s) =>
        pollUntil(async () => ((await withKey(s.url, key).get('/executions')).status === 401 ? Date.now() - t0 : undefined), 'the revoked key refused', 1000, 5),
      ),
    );
    expect(Math.max(...refusedAfter)).toBeLessThan(1000);
    expect((await withKey(b.url, key).get('/executions')).status).toBe(401);
    // Revoked once: another revocation on any node finds no key.
    expect((await admin(c).del(`/api-keys/${made.body.id as string}`)).status).toBe(404);
    console.log(`[cluster-shared-state] revocation refused on the other nodes after ${refusedAfter.join(', ')} ms`);
  });

  it("a tenant made on one node takes keys on another; its rate limit set on a third applies on all", async () => {
    expect((await admin(a).post('/tenants', { slug: 'acme', name: 'Acme' })).status).toBe(201);
    // Known on node b: a key for it may be made there.
    const made = await pollUntil(async () => {
      const r = await admin(b).post('/api-keys', { name: 'acme-reader', scopes: ['read'], tenant: 'acme' });
      return r.status === 201 ? r : undefined;
    }, 'tenant acme known on node b', 2000, 5);
    const key = made.body.key as string;
    expect((await admin(c).post('/tenants', { slug: 'acme', name: 'again' })).body.code).toBe('tenant_exists');
    const patched = await admin(c).patch('/tenants/acme', { limits: { rps: 1 } });
    expect(patched.status, patched.text).toBe(200);
    for (const s of [a, b]) {
      await pollUntil(async () => ((await admin(s).get('/tenants/acme')).body.limits?.rps === 1 ? true : undefined), 'the limit on another node', 2000, 5);
      const answers = await Promise.all(Array.from({ length: 4 }, () => withKey(s.url, key).get('/executions')));
      expect(answers.map((r) => r.status)).toContain(429);
    }
    // A racing patch of another field keeps this one: patches merge in log order.
    await Promise.all([admin(a).patch('/tenants/acme', { name: 'Acme Inc' }), admin(b).patch('/tenants/acme', { limits: { maxRunning: 7 } })]);
    for (const s of [a, b, c]) {
      const t = await pollUntil(async () => {
        const r = (await admin(s).get('/tenants/acme')).body;
        return r.name === 'Acme Inc' && r.limits?.maxRunning === 7 ? r : undefined;
      }, 'both patches on every node', 2000, 5);
      expect(t.limits.rps).toBe(1);
    }
  });

  it('two racing registrations: one explicit version wins everywhere; versions without one get one each, the same on every node', async () => {
    const [x, y] = await Promise.all([admin(a).post('/workflow-definitions', flow('race', 'echo', 1)), admin(b).post('/workflow-definitions', flow('race', 'log', 1))]);
    const statuses = [x.status, y.status].sort();
    expect(statuses).toEqual([201, 409]);
    const winner = x.status === 201 ? x : y;
    const loser = x.status === 201 ? y : x;
    expect(loser.body.code).toBe('version_exists');
    for (const s of [a, b, c]) {
      const got = await pollUntil(async () => {
        const r = await admin(s).get('/workflow-definitions/race', { query: { version: 1 } });
        return r.status === 200 ? r.body : undefined;
      }, 'race v1', 2000, 5);
      expect(got.document).toEqual(winner.body.document);
    }
    const auto = await Promise.all([a, b, c].map((s, i) => admin(s).post('/workflow-definitions', flow('race-auto', ['echo', 'log', 'sleep'][i]))));
    for (const r of auto) expect(r.status, r.text).toBe(201);
    expect(auto.map((r) => r.body.version as number).sort()).toEqual([1, 2, 3]);
    for (const s of [a, b, c]) {
      const versions = await pollUntil(async () => {
        const r = await admin(s).get('/workflow-definitions/race-auto/versions');
        return r.body.items?.length === 3 ? r.body.items : undefined;
      }, 'race-auto versions', 2000, 5);
      for (const r of auto) expect(versions.find((v: { version: number }) => v.version === r.body.version).document).toEqual(r.body.document);
    }
  });

  it('a schedule every second fires exactly once per due time across the three nodes', async () => {
    expect((await admin(a).post('/workflow-definitions', flow('tick'))).status).toBe(201);
    const made = await pollUntil(async () => {
      const r = await admin(b).post('/schedules', { workflow: 'tick', everyMs: 1000, overlap: 'allow' });
      return r.status === 201 ? r : undefined;
    }, 'a schedule of tick made on node b', 2000, 5);
    const id = made.body.id as string;
    const anchor = Date.parse(made.body.updatedAt as string);
    const runs = async (s: TestServer) =>
      ((await admin(s).get('/executions', { query: { 'label.schedule': id, limit: 100 } })).body.items as { id: string; createdAt: string }[]);
    await pollUntil(async () => ((await runs(c)).length >= 5 ? true : undefined), 'five runs of the schedule', 9000, 50);
    expect((await admin(a).del(`/schedules/${id}`)).status).toBe(204);
    const deletedAt = Date.now();
    const settledRuns = await runs(a);
    // Every node lists the same runs; each due time (anchor + k s) started once.
    for (const s of [b, c]) await pollUntil(async () => ((await runs(s)).length === settledRuns.length ? true : undefined), 'the same runs on every node', 2000, 20);
    const dueTimes = Math.floor((deletedAt - anchor) / 1000);
    const starts = settledRuns.map((x) => Date.parse(x.createdAt)).sort((p, q) => p - q);
    const slots = starts.map((t) => Math.floor((t - anchor) / 1000));
    // At most one run per due time so far, none before the first; two nodes firing one due time would start within ms.
    expect(starts.length).toBeLessThanOrEqual(dueTimes);
    expect(slots[0]).toBeGreaterThanOrEqual(1);
    for (let i = 1; i < starts.length; i++) expect(starts[i]! - starts[i - 1]!).toBeGreaterThan(300);
    for (const s of [a, b, c]) expect((await admin(s).get(`/schedules/${id}`)).status).toBe(404);
    console.log(`[cluster-shared-state] schedule runs at due slots ${slots.join(',')}`);
  }, 20_000);

  it("a webhook made on one node is known to all; each event is delivered once, by the node that ran the execution", async () => {
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    const hook = await admin(a).post('/webhooks', { url, events: ['workflow.completed'] });
    expect(hook.status, hook.text).toBe(201);
    const id = hook.body.id as string;
    for (const s of [b, c]) await pollUntil(async () => ((await admin(s).get(`/webhooks/${id}`)).status === 200 ? true : undefined), 'the webhook on another node', 2000, 5);
    // Starts on every node: their executions fall in partitions of all three.
    const started: string[] = [];
    for (const s of [a, b, c]) for (let n = 0; n < 4; n++) started.push((await admin(s).post('/executions', { workflow: 'shared-def', input: { n } })).body.id as string);
    for (const s of [a, b, c]) {
      for (const x of started) await pollUntil(async () => ((await admin(s).get(`/executions/${x}`)).body.status === 'completed' ? true : undefined), `${x} completed on every node`, 5000, 10);
    }
    // Every node's copy holds all completions now: a delivery any node made is recorded with the copy.
    const recorded = await Promise.all([a, b, c].map(async (s) => ((await admin(s).get(`/webhooks/${id}/deliveries`, { query: { limit: 100 } })).body.items as unknown[]).length));
    expect(recorded.reduce((x, y) => x + y, 0)).toBe(started.length);
    await pollUntil(async () => (received.length >= started.length ? true : undefined), 'every delivery received', 5000, 10);
    expect(new Set(received).size).toBe(received.length);
    expect(received).toHaveLength(started.length);
    // Deleted on another node: gone everywhere.
    expect((await admin(c).del(`/webhooks/${id}`)).status).toBe(204);
    for (const s of [a, b]) await pollUntil(async () => ((await admin(s).get(`/webhooks/${id}`)).status === 404 ? true : undefined), 'the webhook deleted everywhere', 2000, 5);
  }, 30_000);

  it('a template made on one node instantiates on another; racing versions get one each', async () => {
    const tpl = { name: 'greet', parameters: { properties: { who: { type: 'string', default: 'world' } } }, steps: [{ id: 'hi', type: 'task', agent: 'echo', input: { hello: '${params.who}' } }] };
    expect((await admin(a).post('/workflow-templates', tpl)).status).toBe(201);
    const made = await pollUntil(async () => {
      const r = await admin(c).post('/workflow-templates/greet/instantiate', { name: 'greet-def', params: { who: 'cluster' } });
      return r.status === 201 ? r : undefined;
    }, 'template greet instantiated on node c', 2000, 5);
    expect(made.body.template).toMatchObject({ name: 'greet', version: 1 });
    const again = await Promise.all([b, c].map((s, i) => admin(s).post('/workflow-templates', { ...tpl, description: `v${i}` })));
    expect(again.map((r) => r.status)).toEqual([201, 201]);
    expect(again.map((r) => r.body.version as number).sort()).toEqual([2, 3]);
    for (const s of [a, b, c]) {
      await pollUntil(async () => ((await admin(s).get('/workflow-templates/greet/versions')).body.items?.length === 3 ? true : undefined), 'three versions everywhere', 2000, 5);
      for (const r of again) expect((await admin(s).get('/workflow-templates/greet', { query: { version: r.body.version as number } })).body.description).toBe(r.body.description);
    }
  });

  it('a node restarted applies the writes it missed before it answers', async () => {
    const dataDir = c.dataDir;
    await c.close();
    servers.splice(servers.indexOf(c), 1);
    const def = await admin(a).post('/workflow-definitions', flow('while-c-was-down'));
    expect(def.status).toBe(201);
    const made = await admin(b).post('/api-keys', { name: 'while-c-was-down', scopes: ['write'] });
    expect(made.status).toBe(201);
    expect((await admin(a).del('/workflow-definitions/shared-def')).status).toBe(204);
    c = await node('node-c', dataDir);
    // No polling: the first answers already have them.
    const got = await admin(c).get('/workflow-definitions/while-c-was-down');
    expect(got.status, got.text).toBe(200);
    expect(got.body.document).toEqual(def.body.document);
    expect((await withKey(c.url, made.body.key as string).get('/executions')).status).toBe(200);
    expect((await admin(c).get('/workflow-definitions/shared-def')).body.retired).toBe(true);
    expect((await admin(c).get('/cluster')).body.sharedState).toMatchObject({ waiting: 0, applied: expect.any(Number) });
  }, 30_000);
});
