/**
 * Issue 11, items 1-3: one execution must never take the server down. A definition stored before
 * cycles were refused still runs into the step budget; an action that throws fails its execution;
 * a wide parallel yields to other clients; the history cap ends a looping execution quickly.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIMITS } from '../../src/common/flow.ts';
import { openDb } from '../../src/store/sqlite/db.ts';
import { api } from '../support/http.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { startHealthProbe } from '../support/health-probe.ts';
import { waitForEnd } from '../support/wait.ts';

/** Writes a definition row as an older version (without the cycle check) would have stored it. */
async function storeUnchecked(dataDir: string, doc: { name: string }): Promise<void> {
  const db = await openDb(join(dataDir, 'actorflow.db'));
  try {
    await db.run('INSERT INTO definitions (tenant, name, version, source, document, created_at, retired) VALUES (?, ?, 1, ?, ?, ?, 0)', ['default', doc.name, 'document', JSON.stringify({ ...doc, version: 1 }), Date.now()]);
  } finally {
    await db.close();
  }
}

describe('a definition that loops without blocking (stored before the rule existed)', () => {
  let dir: string;
  let server: TestServer;
  const spin = {
    name: 'spin',
    steps: [
      { id: 'c', type: 'choice', when: [{ if: { path: '$.input.stop', exists: true }, next: 'e' }], default: 'c' },
      { id: 'e', type: 'task', agent: 'echo', input: {} },
    ],
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'actorflow-spin-'));
    await (await startTestServer({ dataDir: dir })).close(); // creates the schema
  });

  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('is refused at registration with the path of the cycle', async () => {
    const s = await startTestServer();
    try {
      const res = await api(s.url).post('/workflow-definitions', spin);
      expect(res.status).toBe(422);
      expect(res.body.errors).toContainEqual({ path: '/steps/0', message: 'loop c -> c can repeat without passing a task, wait or sleep step' });
      const inline = await api(s.url).post('/executions', { definition: spin, input: {} });
      expect(inline.status).toBe(422);
      expect(inline.body.errors[0].path).toBe('/definition/steps/0');
    } finally {
      await s.close();
    }
  });

  it('fails with step_budget_exceeded at run time, keeps none of the runaway events, and the server keeps answering', async () => {
    await storeUnchecked(dir, spin);
    server = await startTestServer({ dataDir: dir });
    const res = await api(server.url).post('/executions', { workflow: 'spin', input: {} });
    expect(res.status).toBe(201);
    const end = await waitForEnd(server.engine, res.body.id);
    expect(end.status).toBe('failed');
    expect(end.error?.code).toBe('step_budget_exceeded');
    // The transition that spent the budget was dropped whole: the start and the failure remain.
    const events = await api(server.url).get(`/executions/${res.body.id}/events`);
    expect(events.body.items.map((e: { type: string }) => e.type)).toEqual(['workflow.started', 'workflow.failed']);
    expect((await api(server.url).get('/health')).status).toBe(200);
    // With the condition met at the start, the same definition completes.
    const ok = await api(server.url).post('/executions', { workflow: 'spin', input: { stop: true } });
    expect((await waitForEnd(server.engine, ok.body.id)).status).toBe('completed');
  });
});

describe('runaway executions', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => server.close());

  it('fails an execution whose action throws, with a reason, instead of leaving it running', async () => {
    // `until` resolving to 1e300 ms is a finite number that is no valid date: entering the sleep throws.
    const doc = { name: 'bad-until', steps: [{ id: 'a', type: 'task', agent: 'echo' }, { id: 's', type: 'sleep', until: '$.input.t' }] };
    const res = await api(server.url).post('/executions', { definition: doc, input: { t: 1e300 } });
    expect(res.status).toBe(201);
    const end = await waitForEnd(server.engine, res.body.id);
    expect(end.status).toBe('failed');
    expect(end.error?.code).toBe('action_failed');
    expect(end.error?.message).toMatch(/Invalid time value/);
    const types = (await api(server.url).get(`/executions/${res.body.id}/events`)).body.items.map((e: { type: string }) => e.type);
    expect(types.at(-1)).toBe('workflow.failed');
  });

  it(`runs a ${LIMITS.maxParallelBranches}-branch parallel to the end while /health keeps a p99 under 50 ms`, async () => {
    const n = LIMITS.maxParallelBranches;
    const doc = { name: 'wide', steps: [{ id: 'p', type: 'parallel', branches: Array.from({ length: n }, (_, i) => [{ id: `s${i}`, type: 'task', agent: 'echo', input: { i } }]) }] };
    const probe = startHealthProbe(server.url);
    let ends;
    try {
      // Four, one after another while the earlier ones still run: each burst of results is applied in
      // slices between other clients' requests.
      const ids: string[] = [];
      for (let i = 0; i < 4; i++) ids.push((await api(server.url).post('/executions', { definition: doc, input: {} })).body.id as string);
      ends = await Promise.all(ids.map((id) => waitForEnd(server.engine, id, 20_000)));
    } finally {
      await probe.stop();
    }
    const health = await probe.stop();
    for (const end of ends) {
      expect(end.status).toBe('completed');
      expect(Object.keys(end.output as object)).toHaveLength(n);
    }
    // One branch more is refused at validation.
    const wider = { name: 'wider', steps: [{ id: 'p', type: 'parallel', branches: Array.from({ length: n + 1 }, (_, i) => [{ id: `s${i}`, type: 'task', agent: 'echo' }]) }] };
    expect((await api(server.url).post('/executions', { definition: wider })).status).toBe(422);
    expect(health.count).toBeGreaterThan(3);
    // A guard against the old behaviour (seconds to minutes without an answer); the 50 ms target is measured
    // by the bench on a quiet machine (`npm run bench -- --only wide`), not under a loaded test run.
    expect(health.p99).toBeLessThan(400);
  });

  it('ends a looping execution at the history cap quickly, with a message that matches its lastSeq', async () => {
    // A loop through a task is legal (each pass waits for the agent's result): it only ends at the cap.
    const doc = { name: 'looper', steps: [{ id: 'z', type: 'task', agent: 'echo' }, { id: 'c', type: 'choice', when: [{ if: { path: '$.input.stop', exists: true }, next: 'e' }], default: 'z' }, { id: 'e', type: 'task', agent: 'echo' }] };
    const probe = startHealthProbe(server.url);
    const t0 = performance.now();
    let end;
    try {
      const res = await api(server.url).post('/executions', { definition: doc, input: {} });
      expect(res.status).toBe(201);
      end = await waitForEnd(server.engine, res.body.id, 60_000);
    } finally {
      await probe.stop();
    }
    const took = performance.now() - t0;
    const health = await probe.stop();
    expect(end.status).toBe('failed');
    expect(end.error?.code).toBe('history_limit_exceeded');
    expect(end.lastSeq).toBeLessThanOrEqual(LIMITS.maxEventsPerExecution);
    expect(end.error?.message).toContain(`${LIMITS.maxEventsPerExecution} events`);
    expect(took).toBeLessThan(30_000);
    // A guard against the old behaviour (seconds to minutes without an answer); the 50 ms target is measured
    // by the bench on a quiet machine (`npm run bench -- --only wide`), not under a loaded test run.
    expect(health.p99).toBeLessThan(400);
  }, 60_000);
});
