/**
 * Telemetry over real HTTP: summary counts, cost totals (retried attempts included), windows, per-step
 * stats (retries, recoveries, percentiles), tenants, standalone tasks left out, bad input.
 */
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TELEMETRY_RESPONSE_SCHEMAS } from '../../src/api/routing/response-schemas.ts';
import { createClient } from '../../src/client/index.ts';
import { openDb } from '../../src/store/sqlite/db.ts';
import { TELEMETRY_SQL } from '../../src/store/sqlite/telemetry-store.ts';
import type { Engine } from '../../src/engine/types.ts';
import { type Api, api, ensureTenant, withKey } from '../support/http.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const ADMIN = 'test-admin-key-telemetry-0123456789abcdef';

// Each run of tm-cost reports 115 tokens and $0.265 (echo's `cost` input, see README "Telemetry").
const COST_FLOW = {
  name: 'tm-cost',
  steps: [
    { id: 'a', type: 'task', agent: 'echo', input: { cost: { model: 'm1', tokens: 100, usd: 0.25 } } },
    { id: 'b', type: 'task', agent: 'echo', input: { cost: [{ tokens: 10, usd: 0.01 }, { model: 'm2', tokens: 5, usd: 0.005 }] } },
  ],
};
const RUN_TOKENS = 115;
const RUN_USD = 0.265;

// `flaky` fails its first `$.input.times` attempts, 2 attempts allowed, then is skipped.
const STATS_FLOW = {
  name: 'tm-stats',
  steps: [
    { id: 'flaky', type: 'task', agent: 'fail', input: { times: '$.input.times' }, retry: { maxAttempts: 2, backoff: 'fixed', initialMs: 5 }, onError: 'skip' },
    { id: 'risky', type: 'task', agent: 'fail', input: { retryable: false }, onError: { fallback: 'rescue' } },
    { id: 'never', type: 'task', agent: 'echo', input: {} },
    { id: 'rescue', type: 'task', agent: 'echo', input: { rescued: true } },
  ],
};

const COMP_FLOW = {
  name: 'tm-comp',
  steps: [
    { id: 'charge', type: 'task', agent: 'echo', input: { cost: { tokens: 7, usd: 0.07 } }, compensate: 'refund' },
    { id: 'boom', type: 'task', agent: 'fail', input: { retryable: false }, onError: 'compensate' },
  ],
  compensations: [{ id: 'refund', type: 'task', agent: 'echo', input: {} }],
};

// `flaky` reports 20 tokens / $0.02 on each attempt, fails the first and succeeds on the second.
const RETRY_FLOW = {
  name: 'tm-retry',
  steps: [
    { id: 'flaky', type: 'task', agent: 'fail', input: { times: 1, cost: { model: 'm3', tokens: 20, usd: 0.02 } }, retry: { maxAttempts: 2, backoff: 'fixed', initialMs: 5 } },
  ],
};

const ajv = new Ajv2020({ strict: false, allErrors: true });
ajv.addFormat('date-time', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
/** The answer matches the schema the route documents. */
function conforms(id: keyof typeof TELEMETRY_RESPONSE_SCHEMAS, body: unknown): void {
  const validate = ajv.compile(TELEMETRY_RESPONSE_SCHEMAS[id]);
  expect(validate(body), `${id}: ${ajv.errorsText(validate.errors)}`).toBe(true);
}


const TERMINAL = new Set(['workflow.completed', 'workflow.failed', 'workflow.cancelled', 'workflow.timed_out']);

/** Starts an execution and resolves with it once its terminal event is committed (any tenant). */
function run(engine: Engine, http: Api, workflow: string, input: unknown = {}): Promise<{ id: string; createdAt: string; status: string }> {
  return settled(engine, http, '/executions', { workflow, input });
}

/** POSTs a start (an execution or a standalone task) and resolves once its terminal event is committed. */
async function settled(engine: Engine, http: Api, path: string, body: unknown): Promise<{ id: string; createdAt: string; status: string }> {
  const ended = new Map<string, string>();
  const waiters = new Map<string, (status: string) => void>();
  const off = engine.onEvent((e) => {
    if (!TERMINAL.has(e.type)) return;
    const status = e.type.slice('workflow.'.length);
    const w = waiters.get(e.executionId);
    if (w) w(status);
    else ended.set(e.executionId, status);
  });
  try {
    const res = await http.post(path, body);
    expect(res.status, res.text).toBe(201);
    const id = res.body.id as string;
    const status = await new Promise<string>((resolve, reject) => {
      const early = ended.get(id);
      if (early !== undefined) return resolve(early);
      const t = setTimeout(() => reject(new Error(`${path} ${id} did not end`)), 10_000);
      waiters.set(id, (s) => (clearTimeout(t), resolve(s)));
    });
    return { id, createdAt: res.body.createdAt as string, status };
  } finally {
    off();
  }
}

/** Resolves once the wall clock is past `iso` (ms resolution), so a window can start after it. */
async function clockPast(iso: string): Promise<number> {
  const t = Date.parse(iso);
  while (Date.now() <= t) await new Promise((r) => setImmediate(r));
  return Date.now();
}

describe('telemetry API', () => {
  let server: TestServer;
  let admin: Api;
  let acme: Api;
  let reader: Api;
  const costRuns: { id: string; createdAt: string }[] = [];
  /** Every execution of the default tenant, to count windows by their creation ms. */
  const allRuns: { id: string; createdAt: string }[] = [];
  let boundary = 0;
  let mk: (scopes: string[], tenant?: string) => Promise<string>;

  beforeAll(async () => {
    server = await startTestServer({ adminKey: ADMIN });
    admin = withKey(server.url, ADMIN);
    for (const doc of [COST_FLOW, STATS_FLOW, COMP_FLOW]) expect((await admin.post('/workflow-definitions', doc)).status).toBe(201);
    mk = async (scopes: string[], tenant?: string) => {
      if (tenant !== undefined) await ensureTenant(admin, tenant);
      const res = await admin.post('/api-keys', { name: `tm-${scopes.join('-')}`, scopes, ...(tenant === undefined ? {} : { tenant }) });
      expect(res.status).toBe(201);
      return res.body.key as string;
    };
    acme = withKey(server.url, await mk(['write'], 'acme'));
    reader = withKey(server.url, await mk(['read']));

    // Two cost runs before the boundary, three after it.
    for (let i = 0; i < 2; i++) costRuns.push(await run(server.engine, admin, 'tm-cost'));
    boundary = await clockPast(costRuns[1]?.createdAt ?? '');
    for (let i = 0; i < 3; i++) costRuns.push(await run(server.engine, admin, 'tm-cost'));
    for (const times of [0, 1, 5]) {
      const r = await run(server.engine, admin, 'tm-stats', { times });
      expect(r.status).toBe('completed');
      allRuns.push(r);
    }
    const comp = await run(server.engine, admin, 'tm-comp');
    expect(comp.status).toBe('failed');
    allRuns.push(comp, ...costRuns);
  }, 30_000);

  afterAll(async () => {
    await server?.close();
  });

  it('sums counts, durations and costs of the last 24 h, per workflow', async () => {
    const res = await reader.get('/telemetry/summary');
    expect(res.status, res.text).toBe(200);
    const s = res.body;
    conforms('telemetrySummary', s);
    expect(Date.parse(s.to) - Date.parse(s.from)).toBe(24 * 3600 * 1000);
    expect(s.executions).toEqual({ started: 9, completed: 8, failed: 1, cancelled: 0 });
    expect(s.durationMs.p50).toBeGreaterThanOrEqual(0);
    expect(s.durationMs.p95).toBeGreaterThanOrEqual(s.durationMs.p50);

    // Totals equal what the agents reported, as /executions/{id}/costs shows it.
    let tokens = 0;
    let usd = 0;
    for (const r of costRuns) {
      const c = (await admin.get(`/executions/${r.id}/costs`)).body;
      expect(c.total.tokens).toBe(RUN_TOKENS);
      tokens += c.total.tokens;
      usd += c.total.usd;
    }
    expect(s.cost.tokens).toBe(tokens + 7);
    expect(s.cost.usd).toBeCloseTo(usd + 0.07, 9);
    expect(s.cost.usd).toBeCloseTo(5 * RUN_USD + 0.07, 9);

    const byName: Record<string, any> = Object.fromEntries((s.workflows as { workflow: string }[]).map((w) => [w.workflow, w]));
    expect(Object.keys(byName).sort()).toEqual(['tm-comp', 'tm-cost', 'tm-stats']);
    expect(byName['tm-cost']).toMatchObject({ started: 5, completed: 5, failed: 0, tokens: 5 * RUN_TOKENS });
    expect(byName['tm-cost'].usd).toBeCloseTo(5 * RUN_USD, 9);
    expect(byName['tm-stats']).toMatchObject({ started: 3, completed: 3, failed: 0, tokens: 0, usd: 0 });
    expect(byName['tm-comp']).toMatchObject({ started: 1, completed: 0, failed: 1, tokens: 7 });
    for (const w of s.workflows as { p50Ms: number; p95Ms: number }[]) expect(w.p95Ms).toBeGreaterThanOrEqual(w.p50Ms);
  });

  it('counts only executions created inside [from, to)', async () => {
    const after = await reader.get('/telemetry/summary', { query: { from: new Date(boundary).toISOString() } });
    expect(after.status, after.text).toBe(200);
    const cost = (after.body.workflows as { workflow: string; started: number; tokens: number }[]).find((w) => w.workflow === 'tm-cost');
    expect(cost).toMatchObject({ started: 3, tokens: 3 * RUN_TOKENS });
    expect(after.body.executions.started).toBe(3 + 3 + 1);

    const before = await reader.get('/telemetry/summary', { query: { from: new Date(boundary - 3_600_000).toISOString(), to: new Date(boundary).toISOString() } });
    expect(before.body.executions).toEqual({ started: 2, completed: 2, failed: 0, cancelled: 0 });
    expect(before.body.cost.tokens).toBe(2 * RUN_TOKENS);
    expect(before.body.cost.usd).toBeCloseTo(2 * RUN_USD, 9);
    expect(before.body.from).toBe(new Date(boundary - 3_600_000).toISOString());

    // The bounds are exact to the millisecond: from is inclusive, to exclusive.
    const t = Date.parse(costRuns[2]?.createdAt ?? '');
    const createdIn = (from: number, to: number) => allRuns.filter((r) => Date.parse(r.createdAt) >= from && Date.parse(r.createdAt) < to).length;
    const iso = (ms: number) => new Date(ms).toISOString();
    const exact = await reader.get('/telemetry/summary', { query: { from: iso(t), to: iso(t + 1) } });
    expect(exact.body.executions.started).toBe(createdIn(t, t + 1));
    expect(exact.body.executions.started).toBeGreaterThanOrEqual(1);
    const upTo = await reader.get('/telemetry/summary', { query: { from: iso(t - 3_600_000), to: iso(t) } });
    expect(upTo.body.executions.started).toBe(createdIn(t - 3_600_000, t));
    const from = await reader.get('/telemetry/summary', { query: { from: iso(t), to: iso(t + 3_600_000) } });
    expect(from.body.executions.started).toBe(createdIn(t, t + 3_600_000));
    expect(upTo.body.executions.started + from.body.executions.started).toBe(allRuns.length);

    const empty = await reader.get('/telemetry/summary', { query: { from: '2020-01-01T00:00:00.000Z', to: '2020-01-02T00:00:00.000Z' } });
    conforms('telemetrySummary', empty.body);
    expect(empty.body).toEqual({
      from: '2020-01-01T00:00:00.000Z',
      to: '2020-01-02T00:00:00.000Z',
      executions: { started: 0, completed: 0, failed: 0, cancelled: 0 },
      durationMs: { p50: null, p95: null },
      cost: { tokens: 0, usd: 0 },
      workflows: [],
    });
  });

  it('splits the window into buckets: starts by creation time, ends by end time', async () => {
    const iso = (ms: number) => new Date(ms).toISOString();
    // Two buckets split at the boundary: the first holds the 2 runs before it, the second the 7 after.
    const from = boundary - 3_600_000;
    const to = boundary + 3_600_000;
    const res = await reader.get('/telemetry/series', { query: { from: iso(from), to: iso(to), buckets: 2 } });
    expect(res.status, res.text).toBe(200);
    conforms('telemetrySeries', res.body);
    expect(res.body).toMatchObject({ from: iso(from), to: iso(to), bucketMs: 3_600_000 });
    expect(res.body.buckets.map((b: { at: string }) => b.at)).toEqual([iso(from), iso(boundary)]);
    expect(res.body.buckets.map((b: { started: number }) => b.started)).toEqual([2, 7]);
    const ends = res.body.buckets.map((b: { completed: number; failed: number; cancelled: number }) => b.completed + b.failed + b.cancelled);
    // Every run ended within ms of its start; one of the first two may have ended past the boundary.
    expect(ends[0] + ends[1]).toBe(9);
    expect(res.body.buckets[1].failed).toBe(1);

    // 24 buckets by default over the last 24 h, each counted once; an uneven split leaves a shorter last bucket.
    const day = (await reader.get('/telemetry/series')).body;
    expect(day.buckets).toHaveLength(24);
    expect(day.bucketMs).toBe(3_600_000);
    expect(day.buckets.reduce((n: number, b: { started: number }) => n + b.started, 0)).toBe(9);
    const uneven = (await reader.get('/telemetry/series', { query: { from: iso(from), to: iso(from + 10), buckets: 3 } })).body;
    expect(uneven.bucketMs).toBe(4);
    expect(uneven.buckets.map((b: { at: string }) => b.at)).toEqual([iso(from), iso(from + 4), iso(from + 8)]);

    for (const buckets of [0, 501, 'x']) {
      const bad = await reader.get('/telemetry/series', { query: { buckets } });
      expect(bad.status, String(buckets)).toBe(422);
      expect(bad.body.errors[0].path).toBe('/query/buckets');
    }
    const client = await createClient({ url: server.url, key: ADMIN }).telemetry.series({ from: iso(from), to: iso(to), buckets: 2 });
    expect(client.buckets.map((b) => b.started)).toEqual([2, 7]);
  });

  it('reports per-step runs, success rate, retries and recoveries', async () => {
    const res = await reader.get('/telemetry/workflows/tm-stats/stats');
    expect(res.status, res.text).toBe(200);
    expect(res.body.workflow).toBe('tm-stats');
    conforms('telemetryWorkflowStats', res.body);
    const steps: Record<string, any> = Object.fromEntries((res.body.steps as { stepId: string }[]).map((s) => [s.stepId, s]));
    expect(Object.keys(steps).sort()).toEqual(['flaky', 'rescue', 'risky']);
    // times 0: first attempt; times 1: one retry then success; times 5: one retry then skipped.
    expect(steps['flaky']).toMatchObject({ runs: 3, retries: 2, recoveries: { skip: 1, fallback: 0, compensate: 0 } });
    expect(steps['flaky'].successRate).toBeCloseTo(2 / 3, 12);
    expect(steps['risky']).toMatchObject({ runs: 3, successRate: 0, retries: 0, recoveries: { skip: 0, fallback: 3, compensate: 0 } });
    expect(steps['rescue']).toMatchObject({ runs: 3, successRate: 1, retries: 0, recoveries: { skip: 0, fallback: 0, compensate: 0 } });
    for (const s of res.body.steps as { p50Ms: number; p95Ms: number; p99Ms: number; successRate: number }[]) {
      expect(s.p50Ms).toBeGreaterThanOrEqual(0);
      expect(s.p95Ms).toBeGreaterThanOrEqual(s.p50Ms);
      expect(s.p99Ms).toBeGreaterThanOrEqual(s.p95Ms);
      expect(s.successRate).toBeGreaterThanOrEqual(0);
      expect(s.successRate).toBeLessThanOrEqual(1);
    }
    // A retried run spans its backoff: the slowest flaky run is at least one 5 ms backoff long.
    expect(steps['flaky'].p99Ms).toBeGreaterThanOrEqual(5);

    const comp = (await reader.get('/telemetry/workflows/tm-comp/stats')).body;
    const c: Record<string, any> = Object.fromEntries((comp.steps as { stepId: string }[]).map((s) => [s.stepId, s]));
    expect(c['boom']).toMatchObject({ runs: 1, successRate: 0, recoveries: { skip: 0, fallback: 0, compensate: 1 } });
    expect(c['charge']).toMatchObject({ runs: 1, successRate: 1 });
    expect(c['refund']).toMatchObject({ runs: 1, successRate: 1 });
  });

  it('windows step stats too, and answers 404 for a workflow the tenant does not have', async () => {
    const old = await reader.get('/telemetry/workflows/tm-stats/stats', { query: { to: new Date(boundary).toISOString() } });
    expect(old.status).toBe(200);
    expect(old.body.steps).toEqual([]);
    const missing = await reader.get('/telemetry/workflows/no-such-flow/stats');
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('definition_not_found');
  });

  it("keeps tenants apart: another tenant sees none of these runs and gets 404 for this tenant's workflow", async () => {
    const none = await acme.get('/telemetry/summary');
    expect(none.status).toBe(200);
    expect(none.body.executions.started).toBe(0);
    expect(none.body.workflows).toEqual([]);
    expect((await acme.get('/telemetry/workflows/tm-cost/stats')).status).toBe(404);

    expect((await acme.post('/workflow-definitions', COST_FLOW)).status).toBe(201);
    expect((await run(server.engine, acme, 'tm-cost')).status).toBe('completed');
    const own = (await acme.get('/telemetry/summary')).body;
    expect(own.executions.started).toBe(1);
    expect(own.cost.tokens).toBe(RUN_TOKENS);
    const stats = (await acme.get('/telemetry/workflows/tm-cost/stats')).body;
    expect(stats.steps.map((s: { runs: number }) => s.runs)).toEqual([1, 1]);
    // The default tenant's numbers did not move (asked through the typed client this time).
    const mine = await createClient({ url: server.url, key: ADMIN }).telemetry.summary({ to: new Date(Date.now() + 1000).toISOString() });
    expect(mine.executions.started).toBe(9);
    expect(mine.cost.tokens).toBe(5 * RUN_TOKENS + 7);
    const viaClient = await createClient({ url: server.url, key: ADMIN }).telemetry.workflowStats('tm-comp');
    expect(viaClient.steps.find((st) => st.stepId === 'boom')?.recoveries.compensate).toBe(1);
  });

  it('counts the costs of a failed, retried attempt, and leaves standalone tasks out', async () => {
    const costly = withKey(server.url, await mk(['write'], 'costly'));
    expect((await costly.post('/workflow-definitions', RETRY_FLOW)).status).toBe(201);
    const r = await run(server.engine, costly, 'tm-retry');
    expect(r.status).toBe('completed');
    const attempts = (await costly.get(`/executions/${r.id}/steps/flaky/attempts`)).body.items as { attempt: number; status: string }[];
    expect(attempts.map((a) => [a.attempt, a.status])).toEqual([[1, 'failed'], [2, 'completed']]);
    // Both attempts reported their cost; the failed one rides on workflow.step.retrying.
    const costs = await costly.get(`/executions/${r.id}/costs`);
    expect(costs.status, costs.text).toBe(200);
    expect(costs.body).toEqual({
      total: { tokens: 40, usd: 0.04 },
      steps: [
        { stepId: 'flaky', attempt: 1, model: 'm3', tokens: 20, usd: 0.02 },
        { stepId: 'flaky', attempt: 2, model: 'm3', tokens: 20, usd: 0.02 },
      ],
    });

    // Standalone tasks (tk_…, workflow task.<agent>) are not workflow executions: telemetry skips them.
    const cost = { tokens: 1000, usd: 1 };
    const tasks = [
      await settled(server.engine, costly, '/tasks', { agent: 'echo', input: { cost } }),
      await settled(server.engine, costly, '/tasks', { agent: 'fail', input: { times: 1, cost }, retry: { maxAttempts: 2, backoff: 'fixed', initialMs: 5 } }),
      await settled(server.engine, costly, '/tasks', { agent: 'fail', input: { cost }, retry: { maxAttempts: 1 } }),
    ];
    expect(tasks.map((t) => [t.id.slice(0, 3), t.status])).toEqual([['tk_', 'completed'], ['tk_', 'completed'], ['tk_', 'failed']]);

    const summary = await costly.get('/telemetry/summary', { query: { to: new Date(Date.now() + 1000).toISOString() } });
    expect(summary.status, summary.text).toBe(200);
    conforms('telemetrySummary', summary.body);
    expect(summary.body.executions).toEqual({ started: 1, completed: 1, failed: 0, cancelled: 0 });
    expect(summary.body.cost).toEqual({ tokens: 40, usd: 0.04 });
    expect(summary.body.workflows).toHaveLength(1);
    expect(summary.body.workflows[0]).toMatchObject({ workflow: 'tm-retry', started: 1, completed: 1, tokens: 40, usd: 0.04 });
    const stats = (await costly.get('/telemetry/workflows/tm-retry/stats')).body;
    expect(stats.steps).toEqual([expect.objectContaining({ stepId: 'flaky', runs: 1, successRate: 1, retries: 1 })]);
    // A task's generated flow is no registered workflow.
    expect((await costly.get('/telemetry/workflows/task.echo/stats')).status).toBe(404);
  });

  it('plans every query as a range of executions (tenant, id) into the events primary key: no scan, no sort', async () => {
    const db = await openDb(join(server.dataDir, 'actorflow.db'));
    try {
      const indexes = (await db.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'executions'")).map((r) => r.name);
      expect(indexes).not.toContain('executions_tenant_created'); // no index on the start path for telemetry
      const params = ['default', 'ex_0000000000', 'ex_8000000000', 'tm-stats'];
      for (const [name, sql] of Object.entries(TELEMETRY_SQL)) {
        const plan = (await db.all<{ detail: string }>(`EXPLAIN QUERY PLAN ${sql}`, params.slice(0, (sql.match(/\?/g) ?? []).length))).map((r) => r.detail);
        expect(plan[0], name).toMatch(/^SEARCH x USING (COVERING )?INDEX executions_tenant_id \(tenant=\? AND id>\? AND id<\?\)$/);
        for (const step of plan.slice(1)) expect(step, name).toMatch(/^SEARCH e USING PRIMARY KEY \(execution_id=\?\)$/);
        expect(plan.length, name).toBe(name === 'executions' ? 1 : 2);
      }
    } finally {
      await db.close();
    }
  });

  it('answers 422 with the failing query paths for a bad window', async () => {
    const t = '2026-01-02T00:00:00.000Z';
    for (const query of [{ from: t, to: t }, { from: '2026-01-03T00:00:00Z', to: t }]) {
      const res = await reader.get('/telemetry/summary', { query });
      expect(res.status, res.text).toBe(422);
      expect(res.body.errors.map((e: { path: string }) => e.path)).toEqual(['/query/from']);
      const stats = await reader.get('/telemetry/workflows/tm-stats/stats', { query });
      expect(stats.status).toBe(422);
    }
    const garbage = await reader.get('/telemetry/summary', { query: { from: 'yesterday', to: '2026-13-45T00:00:00Z' } });
    expect(garbage.status).toBe(422);
    expect(garbage.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['/query/from', '/query/to']);
    expect((await reader.get('/telemetry/summary', { query: { since: 'x' } })).status).toBe(422);
    // No credential: 401, like every route but /health and /ready.
    expect((await api(server.url).get('/telemetry/summary')).status).toBe(401);
  });
});
