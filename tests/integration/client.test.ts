/** The typed client (`actorflow/client`) against a real server: each resource group, typed errors, watch. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActorflowApiError, createClient, isConflict, isNotFound, type ActorflowClient } from '../../src/client/index.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { waitForStatus } from '../support/wait.ts';

let server: TestServer;
let client: ActorflowClient;

const GATE_YAML = `name: cl-gate
steps:
  - { id: a, type: task, agent: echo, input: { n: 1 } }
  - { id: gate, type: wait, signal: go }
  - { id: b, type: task, agent: echo, input: { ok: "$.steps.gate.output.ok" } }
`;

async function caught(p: Promise<unknown>): Promise<ActorflowApiError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ActorflowApiError) return err;
    throw err;
  }
  throw new Error('expected an ActorflowApiError');
}

beforeAll(async () => {
  server = await startTestServer({ adminKey: 'af_test_admin_key_client_0123456789' });
  client = createClient({ url: server.url, key: 'af_test_admin_key_client_0123456789' });
  await client.definitions.create(GATE_YAML);
  await client.definitions.create({ name: 'cl-chain', steps: [{ id: 'x', type: 'task', agent: 'echo', input: { v: '$.input.v' } }, { id: 'y', type: 'task', agent: 'log', input: { level: 'info', message: 'hi' } }] });
});

afterAll(async () => {
  await server?.close();
});

describe('client', () => {
  it('meta: health, ready, status', async () => {
    expect((await client.health()).status).toBe('ok');
    expect((await client.ready()).ready).toBe(true);
    expect(typeof (await client.status()).executions).toBe('object');
  });

  it('definitions: list, get, versions, validate, diagram, retire', async () => {
    const page = await client.definitions.list({ name: 'cl-' });
    expect(page.items.map((d) => d.name).sort()).toEqual(['cl-chain', 'cl-gate']);
    expect(page.nextCursor).toBeNull();
    const d = await client.definitions.get('cl-gate');
    expect(d).toMatchObject({ name: 'cl-gate', version: 1, source: 'document' });
    expect((await client.definitions.versions('cl-gate')).items).toHaveLength(1);
    expect(await client.definitions.validate({ name: 'ok', steps: [{ id: 'a', type: 'task', agent: 'echo' }] })).toEqual({ valid: true });
    expect(await client.definitions.diagram('cl-gate')).toMatch(/^stateDiagram-v2/);
    await client.definitions.create({ name: 'cl-retire', steps: [{ id: 'a', type: 'task', agent: 'echo' }] });
    await client.definitions.retire('cl-retire');
    const err = await caught(client.executions.start({ workflow: 'cl-retire' }));
    expect(err.status).toBe(409);
    expect(err.code).toBe('definition_retired');
  });

  it('executions: start, get, list, update, signal, steps, attempts, events, logs, children, diagram, costs', async () => {
    const e = await client.executions.start({ workflow: 'cl-gate', labels: { suite: 'client' } });
    expect(e.id).toMatch(/^ex_/);
    await waitForStatus(server.engine, e.id, 'waiting');
    expect((await client.executions.get(e.id)).status).toBe('waiting');
    const listed = await client.executions.list({ workflow: 'cl-gate', labels: { suite: 'client' }, status: ['waiting', 'running'] });
    expect(listed.items.map((x) => x.id)).toContain(e.id);
    const updated = await client.executions.update(e.id, { labels: { extra: 'yes' } });
    expect(updated.labels).toMatchObject({ suite: 'client', extra: 'yes' });
    await client.executions.signal(e.id, 'go', { payload: { ok: true } });
    await waitForStatus(server.engine, e.id, 'completed');
    expect((await client.executions.steps(e.id)).items.map((s) => s.stepId)).toEqual(['a', 'gate', 'b']);
    expect((await client.executions.attempts(e.id, 'a')).items[0]?.status).toBe('completed');
    const events = await client.executions.events(e.id, { since: 1, limit: 2 });
    expect(events.items.map((x) => x.seq)).toEqual([2, 3]);
    expect(events.nextCursor).not.toBeNull();
    expect((await client.executions.logs(e.id)).items).toEqual([]);
    expect((await client.executions.children(e.id)).items).toEqual([]);
    expect(await client.executions.diagram(e.id)).toMatch(/classDef done/);
    expect((await client.executions.costs(e.id)).total).toBeDefined();
  });

  it('actions: pause, resume, cancel, retry (typed 409s)', async () => {
    const e = await client.executions.start({ workflow: 'cl-gate' });
    await waitForStatus(server.engine, e.id, 'waiting');
    await client.executions.pause(e.id);
    await waitForStatus(server.engine, e.id, 'paused');
    await client.executions.resume(e.id);
    await client.executions.cancel(e.id, 'test');
    await waitForStatus(server.engine, e.id, 'cancelled');
    const again = await caught(client.executions.cancel(e.id));
    expect(isConflict(again)).toBe(true);
    expect(again.code).toBe('execution_finished');
    expect((await caught(client.executions.retry(e.id))).status).toBe(409);
  });

  it('errors: 404 and 422 as ActorflowApiError with code and errors[]', async () => {
    const nf = await caught(client.executions.get('ex_doesnotexist'));
    expect(isNotFound(nf)).toBe(true);
    expect(nf).toBeInstanceOf(Error);
    expect(nf.code).toMatch(/not_found/);
    const bad = await caught(client.definitions.create({ name: 'cl-bad', steps: [{ id: 'a', type: 'nope' }] }));
    expect(bad.status).toBe(422);
    expect(bad.errors.length).toBeGreaterThan(0);
    expect(bad.errors[0]?.path).toMatch(/^\//);
    const unknown = await caught(client.executions.start({ workflow: 'cl-missing' }));
    expect([unknown.status, unknown.code]).toEqual([422, 'definition_not_found']);
    const net = await caught(createClient({ url: 'http://127.0.0.1:1' }).health());
    expect(net.status).toBe(0);
  });

  it('agents and api keys', async () => {
    const agents = await client.agents.list();
    expect(agents.items.length).toBeGreaterThan(0);
    const first = agents.items[0];
    if (first === undefined) throw new Error('no agent');
    expect((await client.agents.get(first.id)).id).toBe(first.id);
    const k = await client.apiKeys.create({ name: 'reader', scopes: ['read'] });
    expect(k.key.length).toBeGreaterThan(10);
    expect((await client.apiKeys.list()).items.map((x) => x.id)).toContain(k.id);
    const reader = createClient({ url: server.url, key: k.key });
    expect((await reader.definitions.get('cl-gate')).name).toBe('cl-gate');
    expect((await caught(reader.executions.start({ workflow: 'cl-gate' }))).status).toBe(403);
    await client.apiKeys.revoke(k.id);
    expect((await caught(reader.definitions.get('cl-gate'))).status).toBe(401);
    await server.flushAudit();
    expect((await client.audit({ limit: 5 })).items.length).toBeGreaterThan(0);
  });

  it('watch yields every event in seq order up to the terminal one, and resumes from `since`', async () => {
    const e = await client.executions.start({ workflow: 'cl-gate' });
    const seen: number[] = [];
    const types: string[] = [];
    const done = (async () => {
      for await (const ev of client.executions.watch(e.id)) (seen.push(ev.seq), types.push(ev.type));
    })();
    await waitForStatus(server.engine, e.id, 'waiting');
    await client.executions.signal(e.id, 'go', { payload: { ok: true } });
    await done;
    const history = (await client.executions.events(e.id, { limit: 1000 })).items;
    expect(seen).toEqual(history.map((x) => x.seq));
    expect(types.at(-1)).toBe('workflow.completed');
    const tail: number[] = [];
    for await (const ev of client.executions.watch(e.id, { since: 3 })) tail.push(ev.seq);
    expect(tail).toEqual(history.filter((x) => x.seq > 3).map((x) => x.seq));
    const none: number[] = [];
    for await (const ev of client.executions.watch(e.id, { since: history.length })) none.push(ev.seq);
    expect(none).toEqual([]);
    expect((await caught((async () => {
      for await (const _ of client.executions.watch('ex_nope')) void _;
    })())).status).toBe(404);
  });
});
