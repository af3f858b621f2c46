/**
 * HTTP push agents (issue 15): a real receiver on 127.0.0.1, a real server over HTTP. Sync answers,
 * 4xx/5xx, timeouts, 202 with a later result, heartbeats, task tokens, signatures (with the receiver of
 * docs/agents.md), the SSRF guard, tenants, per-agent concurrency and keep-alive, and a SIGKILL between
 * the POST and the answer.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifySignature } from '../../src/webhooks/signature.ts';
import { type Api, api, createKey, withKey } from '../support/http.ts';
import { startNatsServer } from '../support/nats.ts';
import { startServerProcess, type ServerProcess } from '../support/process.ts';
import { type PushReceiver, startPushReceiver } from '../support/push-receiver.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { pollUntil } from '../support/wait.ts';

const ADMIN = 'test-admin-key-http-agents-0123456789abcdef';
const SECRET = 'agsec-test-secret-0123456789';
const FAST_RETRY = { maxAttempts: 3, backoff: 'fixed', initialMs: 10 };

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** A one-step flow on `kind`. */
const oneStep = (name: string, kind: string, retry: object = FAST_RETRY, extra: object = {}) => ({
  name,
  steps: [{ id: 's', type: 'task', agent: kind, input: '$.input', retry, ...extra }],
});

async function define(http: Api, doc: object): Promise<void> {
  const res = await http.post('/workflow-definitions', doc);
  expect(res.status, res.text).toBe(201);
}

async function start(http: Api, workflow: string, input: unknown = {}): Promise<string> {
  const res = await http.post('/executions', { workflow, input });
  expect(res.status, res.text).toBe(201);
  return res.body.id as string;
}

/** The execution once it has ended (polled over HTTP: the tenant may be any). */
const ended = (http: Api, id: string, timeoutMs = 15_000) =>
  pollUntil(async () => {
    const x = await http.get(`/executions/${id}`);
    return ['completed', 'failed', 'cancelled', 'timed_out'].includes(x.body.status) ? x.body : undefined;
  }, `execution ${id} to end`, timeoutMs);

const attempts = async (http: Api, id: string) => (await http.get(`/executions/${id}/steps/s/attempts`)).body.items as any[];

async function register(http: Api, body: Record<string, unknown>): Promise<any> {
  const res = await http.post('/agents/http', { name: 'rx', secret: SECRET, ...body });
  expect(res.status, res.text).toBe(201);
  return res.body;
}

describe('HTTP push agents (private receivers allowed)', () => {
  let server: TestServer;
  let rx: PushReceiver;
  let admin: Api;
  let acme: Api;

  beforeAll(async () => {
    rx = await startPushReceiver();
    server = await startTestServer({ adminKey: ADMIN, webhookAllowPrivate: true });
    admin = withKey(server.url, ADMIN);
    acme = withKey(server.url, await createKey(admin, ['write'], 'acme'));
  });
  afterAll(async () => {
    await server?.close();
    await rx?.close();
  });

  it('registers (write scope, secret shown once), lists per tenant, refuses bad input, deletes', async () => {
    const reader = withKey(server.url, await createKey(admin, ['read']));
    expect((await reader.post('/agents/http', { name: 'x', kinds: ['k'], url: `${rx.url}/x` })).status).toBe(403);
    const bad = await admin.post('/agents/http', { name: '', kinds: [], url: 'x', concurrency: 0, timeoutMs: 'soon', extra: 1 });
    expect(bad.status).toBe(422);
    expect(bad.body.code).toBe('validation_failed');
    expect((bad.body.errors as { path: string }[]).map((e) => e.path).sort()).toEqual(['/concurrency', '/extra', '/kinds', '/name', '/timeoutMs']);
    // A kind the built-in agents serve stays theirs: the router would take every tenant's tasks of it.
    const taken = await admin.post('/agents/http', { name: 'x', kinds: ['mine', 'echo'], url: `${rx.url}/x` });
    expect(taken.status).toBe(409);
    expect(taken.body.code).toBe('agent_kind_taken');

    const gen = await admin.post('/agents/http', { name: 'gen', kinds: ['reg-a', 'reg-b', 'reg-a'], url: `${rx.url}/reg` });
    expect(gen.status, gen.text).toBe(201);
    expect(gen.body).toMatchObject({
      id: expect.stringMatching(/^ag_[0-9A-Z]{26}$/), name: 'gen', kinds: ['reg-a', 'reg-b'], url: `${rx.url}/reg`, concurrency: 16, capacity: 16, timeoutMs: 30_000,
      status: 'online', inFlight: 0, version: 'http', stats: { completed: 0, failed: 0 },
    });
    expect(gen.body.secret).toMatch(/^agsec_/);
    expect(gen.body.secretHint).toBe(`…${(gen.body.secret as string).slice(-4)}`);
    const own = await register(admin, { kinds: ['reg-c'], url: `${rx.url}/reg` });
    expect(own).not.toHaveProperty('secret');

    const ids = (await admin.get('/agents', { query: { limit: 1000 } })).body.items.map((a: { id: string }) => a.id);
    expect(ids).toEqual(expect.arrayContaining([gen.body.id, own.id]));
    expect((await admin.get(`/agents/${own.id}`)).body).toMatchObject({ id: own.id, url: `${rx.url}/reg`, stats: { completed: 0 } });
    // Another tenant neither sees nor deletes them.
    const theirs = (await acme.get('/agents', { query: { limit: 1000 } })).body.items.map((a: { id: string }) => a.id);
    expect(theirs).not.toContain(gen.body.id);
    expect((await acme.get(`/agents/${own.id}`)).status).toBe(404);
    expect((await acme.del(`/agents/http/${own.id}`)).body.code).toBe('agent_not_found');

    expect((await admin.del(`/agents/http/${own.id}`)).status).toBe(204);
    expect((await admin.del(`/agents/http/${own.id}`)).status).toBe(404);
    expect((await admin.del('/agents/http/ag_nope')).status).toBe(404);
    expect((await admin.get(`/agents/${own.id}`)).status).toBe(404);
    expect((await admin.del(`/agents/http/${gen.body.id}`)).status).toBe(204);
  });

  it('POSTs the signed task and takes a 2xx answer as the output, with its logs and costs', async () => {
    await register(admin, { kinds: ['sync'], url: `${rx.url}/sync` });
    rx.behave('/sync', (r) => ({ status: 200, body: { output: { got: r.task.input }, logs: [{ level: 'warn', message: 'careful', data: { n: 1 } }], costs: [{ model: 'm', tokens: 7, usd: 0.5 }] } }));
    await define(admin, oneStep('ha-sync', 'sync'));
    const id = await start(admin, 'ha-sync', { n: 42 });
    const x = await ended(admin, id);
    expect(x).toMatchObject({ status: 'completed', output: { got: { n: 42 } } });

    const [got] = rx.on('/sync');
    expect(got?.headers['content-type']).toBe('application/json');
    expect(verifySignature(got?.headers['x-actorflow-signature'] as string, got?.raw ?? '', SECRET)).toBe(true);
    expect(got?.headers['traceparent']).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
    const t = got?.task;
    expect(t).toMatchObject({ taskId: `${id}:s:1`, executionId: id, stepId: 's', attempt: 1, kind: 'sync', input: { n: 42 } });
    expect(t?.taskToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Date.parse(t?.deadline ?? '')).toBeGreaterThan(Date.now());
    // The token is stale once the answer came.
    expect((await api(server.url).post(`/agent-tasks/${encodeURIComponent(t?.taskId ?? '')}/heartbeat`, {}, { headers: { 'x-actorflow-task-token': t?.taskToken ?? '' } })).status).toBe(404);

    const logs = await admin.get(`/executions/${id}/logs`);
    expect(logs.body.items).toEqual([expect.objectContaining({ level: 'warn', message: 'careful', data: { n: 1 }, stepId: 's', attempt: 1 })]);
    expect((await admin.get(`/executions/${id}/costs`)).body.total).toEqual({ tokens: 7, usd: 0.5 });
  });

  it('fails at once on 4xx (the agent may name the error), retries 5xx, 429 and connection errors', async () => {
    await register(admin, { kinds: ['four'], url: `${rx.url}/four` });
    rx.behave('/four', () => ({ status: 422, body: { error: { code: 'bad_order', message: 'no such order' } } }));
    await define(admin, oneStep('ha-four', 'four'));
    const four = await ended(admin, await start(admin, 'ha-four'));
    expect(four.status).toBe('failed');
    expect(four.error).toMatchObject({ code: 'bad_order', message: 'no such order' });
    expect(rx.on('/four')).toHaveLength(1);

    await register(admin, { kinds: ['five'], url: `${rx.url}/five` });
    rx.behave('/five', (r, nth) => (nth === 1 ? { status: 503 } : nth === 2 ? { status: 429 } : { status: 200, body: { output: r.task.attempt } }));
    await define(admin, oneStep('ha-five', 'five'));
    const fiveId = await start(admin, 'ha-five');
    expect(await ended(admin, fiveId)).toMatchObject({ status: 'completed', output: 3 });
    const tries = await attempts(admin, fiveId);
    expect(tries.map((a) => [a.attempt, a.status, a.error?.code ?? null])).toEqual([
      [1, 'failed', 'http_agent_status'],
      [2, 'failed', 'http_agent_status'],
      [3, 'completed', null],
    ]);
    expect(rx.on('/five').map((r) => r.task.taskId)).toEqual([1, 2, 3].map((n) => `${fiveId}:s:${n}`));

    // Nobody listens there: retryable, then failed for good.
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((r) => closed.close(() => r()));
    await register(admin, { kinds: ['gone'], url: `http://127.0.0.1:${port}/` });
    await define(admin, oneStep('ha-gone', 'gone', { maxAttempts: 2, backoff: 'fixed', initialMs: 10 }));
    const gone = await ended(admin, await start(admin, 'ha-gone'));
    expect(gone.error).toMatchObject({ code: 'http_agent_unreachable' });
    expect((await attempts(admin, gone.id)).map((a) => a.error?.message)).toEqual(['ECONNREFUSED', 'ECONNREFUSED']);
  });

  it('fails an attempt the agent does not answer within timeoutMs (retryable), aborting the POST', async () => {
    await register(admin, { kinds: ['slow'], url: `${rx.url}/slow`, timeoutMs: 300 });
    rx.behave('/slow', () => 'hold');
    await define(admin, oneStep('ha-slow', 'slow', { maxAttempts: 2, backoff: 'fixed', initialMs: 10 }));
    const x = await ended(admin, await start(admin, 'ha-slow'));
    expect(x.status).toBe('failed');
    expect(x.error).toMatchObject({ code: 'http_agent_timeout' });
    const got = rx.on('/slow');
    expect(got.map((r) => r.task.attempt)).toEqual([1, 2]);
    await pollUntil(async () => (got.every((r) => r.abandoned()) ? true : undefined), 'the held POSTs to be closed by the server');
  });

  it('takes a 202 and then the posted result; the token is single-use and bound to its task', async () => {
    await register(admin, { kinds: ['later'], url: `${rx.url}/later` });
    rx.behave('/later', () => ({ status: 202 }));
    await define(admin, oneStep('ha-later', 'later'));
    const id = await start(admin, 'ha-later', { q: 1 });
    const [got] = await rx.waitFor('/later', 1);
    const t = got!.task;
    const anon = api(server.url);
    const result = (taskId: string, token: string | undefined, body: unknown) =>
      anon.post(`/agent-tasks/${encodeURIComponent(taskId)}/result`, body, { headers: token === undefined ? {} : { 'x-actorflow-task-token': token } });

    expect((await result(t.taskId, 'x'.repeat(43), { output: 1 })).body.code).toBe('agent_task_not_found');
    expect((await result(t.taskId, undefined, { output: 1 })).status).toBe(404);
    expect((await result(`${id}:s:2`, t.taskToken, { output: 1 })).status).toBe(404);
    expect((await result('not-a-task', t.taskToken, { output: 1 })).status).toBe(404);
    const both = await result(t.taskId, t.taskToken, { output: 1, error: { code: 'x', message: 'y' } });
    expect(both.status).toBe(422);
    expect((await result(t.taskId, t.taskToken, { outptu: 1 })).body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ path: '/outptu' })]));
    expect((await anon.get(`/executions/${id}`)).status).toBe(401);

    const ok = await result(t.taskId, t.taskToken, { output: { done: t.input }, logs: [{ level: 'info', message: 'later' }] });
    expect(ok.status, ok.text).toBe(202);
    // Durable before the 202: the execution has it already.
    expect((await admin.get(`/executions/${id}`)).body).toMatchObject({ status: 'completed', output: { done: { q: 1 } } });
    expect((await result(t.taskId, t.taskToken, { output: 2 })).status).toBe(404);

    // A posted error is retried unless it says otherwise.
    await register(admin, { kinds: ['later-fail'], url: `${rx.url}/later-fail` });
    rx.behave('/later-fail', () => ({ status: 202 }));
    await define(admin, oneStep('ha-later-fail', 'later-fail'));
    const failId = await start(admin, 'ha-later-fail');
    const [first] = await rx.waitFor('/later-fail', 1);
    expect((await result(first!.task.taskId, first!.task.taskToken, { error: { code: 'flaky', message: 'again' } })).status).toBe(202);
    const [, second] = await rx.waitFor('/later-fail', 2);
    expect(second!.task.attempt).toBe(2);
    expect((await result(second!.task.taskId, second!.task.taskToken, { error: { code: 'fatal', message: 'stop', retryable: false } })).status).toBe(202);
    expect((await ended(admin, failId)).error).toMatchObject({ code: 'fatal', message: 'stop' });
  });

  it('keeps an accepted task past timeoutMs while heartbeats come, and times it out when they stop', async () => {
    const TIMEOUT = 400;
    await register(admin, { kinds: ['beat'], url: `${rx.url}/beat`, timeoutMs: TIMEOUT });
    rx.behave('/beat', () => ({ status: 202 }));
    await define(admin, oneStep('ha-beat', 'beat'));
    const id = await start(admin, 'ha-beat');
    const anon = api(server.url);
    const beat = (taskId: string, token: string) => anon.post(`/agent-tasks/${encodeURIComponent(taskId)}/heartbeat`, undefined, { headers: { 'x-actorflow-task-token': token } });

    // Attempt 1 gets no heartbeat: it times out and is retried.
    const [, second] = await rx.waitFor('/beat', 2);
    expect((await attempts(admin, id))[0]).toMatchObject({ attempt: 1, status: 'failed', error: { code: 'http_agent_timeout' } });
    const t = second!.task;
    const until = Date.parse(t.deadline) + 2 * TIMEOUT;
    let deadline = Date.parse(t.deadline);
    // Attempt 2 is kept alive past three times its timeout by heartbeats, each moving the deadline.
    await pollUntil(async () => {
      const res = await beat(t.taskId, t.taskToken);
      expect(res.status, res.text).toBe(202);
      const next = Date.parse(res.body.deadline);
      expect(next).toBeGreaterThanOrEqual(deadline);
      deadline = next;
      return Date.now() > until ? true : undefined;
    }, 'heartbeats past the first deadline', 10_000, TIMEOUT / 4);
    expect((await admin.get(`/executions/${id}`)).body.status).toBe('running');
    const res = await anon.post(`/agent-tasks/${encodeURIComponent(t.taskId)}/result`, { output: 'kept' }, { headers: { 'x-actorflow-task-token': t.taskToken } });
    expect(res.status).toBe(202);
    expect(await ended(admin, id)).toMatchObject({ status: 'completed', output: 'kept' });
    expect(rx.on('/beat')).toHaveLength(2);
    expect((await beat(t.taskId, t.taskToken)).status).toBe(404);
  });

  it('sends a task only to agents of its own tenant; one without waits, and so do steps after a delete', async () => {
    const mine = await register(admin, { kinds: ['tenanted'], url: `${rx.url}/default` });
    await define(admin, oneStep('ha-tenant', 'tenanted'));
    await define(acme, oneStep('ha-tenant', 'tenanted'));
    const acmeId = await start(acme, 'ha-tenant', { who: 'acme' });
    expect((await ended(admin, await start(admin, 'ha-tenant', { who: 'default' }))).output).toEqual({ who: 'default' });
    expect((await acme.get(`/executions/${acmeId}`)).body.status).toBe('running');

    await register(acme, { kinds: ['tenanted'], url: `${rx.url}/acme` });
    expect((await ended(acme, acmeId)).output).toEqual({ who: 'acme' });
    expect(rx.on('/default').map((r) => r.task.input.who)).toEqual(['default']);
    expect(rx.on('/acme').map((r) => r.task.input.who)).toEqual(['acme']);

    // Deleted: the next step waits (acme's agent serves only acme) until another agent of the tenant comes.
    expect((await admin.del(`/agents/http/${mine.id}`)).status).toBe(204);
    const waiting = await start(admin, 'ha-tenant', { who: 'default-2' });
    await register(admin, { kinds: ['tenanted'], url: `${rx.url}/default-again` });
    expect((await ended(admin, waiting)).output).toEqual({ who: 'default-2' });
    expect(rx.on('/default')).toHaveLength(1);
    expect(rx.on('/acme')).toHaveLength(1);
  });

  it('sends an agent at most `concurrency` tasks at once, over keep-alive connections', async () => {
    rx.behave('/pool', () => 'hold');
    await define(admin, oneStep('ha-pool', 'pool'));
    const before = rx.connections();
    rx.resetMaxOpen();
    const ag = await register(admin, { kinds: ['pool'], url: `${rx.url}/pool`, concurrency: 2 });
    const ids = await Promise.all([1, 2, 3, 4, 5].map((n) => start(admin, 'ha-pool', n)));
    await rx.waitFor('/pool', 2);
    expect((await admin.get(`/agents/${ag.id}`)).body).toMatchObject({ status: 'busy', inFlight: 2, capacity: 2 });
    // Each held task is answered once the next one came: the third comes only when a slot frees up.
    for (let n = 1; n <= 5; n++) {
      const got = await rx.waitFor('/pool', Math.min(n + 1, 5));
      got[n - 1]!.answer(200, { output: got[n - 1]!.task.input });
    }
    for (const id of ids) expect((await ended(admin, id)).status).toBe('completed');
    expect(rx.maxOpen()).toBe(2);
    expect(rx.connections() - before).toBeLessThanOrEqual(2);
  });
});

describe('HTTP push agents on the NATS bus', () => {
  it('runs sync answers and 202 results through the router served over NATS', async () => {
    const nats = await startNatsServer();
    const rx = await startPushReceiver();
    const server = await startTestServer({ webhookAllowPrivate: true, natsUrl: nats.url, natsPrefix: 'httpagents' });
    try {
      const http = api(server.url);
      await register(http, { kinds: ['nats-sync'], url: `${rx.url}/sync` });
      await register(http, { kinds: ['nats-later'], url: `${rx.url}/later` });
      rx.behave('/later', () => ({ status: 202 }));
      await define(http, { name: 'ha-nats', steps: [
        { id: 'a', type: 'task', agent: 'nats-sync', input: '$.input' },
        { id: 's', type: 'task', agent: 'nats-later', input: '$.steps.a.output' },
      ] });
      const id = await start(http, 'ha-nats', { v: 1 });
      const [got] = await rx.waitFor('/later', 1);
      expect(got!.task).toMatchObject({ kind: 'nats-later', input: { v: 1 }, attempt: 1 });
      const res = await http.post(`/agent-tasks/${encodeURIComponent(got!.task.taskId)}/result`, { output: 'over nats' }, { headers: { 'x-actorflow-task-token': got!.task.taskToken } });
      expect(res.status, res.text).toBe(202);
      expect((await http.get(`/executions/${id}`)).body).toMatchObject({ status: 'completed', output: 'over nats' });
      const routers = (await http.get('/agents', { query: { limit: 1000 } })).body.items.filter((a: { name: string }) => a.name.startsWith('http-push:'));
      expect(routers.map((a: { name: string }) => a.name).sort()).toEqual(['http-push:nats-later', 'http-push:nats-sync']);
    } finally {
      await server.close();
      await rx.close();
      await nats.stop();
    }
  });
});

describe('the receiver of docs/agents.md', () => {
  let server: TestServer;
  let child: ChildProcess | undefined;

  afterAll(async () => {
    child?.kill('SIGKILL');
    await server?.close();
  });

  it('verifies the signature: a task signed with its secret runs, a wrong secret or a changed body is refused', async () => {
    const docs = await readFile(new URL('../../docs/agents.md', import.meta.url), 'utf8');
    const code = /```js\n(\/\/ receiver\.mjs[\s\S]*?)```/.exec(docs)?.[1];
    expect(code, 'the receiver example in docs/agents.md').toBeDefined();
    const dir = await mkdtemp(join(tmpdir(), 'actorflow-receiver-'));
    dirs.push(dir);
    await writeFile(join(dir, 'receiver.mjs'), code as string);
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((r) => probe.close(() => r()));
    child = spawn(process.execPath, [join(dir, 'receiver.mjs')], { env: { ...process.env, PORT: String(port), AGENT_SECRET: SECRET }, stdio: 'ignore' });
    const url = `http://127.0.0.1:${port}/`;
    const post = (body: string, signature: string) =>
      new Promise<number>((resolve, reject) => {
        const req = httpRequest(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-actorflow-signature': signature } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end(body);
      });
    await pollUntil(() => post('{}', '').then(() => true, () => undefined), 'the docs receiver to listen');

    server = await startTestServer({ webhookAllowPrivate: true });
    const http = api(server.url);
    await register(http, { kinds: ['shout'], url });
    await register(http, { kinds: ['shout-wrong'], url, secret: 'not-the-receivers-secret' });
    await define(http, oneStep('ha-docs', 'shout'));
    await define(http, oneStep('ha-docs-wrong', 'shout-wrong'));
    expect(await ended(http, await start(http, 'ha-docs', { text: 'hello' }))).toMatchObject({ status: 'completed', output: { shout: 'HELLO' } });
    const wrong = await ended(http, await start(http, 'ha-docs-wrong', { text: 'hello' }));
    expect(wrong).toMatchObject({ status: 'failed', error: { code: 'http_agent_status', message: 'HTTP 401' } });

    // What an attacker without the secret can send: refused.
    const { signatureHeader } = await import('../../src/webhooks/signature.ts');
    const body = JSON.stringify({ taskId: 't', input: { text: 'a' } });
    const now = Math.floor(Date.now() / 1000);
    expect(await post(body, signatureHeader(SECRET, body, now))).toBe(200);
    expect(await post(body.replace('"a"', '"b"'), signatureHeader(SECRET, body, now))).toBe(401);
    expect(await post(body, signatureHeader(SECRET, body, now - 3600))).toBe(401);
    expect(await post(body, '')).toBe(401);
  });
});

describe('HTTP push agents without private addresses allowed', () => {
  it('refuses a loopback URL at registration (422 agent_url_forbidden)', async () => {
    const server = await startTestServer();
    try {
      const res = await api(server.url).post('/agents/http', { name: 'x', kinds: ['k'], url: 'http://127.0.0.1:9/' });
      expect(res.status).toBe(422);
      expect(res.body).toMatchObject({ code: 'agent_url_forbidden', errors: [{ path: '/url' }] });
      expect((await api(server.url).post('/agents/http', { name: 'x', kinds: ['k'], url: 'ftp://example.com/' })).body.code).toBe('agent_url_forbidden');
    } finally {
      await server.close();
    }
  });
});

describe('a SIGKILL between the POST and the answer', () => {
  let proc: ServerProcess | undefined;
  let rx: PushReceiver | undefined;
  afterAll(async () => {
    await proc?.kill();
    await rx?.close();
  });

  it('sends the task again after the restart, same taskId and attempt, and completes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'actorflow-http-agents-crash-'));
    dirs.push(dir);
    const machines = join(dir, 'machines');
    await mkdir(machines);
    await writeFile(join(machines, 'pushed.yaml'), 'name: pushed\nsteps:\n  - { id: s, type: task, agent: pushed, input: "$.input" }\n');
    // Executions leave memory after 50 ms idle: the one killed under its POST is passivated first (status `running`, not `waiting`).
    const args = { dataDir: join(dir, 'data'), machinesDir: machines, env: { ACTORFLOW_WEBHOOK_ALLOW_PRIVATE: '1', ACTORFLOW_PASSIVATE_MS: '50' } };
    rx = await startPushReceiver();
    rx.behave('/p', (r, nth) => (nth === 1 ? 'hold' : { status: 200, body: { output: { again: r.task.input } } }));
    proc = await startServerProcess(args);
    const first = api(proc.url);
    await register(first, { kinds: ['pushed'], url: `${rx.url}/p` });
    const id = await start(first, 'pushed', { n: 1 });
    const [held] = await rx.waitFor('/p', 1);
    await pollUntil(async () => ((await first.get('/status')).body.system.live === 0 ? true : undefined), 'the execution to be passivated');
    expect((await first.get(`/executions/${id}`)).body.status).toBe('running');
    await proc.kill();

    proc = await startServerProcess(args);
    const again = api(proc.url);
    const [, resent] = await rx.waitFor('/p', 2, 20_000);
    expect(resent!.task).toMatchObject({ taskId: held!.task.taskId, attempt: 1, executionId: id, input: { n: 1 } });
    expect(resent!.task.taskToken).not.toBe(held!.task.taskToken);
    expect(await ended(again, id, 20_000)).toMatchObject({ status: 'completed', output: { again: { n: 1 } } });
    // The token of the killed server's POST is stale.
    const stale = await again.post(`/agent-tasks/${encodeURIComponent(held!.task.taskId)}/result`, { output: 0 }, { headers: { 'x-actorflow-task-token': held!.task.taskToken } });
    expect(stale.status).toBe(404);
    expect(await proc.stop()).toBe(0);
  }, 60_000);

  it('a graceful stop under a held POST records no failed attempt: the next boot sends attempt 1 again', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'actorflow-http-agents-stop-'));
    dirs.push(dir);
    const machines = join(dir, 'machines');
    await mkdir(machines);
    await writeFile(join(machines, 'pushed.yaml'), 'name: pushed\nsteps:\n  - { id: s, type: task, agent: pushed, input: "$.input" }\n');
    const args = { dataDir: join(dir, 'data'), machinesDir: machines, env: { ACTORFLOW_WEBHOOK_ALLOW_PRIVATE: '1' } };
    const receiver = await startPushReceiver();
    try {
      receiver.behave('/p', (r, nth) => (nth === 1 ? 'hold' : { status: 200, body: { output: r.task.attempt } }));
      proc = await startServerProcess(args);
      await register(api(proc.url), { kinds: ['pushed'], url: `${receiver.url}/p` });
      const id = await start(api(proc.url), 'pushed', { n: 2 });
      const [held] = await receiver.waitFor('/p', 1);
      expect(await proc.stop()).toBe(0);

      proc = await startServerProcess(args);
      const again = api(proc.url);
      const [, resent] = await receiver.waitFor('/p', 2, 20_000);
      expect(resent!.task).toMatchObject({ taskId: held!.task.taskId, attempt: 1 });
      expect(await ended(again, id, 20_000)).toMatchObject({ status: 'completed', output: 1 });
      const types = ((await again.get(`/executions/${id}/events`)).body.items as { type: string }[]).map((e) => e.type);
      expect(types.filter((t) => t === 'workflow.step.failed' || t === 'workflow.step.retrying')).toEqual([]);
    } finally {
      await receiver.close();
    }
  }, 60_000);
});
