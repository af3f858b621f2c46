/**
 * Passivation (issue 12): waiting executions leave memory after an idle time or past the live cap,
 * keep nothing but their timers in one queue, and come back on any input: a signal, a timer, an
 * agent's result, a control call, a restart.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../support/http.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { waitForEnd, waitForStatus } from '../support/wait.ts';

interface Live {
  live: number;
  passivated: number;
}
const liveOf = async (s: TestServer): Promise<Live> => (await s.engine.status()) as unknown as Live;

/** Polls the engine's own counters (no HTTP) until `pred` holds. */
async function until(s: TestServer, pred: (l: Live) => boolean, timeoutMs = 5000): Promise<Live> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const l = await liveOf(s);
    if (pred(l)) return l;
    if (performance.now() > deadline) throw new Error(`timed out: ${JSON.stringify(l)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function gapFree(s: TestServer, id: string): Promise<string[]> {
  const items = (await api(s.url).get(`/executions/${id}/events`, { query: { limit: 1000 } })).body.items as { seq: number; type: string }[];
  expect(items.map((e) => e.seq)).toEqual(items.map((_, i) => i + 1));
  return items.map((e) => e.type);
}

describe('passivation', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ passivateMs: 50 });
    const define = (doc: unknown) => api(server.url).post('/workflow-definitions', doc);
    await define({ name: 'approve', steps: [{ id: 'a', type: 'task', agent: 'echo' }, { id: 'w', type: 'wait', signal: 'go' }, { id: 'b', type: 'task', agent: 'echo', input: '$.steps.w.output' }] });
    await define({ name: 'nap', steps: [{ id: 's', type: 'sleep', ms: 400 }, { id: 'b', type: 'task', agent: 'echo', input: 'woke' }] });
    await define({ name: 'slow-agent', steps: [{ id: 't', type: 'task', agent: 'sleep', input: { ms: 400 } }, { id: 'b', type: 'task', agent: 'echo', input: 'done' }] });
    await define({ name: 'parent', steps: [{ id: 'c', type: 'workflow', workflow: 'approve', input: {} }, { id: 'after', type: 'task', agent: 'echo', input: '$.steps.c.output' }] });
  });
  afterAll(async () => server.close());

  it('evicts an execution waiting for a signal and brings it back for the signal', async () => {
    const before = await liveOf(server);
    const { body } = await api(server.url).post('/executions', { workflow: 'approve', input: {} });
    await waitForStatus(server.engine, body.id, 'waiting');
    const after = await until(server, (l) => l.passivated > before.passivated && l.live <= before.live);
    expect(after.live).toBeLessThanOrEqual(before.live);
    // Reads of a passivated execution come from the store, unchanged.
    expect((await api(server.url).get(`/executions/${body.id}`)).body).toMatchObject({ status: 'waiting', currentSteps: ['w'] });
    expect((await api(server.url).post(`/executions/${body.id}/signals/go`, { payload: { ok: 1 } })).status).toBe(202);
    const end = await waitForEnd(server.engine, body.id);
    expect(end.status).toBe('completed');
    expect(end.output).toEqual({ ok: 1 });
    expect(await gapFree(server, body.id)).toContain('workflow.signal.received');
  });

  it('fires the timer of a passivated sleep', async () => {
    const before = await liveOf(server);
    const { body } = await api(server.url).post('/executions', { workflow: 'nap', input: {} });
    await until(server, (l) => l.passivated > before.passivated);
    const end = await waitForEnd(server.engine, body.id);
    expect(end).toMatchObject({ status: 'completed', output: 'woke' });
    await gapFree(server, body.id);
  });

  it('passivates while a step is in flight on an agent, and the result brings it back', async () => {
    const before = await liveOf(server);
    const { body } = await api(server.url).post('/executions', { workflow: 'slow-agent', input: {} });
    await until(server, (l) => l.passivated > before.passivated);
    const end = await waitForEnd(server.engine, body.id);
    expect(end).toMatchObject({ status: 'completed', output: 'done' });
    const types = await gapFree(server, body.id);
    expect(types.filter((t) => t === 'workflow.step.started')).toHaveLength(2); // dispatched once, not again on activation
  });

  it('applies every result of a burst, also when its execution was passivated while the result waited for its slice', async () => {
    // 2,000 starts at once: their echo results queue behind each other for longer than passivateMs, and the
    // sweep evicts executions whose result waits. Such a result was dropped (its execution stuck `running`).
    const n = 2000;
    const ids = await Promise.all(Array.from({ length: n }, async (_, i) => (await server.engine.start({ tenant: 'default', workflow: 'approve', input: { i } })).execution.id));
    const deadline = performance.now() + 30_000;
    let statuses: string[] = [];
    while (performance.now() < deadline) {
      statuses = (await Promise.all(ids.map((id) => server.engine.get('default', id)))).map((x) => x.status);
      if (statuses.every((st) => st === 'waiting')) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(statuses.filter((st) => st !== 'waiting')).toEqual([]);
  });

  it('cancels, pauses and resumes passivated executions', async () => {
    const before = await liveOf(server);
    const a = (await api(server.url).post('/executions', { workflow: 'approve', input: {} })).body.id as string;
    const b = (await api(server.url).post('/executions', { workflow: 'approve', input: {} })).body.id as string;
    await waitForStatus(server.engine, a, 'waiting');
    await waitForStatus(server.engine, b, 'waiting');
    await until(server, (l) => l.passivated >= before.passivated + 2);
    expect((await api(server.url).post(`/executions/${a}/cancel`, { reason: 'no' })).status).toBe(202);
    expect((await waitForEnd(server.engine, a)).status).toBe('cancelled');
    expect((await api(server.url).post(`/executions/${b}/pause`)).status).toBe(202);
    await waitForStatus(server.engine, b, 'paused');
    expect((await api(server.url).post(`/executions/${b}/resume`)).status).toBe(202);
    expect((await api(server.url).post(`/executions/${b}/signals/go`, { payload: 2 })).status).toBe(202);
    expect((await waitForEnd(server.engine, b)).status).toBe('completed');
    await gapFree(server, a);
    await gapFree(server, b);
  });

  it('keeps a parent whose child runs, passivates the waiting child, and completes both on its signal', async () => {
    const { body } = await api(server.url).post('/executions', { workflow: 'parent', input: {} });
    const children = async () => (await api(server.url).get(`/executions/${body.id}/children`)).body.items as { id: string }[];
    let kids = await children();
    for (let i = 0; kids.length === 0 && i < 100; i++) {
      await new Promise((r) => setTimeout(r, 20));
      kids = await children();
    }
    const child = kids[0]?.id as string;
    await waitForStatus(server.engine, child, 'waiting');
    // Only the parent stays in memory: it cannot leave while its child runs, and everything else in this server waits
    // and leaves after 50 ms. (Comparing the passivation count with one read here raced under load: the child could
    // leave before that read.)
    await until(server, (l) => l.live === 1);
    expect((await api(server.url).post(`/executions/${child}/signals/go`, { payload: 'yes' })).status).toBe(202);
    const end = await waitForEnd(server.engine, body.id);
    expect(end).toMatchObject({ status: 'completed', output: 'yes' });
  });
});

describe('passivation by what will wake an execution', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ passivateMs: 60_000, passivateQuietMs: 50 });
    const define = (doc: unknown) => api(server.url).post('/workflow-definitions', doc);
    await define({ name: 'approve', steps: [{ id: 'w', type: 'wait', signal: 'go' }, { id: 'b', type: 'task', agent: 'echo', input: '$.steps.w.output' }] });
    await define({ name: 'slow-agent', steps: [{ id: 't', type: 'task', agent: 'sleep', input: { ms: 3000 } }, { id: 'b', type: 'task', agent: 'echo', input: 'done' }] });
    await define({ name: 'nap-soon', steps: [{ id: 's', type: 'sleep', ms: 3000 }, { id: 'b', type: 'task', agent: 'echo', input: 'woke' }] });
    await define({ name: 'nap-far', steps: [{ id: 's', type: 'sleep', ms: 600_000 }, { id: 'b', type: 'task', agent: 'echo', input: 'woke' }] });
  });
  afterAll(async () => server.close());

  it('evicts one waiting for a signal or a distant timer after the quiet time, and keeps one whose step runs on an agent or whose timer is due soon', async () => {
    const before = await liveOf(server);
    const post = async (workflow: string, input: unknown) => (await api(server.url).post('/executions', { workflow, input })).body.id as string;
    const slow = await post('slow-agent', {});
    const soon = await post('nap-soon', {});
    const signal = await post('approve', {});
    const far = await post('nap-far', {});
    // The signal's and the distant timer's leave within the quiet time; the other two stay (passivateMs is a minute;
    // their step and timer take 3 s, long enough for the quiet ones to leave first on a loaded host).
    const quiet = await until(server, (l) => l.passivated >= before.passivated + 2);
    expect(quiet.passivated).toBe(before.passivated + 2);
    expect(quiet.live).toBe(before.live + 2);
    // They finish in memory, never passivated: their step's result and their timer found them live.
    expect(await waitForEnd(server.engine, slow)).toMatchObject({ status: 'completed', output: 'done' });
    expect(await waitForEnd(server.engine, soon)).toMatchObject({ status: 'completed', output: 'woke' });
    expect((await liveOf(server)).passivated).toBe(before.passivated + 2);
    // The evicted ones come back for their input.
    expect((await api(server.url).post(`/executions/${signal}/signals/go`, { payload: 'ok' })).status).toBe(202);
    expect(await waitForEnd(server.engine, signal)).toMatchObject({ status: 'completed', output: 'ok' });
    expect((await api(server.url).post(`/executions/${far}/cancel`, { reason: 'test' })).status).toBe(202);
    expect((await waitForEnd(server.engine, far)).status).toBe('cancelled');
  });
});

describe('the live cap', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ passivateMs: 60_000, passivateQuietMs: 60_000, maxLive: 5 });
    await api(server.url).post('/workflow-definitions', { name: 'approve', steps: [{ id: 'w', type: 'wait', signal: 'go' }, { id: 'b', type: 'task', agent: 'echo', input: '$.steps.w.output' }] });
  });
  afterAll(async () => server.close());

  it('keeps at most maxLive executions in memory and serves all of them', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) ids.push((await api(server.url).post('/executions', { workflow: 'approve', input: {} })).body.id);
    await until(server, (l) => l.live <= 5);
    for (const id of ids) expect((await api(server.url).post(`/executions/${id}/signals/go`, { payload: id })).status).toBe(202);
    for (const id of ids) expect(await waitForEnd(server.engine, id)).toMatchObject({ status: 'completed', output: id });
  });
});

describe('passivated executions across a restart', () => {
  it('resumes passivated executions on their signal and timer after a restart, which rebuilds none of the waiting ones', async () => {
    const first = await startTestServer({ passivateMs: 50, keepDataDir: true });
    const define = (doc: unknown) => api(first.url).post('/workflow-definitions', doc);
    await define({ name: 'approve', steps: [{ id: 'w', type: 'wait', signal: 'go' }, { id: 'b', type: 'task', agent: 'echo', input: '$.steps.w.output' }] });
    await define({ name: 'nap', steps: [{ id: 's', type: 'sleep', ms: 600 }, { id: 'b', type: 'task', agent: 'echo', input: 'woke' }] });
    await define({ name: 'parent', steps: [{ id: 'c', type: 'workflow', workflow: 'approve', input: {} }, { id: 'after', type: 'task', agent: 'echo', input: '$.steps.c.output' }] });
    const w = (await api(first.url).post('/executions', { workflow: 'approve', input: {} })).body.id as string;
    const n = (await api(first.url).post('/executions', { workflow: 'nap', input: {} })).body.id as string;
    const p = (await api(first.url).post('/executions', { workflow: 'parent', input: {} })).body.id as string;
    await waitForStatus(first.engine, w, 'waiting');
    let kid: string | undefined;
    for (let i = 0; !kid && i < 100; i++) {
      kid = (await api(first.url).get(`/executions/${p}/children`)).body.items[0]?.id;
      if (!kid) await new Promise((r) => setTimeout(r, 20));
    }
    await waitForStatus(first.engine, kid as string, 'waiting');
    await until(first, (l) => l.passivated >= 3);
    await first.close();
    const second = await startTestServer({ dataDir: first.dataDir, passivateMs: 50 });
    try {
      expect((await api(second.url).post(`/executions/${w}/signals/go`, { payload: 'after restart' })).status).toBe(202);
      expect(await waitForEnd(second.engine, w)).toMatchObject({ status: 'completed', output: 'after restart' });
      expect(await waitForEnd(second.engine, n)).toMatchObject({ status: 'completed', output: 'woke' });
      // Recovery left the waiting child in the store; its parent (running) was rebuilt and still hears of its end.
      expect((await second.engine.recoveryStats?.())?.waiting).toBeGreaterThanOrEqual(2);
      expect((await api(second.url).post(`/executions/${kid}/signals/go`, { payload: 'child done' })).status).toBe(202);
      expect(await waitForEnd(second.engine, p)).toMatchObject({ status: 'completed', output: 'child done' });
      await gapFree(second, w);
      await gapFree(second, n);
    } finally {
      await second.close();
    }
  });
});
