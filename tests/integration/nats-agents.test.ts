/**
 * The server over NATS with agents in other processes (issue 3 acceptance): `actorflow serve --nats
 * --no-builtin-agents` and `actorflow agent` children on a real nats-server (random loopback port,
 * JetStream in a temp dir). Everything is observed through the REST API. The tests run in order
 * and share the server: the first needs no agent to be running yet, the last restarts nats-server.
 */
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollUntil } from '../support/wait.ts';
import { subjects } from '../../src/bus/nats/subjects.ts';
import { msgpackCodec } from '../../src/common/codec.ts';
import type { EventView } from '../../src/common/execution.ts';
import { startAgentProcess, type AgentProcess, type AgentProcessOptions } from '../support/agent-process.ts';
import { api, type Api } from '../support/http.ts';
import { startNatsServer, type NatsServer } from '../support/nats.ts';
import { startServerProcess, type ServerProcess } from '../support/process.ts';

/** Short ack wait: a task of a SIGKILLed agent is redelivered after this long. */
const ACK_WAIT_MS = 1500;
const TERMINAL = new Set(['completed', 'failed', 'cancelled', 'timed_out']);
const fast = { maxAttempts: 3, backoff: 'fixed', initialMs: 5 };

let dir = '';
let nats: NatsServer | undefined;
let server: ServerProcess | undefined;
let nc: NatsConnection | undefined;
let http: Api;
const agents: AgentProcess[] = [];
/** The agent serving every built-in kind from the first test until the drain test. */
let alpha: AgentProcess;

async function agent(o: Omit<AgentProcessOptions, 'natsUrl'>): Promise<AgentProcess> {
  const a = await startAgentProcess({ natsUrl: (nats as NatsServer).url, ackWaitMs: ACK_WAIT_MS, ...o });
  agents.push(a);
  return a;
}

const until = <T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 15_000) => pollUntil(probe, what, timeoutMs);

async function define(doc: Record<string, unknown>): Promise<void> {
  const res = await http.post('/workflow-definitions', doc);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
}

async function start(workflow: string, input: unknown = {}): Promise<string> {
  const res = await http.post('/executions', { workflow, input });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id as string;
}

async function finished(id: string, timeoutMs = 15_000): Promise<any> {
  return until(async () => {
    const x = await http.get(`/executions/${id}`);
    return TERMINAL.has(x.body.status) ? x.body : undefined;
  }, `execution ${id} to finish`, timeoutMs);
}

async function events(id: string): Promise<EventView[]> {
  const res = await http.get(`/executions/${id}/events`, { query: { limit: 1000 } });
  expect(res.status).toBe(200);
  return res.body.items as EventView[];
}

async function steps(id: string): Promise<Record<string, any>> {
  const res = await http.get(`/executions/${id}/steps`);
  return Object.fromEntries((res.body.items as any[]).map((s) => [s.stepId, s]));
}

async function attempts(id: string, stepId: string): Promise<any[]> {
  return (await http.get(`/executions/${id}/steps/${stepId}/attempts`)).body.items as any[];
}

async function agentView(id: string): Promise<any> {
  const res = await http.get(`/agents/${encodeURIComponent(id)}`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

/** Resolves once `agent.selected` for that step (and attempt) is in the execution's log. */
function selected(id: string, stepId: string, count = 1): Promise<EventView[]> {
  return until(async () => {
    const list = (await events(id)).filter((e) => e.type === 'agent.selected' && e.stepId === stepId);
    return list.length >= count ? list : undefined;
  }, `agent.selected for ${id}/${stepId}`);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'actorflow-nats-agents-'));
  await mkdir(join(dir, 'machines'));
  nats = await startNatsServer();
  server = await startServerProcess({ dataDir: join(dir, 'data'), machinesDir: join(dir, 'machines'), sync: 'normal', nats: nats.url, builtinAgents: false });
  http = api(server.url);
  nc = await connect({ servers: nats.url, name: 'nats-agents-test-observer' });
  await define({
    name: 'chain',
    steps: [
      { id: 'a', type: 'task', agent: 'echo', input: { n: '$.input.n' } },
      { id: 'b', type: 'task', agent: 'log', input: { level: 'warn', message: 'half way', data: '$.steps.a.output' } },
      { id: 'c', type: 'task', agent: 'echo', input: { fromA: '$.steps.a.output.n' } },
    ],
    output: { result: '$.steps.c.output.fromA' },
  });
  await define({ name: 'flaky', steps: [{ id: 'f', type: 'task', agent: 'fail', input: { times: '$.input.times', code: 'boom' }, retry: fast }] });
  await define({ name: 'fatal', steps: [{ id: 'f', type: 'task', agent: 'fail', input: { retryable: false, code: 'fatal' }, retry: fast }, { id: 'never', type: 'task', agent: 'echo', input: 'no' }] });
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
  await define({ name: 'slow', steps: [{ id: 's', type: 'task', agent: 'sleep', input: { ms: 20_000 }, timeoutMs: 300, retry: { maxAttempts: 2, backoff: 'fixed', initialMs: 5 } }] });
  await define({ name: 'long', steps: [{ id: 's', type: 'task', agent: 'sleep', input: { ms: 20_000 } }, { id: 'after', type: 'task', agent: 'echo', input: 'no' }] });
  await define({ name: 'nap', steps: [{ id: 'nap', type: 'task', agent: 'sleep', input: { ms: '$.input.ms' } }] });
  await define({
    name: 'crashy',
    steps: [
      { id: 'nap', type: 'task', agent: 'sleep', input: { ms: 2000 } },
      { id: 'after', type: 'task', agent: 'echo', input: { done: true } },
    ],
  });
  await define({
    name: 'steady',
    steps: [
      { id: 'a', type: 'task', agent: 'echo', input: { n: '$.input.n' } },
      { id: 'b', type: 'task', agent: 'sleep', input: { ms: 300 } },
      { id: 'c', type: 'task', agent: 'echo', input: { n: '$.steps.a.output.n' } },
    ],
    output: { n: '$.steps.c.output.n' },
  });
}, 40_000);

afterAll(async () => {
  // Every child goes, also when a test failed half-way.
  await Promise.all(agents.map((a) => a.kill().catch(() => undefined)));
  await server?.kill().catch(() => undefined);
  await nc?.close().catch(() => undefined);
  await nats?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 30_000);

describe('flows through agent processes over NATS', () => {
  it('keeps a flow waiting while no agent runs, then completes it when one starts', async () => {
    expect((await http.get('/agents')).body.items).toEqual([]);
    const status = await http.get('/status');
    expect(status.body.bus).toBe('connected');
    const id = await start('chain', { n: 1 });
    // The first step's task sits durably in the JetStream work queue; nobody took it.
    const jsm = await jetstreamManager(nc as NatsConnection);
    const stream = subjects().stream;
    await until(async () => ((await jsm.streams.info(stream)).state.messages === 1 ? true : undefined), 'the task in the stream');
    const x = await http.get(`/executions/${id}`);
    expect(x.body.status).toBe('running');
    expect(x.body.currentSteps).toEqual(['a']);
    expect((await events(id)).map((e) => e.type)).not.toContain('agent.selected');

    alpha = await agent({ name: 'alpha', concurrency: 8 });
    const done = await finished(id);
    expect(done.status).toBe('completed');
    expect(done.output).toEqual({ result: 1 });
    const picked = (await events(id)).filter((e) => e.type === 'agent.selected');
    expect(picked.map((e) => [e.stepId, e.data.agentId])).toEqual([['a', alpha.id], ['b', alpha.id], ['c', alpha.id]]);
    // Acked after the engine journaled each result: the work queue empties.
    await until(async () => ((await jsm.streams.info(stream)).state.messages === 0 ? true : undefined), 'an empty work queue', 5000);
  }, 30_000);

  it('runs a 3-step flow: results, step logs and agent ids come back; events are published on core NATS', async () => {
    const seen: { subject: string; event: EventView }[] = [];
    const sub = (nc as NatsConnection).subscribe('actorflow.events.chain.>', { callback: (_e, m) => void seen.push({ subject: m.subject, event: msgpackCodec.decode<EventView>(m.data) }) });
    await (nc as NatsConnection).flush();
    try {
      const id = await start('chain', { n: 42 });
      const x = await finished(id);
      expect(x.status).toBe('completed');
      expect(x.output).toEqual({ result: 42 });
      const s = await steps(id);
      expect(Object.keys(s)).toEqual(['a', 'b', 'c']);
      for (const step of Object.values(s)) expect(step).toMatchObject({ status: 'completed', attempts: 1, agentId: alpha.id });
      expect(s.c.output).toEqual({ fromA: 42 });
      const logs = await http.get(`/executions/${id}/logs`, { query: { level: 'warn' } });
      expect(logs.body.items).toEqual([expect.objectContaining({ level: 'warn', message: 'half way', stepId: 'b', attempt: 1, data: { n: 42 } })]);
      const journal = await events(id);
      expect(journal.map((e) => e.seq)).toEqual(journal.map((_, i) => i + 1));
      const published = await until(async () => {
        const mine = seen.filter((g) => g.event.executionId === id);
        return mine.length === journal.length ? mine : undefined;
      }, 'every event on NATS', 5000);
      expect(published.map((g) => g.event)).toEqual(journal);
      expect(new Set(published.map((g) => g.subject))).toEqual(new Set([`actorflow.events.chain.${id}`]));
    } finally {
      sub.unsubscribe();
    }
  });

  it('lists the agent under /agents with status, capacity, load, heartbeat, version and step stats', async () => {
    // Load comes with heartbeats (every second): wait for one sent after the last flow.
    const list = await until(async () => {
      const res = await http.get('/agents');
      return res.body.items?.[0]?.inFlight === 0 ? res : undefined;
    }, 'a heartbeat with nothing in flight', 5000);
    expect(list.status).toBe(200);
    expect(list.body.nextCursor).toBeNull();
    expect(list.body.items).toEqual([
      {
        id: alpha.id,
        name: 'alpha',
        kinds: ['echo', 'log', 'sleep', 'http', 'fail'],
        status: 'online',
        capacity: 8,
        inFlight: 0,
        lastHeartbeatAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        version: expect.any(String),
      },
    ]);
    expect(Date.now() - Date.parse(list.body.items[0].lastHeartbeatAt)).toBeLessThan(5000);
    const one = await agentView(alpha.id);
    expect(one).toMatchObject({ id: alpha.id, status: 'online', stats: { completed: 6, failed: 0, failureRate: 0 } });
    expect(one.stats.p50Ms).toEqual(expect.any(Number));
    const unknown = await http.get('/agents/ag_nobody');
    expect(unknown.status).toBe(404);
    expect(unknown.contentType).toContain('application/problem+json');
    expect(unknown.body.code).toBe('agent_not_found');
    expect((await http.get('/agents/not-an-agent')).body.code).toBe('agent_not_found');
    expect((await http.get('/agents', { query: { limit: 0 } })).status).toBe(422);
  });

  it('retries with backoff; every attempt records its agent, duration and error', async () => {
    const id = await start('flaky', { times: 2 });
    const x = await finished(id);
    expect(x.status).toBe('completed');
    const list = await attempts(id, 'f');
    expect(list.map((a) => a.status)).toEqual(['failed', 'failed', 'completed']);
    expect(list.map((a) => a.attempt)).toEqual([1, 2, 3]);
    for (const a of list) {
      expect(a.agentId).toBe(alpha.id);
      expect(a.durationMs).toEqual(expect.any(Number));
    }
    expect(list[0].error).toMatchObject({ code: 'boom', retryable: true });
    const retrying = (await events(id)).filter((e) => e.type === 'workflow.step.retrying');
    expect(retrying.map((e) => [e.data.attempt, e.data.delayMs, e.data.agentId])).toEqual([[1, 5, alpha.id], [2, 5, alpha.id]]);
    // Every attempt was taken by an agent with its own (executionId, stepId, attempt) key.
    const picked = (await events(id)).filter((e) => e.type === 'agent.selected');
    expect(picked.map((e) => e.data.attempt)).toEqual([1, 2, 3]);
  });

  it('fails at once on a non-retryable error (onError fail)', async () => {
    const x = await finished(await start('fatal'));
    expect(x.status).toBe('failed');
    expect(x.error).toMatchObject({ code: 'fatal', stepId: 'f', compensated: false });
    const s = await steps(x.id);
    expect(s.f).toMatchObject({ status: 'failed', attempts: 1, agentId: alpha.id });
    expect(s.never).toBeUndefined();
  });

  it('applies onError skip, fallback and compensate', async () => {
    const [skip, fallback, saga] = await Promise.all(['skipper', 'fallbacker', 'saga'].map(async (w) => finished(await start(w))));
    expect(skip.status).toBe('completed');
    const s1 = await steps(skip.id);
    expect(s1.f.status).toBe('skipped');
    expect(s1.after.output).toBe('went on');

    expect(fallback.status).toBe('completed');
    expect(fallback.output).toBe('b');
    const s2 = await steps(fallback.id);
    expect(s2.never).toBeUndefined();
    expect(s2['plan-b']).toMatchObject({ status: 'completed', agentId: alpha.id });

    expect(saga.status).toBe('failed');
    expect(saga.error).toMatchObject({ stepId: 'ship', compensated: true });
    const order = (await http.get(`/executions/${saga.id}/steps`)).body.items.map((s: any) => [s.stepId, s.status]);
    expect(order).toEqual([['reserve', 'completed'], ['charge', 'completed'], ['ship', 'failed'], ['refund', 'completed'], ['unreserve', 'completed']]);
  });

  it('times a step out and the agent gets an abort; fails with step_timeout after its attempts', async () => {
    const before = (await agentView(alpha.id)).stats;
    const x = await finished(await start('slow'));
    expect(x.status).toBe('failed');
    expect(x.error).toMatchObject({ code: 'step_timeout', stepId: 's' });
    const list = await attempts(x.id, 's');
    expect(list.map((a) => [a.status, a.error?.code, a.agentId])).toEqual([['failed', 'step_timeout', alpha.id], ['failed', 'step_timeout', alpha.id]]);
    // Both 20 s sleeps were aborted: the agent reported them back long before they could have ended, and runs nothing.
    const after = await until(async () => {
      const a = await agentView(alpha.id);
      return a.stats.failed >= before.failed + 2 && a.inFlight === 0 ? a : undefined;
    }, 'the aborted attempts reported by the agent', 8000);
    expect(after.stats.failed).toBe(before.failed + 2);
  });

  it('cancel aborts the in-flight step on the agent', async () => {
    const id = await start('long');
    await selected(id, 's');
    // The agent's heartbeat shows the 20 s sleep in flight…
    await until(async () => ((await agentView(alpha.id)).inFlight === 1 ? true : undefined), 'the step in flight on the agent', 5000);
    const res = await http.post(`/executions/${id}/cancel`, { reason: 'enough' });
    expect(res.status).toBe(202);
    expect(res.body.status).toBe('cancelled');
    expect((await attempts(id, 's')).map((a) => [a.status, a.agentId])).toEqual([['cancelled', alpha.id]]);
    // …and it is gone within a few heartbeats: the handler was aborted, not left to sleep.
    await until(async () => ((await agentView(alpha.id)).inFlight === 0 ? true : undefined), 'the aborted step to leave the agent', 5000);
    expect((await steps(id)).after).toBeUndefined();
  });

  it('drains on SIGTERM: the agent finishes its in-flight step, then leaves (offline)', async () => {
    const id = await start('nap', { ms: 800 });
    await selected(id, 'nap');
    const code = await alpha.stop();
    expect(code).toBe(0);
    const x = await finished(id);
    expect(x.status).toBe('completed');
    expect((await attempts(id, 'nap')).map((a) => [a.status, a.agentId])).toEqual([['completed', alpha.id]]);
    // Its last heartbeat said it was leaving: offline at once, not after missed heartbeats.
    await until(async () => ((await agentView(alpha.id)).status === 'offline' ? true : undefined), 'the drained agent offline', 2000);
  });

  it('redelivers the step of an agent killed with SIGKILL mid-step to another agent, with the same key', async () => {
    const victim = await agent({ name: 'victim', kinds: ['sleep', 'echo'], concurrency: 4 });
    const id = await start('crashy');
    const [first] = await selected(id, 'nap');
    expect(first?.data).toEqual({ attempt: 1, agentId: victim.id });
    expect((await attempts(id, 'nap')).map((a) => [a.status, a.agentId])).toEqual([['running', victim.id]]);
    await victim.kill();
    const rescuer = await agent({ name: 'rescuer', kinds: ['sleep', 'echo'], concurrency: 4 });
    const x = await finished(id, 20_000);
    expect(x.status).toBe('completed');
    expect(x.output).toEqual({ done: true });
    const picked = (await events(id)).filter((e) => e.type === 'agent.selected' && e.stepId === 'nap');
    // The victim took it first and the rescuer last, always as attempt 1 (under load JetStream may redeliver once more).
    expect(picked[0]?.data).toEqual({ attempt: 1, agentId: victim.id });
    expect(picked.at(-1)?.data).toEqual({ attempt: 1, agentId: rescuer.id });
    for (const e of picked) expect([victim.id, rescuer.id]).toContain(e.data.agentId);
    for (const e of picked) expect(e.data.attempt).toBe(1);
    // Still one attempt: a redelivery is not a retry.
    expect((await attempts(id, 'nap')).map((a) => [a.attempt, a.status, a.agentId])).toEqual([[1, 'completed', rescuer.id]]);
    // The killed agent misses its heartbeats and is marked offline.
    await until(async () => ((await agentView(victim.id)).status === 'offline' ? true : undefined), 'the killed agent offline', 8000);
    expect((await agentView(rescuer.id)).status).toBe('online');
  }, 40_000);

  it('survives a nats-server restart mid-run (JetStream dir kept): reads keep working, no step is lost, every flow completes', async () => {
    const ns = nats as NatsServer;
    const srv = server as ServerProcess;
    // The rescuer agent from the previous test serves sleep and echo.
    const before = await Promise.all(Array.from({ length: 10 }, (_, n) => start('steady', { n })));
    // Some flows are mid-step (a sleep running on the agent) when the server dies.
    await selected(before[0] as string, 'b');
    await ns.kill();

    await until(async () => ((await http.get('/status')).body.bus === 'reconnecting' ? true : undefined), '/status bus reconnecting', 5000);
    const ready = await http.get('/ready');
    expect(ready.status).toBe(503);
    expect(ready.body.code).toBe('not_ready');
    // Reads and starts keep working; the new flows' dispatches wait for the bus.
    expect((await http.get(`/executions/${before[0]}`)).status).toBe(200);
    const during = await Promise.all(Array.from({ length: 5 }, (_, n) => start('steady', { n: 100 + n })));
    expect((await http.get('/status')).body.bus).toBe('reconnecting');

    await ns.restart();
    await until(async () => ((await http.get('/ready')).status === 200 ? true : undefined), '/ready again', 10_000);
    expect((await http.get('/status')).body.bus).toBe('connected');

    const all = [...before, ...during];
    for (const id of all) {
      const x = await finished(id, 20_000);
      expect(x.status, id).toBe('completed');
    }
    const inputs = [...Array.from({ length: 10 }, (_, n) => n), ...Array.from({ length: 5 }, (_, n) => 100 + n)];
    for (const [i, id] of all.entries()) {
      const x = await http.get(`/executions/${id}`);
      expect(x.body.output).toEqual({ n: inputs[i] });
      const s = await steps(id);
      expect(Object.values(s).map((st: any) => [st.stepId, st.status, st.attempts])).toEqual([['a', 'completed', 1], ['b', 'completed', 1], ['c', 'completed', 1]]);
      const journal = await events(id);
      expect(journal.map((e) => e.seq)).toEqual(journal.map((_, k) => k + 1));
    }
    // The agent reconnected and heartbeats again.
    const rescuer = agents.find((a) => a.name === 'rescuer') as AgentProcess;
    await until(async () => ((await agentView(rescuer.id)).status === 'online' ? true : undefined), 'the agent online again', 8000);
    // And the server still drains cleanly on SIGTERM with the NATS bus.
    expect(await srv.stop()).toBe(0);
  }, 60_000);
});
