/**
 * Standalone tasks (/api/v1/tasks): one step dispatched to an agent kind without a flow, with the
 * flow step's retry policy, timeout, attempt history and cancellation, durable across restarts,
 * and runnable by agents over NATS. Real server over HTTP, real SQLite, real nats-server.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollUntil } from '../support/wait.ts';
import { ActorflowApiError, createClient } from '../../src/client/index.ts';
import { TASK_AGENT_PATTERN, kindOfId, newTaskId, parseTaskId, taskDocument } from '../../src/engine/runtime/tasks.ts';
import { validateFlow } from '../../src/engine/flow/validate-flow.ts';
import { startAgentProcess, type AgentProcess } from '../support/agent-process.ts';
import { api, type Api, ensureTenant, type RequestOptions } from '../support/http.ts';
import { startNatsServer, type NatsServer } from '../support/nats.ts';
import { startServerProcess, type ServerProcess } from '../support/process.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const ADMIN = 'tasks-test-admin-key-0123456789abcdef';
const ENDED = new Set(['completed', 'failed', 'cancelled']);
const fast = { maxAttempts: 3, backoff: 'fixed', initialMs: 5 };

/** The test client with a bearer credential on every request. */
function authed(origin: string, key: string): Api {
  const raw = api(origin);
  const h = (o?: RequestOptions): RequestOptions => ({ ...o, headers: { authorization: `Bearer ${key}`, ...o?.headers } });
  return {
    get: (p, o) => raw.get(p, h(o)),
    post: (p, b, o) => raw.post(p, b, h(o)),
    patch: (p, b, o) => raw.patch(p, b, h(o)),
    put: (p, b, o) => raw.put(p, b, h(o)),
    del: (p, o) => raw.del(p, h(o)),
    request: (m, p, b, o) => raw.request(m, p, b, h(o)),
  };
}

const until = <T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 15_000) => pollUntil(probe, what, timeoutMs);

/** Resolves with the task once `pred` holds: re-read over HTTP after each committed event of that task. */
function waitTask(server: TestServer, http: Api, id: string, pred: (t: any) => boolean, timeoutMs = 10_000): Promise<any> {
  return new Promise((resolve, reject) => {
    let done = false;
    const check = () =>
      http.get(`/tasks/${id}`).then(
        (res) => {
          if (!done && res.status === 200 && pred(res.body)) finish(null, res.body);
        },
        (err: Error) => finish(err),
      );
    const finish = (err: Error | null, t?: unknown) => {
      if (done) return;
      done = true;
      off();
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(t);
    };
    const off = server.engine.onEvent((e) => {
      if (e.executionId === id) void check();
    });
    const timer = setTimeout(() => void http.get(`/tasks/${id}`).then((r) => finish(new Error(`timed out waiting on ${id}: ${r.text}`))), timeoutMs);
    void check();
  });
}

describe('task documents and ids', () => {
  it('generates a valid one-step flow for every agent kind the route accepts', () => {
    const longest = 'a'.repeat(123);
    expect(new RegExp(TASK_AGENT_PATTERN).test(longest)).toBe(true);
    expect(new RegExp(TASK_AGENT_PATTERN).test(`${longest}a`)).toBe(false);
    for (const agent of ['echo', 'my-agent.v2', 'A_1', longest]) {
      const doc = taskDocument({ agent, retry: { maxAttempts: 100, backoff: 'fixed', initialMs: 1 }, timeoutMs: 2_147_483_647 });
      expect(validateFlow(doc), agent).toEqual([]);
      expect(doc.name).toBe(`task.${agent}`);
    }
    expect(validateFlow(taskDocument({ agent: 'echo' }))).toEqual([]);
  });

  it('tells task ids from execution ids', () => {
    const id = newTaskId();
    expect(parseTaskId(id)).toBe(id);
    expect(kindOfId(id)).toBe('task');
    expect(parseTaskId(id.replace(/^tk_/, 'ex_'))).toBeUndefined();
    expect(kindOfId(id.replace(/^tk_/, 'ex_'))).toBe('execution');
  });
});

describe('standalone tasks (in-process agents)', () => {
  let server: TestServer;
  let http: Api;
  const ended = (id: string, timeoutMs?: number) => waitTask(server, http, id, (t) => ENDED.has(t.status), timeoutMs);

  async function create(body: Record<string, unknown>, status = 201): Promise<any> {
    const res = await http.post('/tasks', body);
    expect(res.status, res.text).toBe(status);
    return res.body;
  }

  beforeAll(async () => {
    server = await startTestServer({ adminKey: ADMIN });
    http = authed(server.url, ADMIN);
  });

  afterAll(async () => {
    await server?.close();
  });

  it('runs a task on echo to completed with its output, one attempt and the agent that ran it', async () => {
    const input = { name: 'ada', path: '$.input.name' };
    const t = await create({ agent: 'echo', input });
    expect(t.id).toMatch(/^tk_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(t.agent).toBe('echo');
    expect(['pending', 'running', 'completed']).toContain(t.status);
    expect(t.input).toEqual(input);
    expect(t.retry).toEqual({ maxAttempts: 3, backoff: 'exponential', initialMs: 200, factor: 2, maxMs: 30000, jitter: false });
    expect(t.timeoutMs).toBeNull();
    const done = await ended(t.id);
    expect(done.status).toBe('completed');
    // A string that looks like a path is data, not an expression.
    expect(done.output).toEqual(input);
    expect(done.error).toBeNull();
    expect(done.attempts).toBe(1);
    expect(Date.parse(done.completedAt)).toBeGreaterThanOrEqual(Date.parse(done.createdAt));
    const attempts = await http.get(`/tasks/${t.id}/attempts`);
    expect(attempts.status).toBe(200);
    expect(attempts.body.nextCursor).toBeNull();
    expect(attempts.body.items).toHaveLength(1);
    expect(attempts.body.items[0]).toMatchObject({ attempt: 1, status: 'completed', output: input, error: null });
    expect(attempts.body.items[0].agentId).toMatch(/^ag_builtin-echo/);
    expect(typeof attempts.body.items[0].durationMs).toBe('number');
  });

  it('retries a failing agent with the retry policy and lists every attempt', async () => {
    const t = await create({ agent: 'fail', input: { times: 2, code: 'flaky' }, retry: fast });
    const done = await ended(t.id);
    expect(done.status).toBe('completed');
    expect(done.attempts).toBe(3);
    expect(done.output).toEqual({ times: 2, code: 'flaky' });
    const items = (await http.get(`/tasks/${t.id}/attempts`)).body.items as any[];
    expect(items.map((a) => [a.attempt, a.status])).toEqual([[1, 'failed'], [2, 'failed'], [3, 'completed']]);
    expect(items[0].error).toMatchObject({ code: 'flaky' });
    // Paginated like every list.
    const page1 = await http.get(`/tasks/${t.id}/attempts`, { query: { limit: 2 } });
    expect(page1.body.items.map((a: any) => a.attempt)).toEqual([1, 2]);
    const page2 = await http.get(`/tasks/${t.id}/attempts`, { query: { limit: 2, cursor: page1.body.nextCursor } });
    expect(page2.body.items.map((a: any) => a.attempt)).toEqual([3]);
    expect(page2.body.nextCursor).toBeNull();
  });

  it('fails once the retries are spent, and at once on a non-retryable error', async () => {
    const spent = await create({ agent: 'fail', input: { code: 'always' }, retry: { ...fast, maxAttempts: 2 } });
    const terminal = await create({ agent: 'fail', input: { code: 'fatal', message: 'no way', retryable: false }, retry: { ...fast, maxAttempts: 5 } });
    const a = await ended(spent.id);
    expect(a).toMatchObject({ status: 'failed', attempts: 2, output: null, error: { code: 'always' } });
    const b = await ended(terminal.id);
    expect(b).toMatchObject({ status: 'failed', attempts: 1, output: null, error: { code: 'fatal', message: 'no way' } });
    expect(b.completedAt).not.toBeNull();
  });

  it('times an attempt out after timeoutMs (step_timeout), retried like a step', async () => {
    const t = await create({ agent: 'sleep', input: { ms: 30_000 }, timeoutMs: 50, retry: { ...fast, maxAttempts: 2 } });
    expect(t.timeoutMs).toBe(50);
    const done = await ended(t.id);
    expect(done).toMatchObject({ status: 'failed', attempts: 2, error: { code: 'step_timeout' } });
    const items = (await http.get(`/tasks/${t.id}/attempts`)).body.items as any[];
    expect(items.map((a) => a.status)).toEqual(['failed', 'failed']);
    expect(items[1].error).toMatchObject({ code: 'step_timeout' });
  });

  it('cancels a running task with DELETE (the agent attempt is aborted) and answers 409 once it ended', async () => {
    const t = await create({ agent: 'sleep', input: { ms: 30_000 } });
    await waitTask(server, http, t.id, (x) => x.status === 'running');
    const del = await http.del(`/tasks/${t.id}`);
    expect(del.status, del.text).toBe(202);
    expect(del.body).toMatchObject({ id: t.id, status: 'cancelled', error: { code: 'cancelled' } });
    expect(del.body.completedAt).not.toBeNull();
    const items = (await http.get(`/tasks/${t.id}/attempts`)).body.items as any[];
    expect(items).toHaveLength(1);
    expect(items[0].status).toBe('cancelled');
    // The sleeping handler saw the abort: the built-in sleep agent has nothing in flight long before 30 s.
    await until(async () => {
      const agents = (await http.get('/agents', { query: { limit: 1000 } })).body.items as any[];
      const sleep = agents.find((a) => a.kinds.includes('sleep'));
      return sleep && sleep.inFlight === 0 ? true : undefined;
    }, 'the sleep agent to drop the aborted attempt', 5_000);
    const again = await http.del(`/tasks/${t.id}`);
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('task_finished');
    expect(again.contentType).toContain('application/problem+json');

    const echo = await create({ agent: 'echo', input: 1 });
    await ended(echo.id);
    const late = await http.del(`/tasks/${echo.id}`);
    expect(late.status).toBe(409);
    expect(late.body.code).toBe('task_finished');
    expect((await http.get(`/tasks/${echo.id}`)).body.status).toBe('completed');
  });

  it('keeps a task pending while no agent serves its kind, and cancels it from pending', async () => {
    const t = await create({ agent: 'nobody-serves-this', input: { x: 1 } });
    expect(t.status).toBe('pending');
    expect((await http.get(`/tasks/${t.id}`)).body.status).toBe('pending');
    const del = await http.del(`/tasks/${t.id}`);
    expect(del.status).toBe(202);
    expect(del.body.status).toBe('cancelled');
  });

  it('lists tasks newest first with status and agent filters and cursor pagination', async () => {
    const mine = [
      await create({ agent: 'echo', input: { n: 1 } }),
      await create({ agent: 'fail', input: { retryable: false }, retry: fast }),
      await create({ agent: 'echo', input: { n: 2 } }),
      await create({ agent: 'fail', input: { retryable: false }, retry: fast }),
    ];
    for (const t of mine) await ended(t.id);
    const all = await http.get('/tasks', { query: { limit: 1000 } });
    expect(all.status).toBe(200);
    const ids = (all.body.items as any[]).map((t) => t.id);
    expect(ids).toEqual([...ids].sort().reverse());
    for (const t of mine) expect(ids).toContain(t.id);

    const echo = (await http.get('/tasks', { query: { agent: 'echo', limit: 1000 } })).body.items as any[];
    expect(echo.length).toBeGreaterThanOrEqual(2);
    expect(echo.every((t) => t.agent === 'echo')).toBe(true);
    expect(echo.map((t) => t.id)).toEqual(expect.arrayContaining([mine[0].id, mine[2].id]));

    const failed = (await http.get('/tasks', { query: { status: 'failed', agent: 'fail', limit: 1000 } })).body.items as any[];
    expect(failed.every((t) => t.status === 'failed' && t.agent === 'fail')).toBe(true);
    expect(failed.map((t) => t.id)).toEqual(expect.arrayContaining([mine[1].id, mine[3].id]));
    const some = (await http.get('/tasks', { query: { status: 'completed,cancelled', limit: 1000 } })).body.items as any[];
    expect(some.length).toBeGreaterThan(0);
    expect(some.every((t) => t.status === 'completed' || t.status === 'cancelled')).toBe(true);
    expect((await http.get('/tasks', { query: { status: 'running', agent: 'echo' } })).body.items).toEqual([]);

    // Page by page (limit 1) yields the same ids in the same order, each once; a status filter pages too.
    for (const query of [{}, { status: 'completed' }]) {
      const expected = ((await http.get('/tasks', { query: { ...query, limit: 1000 } })).body.items as any[]).map((t) => t.id);
      const paged: string[] = [];
      let cursor: string | null = null;
      do {
        const res: any = await http.get('/tasks', { query: { ...query, limit: 2, ...(cursor === null ? {} : { cursor }) } });
        expect(res.status).toBe(200);
        expect(res.body.items.length).toBeLessThanOrEqual(2);
        paged.push(...res.body.items.map((t: any) => t.id));
        cursor = res.body.nextCursor;
      } while (cursor !== null);
      expect(paged).toEqual(expected);
    }
  });

  it('lists a page of 200 tasks with the attempt counts and statuses their histories give', async () => {
    // [body, status, attempts] by kind (a task no agent serves has its first attempt dispatched, untaken); the one `sleep` task is running when the page is read.
    const kinds: [Record<string, unknown>, string, number][] = [
      [{ agent: 'echo', input: { n: 0 } }, 'completed', 1],
      [{ agent: 'fail', input: { times: 1 }, retry: fast }, 'completed', 2],
      [{ agent: 'fail', input: { times: 2 }, retry: fast }, 'completed', 3],
      [{ agent: 'fail', input: { code: 'always' }, retry: { ...fast, maxAttempts: 2 } }, 'failed', 2],
      [{ agent: 'nobody-serves-this-page', input: {} }, 'pending', 1],
    ];
    const expected = new Map<string, [string, number]>();
    for (let i = 0; i < 199; i += 50) {
      const batch = Array.from({ length: Math.min(50, 199 - i) }, (_, j) => kinds[(i + j) % kinds.length]!);
      const made = await Promise.all(batch.map(async ([body, status, n]) => [(await create(body)).id as string, status, n] as const));
      for (const [id, status, n] of made) expected.set(id, [status, n]);
    }
    await Promise.all([...expected].filter(([, [status]]) => status !== 'pending').map(([id]) => ended(id)));
    const sleeper = await create({ agent: 'sleep', input: { ms: 30_000 } });
    await waitTask(server, http, sleeper.id, (t) => t.status === 'running');
    expected.set(sleeper.id, ['running', 1]);

    const page = await http.get('/tasks', { query: { limit: 200 } });
    expect(page.status).toBe(200);
    const items = page.body.items as any[];
    expect(items).toHaveLength(200);
    expect(new Set(items.map((t) => t.id))).toEqual(new Set(expected.keys()));
    expect(items.map((t) => [t.id, t.status, t.attempts])).toEqual(items.map((t) => [t.id, ...expected.get(t.id)!]));
    expect(items.filter((t) => t.attempts > 1).length).toBe(120);
    // The list reads no history, yet each item is what the single-task view (from the full history) says.
    for (const t of items) {
      const one = await http.get(`/tasks/${t.id}`);
      expect(one.body).toEqual(t);
      expect((await http.get(`/tasks/${t.id}/attempts`)).body.items).toHaveLength(t.attempts);
    }
    // Pages of 50 give the same items, and a status filter splits open tasks by their latest attempt.
    const paged: any[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < 4; i++) {
      const res: any = await http.get('/tasks', { query: { limit: 50, ...(cursor === undefined ? {} : { cursor }) } });
      paged.push(...res.body.items);
      cursor = res.body.nextCursor;
    }
    expect(paged).toEqual(items);
    const running = (await http.get('/tasks', { query: { status: 'running', limit: 1000 } })).body.items as any[];
    expect(running.map((t) => t.id)).toEqual([sleeper.id]);
    const pending = (await http.get('/tasks', { query: { status: 'pending', agent: 'nobody-serves-this-page', limit: 1000 } })).body.items as any[];
    expect(pending).toHaveLength(39);

    for (const id of [sleeper.id, ...pending.map((t) => t.id as string)]) expect((await http.del(`/tasks/${id}`)).status).toBe(202);
    const after = ((await http.get('/tasks', { query: { limit: 200 } })).body.items as any[]).filter((t) => t.id === sleeper.id || t.agent === 'nobody-serves-this-page');
    expect(after.map((t) => [t.status, t.attempts])).toEqual(Array.from({ length: 40 }, () => ['cancelled', 1]));
  });

  it('keeps tasks out of /executions (lists, lookups, status counts) and executions out of /tasks', async () => {
    const t = await create({ agent: 'echo', input: { hidden: true } });
    await ended(t.id);
    const ex = await http.post('/executions', { definition: { name: 'one-off', steps: [{ id: 'a', type: 'task', agent: 'echo', input: '$.input' }] }, input: {} });
    expect(ex.status).toBe(201);
    const list = (await http.get('/executions', { query: { limit: 1000 } })).body.items as any[];
    expect(list.some((x) => x.id === ex.body.id)).toBe(true);
    expect(list.some((x) => String(x.id).startsWith('tk_'))).toBe(false);
    expect((await http.get(`/executions/${t.id}`)).status).toBe(404);
    expect((await http.get(`/executions/${t.id}/events`)).status).toBe(404);
    expect((await http.post(`/executions/${t.id}/cancel`, {})).status).toBe(404);
    const notTask = await http.get(`/tasks/${(ex.body.id as string).replace(/^ex_/, 'tk_')}`);
    expect(notTask.status).toBe(404);
    expect(notTask.body.code).toBe('task_not_found');
    expect((await http.get(`/tasks/${ex.body.id}`)).status).toBe(404);
    const tasks = (await http.get('/tasks', { query: { limit: 1000 } })).body.items as any[];
    expect(tasks.every((x) => String(x.id).startsWith('tk_'))).toBe(true);
    const status = (await http.get('/status')).body;
    const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);
    expect(sum(status.executions)).toBe(list.length);
    expect(sum(status.tasks)).toBe(tasks.length);
  });

  it('replays an idempotent create (same key and body) and refuses the key with another body', async () => {
    const body = { agent: 'echo', input: { order: 7 } };
    const first = await http.post('/tasks', body, { headers: { 'idempotency-key': 'task-key-1' } });
    expect(first.status).toBe(201);
    const again = await http.post('/tasks', { ...body, idempotencyKey: 'task-key-1' });
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replay')).toBe('true');
    expect(again.body.id).toBe(first.body.id);
    const other = await http.post('/tasks', { agent: 'echo', input: { order: 8 } }, { headers: { 'idempotency-key': 'task-key-1' } });
    expect(other.status).toBe(409);
    expect(other.body.code).toBe('idempotency_key_conflict');
    // The same key on POST /executions is another namespace.
    const ex = await http.post('/executions', { definition: { name: 'k', steps: [{ id: 'a', type: 'task', agent: 'echo' }] } }, { headers: { 'idempotency-key': 'task-key-1' } });
    expect(ex.status).toBe(201);
    expect(ex.body.id).toMatch(/^ex_/);
  });

  it("answers 404 for another tenant's task on every route, and lists none of them", async () => {
    const t = await create({ agent: 'echo', input: {} });
    await ensureTenant(http, 'acme');
    const key = await http.post('/api-keys', { name: 'acme-writer', tenant: 'acme', scopes: ['write'] });
    expect(key.status).toBe(201);
    const acme = { headers: { authorization: `Bearer ${key.body.key}` } };
    const raw = api(server.url);
    for (const res of [await raw.get(`/tasks/${t.id}`, acme), await raw.get(`/tasks/${t.id}/attempts`, acme), await raw.del(`/tasks/${t.id}`, acme)]) {
      expect(res.status).toBe(404);
      expect(res.body.code).toBe('task_not_found');
    }
    expect((await raw.get('/tasks', acme)).body).toEqual({ items: [], nextCursor: null });
    const own = await raw.post('/tasks', { agent: 'echo', input: 'acme' }, acme);
    expect(own.status).toBe(201);
    expect((await http.get(`/tasks/${own.body.id}`)).status).toBe(404);
    expect(((await raw.get('/tasks', acme)).body.items as any[]).map((x) => x.id)).toEqual([own.body.id]);
  });

  it('is reachable through the typed client (create, get, list, attempts, cancel)', async () => {
    const af = createClient({ url: server.url, key: ADMIN });
    const t = await af.tasks.create({ agent: 'fail', input: { times: 1 }, retry: { maxAttempts: 2, backoff: 'fixed', initialMs: 5 } }, { idempotencyKey: 'client-1' });
    expect(t.id).toMatch(/^tk_/);
    await ended(t.id);
    expect((await af.tasks.get(t.id)).status).toBe('completed');
    expect((await af.tasks.attempts(t.id)).items.map((a) => a.status)).toEqual(['failed', 'completed']);
    expect((await af.tasks.list({ agent: 'fail', status: ['completed'] })).items.map((x) => x.id)).toContain(t.id);
    const long = await af.tasks.create({ agent: 'sleep', input: { ms: 30_000 } });
    expect((await af.tasks.cancel(long.id)).status).toBe('cancelled');
    const err = await af.tasks.cancel(long.id).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ActorflowApiError);
    expect((err as ActorflowApiError).status).toBe(409);
    expect((err as ActorflowApiError).code).toBe('task_finished');
  });

  it('answers 422 with every failing path for bad input, and creates nothing', async () => {
    const before = (await http.get('/tasks', { query: { limit: 1000 } })).body.items.length;
    const bad = await http.post('/tasks', { agent: '', retry: { maxAttempts: 0, backoff: 'sometimes', nope: 1 }, timeoutMs: -5, extra: true });
    expect(bad.status).toBe(422);
    expect(bad.contentType).toContain('application/problem+json');
    const paths = (bad.body.errors as any[]).map((e) => e.path);
    for (const p of ['/agent', '/input', '/retry/maxAttempts', '/retry/backoff', '/retry/nope', '/timeoutMs', '/extra']) expect(paths, JSON.stringify(bad.body)).toContain(p);
    const types = await http.post('/tasks', { agent: 5, input: null, timeoutMs: 'soon', retry: [] });
    expect(types.status).toBe(422);
    expect((types.body.errors as any[]).map((e) => e.path)).toEqual(expect.arrayContaining(['/agent', '/timeoutMs', '/retry']));
    expect((await http.post('/tasks', { agent: 'echo', input: 1, timeoutMs: 2 ** 31 })).status).toBe(422);
    expect((await http.post('/tasks', { agent: 'bad kind!', input: 1 })).status).toBe(422);
    expect((await http.get('/tasks', { query: { status: 'waiting' } })).status).toBe(422);
    expect((await http.get('/tasks', { query: { limit: 0 } })).status).toBe(422);
    expect((await http.get('/tasks/not-a-task')).status).toBe(404);
    expect((await http.post('/tasks', undefined, { rawBody: '{"agent":', headers: { 'content-type': 'application/json' } })).status).toBe(400);
    expect((await http.get('/tasks', { query: { limit: 1000 } })).body.items.length).toBe(before);
  });
});

describe('standalone tasks across a restart', () => {
  it('finishes tasks that were running or waiting for a retry when the server stopped', async () => {
    const first = await startTestServer({ keepDataDir: true });
    const dir = first.dataDir;
    try {
      const http1 = api(first.url);
      const sleeping = await http1.post('/tasks', { agent: 'sleep', input: { ms: 300 } });
      const backoff = await http1.post('/tasks', { agent: 'fail', input: { times: 1 }, retry: { maxAttempts: 2, backoff: 'fixed', initialMs: 400 } });
      expect(sleeping.status).toBe(201);
      expect(backoff.status).toBe(201);
      // The retry is scheduled (attempt 1 failed) before the stop.
      await until(async () => {
        const a = (await http1.get(`/tasks/${backoff.body.id}/attempts`)).body.items as any[];
        return a[0]?.status === 'failed' ? true : undefined;
      }, 'the first attempt to fail');
      await first.close();

      const second = await startTestServer({ dataDir: dir });
      try {
        const http2 = api(second.url);
        const done = await Promise.all(
          [sleeping.body.id, backoff.body.id].map((id: string) =>
            until(async () => {
              const t = (await http2.get(`/tasks/${id}`)).body;
              return ENDED.has(t.status) ? t : undefined;
            }, `task ${id} to end after the restart`),
          ),
        );
        expect(done[0]).toMatchObject({ status: 'completed', output: { ms: 300 } });
        expect(done[1]).toMatchObject({ status: 'completed', attempts: 2 });
        const items = (await http2.get(`/tasks/${backoff.body.id}/attempts`)).body.items as any[];
        expect(items.map((a) => [a.attempt, a.status])).toEqual([[1, 'failed'], [2, 'completed']]);
      } finally {
        await second.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('keeps every acknowledged task through SIGKILL and completes them after the restart', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'actorflow-tasks-crash-'));
    const machines = join(dir, 'machines');
    await mkdir(machines);
    let proc: ServerProcess | undefined = await startServerProcess({ dataDir: join(dir, 'data'), machinesDir: machines, sync: 'full' });
    try {
      const http = api(proc.url);
      const ids: string[] = [];
      for (let i = 0; i < 20; i++) {
        const res = await http.post('/tasks', i % 2 === 0 ? { agent: 'sleep', input: { ms: 200 + i } } : { agent: 'fail', input: { times: 1, n: i }, retry: { backoff: 'fixed', initialMs: 300 } });
        expect(res.status).toBe(201);
        ids.push(res.body.id as string);
      }
      await proc.kill();
      proc = await startServerProcess({ dataDir: join(dir, 'data'), machinesDir: machines, sync: 'full' });
      const http2 = api(proc.url);
      for (const [i, id] of ids.entries()) {
        const t = await until(async () => {
          const res = await http2.get(`/tasks/${id}`);
          expect(res.status).toBe(200);
          return ENDED.has(res.body.status) ? res.body : undefined;
        }, `task ${id} to end`);
        expect(t.status, JSON.stringify(t)).toBe('completed');
        expect(t.output).toEqual(i % 2 === 0 ? { ms: 200 + i } : { times: 1, n: i });
      }
    } finally {
      await proc?.kill();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('standalone tasks over NATS', () => {
  let dir = '';
  let nats: NatsServer | undefined;
  let proc: ServerProcess | undefined;
  let agent: AgentProcess | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'actorflow-tasks-nats-'));
    await mkdir(join(dir, 'machines'));
    nats = await startNatsServer();
    proc = await startServerProcess({ dataDir: join(dir, 'data'), machinesDir: join(dir, 'machines'), sync: 'normal', nats: nats.url, builtinAgents: false });
  }, 30_000);

  afterAll(async () => {
    await agent?.kill();
    await proc?.kill();
    await nats?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('waits pending for an agent process, then runs and retries on it', async () => {
    const http = api((proc as ServerProcess).url);
    const echo = await http.post('/tasks', { agent: 'echo', input: { over: 'nats' } });
    const flaky = await http.post('/tasks', { agent: 'fail', input: { times: 1 }, retry: fast });
    expect(echo.status).toBe(201);
    expect(flaky.status).toBe(201);
    expect((await http.get(`/tasks/${echo.body.id}`)).body.status).toBe('pending');

    agent = await startAgentProcess({ natsUrl: (nats as NatsServer).url });
    const ended = (id: string) =>
      until(async () => {
        const t = (await http.get(`/tasks/${id}`)).body;
        return ENDED.has(t.status) ? t : undefined;
      }, `task ${id} to end`);
    const [a, b] = await Promise.all([ended(echo.body.id), ended(flaky.body.id)]);
    expect(a).toMatchObject({ status: 'completed', output: { over: 'nats' }, attempts: 1 });
    expect(b).toMatchObject({ status: 'completed', attempts: 2 });
    const items = (await http.get(`/tasks/${flaky.body.id}/attempts`)).body.items as any[];
    expect(items.map((x) => x.status)).toEqual(['failed', 'completed']);
    expect(items[1].agentId).toBe(agent.id);
  }, 40_000);
});
