/**
 * Large step outputs and in-flight task inputs are not copied into snapshots or journaled inputs (issue 12): a
 * snapshot refers to the step's `workflow.step.completed` (`workflow.step.started`) event, a journaled step result
 * to its completion event, and every restore reads the value back from there: the rebuild of a passivated
 * execution, recovery after a restart, and a retry of a failed execution.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REF_MIN_BYTES } from '../../src/engine/flow/snapshot-refs.ts';
import { api } from '../support/http.ts';
import { startServerProcess, type ServerProcess } from '../support/process.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { pollUntil, waitForEnd, waitForStatus } from '../support/wait.ts';

const big = (c: string) => c.repeat(4 * REF_MIN_BYTES);
const table = { rows: Array.from({ length: 300 }, (_, i) => ({ i, name: `row ${i}` })) };

/** Bytes of the database file (a second connection: WAL readers see what is committed) that a SQL sum reads. */
function bytesOf(dataDir: string, sql: string, id: string): number | undefined {
  const db = new Database(join(dataDir, 'actorflow.db'), { readonly: true });
  try {
    return (db.prepare(sql).get(id) as { n: number | null } | undefined)?.n ?? undefined;
  } finally {
    db.close();
  }
}

/** The stored snapshot's size (undefined: none written yet). */
const snapshotBytes = (dataDir: string, id: string) => bytesOf(dataDir, 'SELECT length(data) AS n FROM snapshots WHERE execution_id = ?', id);

/** What a restore reads besides the events: the snapshot and the inputs journaled since (replay). */
const restoreBytes = (dataDir: string, id: string): number =>
  (snapshotBytes(dataDir, id) ?? 0) + (bytesOf(dataDir, 'SELECT sum(length(data)) AS n FROM inputs WHERE execution_id = ?', id) ?? 0);

async function passivatedCount(s: TestServer): Promise<number> {
  return ((await s.engine.status()) as unknown as { passivated: number }).passivated;
}

async function untilPassivated(s: TestServer, before: number): Promise<void> {
  await pollUntil(async () => ((await passivatedCount(s)) > before ? true : undefined), 'an execution passivated', 5000);
}

const flows = [
  {
    name: 'big-wait',
    steps: [
      { id: 'a', type: 'task', agent: 'echo', input: { text: '$.input.text' } },
      { id: 'b', type: 'task', agent: 'echo', input: '$.input.table' },
      { id: 'w', type: 'wait', signal: 'go' },
      { id: 'c', type: 'task', agent: 'echo', input: { a: '$.steps.a.output.text', b: '$.steps.b.output', w: '$.steps.w.output' } },
    ],
  },
  {
    name: 'big-sleep',
    steps: [
      { id: 'a', type: 'task', agent: 'echo', input: { text: '$.input.text' } },
      // In flight across the restart with a large input: redispatched with the input the snapshot left to the journal.
      { id: 's', type: 'task', agent: 'sleep', input: { ms: 1500, text: '$.steps.a.output.text' } },
      { id: 'c', type: 'task', agent: 'echo', input: { a: '$.steps.a.output.text', s: '$.steps.s.output.text' } },
    ],
  },
  {
    name: 'big-fail',
    steps: [
      { id: 'a', type: 'task', agent: 'echo', input: { text: '$.input.text' } },
      // Fails its first attempt only: the retry's attempt 2 passes and returns its input.
      { id: 'f', type: 'task', agent: 'fail', input: { times: 1, retryable: false, text: '$.steps.a.output.text' } },
    ],
  },
];

describe('large step outputs and snapshots', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ passivateMs: 50, passivateQuietMs: 20 });
    for (const doc of flows) expect((await api(server.url).post('/workflow-definitions', doc)).status).toBe(201);
  });
  afterAll(async () => server.close());

  it('keeps them out of the snapshot of a passivated execution and brings them back on its signal', async () => {
    const before = await passivatedCount(server);
    const text = big('a');
    const { body } = await api(server.url).post('/executions', { workflow: 'big-wait', input: { text, table } });
    await waitForStatus(server.engine, body.id, 'waiting');
    await untilPassivated(server, before);
    // Both outputs are larger than the threshold; neither the snapshot nor the journaled inputs hold them.
    expect(restoreBytes(server.dataDir, body.id)).toBeGreaterThan(0);
    expect(restoreBytes(server.dataDir, body.id)).toBeLessThan(text.length);
    expect((await api(server.url).post(`/executions/${body.id}/signals/go`, { payload: { ok: true } })).status).toBe(202);
    const end = await waitForEnd(server.engine, body.id);
    expect(end.status).toBe('completed');
    expect(end.output).toEqual({ a: text, b: table, w: { ok: true } });
  });

  it('restores them when a failed execution is retried', async () => {
    const text = big('f');
    const { body } = await api(server.url).post('/executions', { workflow: 'big-fail', input: { text } });
    expect((await waitForEnd(server.engine, body.id)).status).toBe('failed');
    expect(restoreBytes(server.dataDir, body.id)).toBeGreaterThan(0);
    expect(restoreBytes(server.dataDir, body.id)).toBeLessThan(text.length);
    // A failed execution left memory with its end: the retry rebuilds it from its journaled inputs.
    expect((await api(server.url).post(`/executions/${body.id}/retry`, {})).status).toBeLessThan(300);
    const end = await waitForEnd(server.engine, body.id);
    expect(end.status).toBe('completed');
    expect(end.output).toEqual({ times: 1, retryable: false, text });
  });
});

describe('large step outputs across a restart', () => {
  it('recovers a running execution whose snapshot left an output and an in-flight input to the journal', async () => {
    const first = await startTestServer({ keepDataDir: true });
    for (const doc of flows) await api(first.url).post('/workflow-definitions', doc);
    const text = big('r');
    const { body } = await api(first.url).post('/executions', { workflow: 'big-sleep', input: { text } });
    // Step s (a 1.5 s sleep) is running: the stored snapshot is of a running execution with a's output left out.
    for (let i = 0; i < 100; i++) {
      const { body: ex } = await api(first.url).get(`/executions/${body.id}`);
      if ((ex.currentSteps as string[]).includes('s')) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    await first.close();
    // A graceful stop writes a snapshot of every live execution; it left the values to the journal.
    expect(snapshotBytes(first.dataDir, body.id)).toBeLessThan(text.length);
    const second = await startTestServer({ dataDir: first.dataDir });
    try {
      expect((await second.engine.recoveryStats?.())?.executions).toBeGreaterThanOrEqual(1);
      const end = await waitForEnd(second.engine, body.id);
      expect(end.status).toBe('completed');
      expect(end.output).toEqual({ a: text, s: text });
    } finally {
      await second.close();
    }
  });
});

describe('a step input that is the previous step output', () => {
  it('is journaled once, read back whole, and restored for a task in flight across a restart', async () => {
    const first = await startTestServer({ keepDataDir: true });
    const chain = {
      name: 'big-chain',
      steps: [
        { id: 'a', type: 'task', agent: 'echo', input: { ms: 1500, text: '$.input.text' } },
        // Its input is a's output itself: written once, in a's completion.
        { id: 's', type: 'task', agent: 'sleep', input: '$.steps.a.output' },
        { id: 'c', type: 'task', agent: 'echo', input: '$.steps.s.output' },
      ],
    };
    expect((await api(first.url).post('/workflow-definitions', chain)).status).toBe(201);
    const text = big('c');
    const { body } = await api(first.url).post('/executions', { workflow: 'big-chain', input: { text } });
    await pollUntil(async () => ((await api(first.url).get(`/executions/${body.id}`)).body.currentSteps as string[]).includes('s') || undefined, 's in flight', 5000);
    await first.close();
    const startedBytes = (stepId: string) => bytesOf(first.dataDir, "SELECT length(data) AS n FROM events WHERE execution_id = ? AND type = 'workflow.step.started' AND step_id = '" + stepId + "'", body.id) ?? 0;
    expect(startedBytes('a')).toBeGreaterThan(text.length);
    expect(startedBytes('s')).toBeLessThan(100);
    // Restored from its snapshot, which leaves s's input to its started event, which leaves it to a's completion.
    const second = await startTestServer({ dataDir: first.dataDir });
    try {
      const end = await waitForEnd(second.engine, body.id);
      expect(end.status).toBe('completed');
      expect(end.output).toEqual({ ms: 1500, text });
      expect(startedBytes('c')).toBeLessThan(100);
      // Every read gives the input back: the whole log, and a page that starts after the completion it refers to.
      const events = (since: number) => api(second.url).get(`/executions/${body.id}/events`, { query: { since, limit: 1000 } });
      const started = (items: { type: string; stepId?: string; data: { input?: unknown } }[], id: string) => items.find((e) => e.type === 'workflow.step.started' && e.stepId === id)?.data;
      const all = (await events(0)).body.items;
      expect(started(all, 's')).toEqual({ type: 'task', attempt: 1, agent: 'sleep', input: { ms: 1500, text } });
      expect(started(all, 'c')?.input).toEqual({ ms: 1500, text });
      const sSeq = all.find((e: { type: string; stepId?: string }) => e.type === 'workflow.step.started' && e.stepId === 's').seq as number;
      expect(started((await events(sSeq - 1)).body.items, 's')?.input).toEqual({ ms: 1500, text });
    } finally {
      await second.close();
      await rm(first.dataDir, { recursive: true, force: true });
    }
  });
});

describe("the execution's input taken by its first step, its output its last step's", () => {
  it('are journaled once, read back whole, and restored for the first step in flight across a restart', async () => {
    const first = await startTestServer({ keepDataDir: true });
    const doc = {
      name: 'big-through',
      steps: [
        // Its input is the execution's itself: written once, in workflow.started.
        { id: 's', type: 'task', agent: 'sleep', input: '$.input' },
        { id: 'c', type: 'task', agent: 'echo', input: '$.steps.s.output' },
      ],
    };
    expect((await api(first.url).post('/workflow-definitions', doc)).status).toBe(201);
    const input = { ms: 1500, text: big('t') };
    const { body } = await api(first.url).post('/executions', { workflow: 'big-through', input });
    await pollUntil(async () => ((await api(first.url).get(`/executions/${body.id}`)).body.currentSteps as string[]).includes('s') || undefined, 's in flight', 5000);
    await first.close();
    const rowBytes = (type: string) => bytesOf(first.dataDir, `SELECT max(length(data)) AS n FROM events WHERE execution_id = ? AND type = '${type}'`, body.id) ?? 0;
    expect(rowBytes('workflow.started')).toBeGreaterThan(input.text.length);
    expect(rowBytes('workflow.step.started')).toBeLessThan(100);
    // Restored with s in flight: its input comes back from workflow.started.
    const second = await startTestServer({ dataDir: first.dataDir });
    try {
      const end = await waitForEnd(second.engine, body.id);
      expect(end.status).toBe('completed');
      expect(end.output).toEqual(input);
      expect(rowBytes('workflow.completed')).toBeLessThan(100);
      expect((await api(second.url).get(`/executions/${body.id}`)).body.output).toEqual(input);
      const items = (await api(second.url).get(`/executions/${body.id}/events`, { query: { since: 0, limit: 1000 } })).body.items as { type: string; stepId?: string; data: Record<string, unknown> }[];
      expect(items.find((e) => e.type === 'workflow.step.started' && e.stepId === 's')?.data).toEqual({ type: 'task', attempt: 1, agent: 'sleep', input });
      expect(items.find((e) => e.type === 'workflow.completed')?.data).toEqual({ output: input });
    } finally {
      await second.close();
      await rm(first.dataDir, { recursive: true, force: true });
    }
  });
});

describe('large step values across SIGKILL', () => {
  let dir = '';
  let proc: ServerProcess | undefined;
  afterAll(async () => {
    await proc?.kill();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('brings back the outputs and in-flight inputs of running and passivated executions after a kill -9', async () => {
    dir = await mkdtemp(join(tmpdir(), 'actorflow-refs-crash-'));
    const machines = join(dir, 'machines');
    const data = join(dir, 'data');
    await mkdir(machines);
    // The waiting ones leave memory within 50 ms: their signal after the restart rebuilds them from the store.
    const env = { ACTORFLOW_PASSIVATE_MS: '50', ACTORFLOW_PASSIVATE_QUIET_MS: '20' };
    proc = await startServerProcess({ dataDir: data, machinesDir: machines, sync: 'full', env });
    let http = api(proc.url);
    for (const doc of flows) expect((await http.post('/workflow-definitions', doc)).status).toBe(201);
    const texts = new Map<string, string>();
    const waiting: string[] = [];
    const sleeping: string[] = [];
    for (let i = 0; i < 6; i++) {
      const text = big(String.fromCharCode(97 + i));
      const workflow = i % 2 === 0 ? 'big-wait' : 'big-sleep';
      const { status, body } = await http.post('/executions', { workflow, input: { text, table } });
      expect(status).toBe(201);
      texts.set(body.id, text);
      (workflow === 'big-wait' ? waiting : sleeping).push(body.id);
    }
    const current = async (id: string): Promise<string[]> => (await http.get(`/executions/${id}`)).body.currentSteps as string[];
    for (const id of waiting) await pollUntil(async () => ((await current(id)).includes('w') ? true : undefined), `${id} waits`, 10_000);
    for (const id of sleeping) await pollUntil(async () => ((await current(id)).includes('s') ? true : undefined), `${id} sleeps`, 10_000);
    await proc.kill();
    proc = undefined;
    for (const id of texts.keys()) {
      expect(restoreBytes(data, id)).toBeGreaterThan(0);
      expect(restoreBytes(data, id)).toBeLessThan(4 * 1024);
    }

    proc = await startServerProcess({ dataDir: data, machinesDir: machines, sync: 'full', env });
    http = api(proc.url);
    await pollUntil(async () => ((await http.get('/ready')).status === 200 ? true : undefined), 'ready', 20_000);
    for (const id of waiting) expect((await http.post(`/executions/${id}/signals/go`, { payload: { after: 'kill' } })).status).toBe(202);
    for (const [id, text] of texts) {
      const end = await pollUntil(async () => {
        const { body } = await http.get(`/executions/${id}`);
        return body.status === 'running' || body.status === 'waiting' ? undefined : body;
      }, `${id} ends`, 20_000);
      expect(end.status).toBe('completed');
      expect(end.output).toEqual(waiting.includes(id) ? { a: text, b: table, w: { after: 'kill' } } : { a: text, s: text });
    }
  });
});
