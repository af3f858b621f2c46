/**
 * XState-native workflows (issue 15): a machine exported from a machines-directory module runs as an
 * execution: task invokes are durable steps with attempts, `after` delays are durable timers, signals
 * are events, and it survives passivation and a SIGKILL of the server.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../support/http.ts';
import { startServerProcess, type ServerProcess } from '../support/process.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { pollUntil, waitForEnd, waitForStatus } from '../support/wait.ts';

const MACHINES = resolve(import.meta.dirname, '../fixtures/code-machines');

interface Ev {
  seq: number;
  type: string;
  stepId: string | null;
  data: Record<string, unknown>;
}

async function events(url: string, id: string): Promise<Ev[]> {
  const items = (await api(url).get(`/executions/${id}/events`, { query: { limit: 1000 } })).body.items as Ev[];
  expect(items.map((e) => e.seq)).toEqual(items.map((_, i) => i + 1));
  return items;
}

describe('XState-native machines', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ machinesDir: MACHINES, passivateMs: 50 });
  });
  afterAll(async () => server?.close());

  it('registers the machine as a code workflow with its tasks, signals and diagram', async () => {
    const def = await api(server.url).get('/workflow-definitions/order-machine');
    expect(def.status).toBe(200);
    expect(def.body).toMatchObject({ name: 'order-machine', version: 1, source: 'code', document: { kind: 'xstate', tasks: { charge: 'echo', pack: 'sleep', flaky: 'fail' } } });
    expect(def.body.document.signals).toEqual(['approve', 'explode', 'reject']);
    expect(def.body.document.hash).toMatch(/^[0-9a-f]{16}$/);
    const diagram = await api(server.url).get('/workflow-definitions/order-machine/diagram');
    expect(diagram.status).toBe(200);
    expect(String(diagram.text)).toContain('stateDiagram-v2');
    expect(String(diagram.text)).toContain('s_order_review --> s_order_flaky : approve');
  });

  it('runs task invokes in a parallel state as steps and completes with the machine output', async () => {
    const { status, body } = await api(server.url).post('/executions', { workflow: 'order-machine', input: { amount: 5, packMs: 5 } });
    expect(status).toBe(201);
    const end = await waitForEnd(server.engine, body.id);
    expect(end.status).toBe('completed');
    expect(end.output).toEqual({ approvedBy: null, decidedAt: null, receipt: { amount: 5 }, failures: 0 });
    const steps = (await api(server.url).get(`/executions/${body.id}/steps`)).body.items as { stepId: string; status: string; attempts: number }[];
    expect(steps.map((s) => [s.stepId, s.status]).sort()).toEqual([['charge', 'completed'], ['flaky', 'completed'], ['pack', 'completed']]);
    const types = (await events(server.url, body.id)).map((e) => e.type);
    expect(types[0]).toBe('workflow.started');
    expect(types.at(-1)).toBe('workflow.completed');
  });

  it('waits for a signal (passivated meanwhile), refuses unknown ones, and takes the payload as the event', async () => {
    const { body } = await api(server.url).post('/executions', { workflow: 'order-machine', input: { amount: 500 } });
    const waiting = await waitForStatus(server.engine, body.id, 'waiting');
    expect(waiting.currentSteps).toEqual(['review']);
    const unknown = await api(server.url).post(`/executions/${body.id}/signals/nope`, { payload: {} });
    expect(unknown.status).toBe(409);
    expect(unknown.body.code).toBe('unknown_signal');
    await pollUntil(async () => ((await server.engine.status()) as unknown as { passivated: number }).passivated > 0 || undefined, 'passivated');
    expect((await api(server.url).post(`/executions/${body.id}/signals/approve`, { payload: { by: 'ada' } })).status).toBe(202);
    const end = await waitForEnd(server.engine, body.id);
    expect(end.status).toBe('completed');
    const evs = await events(server.url, body.id);
    const signal = evs.find((e) => e.type === 'workflow.signal.received');
    expect(signal?.data).toMatchObject({ name: 'approve', payload: { by: 'ada' } });
    // now() in an action is the time of the input that ran it.
    expect(end.output).toMatchObject({ approvedBy: 'ada', decidedAt: Date.parse(String((signal as unknown as { timestamp: string }).timestamp)) });
  });

  it('retries a failing task by its policy, then takes onError', async () => {
    const ok = await api(server.url).post('/executions', { workflow: 'order-machine', input: { amount: 1, failTimes: 2 } });
    const okEnd = await waitForEnd(server.engine, ok.body.id);
    expect(okEnd.status).toBe('completed');
    const flaky = ((await api(server.url).get(`/executions/${ok.body.id}/steps`)).body.items as { stepId: string; attempts: number }[]).find((s) => s.stepId === 'flaky');
    expect(flaky?.attempts).toBe(3);
    const bad = await api(server.url).post('/executions', { workflow: 'order-machine', input: { amount: 1, failTimes: 9 } });
    const badEnd = await waitForEnd(server.engine, bad.body.id);
    expect(badEnd.status).toBe('completed');
    expect(badEnd.output).toMatchObject({ failures: 1, receipt: null });
    const evs = await events(server.url, bad.body.id);
    expect(evs.filter((e) => e.type === 'workflow.step.retrying')).toHaveLength(2);
    expect(evs.find((e) => e.type === 'workflow.step.failed')?.data).toMatchObject({ attempt: 3, error: { code: 'flaky_down' } });
  });

  it('fails the execution with a reason when an action throws', async () => {
    const { body } = await api(server.url).post('/executions', { workflow: 'order-machine', input: { amount: 500 } });
    await waitForStatus(server.engine, body.id, 'waiting');
    await api(server.url).post(`/executions/${body.id}/signals/explode`, { payload: {} });
    const end = await waitForEnd(server.engine, body.id);
    expect(end.status).toBe('failed');
    expect(end.error).toMatchObject({ code: 'machine_failed' });
    expect(String(end.error?.message)).toContain('boom');
  });

  it('cancels a waiting machine', async () => {
    const { body } = await api(server.url).post('/executions', { workflow: 'order-machine', input: { amount: 500 } });
    await waitForStatus(server.engine, body.id, 'waiting');
    expect((await api(server.url).post(`/executions/${body.id}/cancel`, {})).status).toBeLessThan(300);
    expect((await waitForEnd(server.engine, body.id)).status).toBe('cancelled');
  });
});

describe('XState-native machines across a SIGKILL', () => {
  let dir = '';
  let proc: ServerProcess | undefined;
  afterAll(async () => {
    await proc?.kill();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('resumes a machine waiting for a signal and one in an after delay, with gap-free events', async () => {
    dir = await mkdtemp(join(tmpdir(), 'actorflow-code-machines-'));
    const data = join(dir, 'data');
    proc = await startServerProcess({ dataDir: data, machinesDir: MACHINES, sync: 'full' });
    let http = api(proc.url);
    const waiting = (await http.post('/executions', { workflow: 'order-machine', input: { amount: 500 } })).body.id as string;
    const cooling = (await http.post('/executions', { workflow: 'order-machine', input: { amount: 5, coolMs: 1500 } })).body.id as string;
    await pollUntil(async () => ((await http.get(`/executions/${waiting}`)).body.status === 'waiting' ? true : undefined), 'waiting');
    // The second one is past its tasks, in the parallel state's `after` delay.
    await pollUntil(async () => ((await http.get(`/executions/${cooling}/steps`)).body.items as { status: string }[]).filter((s) => s.status === 'completed').length === 3 || undefined, 'tasks done');
    await proc.kill();

    proc = await startServerProcess({ dataDir: data, machinesDir: MACHINES, sync: 'full' });
    http = api(proc.url);
    await pollUntil(async () => ((await http.get('/ready')).status === 200 ? true : undefined), 'ready');
    expect((await http.post(`/executions/${waiting}/signals/approve`, { payload: { by: 'bo' } })).status).toBe(202);
    for (const id of [waiting, cooling]) {
      const end = await pollUntil(async () => {
        const x = await http.get(`/executions/${id}`);
        return x.body.status === 'completed' ? x.body : undefined;
      }, `${id} completed`);
      expect(end.lastSeq).toBe((await events(proc.url, id)).length);
    }
    expect((await http.get(`/executions/${waiting}`)).body.output).toMatchObject({ approvedBy: 'bo', receipt: { amount: 500 } });
  });
});
