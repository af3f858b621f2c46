/** Every step type and every onError strategy, run to their end states over real HTTP. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type Api } from '../support/http.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { nextEvent, waitForEnd, waitForExecution as waitOn, waitForStatus } from '../support/wait.ts';

let server: TestServer;
let http: Api;

const fast = { maxAttempts: 3, backoff: 'fixed', initialMs: 5 };

async function define(doc: Record<string, unknown>): Promise<void> {
  const res = await http.post('/workflow-definitions', doc);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
}

async function start(workflow: string, input: unknown = {}, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await http.post('/executions', { workflow, input, ...extra });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id as string;
}

async function run(workflow: string, input: unknown = {}) {
  const id = await start(workflow, input);
  return waitForEnd(server.engine, id);
}

async function steps(id: string): Promise<Record<string, any>> {
  const res = await http.get(`/executions/${id}/steps`);
  expect(res.status).toBe(200);
  return Object.fromEntries((res.body.items as any[]).map((s) => [s.stepId, s]));
}

beforeAll(async () => {
  server = await startTestServer();
  http = api(server.url);
  await define({
    name: 'chain',
    steps: [
      { id: 'a', type: 'task', agent: 'echo', input: { n: '$.input.n' } },
      { id: 'b', type: 'task', agent: 'log', input: { level: 'warn', message: 'hello', data: { x: 1 } } },
      { id: 'c', type: 'task', agent: 'echo', input: { fromA: '$.steps.a.output.n' } },
    ],
    output: { result: '$.steps.c.output.fromA' },
  });
  await define({
    name: 'flaky',
    steps: [
      { id: 'first', type: 'task', agent: 'echo', input: 'one' },
      { id: 'f', type: 'task', agent: 'fail', input: { times: '$.input.times', code: 'boom' }, retry: fast },
    ],
  });
  await define({ name: 'skipper', steps: [{ id: 'f', type: 'task', agent: 'fail', input: { retryable: false }, onError: 'skip' }, { id: 'after', type: 'task', agent: 'echo', input: 'went on' }] });
  await define({
    name: 'fallbacker',
    steps: [
      { id: 'f', type: 'task', agent: 'fail', input: { retryable: false }, onError: { fallback: 'plan-b' } },
      { id: 'never', type: 'task', agent: 'echo', input: 'no', end: true },
      { id: 'plan-b', type: 'task', agent: 'echo', input: 'b' },
    ],
  });
  await define({
    name: 'saga',
    steps: [
      { id: 'reserve', type: 'task', agent: 'echo', input: 'r', compensate: 'unreserve' },
      { id: 'charge', type: 'task', agent: 'echo', input: 'c', compensate: 'refund' },
      { id: 'ship', type: 'task', agent: 'fail', input: { retryable: false }, onError: 'compensate' },
    ],
    compensations: [
      { id: 'unreserve', type: 'task', agent: 'echo', input: 'u' },
      { id: 'refund', type: 'task', agent: 'echo', input: 'f' },
    ],
  });
  await define({ name: 'slow', steps: [{ id: 's', type: 'task', agent: 'sleep', input: { ms: 5000 }, timeoutMs: 50, retry: { maxAttempts: 2, backoff: 'fixed', initialMs: 5 } }] });
  await define({
    name: 'approval-flow',
    steps: [
      { id: 'pre', type: 'sleep', ms: 200 },
      { id: 'approve', type: 'wait', signal: 'approval', questions: [{ id: 'ok', text: 'Ship it?' }] },
      { id: 'route', type: 'choice', when: [{ if: { path: '$.steps.approve.output.ok', equals: true }, next: 'ship' }], default: 'rejected' },
      { id: 'ship', type: 'task', agent: 'echo', input: 'shipped', end: true },
      { id: 'rejected', type: 'task', agent: 'echo', input: 'rejected' },
    ],
  });
  await define({ name: 'patient', steps: [{ id: 'w', type: 'wait', signal: 'go', timeoutMs: 500 }] });
  await define({ name: 'napper', steps: [{ id: 'nap', type: 'sleep', ms: 20 }, { id: 'up', type: 'task', agent: 'echo', input: 'awake' }] });
  await define({
    name: 'fanout',
    steps: [
      { id: 'split', type: 'parallel', branches: [[{ id: 'left', type: 'task', agent: 'echo', input: 'L' }], [{ id: 'r1', type: 'sleep', ms: 10 }, { id: 'right', type: 'task', agent: 'echo', input: 'R' }]] },
      { id: 'join', type: 'task', agent: 'echo', input: '$.steps.split.output' },
    ],
  });
  await define({ name: 'child', steps: [{ id: 'double', type: 'task', agent: 'echo', input: { got: '$.input.v' } }] });
  await define({ name: 'parent', steps: [{ id: 'call', type: 'workflow', workflow: 'child', input: { v: '$.input.v' } }, { id: 'use', type: 'task', agent: 'echo', input: '$.steps.call.output' }] });
  await define({ name: 'strict-child', inputSchema: { type: 'object', properties: { v: { type: 'number' } }, required: ['v'] }, steps: [{ id: 'double', type: 'task', agent: 'echo', input: { got: '$.input.v' } }] });
  await define({ name: 'strict-parent', steps: [{ id: 'call', type: 'workflow', workflow: 'strict-child', input: { v: '$.input.v' } }] });
  await define({ name: 'two-step-slow', steps: [{ id: 'one', type: 'task', agent: 'sleep', input: { ms: 150 } }, { id: 'two', type: 'task', agent: 'echo', input: 'second' }] });
  await define({ name: 'deadline', timeoutMs: 50, steps: [{ id: 'w', type: 'wait', signal: 'never' }] });
});

afterAll(async () => {
  await server.close();
});

describe('task steps', () => {
  it('runs a chain with paths, logs and the output mapping', async () => {
    const x = await run('chain', { n: 7 });
    expect(x.status).toBe('completed');
    expect(x.output).toEqual({ result: 7 });
    const s = await steps(x.id);
    expect(Object.keys(s)).toEqual(['a', 'b', 'c']);
    expect(s.c.output).toEqual({ fromA: 7 });
    const logs = await http.get(`/executions/${x.id}/logs`, { query: { level: 'warn' } });
    expect(logs.body.items).toHaveLength(1);
    expect(logs.body.items[0]).toMatchObject({ level: 'warn', message: 'hello', stepId: 'b', data: { x: 1 } });
    const events = await http.get(`/executions/${x.id}/events`);
    const seqs = (events.body.items as any[]).map((e) => e.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    expect(events.body.items.at(-1).type).toBe('workflow.completed');
  });

  it('retries with backoff and records each attempt', async () => {
    const x = await run('flaky', { times: 2 });
    expect(x.status).toBe('completed');
    const attempts = await http.get(`/executions/${x.id}/steps/f/attempts`);
    expect((attempts.body.items as any[]).map((a) => a.status)).toEqual(['failed', 'failed', 'completed']);
    expect(attempts.body.items[0].error).toMatchObject({ code: 'boom' });
    expect(attempts.body.items[2].agentId).toMatch(/^ag_/);
  });

  it('fails after its attempts, then an execution retry continues from the failed step', async () => {
    const x = await run('flaky', { times: 3 });
    expect(x.status).toBe('failed');
    expect(x.error).toMatchObject({ code: 'boom', stepId: 'f', compensated: false });
    const again = await http.post(`/executions/${x.id}/retry`, { note: 'try again' });
    expect(again.status).toBe(202);
    const y = await waitForEnd(server.engine, x.id);
    expect(y.status).toBe('completed');
    expect(y.retryAttempt).toBe(1);
    const s = await steps(x.id);
    expect(s.first.attempts).toBe(1);
    expect(s.f.attempts).toBe(4);
    const events = await http.get(`/executions/${x.id}/events`, { query: { limit: 1000 } });
    expect((events.body.items as any[]).some((e) => e.type === 'workflow.retried')).toBe(true);
    expect((await http.post(`/executions/${x.id}/retry`, {})).body.code).toBe('not_retryable');
  });

  it('retries one failed step of a failed execution', async () => {
    const x = await run('flaky', { times: 3 });
    expect((await http.post(`/executions/${x.id}/steps/first/retry`)).status).toBe(409);
    expect((await http.post(`/executions/${x.id}/steps/nope/retry`)).status).toBe(404);
    expect((await http.post(`/executions/${x.id}/steps/f/retry`)).status).toBe(202);
    expect((await waitForEnd(server.engine, x.id)).status).toBe('completed');
  });

  it('skips a failed step with onError skip', async () => {
    const x = await run('skipper');
    expect(x.status).toBe('completed');
    const s = await steps(x.id);
    expect(s.f.status).toBe('skipped');
    expect(s.f.attempts).toBe(1);
    expect(s.after.output).toBe('went on');
  });

  it('continues at the fallback step', async () => {
    const x = await run('fallbacker');
    expect(x.status).toBe('completed');
    const s = await steps(x.id);
    expect(s.never).toBeUndefined();
    expect(s['plan-b'].status).toBe('completed');
    expect(x.output).toBe('b');
  });

  it('compensates completed steps in reverse order, then fails', async () => {
    const x = await run('saga');
    expect(x.status).toBe('failed');
    expect(x.error).toMatchObject({ stepId: 'ship', compensated: true });
    const order = (await http.get(`/executions/${x.id}/steps`)).body.items.map((s: any) => s.stepId);
    expect(order).toEqual(['reserve', 'charge', 'ship', 'refund', 'unreserve']);
  });

  it('times a step out, aborting the agent, and fails with step_timeout after retries', async () => {
    const x = await run('slow');
    expect(x.status).toBe('failed');
    expect(x.error?.code).toBe('step_timeout');
    expect((await steps(x.id)).s.attempts).toBe(2);
  });
});

describe('wait, choice and sleep steps', () => {
  it('waits for a signal and routes on its payload', async () => {
    const id = await start('approval-flow');
    const waiting = await waitForStatus(server.engine, id, 'waiting');
    expect(waiting.currentSteps).toEqual(['pre']);
    await waitForExecution(id, (x) => x.currentSteps.includes('approve'));
    const s = await steps(id);
    expect(s.approve.waitingFor).toBe('approval');
    expect((await http.post(`/executions/${id}/signals/unknown`, { payload: 1 })).body.code).toBe('unknown_signal');
    expect((await http.post(`/executions/${id}/signals/approval`, { payload: { ok: true } })).status).toBe(202);
    const x = await waitForEnd(server.engine, id);
    expect(x.status).toBe('completed');
    expect(x.output).toBe('shipped');
    expect((await steps(id)).route.output).toEqual({ next: 'ship' });
    expect((await http.post(`/executions/${id}/signals/approval`, {})).body.code).toBe('execution_finished');
  });

  it('buffers a signal sent before its wait step is reached', async () => {
    const id = await start('approval-flow');
    expect((await http.post(`/executions/${id}/signals/approval`, { payload: { ok: false } })).status).toBe(202);
    const x = await waitForEnd(server.engine, id);
    expect(x.output).toBe('rejected');
  });

  it('fails the wait step on a rejected signal', async () => {
    const id = await start('approval-flow');
    await waitForExecution(id, (x) => x.currentSteps.includes('approve'));
    await http.post(`/executions/${id}/signals/approval`, { reject: true, reason: 'no stock' });
    const x = await waitForEnd(server.engine, id);
    expect(x.status).toBe('failed');
    expect(x.error).toMatchObject({ code: 'signal_rejected', message: 'no stock', stepId: 'approve' });
  });

  it('fails a wait past its timeout with wait_timeout', async () => {
    const x = await run('patient');
    expect(x.status).toBe('failed');
    expect(x.error?.code).toBe('wait_timeout');
  });

  it('sleeps durably, then continues', async () => {
    const x = await run('napper');
    expect(x.status).toBe('completed');
    const s = await steps(x.id);
    expect(Date.parse(s.nap.finishedAt) - Date.parse(s.nap.startedAt)).toBeGreaterThanOrEqual(19);
  });

  it('times the whole execution out', async () => {
    const x = await run('deadline');
    expect(x.status).toBe('timed_out');
    expect(x.error?.code).toBe('execution_timeout');
  });
});

describe('parallel and child workflows', () => {
  it('joins parallel branches into one output', async () => {
    const x = await run('fanout');
    expect(x.status).toBe('completed');
    expect(x.output).toEqual({ left: 'L', right: 'R' });
  });

  it('awaits a child execution and lists it under /children', async () => {
    const x = await run('parent', { v: 21 });
    expect(x.status).toBe('completed');
    expect(x.output).toEqual({ got: 21 });
    const children = await http.get(`/executions/${x.id}/children`);
    expect(children.body.items).toHaveLength(1);
    expect(children.body.items[0]).toMatchObject({ workflow: 'child', status: 'completed' });
    const child = await http.get(`/executions/${children.body.items[0].id}`);
    expect(child.body.parentId).toBe(x.id);
  });

  it("checks a child's input against its inputSchema: a bad one fails the step (input_invalid) and starts no child", async () => {
    const ok = await run('strict-parent', { v: 2 });
    expect(ok).toMatchObject({ status: 'completed', output: { got: 2 } });
    const bad = await run('strict-parent', { v: 'two' });
    expect(bad.status).toBe('failed');
    expect(bad.error).toMatchObject({ code: 'input_invalid' });
    expect(bad.error?.message).toContain('/v');
    expect((await http.get(`/executions/${bad.id}/children`)).body.items).toEqual([]);
  });

  it('runs a one-off dynamic definition', async () => {
    const res = await http.post('/executions', { definition: { name: 'adhoc', steps: [{ id: 'x', type: 'task', agent: 'echo', input: '$.input' }] }, input: { k: 1 } });
    expect(res.status).toBe(201);
    const x = await waitForEnd(server.engine, res.body.id);
    expect(x.output).toEqual({ k: 1 });
    const bad = await http.post('/executions', { definition: { name: 'adhoc', steps: [{ id: 'x', type: 'task' }] } });
    expect(bad.status).toBe(422);
    expect(bad.body.errors[0].path).toMatch(/^\/definition\/steps\/0/);
  });
});

describe('execution controls', () => {
  it('pause holds the next dispatch until resume', async () => {
    const id = await start('two-step-slow');
    expect((await http.post(`/executions/${id}/pause`)).status).toBe(202);
    expect((await http.post(`/executions/${id}/pause`)).body.code).toBe('invalid_state');
    // Step one ends while paused: two is due but not started (no step.started until the resume, docs/api/executions.md).
    await nextEvent(server.engine, (e) => e.executionId === id && e.type === 'workflow.step.completed' && e.stepId === 'one');
    const paused = await http.get(`/executions/${id}`);
    expect(paused.body.status).toBe('paused');
    expect((await http.get(`/executions/${id}/steps/two/attempts`)).status).toBe(404);
    const resumed = nextEvent(server.engine, (e) => e.executionId === id && e.type === 'workflow.step.started' && e.stepId === 'two');
    expect((await http.post(`/executions/${id}/resume`)).status).toBe(202);
    expect((await resumed).data.attempt).toBe(1);
    const x = await waitForEnd(server.engine, id);
    expect(x.status).toBe('completed');
    expect(x.output).toBe('second');
  });

  it('cancels a waiting execution; a second cancel is a conflict', async () => {
    const id = await start('patient');
    const res = await http.post(`/executions/${id}/cancel`, { reason: 'changed my mind' });
    expect(res.status).toBe(202);
    expect(res.body.status).toBe('cancelled');
    expect((await http.post(`/executions/${id}/cancel`)).body.code).toBe('execution_finished');
    expect((await steps(id)).w.status).toBe('cancelled');
  });

  it('cancel aborts an in-flight step', async () => {
    const id = await start('two-step-slow');
    await http.post(`/executions/${id}/cancel`);
    const attempts = await http.get(`/executions/${id}/steps/one/attempts`);
    expect(attempts.body.items[0].status).toBe('cancelled');
    expect((await steps(id)).two).toBeUndefined();
  });

  it('patches labels and context, and filters by label', async () => {
    const id = await start('patient', {}, { labels: { team: 'a' } });
    const res = await http.patch(`/executions/${id}`, { labels: { env: 'test' }, context: { k: 'v' } });
    expect(res.status).toBe(200);
    expect(res.body.labels).toEqual({ team: 'a', env: 'test' });
    const list = await http.get('/executions', { query: { 'label.env': 'test', workflow: 'patient' } });
    expect(list.body.items.map((x: any) => x.id)).toContain(id);
    const none = await http.get('/executions', { query: { 'label.env': 'prod' } });
    expect(none.body.items.map((x: any) => x.id)).not.toContain(id);
    await http.post(`/executions/${id}/cancel`);
  });

  it('answers an idempotent replay with the same execution', async () => {
    const body = { workflow: 'patient', input: { a: 1 } };
    const first = await http.post('/executions', body, { headers: { 'idempotency-key': 'k-1' } });
    expect(first.status).toBe(201);
    const second = await http.post('/executions', body, { headers: { 'idempotency-key': 'k-1' } });
    expect(second.status).toBe(200);
    expect(second.headers.get('idempotent-replay')).toBe('true');
    expect(second.body.id).toBe(first.body.id);
    const other = await http.post('/executions', { ...body, input: { a: 2 } }, { headers: { 'idempotency-key': 'k-1' } });
    expect(other.status).toBe(409);
    expect(other.body.code).toBe('idempotency_key_conflict');
  });

  it('draws the execution diagram with visited states', async () => {
    const x = await run('chain', { n: 1 });
    const res = await http.get(`/executions/${x.id}/diagram`);
    expect(res.status).toBe(200);
    expect(res.text).toContain('stateDiagram-v2');
    expect(res.text).toMatch(/class a done/);
  });
});

function waitForExecution(id: string, pred: (x: { currentSteps: string[] }) => boolean) {
  return waitOn(server.engine, id, pred);
}
