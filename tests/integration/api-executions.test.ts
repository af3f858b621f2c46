/** @module tests/integration/api-executions — the /executions routes and /health /ready /status over real HTTP. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Api, type ApiResponse, api, request } from '../support/http.ts';
import { type TestServer, startTestServer } from '../support/server.ts';

const run = Date.now().toString(36);
const ECHO = `ex-echo-${run}`;
const WAIT = `ex-wait-${run}`;
const FAILING = `ex-fail-${run}`;
const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const TERMINAL = ['completed', 'failed', 'cancelled', 'timed_out'];

let server: TestServer;
let client: Api;
let seq = 0;
const label = () => ({ case: `${run}-${++seq}` });

async function waitFor(id: string, done: (e: any) => boolean, ms = 5000): Promise<any> {
  const deadline = Date.now() + ms;
  for (;;) {
    const res = await client.get(`/executions/${id}`);
    expect(res.status).toBe(200);
    if (done(res.body) || Date.now() > deadline) return res.body;
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function start(body: Record<string, unknown>, headers?: Record<string, string>): Promise<ApiResponse> {
  return client.post('/executions', body, headers === undefined ? undefined : { headers });
}

beforeAll(async () => {
  server = await startTestServer();
  client = api(server.url);
  const defs = [
    { name: ECHO, steps: [{ id: 'a', type: 'task', agent: 'echo', input: '$.input' }] },
    {
      name: WAIT,
      steps: [
        { id: 'note', type: 'task', agent: 'log', input: { level: 'warn', message: 'before wait' } },
        { id: 'approve', type: 'wait', signal: 'approval' },
        { id: 'after', type: 'task', agent: 'echo', input: '$.steps.approve.output' },
      ],
    },
    { name: FAILING, steps: [{ id: 'boom', type: 'task', agent: 'fail', input: { times: 1, retryable: false } }] },
  ];
  for (const d of defs) expect((await client.post('/workflow-definitions', d)).status).toBe(201);
});

afterAll(async () => {
  await server?.close();
});

describe('POST /executions', () => {
  it('answers 201 with the whole execution, then runs it to completion', async () => {
    const res = await start({ workflow: ECHO, input: { orderId: 'o-1' }, labels: { team: 'a' } });
    expect(res.status, res.text).toBe(201);
    expect(res.contentType).toContain('application/json');
    const e = res.body;
    expect(e.id).toMatch(/^ex_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(e).toMatchObject({ workflow: ECHO, version: 1, input: { orderId: 'o-1' }, labels: { team: 'a' }, tenant: 'default', parentId: null, retryAttempt: 0 });
    for (const k of ['output', 'error', 'currentSteps', 'startedAt', 'finishedAt', 'lastSeq']) expect(e).toHaveProperty(k);
    expect(e.createdAt).toMatch(ISO_MS);
    const done = await waitFor(e.id, (x) => TERMINAL.includes(x.status));
    expect(done.status).toBe('completed');
    expect(done.output).toEqual({ orderId: 'o-1' });
    expect(done.finishedAt).toMatch(ISO_MS);
  });

  it('runs a one-off definition without registering it', async () => {
    const name = `adhoc-${run}`;
    const res = await start({ definition: { name, steps: [{ id: 'x', type: 'task', agent: 'echo', input: { ok: true } }] } });
    expect(res.status, res.text).toBe(201);
    expect(res.body.workflow).toBe(name);
    expect((await waitFor(res.body.id, (x) => TERMINAL.includes(x.status))).output).toEqual({ ok: true });
    expect((await client.get(`/workflow-definitions/${name}`)).status).toBe(404);
  });

  it('replays an idempotent start (header or field) with 200 and idempotent-replay: true', async () => {
    const key = `key-${run}-1`;
    const first = await start({ workflow: ECHO, input: { n: 1 } }, { 'idempotency-key': key });
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replay')).toBeNull();
    const again = await start({ input: { n: 1 }, workflow: ECHO }, { 'idempotency-key': key });
    expect(again.status, again.text).toBe(200);
    expect(again.headers.get('idempotent-replay')).toBe('true');
    expect(again.body.id).toBe(first.body.id);
    const viaField = await start({ workflow: ECHO, input: { n: 1 }, idempotencyKey: key });
    expect(viaField.status).toBe(200);
    expect(viaField.body.id).toBe(first.body.id);
    const conflict = await start({ workflow: ECHO, input: { n: 2 } }, { 'idempotency-key': key });
    expect(conflict.status).toBe(409);
    expect(conflict.body.code).toBe('idempotency_key_conflict');
  });
});

describe('GET /executions', () => {
  it('filters by label, workflow, status and creation time, newest first, paged', async () => {
    const l = label();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await start({ workflow: ECHO, input: { i }, labels: l })).body.id);
    const waiting = (await start({ workflow: WAIT, labels: l })).body.id;
    for (const id of ids) await waitFor(id, (x) => x.status === 'completed');
    await waitFor(waiting, (x) => x.status === 'waiting');

    const all = await client.get('/executions', { query: { 'label.case': l.case } });
    expect(all.status).toBe(200);
    expect(all.body.items.map((e: { id: string }) => e.id)).toEqual([waiting, ...ids].sort().reverse());
    expect(all.body.nextCursor).toBeNull();

    const byWorkflow = await client.get('/executions', { query: { 'label.case': l.case, workflow: WAIT } });
    expect(byWorkflow.body.items.map((e: { id: string }) => e.id)).toEqual([waiting]);
    const byStatus = await client.get('/executions', { query: { 'label.case': l.case, status: 'completed,failed' } });
    expect(byStatus.body.items).toHaveLength(3);
    const future = new Date(Date.now() + 60_000).toISOString();
    expect((await client.get('/executions', { query: { 'label.case': l.case, createdAfter: future } })).body.items).toHaveLength(0);
    expect((await client.get('/executions', { query: { 'label.case': l.case, createdBefore: future } })).body.items).toHaveLength(4);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: ApiResponse = await client.get('/executions', { query: { 'label.case': l.case, limit: 3, ...(cursor ? { cursor } : {}) } });
      seen.push(...page.body.items.map((e: { id: string }) => e.id));
      cursor = page.body.nextCursor;
    } while (cursor !== null);
    expect(seen).toEqual(all.body.items.map((e: { id: string }) => e.id));
  });
});

describe('an execution waiting for a signal', () => {
  it('is patched, paused, resumed, signalled and completes; its history is readable', async () => {
    const id = (await start({ workflow: WAIT, input: { x: 1 }, labels: { a: '1' } })).body.id;
    await waitFor(id, (x) => x.status === 'waiting');

    const patched = await client.patch(`/executions/${id}`, { labels: { b: '2' }, context: { k: 'v' } });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body.labels).toEqual({ a: '1', b: '2' });

    const paused = await client.post(`/executions/${id}/pause`);
    expect(paused.status, paused.text).toBe(202);
    expect((await waitFor(id, (x) => x.status === 'paused')).status).toBe('paused');
    expect((await client.post(`/executions/${id}/pause`)).status).toBe(409);
    const resumed = await client.post(`/executions/${id}/resume`, {});
    expect(resumed.status, resumed.text).toBe(202);
    expect((await waitFor(id, (x) => x.status === 'waiting')).status).toBe('waiting');

    const signalled = await client.post(`/executions/${id}/signals/approval`, { payload: { by: 'ann' } });
    expect(signalled.status, signalled.text).toBe(202);
    expect(signalled.body.id).toBe(id);
    const done = await waitFor(id, (x) => TERMINAL.includes(x.status));
    expect(done.status).toBe('completed');
    expect(done.output).toEqual({ by: 'ann' });

    const steps = await client.get(`/executions/${id}/steps`);
    expect(steps.status).toBe(200);
    expect(steps.body.items.map((s: { stepId: string }) => s.stepId)).toEqual(['note', 'approve', 'after']);
    const attempts = await client.get(`/executions/${id}/steps/after/attempts`);
    expect(attempts.body.items[0]).toMatchObject({ attempt: 1, status: 'completed' });

    const events = await client.get(`/executions/${id}/events`);
    const seqs = events.body.items.map((e: { seq: number }) => e.seq);
    expect(seqs).toEqual(seqs.map((_: number, i: number) => i + 1));
    expect(events.body.items[0].type).toBe('workflow.started');
    expect(events.body.items.at(-1).type).toBe('workflow.completed');
    const tail = await client.get(`/executions/${id}/events`, { query: { since: 2, limit: 2 } });
    expect(tail.body.items.map((e: { seq: number }) => e.seq)).toEqual([3, 4]);
    expect(tail.body.nextCursor).not.toBeNull();

    const logs = await client.get(`/executions/${id}/logs`, { query: { level: 'warn' } });
    expect(logs.status).toBe(200);
    expect(logs.body.items.some((l: { message: string }) => l.message === 'before wait')).toBe(true);
    expect((await client.get(`/executions/${id}/logs`, { query: { level: 'error' } })).body.items).toEqual([]);

    expect((await client.get(`/executions/${id}/children`)).body).toEqual({ items: [], nextCursor: null });
    const diagram = await client.get(`/executions/${id}/diagram`);
    expect(diagram.contentType).toMatch(/^text\/vnd\.mermaid/);
    expect(diagram.text).toContain('classDef done');
    expect((await client.get(`/executions/${id}/diagram`, { query: { format: 'json' } })).body.mermaid).toBe(diagram.text);
    const costs = await client.get(`/executions/${id}/costs`);
    expect(costs.body).toMatchObject({ total: { tokens: expect.any(Number), usd: expect.any(Number) }, steps: expect.any(Array) });
  });

  it('is cancelled with 202 and then refuses actions with 409', async () => {
    const id = (await start({ workflow: WAIT })).body.id;
    await waitFor(id, (x) => x.status === 'waiting');
    const res = await client.post(`/executions/${id}/cancel`, { reason: 'no longer needed' });
    expect(res.status, res.text).toBe(202);
    expect((await waitFor(id, (x) => TERMINAL.includes(x.status))).status).toBe('cancelled');
    expect((await client.post(`/executions/${id}/cancel`)).status).toBe(409);
    expect((await client.patch(`/executions/${id}`, { labels: { x: 'y' } })).body.code).toBe('execution_finished');
  });

  it('fails on a rejected signal and is retried with 202', async () => {
    const id = (await start({ workflow: WAIT })).body.id;
    await waitFor(id, (x) => x.status === 'waiting');
    expect((await client.post(`/executions/${id}/signals/approval`, { reject: true, reason: 'nope' })).status).toBe(202);
    const failed = await waitFor(id, (x) => TERMINAL.includes(x.status));
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatchObject({ code: 'signal_rejected', stepId: 'approve' });
    const retried = await client.post(`/executions/${id}/retry`, { note: 'again' });
    expect(retried.status, retried.text).toBe(202);
    expect((await waitFor(id, (x) => x.status === 'waiting')).retryAttempt).toBe(1);
  });
});

describe('a failed step', () => {
  it('is re-run by POST /steps/{stepId}/retry', async () => {
    const id = (await start({ workflow: FAILING, input: { v: 1 } })).body.id;
    const failed = await waitFor(id, (x) => TERMINAL.includes(x.status));
    expect(failed.status).toBe('failed');
    const res = await client.post(`/executions/${id}/steps/boom/retry`);
    expect(res.status, res.text).toBe(202);
    expect((await waitFor(id, (x) => x.status === 'completed')).status).toBe('completed');
    const attempts = await client.get(`/executions/${id}/steps/boom/attempts`);
    expect(attempts.body.items.map((a: { attempt: number; status: string }) => [a.attempt, a.status])).toEqual([
      [1, 'failed'],
      [2, 'completed'],
    ]);
  });
});

describe('operations', () => {
  it('answers /health, /ready and /status', async () => {
    for (const path of ['/health', '/api/v1/health']) {
      const res = await request(server.url, 'GET', path);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ status: 'ok', version: expect.any(String), uptimeS: expect.any(Number) });
    }
    for (const path of ['/ready', '/api/v1/ready']) {
      // Recovery runs in the background after boot: 503 `not_ready` until it finishes.
      let res = await request(server.url, 'GET', path);
      for (let i = 0; res.status === 503 && i < 100; i++) {
        expect(res.body.code).toBe('not_ready');
        await new Promise((r) => setTimeout(r, 20));
        res = await request(server.url, 'GET', path);
      }
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ ready: true });
    }
    const status = await client.get('/status');
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({ executions: expect.any(Object), stalled: expect.any(Number), agents: expect.any(Object) });
  });
});
