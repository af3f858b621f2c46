/**
 * @module tests/integration/concurrency-limits — `concurrency: { limit, key? }` and `priority` over real HTTP
 * (docs/flows.md, "Concurrency limits"): starts past the limit are queued and released one by one in
 * priority then creation order; keyed limits; the cancel of a queued execution; paused and waiting
 * executions hold their slot; retries need one; the figures of /status and /metrics; every validation error;
 * failed commits (real SQLite failures) give slots back and keep queues in order.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventView, ExecutionView } from '../../src/common/execution.ts';
import { type Db, openDb } from '../../src/store/sqlite/db.ts';
import { type ApiResponse, api } from '../support/http.ts';
import { type TestServer, startTestServer } from '../support/server.ts';
import { nextEvent, waitForEnd, waitForStatus } from '../support/wait.ts';

let server: TestServer;
let http: ReturnType<typeof api>;
let seq = 0;
const run = Date.now().toString(36);
/** A workflow name no other test uses (queues are per workflow). */
const unique = (label: string) => `${label}-${run}-${++seq}`;

/** One `wait` step: each execution holds its slot until it is signalled `go`. */
const gated = (name: string, concurrency: unknown) => ({
  name,
  concurrency,
  steps: [
    { id: 'w', type: 'wait', signal: 'go' },
    { id: 'done', type: 'task', agent: 'echo', input: '$.steps.w.output' },
  ],
});

function expectProblem(res: ApiResponse, status: number, code: string, path?: string): void {
  expect(res.status, res.text).toBe(status);
  expect(res.body.code, res.text).toBe(code);
  if (path !== undefined) expect((res.body.errors as { path: string }[]).map((e) => e.path), res.text).toContain(path);
}

async function define(doc: unknown): Promise<void> {
  const res = await http.post('/workflow-definitions', doc);
  expect(res.status, res.text).toBe(201);
}

async function start(body: Record<string, unknown>): Promise<ExecutionView> {
  const res = await http.post('/executions', body);
  expect(res.status, res.text).toBe(201);
  return res.body as ExecutionView;
}

const get = async (id: string): Promise<ExecutionView> => (await http.get(`/executions/${id}`)).body as ExecutionView;
const events = async (id: string): Promise<EventView[]> => (await http.get(`/executions/${id}/events`)).body.items as EventView[];
/** Resolves when `id` is started from its queue. */
const startedEvent = (id: string) => nextEvent(server.engine, (e) => e.executionId === id && e.type === 'workflow.started');
const signal = async (id: string) => expect((await http.post(`/executions/${id}/signals/go`, { payload: { by: id } })).status).toBe(202);

beforeAll(async () => {
  server = await startTestServer();
  http = api(server.url);
});
afterAll(async () => server.close());

describe('concurrency limits', () => {
  it('runs one of three starts under limit 1, queues the others durably, and releases them one by one in priority order', async () => {
    const wf = unique('limit1');
    await define(gated(wf, { limit: 1 }));
    const first = await start({ workflow: wf, input: { n: 1 } });
    const low = await start({ workflow: wf, input: { n: 2 } });
    const high = await start({ workflow: wf, input: { n: 3 }, priority: 5 });
    await waitForStatus(server.engine, first.id, 'waiting');
    expect(first.status).not.toBe('queued');
    for (const [x, priority] of [[low, 0], [high, 5]] as const) {
      expect(x).toMatchObject({ status: 'queued', priority, startedAt: null, currentSteps: [] });
      expect((await get(x.id)).status).toBe('queued');
      const [queued, ...rest] = await events(x.id);
      expect(rest).toEqual([]);
      expect(queued).toMatchObject({ seq: 1, type: 'workflow.queued', data: { input: x.input, priority, limit: 1 } });
    }

    // The higher priority goes first although it came last.
    const highStarted = startedEvent(high.id);
    await signal(first.id);
    expect((await waitForEnd(server.engine, first.id)).status).toBe('completed');
    await highStarted;
    await waitForStatus(server.engine, high.id, 'waiting');
    expect((await get(low.id)).status).toBe('queued');
    const h = await get(high.id);
    expect(Date.parse(h.startedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(h.createdAt));
    expect((await events(high.id)).map((e) => e.type).slice(0, 3)).toEqual(['workflow.queued', 'workflow.started', 'workflow.step.started']);

    const lowStarted = startedEvent(low.id);
    await signal(high.id);
    await lowStarted;
    await signal(low.id);
    expect((await waitForEnd(server.engine, low.id)).status).toBe('completed');
    expect((await get(high.id)).status).toBe('completed');
  });

  it('keeps one limit per key value: two customers run in parallel, two starts of one customer do not', async () => {
    const wf = unique('keyed');
    await define(gated(wf, { limit: 1, key: '$.input.customerId' }));
    const a1 = await start({ workflow: wf, input: { customerId: 'a' } });
    const b1 = await start({ workflow: wf, input: { customerId: 'b' } });
    const a2 = await start({ workflow: wf, input: { customerId: 'a' } });
    const none = await start({ workflow: wf, input: {} });
    expect(a1.status).not.toBe('queued');
    expect(b1.status).not.toBe('queued');
    expect(none.status).not.toBe('queued');
    expect(a2.status).toBe('queued');
    await Promise.all([a1, b1, none].map((x) => waitForStatus(server.engine, x.id, 'waiting')));
    expect((await events(a2.id))[0]?.data).toMatchObject({ key: '"a"', limit: 1 });

    // b's end frees b's slot only.
    await signal(b1.id);
    await waitForEnd(server.engine, b1.id);
    await http.get('/executions', { query: { workflow: wf } });
    expect((await get(a2.id)).status).toBe('queued');

    const a2Started = startedEvent(a2.id);
    await signal(a1.id);
    await a2Started;
    await signal(a2.id);
    await signal(none.id);
    expect((await waitForEnd(server.engine, a2.id)).status).toBe('completed');
  });

  it('cancels a queued execution without it ever taking a slot; the next one starts in its place', async () => {
    const wf = unique('cancel');
    await define(gated(wf, { limit: 1 }));
    const holder = await start({ workflow: wf });
    const doomed = await start({ workflow: wf, priority: 9 });
    const next = await start({ workflow: wf });
    expect([doomed.status, next.status]).toEqual(['queued', 'queued']);

    const res = await http.post(`/executions/${doomed.id}/cancel`, { reason: 'not needed' });
    expect(res.status, res.text).toBe(202);
    expect(res.body).toMatchObject({ id: doomed.id, status: 'cancelled', startedAt: null });
    expect(res.body.finishedAt).not.toBeNull();
    expect((await events(doomed.id)).map((e) => [e.seq, e.type, e.data['reason'] ?? null])).toEqual([
      [1, 'workflow.queued', null],
      [2, 'workflow.cancelled', 'not needed'],
    ]);
    expectProblem(await http.post(`/executions/${doomed.id}/cancel`, {}), 409, 'execution_finished');

    const nextStarted = startedEvent(next.id);
    await signal(holder.id);
    await nextStarted;
    expect((await get(doomed.id)).status).toBe('cancelled');
    expect((await events(doomed.id)).length).toBe(2);
    await signal(next.id);
    await waitForEnd(server.engine, next.id);
  });

  it('keeps the slot of a paused and of a waiting execution; refuses controls a queued execution cannot take', async () => {
    const wf = unique('paused');
    await define(gated(wf, { limit: 1 }));
    const holder = await start({ workflow: wf });
    const queued = await start({ workflow: wf });
    await waitForStatus(server.engine, holder.id, 'waiting');
    expect((await http.post(`/executions/${holder.id}/pause`)).status).toBe(202);
    // A list reads after the journal queue is flushed: any start a release made would be visible.
    await http.get('/executions', { query: { workflow: wf } });
    expect((await get(holder.id)).status).toBe('paused');
    expect((await get(queued.id)).status).toBe('queued');

    expectProblem(await http.post(`/executions/${queued.id}/pause`), 409, 'invalid_state');
    expectProblem(await http.post(`/executions/${queued.id}/resume`), 409, 'invalid_state');
    expectProblem(await http.post(`/executions/${queued.id}/signals/go`, { payload: 1 }), 409, 'invalid_state');
    expectProblem(await http.post(`/executions/${queued.id}/retry`), 409, 'not_retryable');
    expectProblem(await http.patch(`/executions/${queued.id}`, { labels: { a: 'b' } }), 409, 'invalid_state');

    expect((await http.post(`/executions/${holder.id}/resume`)).status).toBe(202);
    await waitForStatus(server.engine, holder.id, 'waiting');
    expect((await get(queued.id)).status).toBe('queued');
    const started = startedEvent(queued.id);
    await http.post(`/executions/${holder.id}/cancel`);
    await started;
    await http.post(`/executions/${queued.id}/cancel`);
    expect((await waitForEnd(server.engine, queued.id)).status).toBe('cancelled');
  });

  it('lets a retry take a free slot and refuses it (409 concurrency_limit) when none is free', async () => {
    const wf = unique('retry');
    await define({
      name: wf,
      concurrency: { limit: 1 },
      steps: [
        { id: 'pick', type: 'choice', when: [{ if: { path: '$.input.hold', equals: true }, next: 'w' }], default: 'f' },
        { id: 'f', type: 'task', agent: 'fail', input: { times: 1 }, retry: { maxAttempts: 1 }, end: true },
        { id: 'w', type: 'wait', signal: 'go' },
      ],
    });
    const failing = await start({ workflow: wf, input: { hold: false } });
    expect((await waitForEnd(server.engine, failing.id)).status).toBe('failed');
    const holder = await start({ workflow: wf, input: { hold: true } });
    expect(holder.status).not.toBe('queued');
    expectProblem(await http.post(`/executions/${failing.id}/retry`), 409, 'concurrency_limit');
    expect((await get(failing.id)).status).toBe('failed');

    await signal(holder.id);
    await waitForEnd(server.engine, holder.id);
    expect((await http.post(`/executions/${failing.id}/retry`)).status).toBe(202);
    expect((await waitForEnd(server.engine, failing.id)).status).toBe('completed');
    // The retried one gave its slot back when it completed.
    expect((await start({ workflow: wf, input: { hold: true } })).status).not.toBe('queued');
  });

  it('shows queued counts in /status (executions.queued, queuedByWorkflow) and in the Prometheus metrics', async () => {
    const wf = unique('figures');
    await define(gated(wf, { limit: 1 }));
    const holder = await start({ workflow: wf });
    const queued = [await start({ workflow: wf }), await start({ workflow: wf })];
    const status = (await http.get('/status')).body;
    expect(status.executions.queued).toBeGreaterThanOrEqual(2);
    expect(status.queuedByWorkflow[wf]).toBe(2);
    const metrics = (await request('/metrics')).text;
    expect(metrics).toContain(`actorflow_executions_queued{workflow="${wf}"} 2`);
    expect((await http.get('/executions', { query: { workflow: wf, status: 'queued' } })).body.items.map((x: ExecutionView) => x.id).sort()).toEqual(queued.map((x) => x.id).sort());

    for (const x of [...queued, holder]) await http.post(`/executions/${x.id}/cancel`);
    await waitForEnd(server.engine, holder.id);
    expect((await http.get('/status')).body.queuedByWorkflow[wf]).toBeUndefined();
    expect((await request('/metrics')).text).toContain(`actorflow_executions_queued{workflow="${wf}"} 0`);
  });

  it('takes priority from hooks (?priority=), schedules and template starts, and shows it on the execution', async () => {
    const wf = unique('prio');
    await define(gated(wf, { limit: 1 }));
    const holder = await start({ workflow: wf });
    const hooked = await http.post(`/hooks/${wf}`, { from: 'hook' }, { query: { priority: -3 } });
    expect(hooked.status, hooked.text).toBe(201);
    expect(hooked.body).toMatchObject({ status: 'queued', priority: -3, input: { from: 'hook' } });
    expect((await get(holder.id)).priority).toBe(0);

    const schedule = await http.post('/schedules', { workflow: wf, everyMs: 3_600_000, priority: 7, enabled: false });
    expect(schedule.status, schedule.text).toBe(201);
    expect(schedule.body.priority).toBe(7);
    expect((await http.patch(`/schedules/${schedule.body.id}`, { priority: -2 })).body.priority).toBe(-2);

    const template = unique('tpl');
    const created = await http.post('/workflow-templates', {
      name: template,
      parameters: { type: 'object', properties: { limit: { type: 'integer', default: 1 } } },
      concurrency: { limit: '${params.limit}' },
      steps: [{ id: 'w', type: 'wait', signal: 'go' }],
    });
    expect(created.status, created.text).toBe(201);
    const t1 = await start({ template, priority: 2 });
    const t2 = await start({ template, priority: 4 });
    expect([t1.status, t2.status, t2.priority]).toEqual(['waiting', 'queued', 4]);
    const t2Started = startedEvent(t2.id);
    await signal(t1.id);
    await t2Started;
    for (const x of [holder.id, hooked.body.id as string, t2.id]) await http.post(`/executions/${x}/cancel`);
  });
});

describe('validation', () => {
  it('refuses a bad concurrency block with the failing path (422)', async () => {
    const doc = (concurrency: unknown, extra: Record<string, unknown> = {}) => ({ name: unique('bad'), concurrency, ...extra, steps: [{ id: 'a', type: 'task', agent: 'echo' }] });
    const cases: [unknown, string][] = [
      [{ limit: 0 }, '/concurrency/limit'],
      [{ limit: 1.5 }, '/concurrency/limit'],
      [{ limit: '2' }, '/concurrency/limit'],
      [{}, '/concurrency/limit'],
      [{ limit: 1, key: 'customerId' }, '/concurrency/key'],
      [{ limit: 1, key: '$.steps.a.output' }, '/concurrency/key'],
      [{ limit: 1, max: 3 }, '/concurrency/max'],
      [5, '/concurrency'],
    ];
    for (const [concurrency, path] of cases) expectProblem(await http.post('/workflow-definitions', doc(concurrency)), 422, 'invalid_definition', path);
    expectProblem(await http.post('/workflow-definitions', doc({ limit: 1 }, { durability: 'none' })), 422, 'invalid_definition', '/concurrency');
    expectProblem(await http.post('/workflow-definitions/validate', doc({ limit: -1 })), 422, 'invalid_definition', '/concurrency/limit');
    // A one-off definition is checked alike, under /definition.
    expectProblem(await http.post('/executions', { definition: doc({ limit: 0 }) }), 422, 'invalid_definition', '/definition/concurrency/limit');
    // A template's resolved document too.
    expectProblem(
      await http.post('/workflow-templates', { name: unique('tpl'), concurrency: { limit: 0 }, steps: [{ id: 'a', type: 'task', agent: 'echo' }] }),
      422,
      'template_invalid',
    );
  });

  it('refuses a priority outside −10..10 or not an integer (422), on starts, hooks and schedules', async () => {
    const wf = unique('prio-bad');
    await define(gated(wf, { limit: 1 }));
    for (const priority of [11, -11, 1.5, '1']) expectProblem(await http.post('/executions', { workflow: wf, priority }), 422, 'validation_failed', '/priority');
    expectProblem(await http.post(`/hooks/${wf}`, {}, { query: { priority: 20 } }), 422, 'validation_failed');
    expectProblem(await http.post('/schedules', { workflow: wf, everyMs: 60_000, priority: -12 }), 422, 'validation_failed', '/priority');
    // A direct execution cannot be queued: refused for a limited workflow.
    expectProblem(await http.post('/executions', { workflow: wf, durability: 'none' }), 422, 'direct_not_allowed', '/durability');
    expect((await http.get('/executions', { query: { workflow: wf } })).body.items).toEqual([]);
  });
});

describe('a failed commit', () => {
  let db: Db;
  beforeAll(async () => {
    // A trigger installed from another connection aborts the journal's transaction, as a full disk would (as commit-failures.test.ts).
    db = await openDb(join(server.dataDir, 'actorflow.db'));
    await db.run('CREATE TABLE fail_events (execution_id TEXT, type TEXT)');
    await db.run(`CREATE TRIGGER fail_events BEFORE INSERT ON events
      WHEN EXISTS (SELECT 1 FROM fail_events f WHERE (f.execution_id = NEW.execution_id OR f.execution_id IS NULL) AND f.type = NEW.type)
      BEGIN SELECT RAISE(ABORT, 'injected failure'); END`);
  });
  afterAll(async () => db.close());
  const failing = (type: string, id: string | null = null) => db.run('INSERT INTO fail_events VALUES (?, ?)', [id, type]);
  const healed = () => db.run('DELETE FROM fail_events');

  it('gives back the slot of a start that did not commit, and drops a queued start that did not commit', async () => {
    const wf = unique('commit');
    await define(gated(wf, { limit: 1 }));
    await failing('workflow.started');
    expectProblem(await http.post('/executions', { workflow: wf }), 503, 'store_unavailable');
    await healed();
    const holder = await start({ workflow: wf });
    expect(holder.status).not.toBe('queued');

    await failing('workflow.queued');
    expectProblem(await http.post('/executions', { workflow: wf, priority: 10 }), 503, 'store_unavailable');
    await healed();
    expect((await http.get('/status')).body.queuedByWorkflow[wf]).toBeUndefined();
    const next = await start({ workflow: wf });
    expect(next.status).toBe('queued');
    const started = startedEvent(next.id);
    await signal(holder.id);
    await started;
    await http.post(`/executions/${next.id}/cancel`);
    await waitForEnd(server.engine, next.id);
  });

  it('puts a queued execution whose start did not commit back in its place, and keeps one whose cancel did not commit', async () => {
    const wf = unique('commit-release');
    await define(gated(wf, { limit: 1 }));
    const holder = await start({ workflow: wf });
    const first = await start({ workflow: wf, priority: 1 });
    const second = await start({ workflow: wf });

    await failing('workflow.cancelled', second.id);
    expectProblem(await http.post(`/executions/${second.id}/cancel`), 503, 'store_unavailable');
    expect((await get(second.id)).status).toBe('queued');
    expect((await http.get('/status')).body.queuedByWorkflow[wf]).toBe(2);

    // The holder ends; the start of `first` fails and is tried again (after a second) once the journal works.
    await failing('workflow.started', first.id);
    const failed = nextEvent(server.engine, (e) => e.executionId === holder.id && e.type === 'workflow.completed');
    await signal(holder.id);
    await failed;
    await http.get('/executions', { query: { workflow: wf } });
    expect((await get(first.id)).status).toBe('queued');
    const started = startedEvent(first.id);
    await healed();
    await started;
    expect((await get(second.id)).status).toBe('queued');
    expect((await events(first.id)).map((e) => e.type).slice(0, 2)).toEqual(['workflow.queued', 'workflow.started']);
    for (const x of [second, first]) await http.post(`/executions/${x.id}/cancel`);
    expect((await waitForEnd(server.engine, first.id)).status).toBe('cancelled');
    expect((await get(second.id)).status).toBe('cancelled');
  });
});

/** A request outside /api/v1 (the root /metrics). */
const request = (path: string) => api(server.url, '').get(path);
