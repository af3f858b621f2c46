/**
 * The direct dispatch path over NATS (src/bus/nats/subjects.ts): a task goes to an agent with a free
 * slot by core request/reply, the JetStream work queue takes the rest. Real nats-server (random
 * loopback port, JetStream in a temp dir). First the server and `actorflow agent` processes, seen
 * through the REST API and a NATS observer (a plain subscriber sees core requests and JetStream
 * publishes alike); then the bus itself, with its dispatch counts and agents of the SDK in this process.
 */
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAgent, type Agent } from '../../src/agents/create-agent.ts';
import { createNatsBus, type NatsBus } from '../../src/bus/nats/nats-bus.ts';
import { subjects } from '../../src/bus/nats/subjects.ts';
import type { Heartbeat, TaskContext, TaskMessage, TaskResult, TaskTaken } from '../../src/bus/types.ts';
import { msgpackCodec as codec } from '../../src/common/codec.ts';
import type { EventView } from '../../src/common/execution.ts';
import type { Logger } from '../../src/common/logger.ts';
import { startAgentProcess, type AgentProcess, type AgentProcessOptions } from '../support/agent-process.ts';
import { api, type Api } from '../support/http.ts';
import { startNatsServer, type NatsServer } from '../support/nats.ts';
import { startServerProcess, type ServerProcess } from '../support/process.ts';
import { pollUntil } from '../support/wait.ts';

const TERMINAL = new Set(['completed', 'failed', 'cancelled', 'timed_out']);
const quiet: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

let nats: NatsServer;
let nc: NatsConnection;

beforeAll(async () => {
  nats = await startNatsServer();
  nc = await connect({ servers: nats.url, name: 'nats-direct-test-observer' });
}, 20_000);

afterAll(async () => {
  await nc?.close().catch(() => undefined);
  await nats?.close();
});

/** One message a task caused on NATS, as a plain subscriber sees it. */
interface Seen {
  readonly path: 'direct' | 'queue' | 'taken';
  readonly subject: string;
  readonly taskId: string;
  readonly at: number;
}

/** Records every direct request, JetStream task publish and `taken` under a prefix. */
async function observe(prefix = 'actorflow'): Promise<{ seen: Seen[]; of: (taskId: string) => Seen[]; close: () => void }> {
  const s = subjects(prefix);
  const seen: Seen[] = [];
  const subs = (
    [
      [s.directAll, 'direct'],
      [s.tasksAll, 'queue'],
      [s.taken, 'taken'],
    ] as const
  ).map(([subject, path]) =>
    nc.subscribe(subject, {
      callback: (_e, m) => void seen.push({ path, subject: m.subject, taskId: codec.decode<{ taskId: string }>(m.data).taskId, at: Date.now() }),
    }),
  );
  await nc.flush();
  return { seen, of: (taskId) => seen.filter((x) => x.taskId === taskId), close: () => subs.forEach((x) => x.unsubscribe()) };
}

describe('flows over agent processes', () => {
  let dir = '';
  let server: ServerProcess | undefined;
  let http: Api;
  const agents: AgentProcess[] = [];

  async function agent(o: Omit<AgentProcessOptions, 'natsUrl'>): Promise<AgentProcess> {
    const a = await startAgentProcess({ natsUrl: nats.url, ackWaitMs: 1500, ...o });
    agents.push(a);
    // The engine sends directly only to agents it knows (their heartbeats).
    await pollUntil(async () => ((await http.get(`/agents/${encodeURIComponent(a.id)}`)).body.status === 'online' ? true : undefined), `agent ${a.name} online`, 10_000);
    return a;
  }

  async function start(workflow: string, input: unknown = {}): Promise<string> {
    const res = await http.post('/executions', { workflow, input });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.id as string;
  }

  const finished = (id: string, timeoutMs = 15_000): Promise<any> =>
    pollUntil(async () => {
      const x = await http.get(`/executions/${id}`);
      return TERMINAL.has(x.body.status) ? x.body : undefined;
    }, `execution ${id} to finish`, timeoutMs);

  const events = async (id: string): Promise<EventView[]> => (await http.get(`/executions/${id}/events`, { query: { limit: 1000 } })).body.items as EventView[];
  const attempts = async (id: string, stepId: string): Promise<any[]> => (await http.get(`/executions/${id}/steps/${stepId}/attempts`)).body.items as any[];
  const agentView = async (id: string): Promise<any> => (await http.get(`/agents/${encodeURIComponent(id)}`)).body;
  const selected = (id: string, stepId: string) =>
    pollUntil(async () => {
      const list = (await events(id)).filter((e) => e.type === 'agent.selected' && e.stepId === stepId);
      return list.length > 0 ? list : undefined;
    }, `agent.selected for ${id}/${stepId}`, 10_000);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'actorflow-nats-direct-'));
    await mkdir(join(dir, 'machines'));
    server = await startServerProcess({ dataDir: join(dir, 'data'), machinesDir: join(dir, 'machines'), sync: 'normal', nats: nats.url, builtinAgents: false });
    http = api(server.url);
    const define = async (doc: Record<string, unknown>) => expect((await http.post('/workflow-definitions', doc)).status).toBe(201);
    await define({
      name: 'chain',
      steps: [
        { id: 'a', type: 'task', agent: 'echo', input: { n: '$.input.n' } },
        { id: 'b', type: 'task', agent: 'log', input: { level: 'info', message: 'half way' } },
        { id: 'c', type: 'task', agent: 'echo', input: { fromA: '$.steps.a.output.n' } },
      ],
      output: { result: '$.steps.c.output.fromA' },
    });
    await define({ name: 'nap', steps: [{ id: 'nap', type: 'task', agent: 'sleep', input: { ms: '$.input.ms' } }] });
    await define({ name: 'long', steps: [{ id: 's', type: 'task', agent: 'sleep', input: { ms: 20_000 } }, { id: 'after', type: 'task', agent: 'echo', input: 'no' }] });
    await define({
      name: 'crashy',
      steps: [
        { id: 'nap', type: 'task', agent: 'sleep', input: { ms: 2000 } },
        { id: 'after', type: 'task', agent: 'echo', input: { done: true } },
      ],
    });
  }, 40_000);

  afterAll(async () => {
    await Promise.all(agents.map((a) => a.kill().catch(() => undefined)));
    await server?.kill().catch(() => undefined);
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 30_000);

  it('sends every step of a flow straight to the agent process: no JetStream message, no separate `taken`', async () => {
    const a = await agent({ name: 'direct-a', kinds: ['echo', 'log', 'sleep'], concurrency: 4 });
    const obs = await observe();
    try {
      const id = await start('chain', { n: 7 });
      const x = await finished(id);
      expect(x.status).toBe('completed');
      expect(x.output).toEqual({ result: 7 });
      const mine = obs.seen.filter((m) => m.taskId.startsWith(`${id}:`));
      expect(mine.map((m) => [m.path, m.taskId, m.subject])).toEqual(
        ['a', 'b', 'c'].map((step) => ['direct', `${id}:${step}:1`, subjects().direct(a.id)]),
      );
      // The answer to the request was the `taken`: each step still records who took it.
      const picked = (await events(id)).filter((e) => e.type === 'agent.selected');
      expect(picked.map((e) => [e.stepId, e.data.agentId, e.data.attempt])).toEqual([['a', a.id, 1], ['b', a.id, 1], ['c', a.id, 1]]);
      const jsm = await jetstreamManager(nc);
      expect((await jsm.streams.info(subjects().stream)).state.messages).toBe(0);
    } finally {
      obs.close();
    }
  });

  it('with the agent’s concurrency full, the extra steps go to the JetStream queue and still complete', async () => {
    const a = agents[0] as AgentProcess;
    // Only the 2-slot agent below serves `sleep` from here on.
    expect(await a.stop()).toBe(0);
    const small = await agent({ name: 'direct-small', kinds: ['sleep'], concurrency: 2 });
    const obs = await observe();
    try {
      const ids = await Promise.all(Array.from({ length: 5 }, () => start('nap', { ms: 1000 })));
      const done = await Promise.all(ids.map((id) => finished(id)));
      expect(done.map((x) => x.status)).toEqual(Array(5).fill('completed'));
      const paths = ids.map((id) => obs.of(`${id}:nap:1`).filter((m) => m.path !== 'taken').map((m) => m.path));
      // Two sent straight to the agent (its 2 slots), three queued; none both.
      expect(paths.filter((p) => p.join() === 'direct')).toHaveLength(2);
      expect(paths.filter((p) => p.join() === 'queue')).toHaveLength(3);
      for (const id of ids) expect((await attempts(id, 'nap')).map((t) => [t.attempt, t.status, t.agentId])).toEqual([[1, 'completed', small.id]]);
      // Queued tasks report `taken` on their own; direct ones do not.
      const taken = obs.seen.filter((m) => m.path === 'taken' && ids.some((id) => m.taskId.startsWith(`${id}:`)));
      expect(taken).toHaveLength(3);
    } finally {
      obs.close();
    }
  }, 30_000);

  it('cancel reaches a step dispatched directly: the agent aborts it', async () => {
    const small = agents[1] as AgentProcess;
    const obs = await observe();
    try {
      const id = await start('long');
      await selected(id, 's');
      expect(obs.of(`${id}:s:1`).map((m) => m.path)).toEqual(['direct']);
      await pollUntil(async () => ((await agentView(small.id)).inFlight === 1 ? true : undefined), 'the step in flight on the agent', 5000);
      const before = (await agentView(small.id)).stats.failed as number;
      const res = await http.post(`/executions/${id}/cancel`, { reason: 'enough' });
      expect(res.status).toBe(202);
      // The aborted 20 s sleep is reported back at once (as failed: cancelled), and leaves the agent.
      await pollUntil(async () => {
        const v = await agentView(small.id);
        return v.stats.failed === before + 1 && v.inFlight === 0 ? true : undefined;
      }, 'the aborted step reported and gone from the agent', 5000);
      expect((await attempts(id, 's')).map((t) => [t.status, t.agentId])).toEqual([['cancelled', small.id]]);
    } finally {
      obs.close();
    }
  });

  it('steps an agent took directly are queued again when it is killed (SIGKILL), and another agent completes them with the same key', async () => {
    const small = agents[1] as AgentProcess;
    expect(await small.stop()).toBe(0);
    const victim = await agent({ name: 'direct-victim', kinds: ['sleep', 'echo'], concurrency: 4 });
    const obs = await observe();
    try {
      const ids = await Promise.all([start('crashy'), start('crashy')]);
      for (const id of ids) expect((await selected(id, 'nap'))[0]?.data).toEqual({ attempt: 1, agentId: victim.id });
      for (const id of ids) expect(obs.of(`${id}:nap:1`).map((m) => [m.path, m.subject])).toEqual([['direct', subjects().direct(victim.id)]]);
      await victim.kill();
      const killedAt = Date.now();
      const rescuer = await agent({ name: 'direct-rescuer', kinds: ['sleep', 'echo'], concurrency: 4 });
      for (const id of ids) {
        const x = await finished(id, 20_000);
        expect(x.status).toBe('completed');
        expect(x.output).toEqual({ done: true });
        // Queued once the engine saw the victim lost (missed heartbeats), same task id (attempt 1).
        const requeued = obs.of(`${id}:nap:1`).filter((m) => m.path === 'queue');
        expect(requeued).toHaveLength(1);
        expect(requeued[0]?.at).toBeGreaterThanOrEqual(killedAt);
        const picked = (await events(id)).filter((e) => e.type === 'agent.selected' && e.stepId === 'nap');
        expect(picked.map((e) => e.data)).toEqual([{ attempt: 1, agentId: victim.id }, { attempt: 1, agentId: rescuer.id }]);
        expect((await attempts(id, 'nap')).map((t) => [t.attempt, t.status, t.agentId])).toEqual([[1, 'completed', rescuer.id]]);
      }
      expect((await agentView(victim.id)).status).toBe('offline');
    } finally {
      obs.close();
    }
  }, 40_000);
});

// ---- the bus itself ----

let prefixSeq = 0;
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

async function openBus(prefix = `direct${++prefixSeq}`): Promise<{ bus: NatsBus; prefix: string; results: TaskResult[]; taken: TaskTaken[] }> {
  const bus = await createNatsBus({ servers: nats.url, prefix, ackWaitMs: 1000, logger: quiet });
  cleanups.push(() => bus.close());
  const results: TaskResult[] = [];
  const taken: TaskTaken[] = [];
  bus.onResult((r) => void results.push(r));
  bus.onTaken((t) => void taken.push(t));
  return { bus, prefix, results, taken };
}

async function sdkAgent(prefix: string, o: { kinds: string[]; concurrency: number; direct?: boolean; handler: (ctx: TaskContext) => Promise<unknown> }): Promise<Agent> {
  const a = await createAgent({ natsUrl: nats.url, prefix, ackWaitMs: 1000, logger: quiet, ...o });
  cleanups.push(() => a.close());
  return a;
}

const known = (bus: NatsBus, id: string) => pollUntil(async () => (bus.agents().some((a) => a.id === id && a.status === 'online') ? true : undefined), `${id} known to the bus`, 5000);

let taskSeq = 0;
function task(agent: string, input: unknown = null): TaskMessage {
  const n = ++taskSeq;
  const executionId = `ex_direct${n}`;
  return { taskId: `${executionId}:s:1`, executionId, stepId: 's', attempt: 1, agent, tenant: 'default', workflow: 'direct', input, timeoutMs: null };
}

function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

const resultOf = (results: TaskResult[], taskId: string) => pollUntil(async () => results.find((r) => r.taskId === taskId), `the result of ${taskId}`, 10_000);

describe('the NATS bus, direct path', () => {
  /** The subjects of direct requests and results under `prefix`, as a plain subscriber sees them. */
  async function wireOf(prefix: string): Promise<string[]> {
    const s = subjects(prefix);
    const wire: string[] = [];
    const subs = [s.directAll, s.results, `${s.results}.>`, s.logs].map((subject) => nc.subscribe(subject, { callback: (_e, m) => void wire.push(m.subject) }));
    cleanups.push(async () => subs.forEach((x) => x.unsubscribe()));
    await nc.flush();
    return wire;
  }

  it('hands a task to an agent of its own process without NATS: no direct request, log line or result message; counted and taken as direct', async () => {
    const { bus, prefix, results, taken } = await openBus();
    const wire = await wireOf(prefix);
    // Each task's log line reaches the engine before its result (over NATS it could come after).
    const order: string[] = [];
    bus.onLog((l) => void order.push(`log ${l.executionId}`));
    bus.onResult((r) => void order.push(`result ${r.executionId}`));
    const own = bus.serve({ name: 'own', kinds: ['own'], concurrency: 4 }, async (ctx) => {
      ctx.log('info', 'doubling');
      return { doubled: (ctx.input as number) * 2 };
    });
    cleanups.push(() => own.close());
    await known(bus, own.id);
    const tasks = [1, 2, 3].map((n) => task('own', n));
    for (const t of tasks) bus.dispatch(t);
    const all = await Promise.all(tasks.map((t) => resultOf(results, t.taskId)));
    expect(all.map((r) => r.ok && r.output)).toEqual([{ doubled: 2 }, { doubled: 4 }, { doubled: 6 }]);
    expect(taken.map((t) => [t.taskId, t.agentId])).toEqual(tasks.map((t) => [t.taskId, own.id]));
    expect(bus.dispatchCounts()).toMatchObject({ direct: 3, queued: 0, holding: 0 });
    for (const t of tasks) expect(order.filter((x) => x.endsWith(t.executionId))).toEqual([`log ${t.executionId}`, `result ${t.executionId}`]);
    // A barrier: anything the bus had sent through the server reached this subscriber before the flush's answer.
    await nc.flush();
    expect(wire).toEqual([]);
  });

  it('hands a task to an agent of its own process from the moment the bus lists it, before its startup has finished', async () => {
    const { bus, prefix, results, taken } = await openBus();
    const wire = await wireOf(prefix);
    const own = bus.serve({ name: 'early', kinds: ['early'], concurrency: 1 }, async (ctx) => ctx.input);
    cleanups.push(() => own.close());
    // The agent's first heartbeat makes it eligible; its consumers are still being created (more round trips).
    while (!bus.agents().some((a) => a.id === own.id && a.status === 'online')) await new Promise((r) => setImmediate(r));
    const t = task('early', 'first');
    bus.dispatch(t);
    const r = await resultOf(results, t.taskId);
    expect(r.ok && r.output).toBe('first');
    expect(taken.map((x) => x.agentId)).toEqual([own.id]);
    expect(bus.dispatchCounts()).toMatchObject({ direct: 1, queued: 0 });
    await nc.flush();
    expect(wire).toEqual([]);
  });

  it('a result its own process could not journal goes over NATS, and is applied from there', async () => {
    const { bus, prefix, results } = await openBus();
    const wire = await wireOf(prefix);
    let failures = 1;
    bus.onResult(() => (failures-- > 0 ? Promise.reject(new Error('the commit failed')) : undefined));
    const own = bus.serve({ name: 'own', kinds: ['own'], concurrency: 4 }, async (ctx) => ctx.input);
    cleanups.push(() => own.close());
    await known(bus, own.id);
    const t = task('own', 'x');
    bus.dispatch(t);
    // Applied twice: in process (its commit failed), then from the results subject.
    await pollUntil(async () => (results.filter((r) => r.taskId === t.taskId).length === 2 ? true : undefined), 'the result applied again', 10_000);
    await nc.flush();
    expect(wire).toEqual([subjects(prefix).results]);
    expect(bus.dispatchCounts()).toMatchObject({ direct: 1, queued: 0, holding: 0 });
  });

  it('counts a slot as taken at send time: a burst fills the agent’s slots directly and queues the rest; one limit for both paths', async () => {
    const { bus, prefix, results, taken } = await openBus();
    const release = gate();
    let running = 0;
    let most = 0;
    const agent = await sdkAgent(prefix, {
      kinds: ['burst'],
      concurrency: 2,
      handler: async (ctx) => {
        most = Math.max(most, ++running);
        await release.promise;
        running--;
        return ctx.input;
      },
    });
    await known(bus, agent.id);
    const tasks = Array.from({ length: 5 }, (_, i) => task('burst', i));
    for (const t of tasks) bus.dispatch(t);
    expect(bus.dispatchCounts()).toMatchObject({ queued: 3, holding: 0 });
    await pollUntil(async () => (agent.inFlight() === 2 ? true : undefined), 'two running', 5000);
    expect(bus.dispatchCounts()).toMatchObject({ direct: 2, queued: 3, refused: 0, unanswered: 0, holding: 2 });
    release.open();
    const all = await Promise.all(tasks.map((t) => resultOf(results, t.taskId)));
    expect(all.map((r) => r.ok && r.output)).toEqual([0, 1, 2, 3, 4]);
    expect(most).toBe(2);
    expect(agent.taken()).toEqual({ direct: 2, queue: 3 });
    expect(taken.map((t) => t.taskId).sort()).toEqual(tasks.map((t) => t.taskId).sort());
    expect(bus.dispatchCounts().holding).toBe(0);
  });

  it('an agent that is full refuses a direct task (another engine filled it): the task goes to the queue', async () => {
    const prefix = `direct${++prefixSeq}`;
    const one = await openBus(prefix);
    const two = await openBus(prefix);
    const release = gate();
    const agent = await sdkAgent(prefix, { kinds: ['single'], concurrency: 1, handler: async (ctx) => (await release.promise, ctx.input) });
    await known(one.bus, agent.id);
    await known(two.bus, agent.id);
    const first = task('single', 'first');
    two.bus.dispatch(first);
    await pollUntil(async () => (agent.inFlight() === 1 ? true : undefined), 'the first running', 5000);
    // Bus one has not seen a heartbeat since: it still counts a free slot.
    const second = task('single', 'second');
    one.bus.dispatch(second);
    await pollUntil(async () => (one.bus.dispatchCounts().refused === 1 ? true : undefined), 'the refusal', 5000);
    expect(one.bus.dispatchCounts()).toMatchObject({ direct: 0, refused: 1, queued: 1 });
    release.open();
    // Results go to one engine of the queue group: either bus.
    const both = () => [...one.results, ...two.results];
    await pollUntil(async () => ([first, second].every((t) => both().some((r) => r.taskId === t.taskId)) ? true : undefined), 'both results', 10_000);
    expect(both().map((r) => r.ok && r.output).sort()).toEqual(['first', 'second']);
    expect(agent.taken()).toEqual({ direct: 1, queue: 1 });
  });

  it('a direct request nobody answers goes to the queue at once, and that agent gets no direct task until it beats again', async () => {
    const { bus, prefix, results } = await openBus();
    const s = subjects(prefix);
    // A heartbeat announcing the direct path, from an agent that has no subscription: "no responders".
    const ghost: Heartbeat = { id: 'ag_ghost_direct', name: 'ghost', kinds: ['ghostly'], capacity: 8, inFlight: 0, version: '0', startedAt: Date.now(), direct: true, inFlightDirect: 0 };
    const beat = () => nc.publish(s.heartbeat, codec.encode(ghost));
    beat();
    await pollUntil(async () => (bus.agents().some((a) => a.id === ghost.id) ? true : (beat(), undefined)), 'the ghost known', 5000);
    const worker = await sdkAgent(prefix, { kinds: ['ghostly'], concurrency: 4, direct: false, handler: async (ctx) => ctx.input });
    const t0 = Date.now();
    const first = task('ghostly', 1);
    bus.dispatch(first);
    const r = await resultOf(results, first.taskId);
    expect(r).toMatchObject({ ok: true, output: 1, agentId: worker.id });
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(bus.dispatchCounts()).toMatchObject({ direct: 0, unanswered: 1, queued: 1 });
    // Suspended: the next one is queued without a request.
    const second = task('ghostly', 2);
    bus.dispatch(second);
    expect(bus.dispatchCounts()).toMatchObject({ unanswered: 1, queued: 2 });
    await resultOf(results, second.taskId);
    expect(worker.taken()).toEqual({ direct: 0, queue: 2 });
  });

  it('cancel aborts a task running on the direct path', async () => {
    const { bus, prefix, results } = await openBus();
    const aborted = gate();
    const agent = await sdkAgent(prefix, {
      kinds: ['waits'],
      concurrency: 2,
      handler: (ctx) => new Promise((_, reject) => ctx.signal.addEventListener('abort', () => (aborted.open(), reject(ctx.signal.reason)), { once: true })),
    });
    await known(bus, agent.id);
    const t = task('waits');
    bus.dispatch(t);
    await pollUntil(async () => (agent.inFlight() === 1 ? true : undefined), 'running', 5000);
    expect(agent.taken()).toEqual({ direct: 1, queue: 0 });
    bus.cancel(t.taskId);
    await Promise.race([aborted.promise, new Promise((_, rej) => setTimeout(() => rej(new Error('handler not aborted')), 5000))]);
    const r = await resultOf(results, t.taskId);
    expect(r.ok === false && r.error.code).toBe('cancelled');
    expect(bus.dispatchCounts()).toMatchObject({ direct: 1, queued: 0, redispatched: 0, holding: 0 });
  });

  it('a draining agent finishes its direct tasks first: nothing is queued again when it leaves', async () => {
    const { bus, prefix, results } = await openBus();
    const agent = await sdkAgent(prefix, { kinds: ['short'], concurrency: 4, handler: async (ctx) => (await new Promise((r) => setTimeout(r, 200)), ctx.input) });
    await known(bus, agent.id);
    const tasks = [task('short', 'x'), task('short', 'y')];
    for (const t of tasks) bus.dispatch(t);
    await pollUntil(async () => (agent.inFlight() === 2 ? true : undefined), 'both running', 5000);
    await agent.close();
    await pollUntil(async () => (bus.agents().find((a) => a.id === agent.id)?.status === 'offline' ? true : undefined), 'offline after the drain', 5000);
    expect(results.map((r) => r.taskId).sort()).toEqual(tasks.map((t) => t.taskId).sort());
    expect(bus.dispatchCounts()).toMatchObject({ direct: 2, queued: 0, redispatched: 0, holding: 0 });
  });
});
