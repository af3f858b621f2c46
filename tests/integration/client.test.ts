/** The typed client (`actorflow/client`) against a real server: each resource group, typed errors, watch. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ActorflowApiError,
  ActorflowDurationError,
  ActorflowExecutionError,
  createClient,
  isConflict,
  isNotFound,
  type ActorflowClient,
  type FlowDocument,
  type FetchLike,
} from '../../src/client/index.ts';
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
  await client.definitions.create({ name: 'wr-nap', steps: [{ id: 'z', type: 'sleep', ms: 150 }, { id: 'b', type: 'task', agent: 'echo', input: { woke: '$.input.who' } }] });
  // A typed document is accepted as it is (typecheck: FlowDocument has no index signature).
  const typed: FlowDocument = { name: 'typed-doc', steps: [{ id: 'a', type: 'task', agent: 'echo' }] };
  expect((await client.definitions.create(typed)).name).toBe('typed-doc');
  await client.definitions.create({ name: 'wr-long', steps: [{ id: 'z', type: 'sleep', ms: 20_000 }] });
  await client.definitions.create({ name: 'wr-boom', steps: [{ id: 'f', type: 'task', agent: 'fail', input: { times: 1, retryable: false } }] });
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

  it('graphql: data with field errors by path; a query that does not validate is errors only, not a throw', async () => {
    const ok = await client.graphql<{ definition: { name: string } | null }>('query($n: String!) { definition(name: $n) { name } }', { n: 'cl-gate' });
    expect(ok.data?.definition?.name).toBe('cl-gate');
    const invalid = await client.graphql('{ noSuchField }');
    expect(invalid.data).toBeUndefined();
    expect(invalid.errors?.[0]?.extensions.code).toBe('graphql_validation_failed');
    expect(invalid.errors?.[0]?.locations?.[0]).toMatchObject({ line: 1 });
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

/** Fetch that records each request's `?wait=` (null when absent). */
function recordingFetch(): { fetch: FetchLike; waits: (string | null)[] } {
  const waits: (string | null)[] = [];
  const fetch: FetchLike = (input, init) => {
    waits.push(new URL(String(input)).searchParams.get('wait'));
    return globalThis.fetch(input, init);
  };
  return { fetch, waits };
}

async function thrown(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

describe('client: waiting for the result', () => {
  it('start with wait answers with the completed execution; run and result give the output', async () => {
    const e = await client.executions.start({ workflow: 'wr-nap', input: { who: 'a' } }, { wait: '5s' });
    expect(e).toMatchObject({ status: 'completed', output: { woke: 'a' } });
    const r = await client.executions.run<{ woke: string }>({ workflow: 'wr-nap', input: { who: 'b' } }, { timeout: 5000 });
    expect(r.state).toBe('completed');
    if (r.state !== 'completed') throw new Error('not completed');
    expect(r.output.woke).toBe('b');
    expect(r.execution.status).toBe('completed');
    const started = await client.executions.start({ workflow: 'wr-nap', input: { who: 'c' } });
    expect(started.status).not.toBe('completed');
    expect(await client.executions.result(started.id, { timeout: '5s' })).toMatchObject({ state: 'completed', output: { woke: 'c' } });
  });

  it('answers at `waiting` with the signals it waits for, and completes after the signal', async () => {
    const t0 = performance.now();
    const r = await client.executions.run({ workflow: 'cl-gate' }, { timeout: '10s' });
    // Loose: well before the 10 s timeout, even on a loaded CI machine.
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(r).toMatchObject({ state: 'waiting', signals: ['go'], execution: { status: 'waiting', currentSteps: ['gate'] } });
    const id = r.execution.id;
    // A look without waiting (timeout 0) tells the same.
    expect(await client.executions.result(id, { timeout: 0 })).toMatchObject({ state: 'waiting', signals: ['go'] });
    expect((await client.executions.get(id, { wait: '5s' })).status).toBe('waiting');
    await client.executions.signal(id, 'go', { payload: { ok: true } });
    expect(await client.executions.result(id, { timeout: '5s' })).toMatchObject({ state: 'completed', output: { ok: true } });
  });

  it('answers at the timeout with the execution as it is then (a sleep is not a wait for a signal)', async () => {
    const started = await client.executions.start({ workflow: 'wr-long' }, { wait: 30 });
    expect(started.status).toBe('waiting');
    const t0 = performance.now();
    const r = await client.executions.result(started.id, { timeout: '80ms' });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(75);
    expect(r).toMatchObject({ state: 'timeout', execution: { id: started.id, status: 'waiting', currentSteps: ['z'] } });
    const run = await client.executions.run({ workflow: 'wr-long' }, { timeout: 50 });
    expect(run.state).toBe('timeout');
  });

  it('a failed or cancelled execution is an ActorflowExecutionError with the execution and its error', async () => {
    const failed = await thrown(client.executions.run({ workflow: 'wr-boom' }, { timeout: '5s' }));
    expect(failed).toBeInstanceOf(ActorflowExecutionError);
    const f = failed as ActorflowExecutionError;
    expect([f.code, f.execution.status, f.error?.stepId]).toEqual(['execution_failed', 'failed', 'f']);
    expect(f.message).toContain('at step f');
    const long = await client.executions.start({ workflow: 'wr-long' });
    await client.executions.cancel(long.id, 'test');
    const cancelled = await thrown(client.executions.result(long.id, { timeout: '5s' }));
    expect(cancelled).toBeInstanceOf(ActorflowExecutionError);
    expect((cancelled as ActorflowExecutionError).code).toBe('execution_cancelled');
  });

  it('waits longer than the server allows per request in long polls of at most 30 s; a bad duration sends nothing', async () => {
    const rec = recordingFetch();
    const c = createClient({ url: server.url, key: 'af_test_admin_key_client_0123456789', fetch: rec.fetch });
    const r = await c.executions.run({ workflow: 'wr-nap', input: { who: 'd' } }, { timeout: '2m' });
    expect(r).toMatchObject({ state: 'completed', output: { woke: 'd' } });
    expect(rec.waits).toEqual(['30000']);
    const e = await c.executions.start({ workflow: 'wr-nap', input: { who: 'e' } }, { wait: 45_000 });
    expect(e.status).toBe('completed');
    expect(rec.waits.at(-1)).toBe('30000');
    const sent = rec.waits.length;
    const bad = await thrown(c.executions.result('ex_01ARZ3NDEKTSV4RRFFQ69G5FAV', { timeout: 'soon' }));
    expect(bad).toBeInstanceOf(ActorflowDurationError);
    expect((bad as ActorflowDurationError).code).toBe('invalid_duration');
    expect(rec.waits.length).toBe(sent);
  });
});

