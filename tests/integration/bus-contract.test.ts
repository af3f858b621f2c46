/**
 * The Bus contract (src/bus/types.ts), run against both implementations: the in-process bus and
 * the NATS bus on a real nats-server (random loopback port, JetStream in a temp dir). Then the
 * engine and API over each bus, and what only NATS does (durable queue, core-subject events,
 * missed heartbeats).
 */
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryBus } from '../../src/bus/memory-bus.ts';
import { createNatsBus } from '../../src/bus/nats/nats-bus.ts';
import { HEARTBEAT_MS, MISSED_HEARTBEATS, subjects } from '../../src/bus/nats/subjects.ts';
import type { AgentEvent, AgentView, Bus, Heartbeat, StepLog, TaskContext, TaskMessage, TaskResult, TaskTaken } from '../../src/bus/types.ts';
import { msgpackCodec } from '../../src/common/codec.ts';
import { ActorflowError } from '../../src/common/errors.ts';
import type { EventView } from '../../src/common/execution.ts';
import { api } from '../support/http.ts';
import { startNatsServer, type NatsServer } from '../support/nats.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { waitForEnd } from '../support/wait.ts';

/** JetStream ack wait of the NATS buses here: a task an agent holds without acking or `working()` is redelivered after it. */
const ACK_WAIT_MS = 1000;

let nats: NatsServer;
let prefixSeq = 0;
/** Everything a test opened; closed after each test, also when it failed. */
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  nats = await startNatsServer();
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

afterAll(async () => {
  await nats?.close();
});

interface BusKind {
  readonly name: 'memory' | 'nats';
  /** A fresh bus; on NATS with its own subject prefix (own stream), so tests never see each other's tasks. */
  open(): Promise<{ bus: Bus; prefix: string }>;
}

const KINDS: readonly BusKind[] = [
  { name: 'memory', open: async () => ({ bus: createMemoryBus(), prefix: '' }) },
  {
    name: 'nats',
    open: async () => {
      const prefix = `contract${++prefixSeq}`;
      return { bus: await createNatsBus({ servers: nats.url, prefix, ackWaitMs: ACK_WAIT_MS }), prefix };
    },
  },
];

/** Records what a bus reports and lets a test wait for it (event-driven, with a deadline). */
class Recorder {
  readonly results: TaskResult[] = [];
  readonly taken: TaskTaken[] = [];
  readonly logs: StepLog[] = [];
  readonly agentEvents: AgentEvent[] = [];
  private readonly waiters = new Set<() => void>();

  constructor(bus: Bus) {
    bus.onResult((r) => this.push(this.results, r));
    bus.onTaken((t) => this.push(this.taken, t));
    bus.onLog((l) => this.push(this.logs, l));
    bus.onAgentEvent((e) => this.push(this.agentEvents, e));
  }

  private push<T>(list: T[], item: T): void {
    list.push(item);
    for (const w of [...this.waiters]) w();
  }

  /** Resolves with the first value `probe` returns that is not undefined, re-checked on every report. */
  until<T>(probe: () => T | undefined, what: string, timeoutMs = 8000): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const v = probe();
        if (v === undefined) return;
        this.waiters.delete(check);
        clearTimeout(timer);
        resolve(v);
      };
      const timer = setTimeout(() => (this.waiters.delete(check), reject(new Error(`timed out waiting for ${what}`))), timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  result(taskId: string): Promise<TaskResult> {
    return this.until(() => this.results.find((r) => r.taskId === taskId), `the result of ${taskId}`);
  }
}

let taskSeq = 0;
function task(agent: string, input: unknown = null, extra: Partial<TaskMessage> = {}): TaskMessage {
  const n = ++taskSeq;
  const executionId = `ex_contract${n}`;
  return { taskId: `${executionId}:s${n}:1`, executionId, stepId: `s${n}`, attempt: 1, agent, tenant: 'default', workflow: 'contract', input, timeoutMs: null, ...extra };
}

/** A promise with its resolve function (a gate a handler waits on). */
function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Polls a synchronous condition with a deadline (agent lists change on heartbeats, not on events we can await). */
async function poll<T>(probe: () => T | undefined, what: string, timeoutMs = 8000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe.each(KINDS)('Bus contract: $name', (kind) => {
  async function open() {
    const { bus, prefix } = await kind.open();
    cleanups.push(() => bus.close());
    return { bus, prefix, rec: new Recorder(bus) };
  }

  it('delivers a task to an agent of its kind with its key, and reports output, costs, logs and who took it', async () => {
    const { bus, rec } = await open();
    const seen: TaskContext[] = [];
    const agent = bus.serve({ name: 'echoer', kinds: ['echo-c'], concurrency: 4, version: '1.2.3' }, async (ctx) => {
      seen.push(ctx);
      ctx.log('warn', 'working on it', { n: 1 });
      ctx.reportCost({ model: 'm-1', tokens: 12, usd: 0.25 });
      return { got: ctx.input };
    });
    const t = task('echo-c', { hello: 'world' }, { attempt: 3, taskId: '' });
    const t3 = { ...t, taskId: `${t.executionId}:${t.stepId}:3` };
    bus.dispatch(t3);
    const r = await rec.result(t3.taskId);
    expect(r).toMatchObject({ ok: true, taskId: t3.taskId, executionId: t3.executionId, stepId: t3.stepId, attempt: 3, agentId: agent.id, output: { got: { hello: 'world' } } });
    expect(r.costs).toEqual([{ model: 'm-1', tokens: 12, usd: 0.25 }]);
    expect(r.durationMs).toBeGreaterThanOrEqual(0);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ kind: 'echo-c', executionId: t3.executionId, stepId: t3.stepId, attempt: 3, input: { hello: 'world' } });
    expect(seen[0]?.signal.aborted).toBe(false);
    expect(rec.taken).toContainEqual({ taskId: t3.taskId, executionId: t3.executionId, stepId: t3.stepId, attempt: 3, agentId: agent.id });
    const log = await rec.until(() => rec.logs.find((l) => l.executionId === t3.executionId), 'the step log');
    expect(log).toEqual({ executionId: t3.executionId, stepId: t3.stepId, attempt: 3, level: 'warn', message: 'working on it', data: { n: 1 } });
  });

  it('reports a failing handler with its code, message and retryable flag', async () => {
    const { bus, rec } = await open();
    bus.serve({ name: 'failer', kinds: ['fail-c'], concurrency: 4 }, async (ctx) => {
      if ((ctx.input as { terminal: boolean }).terminal) throw new ActorflowError('bad_input', 'never works', { retryable: false });
      throw new ActorflowError('flaky', 'try again', { retryable: true });
    });
    const a = task('fail-c', { terminal: true });
    const b = task('fail-c', { terminal: false });
    bus.dispatch(a);
    bus.dispatch(b);
    const ra = await rec.result(a.taskId);
    const rb = await rec.result(b.taskId);
    expect(ra.ok).toBe(false);
    expect(ra.ok === false && ra.error).toEqual({ code: 'bad_input', message: 'never works', retryable: false });
    expect(rb.ok === false && rb.error).toEqual({ code: 'flaky', message: 'try again', retryable: true });
  });

  it('keeps a task dispatched before any agent serves its kind, and runs it once one does', async () => {
    const { bus, rec } = await open();
    const t = task('late-c', 'queued');
    bus.dispatch(t);
    // Another kind's agent must not take it.
    bus.serve({ name: 'other', kinds: ['other-c'], concurrency: 4 }, async () => 'wrong agent');
    const other = task('other-c', 'x');
    bus.dispatch(other);
    await rec.result(other.taskId);
    expect(rec.taken.some((x) => x.taskId === t.taskId)).toBe(false);
    const late = bus.serve({ name: 'late', kinds: ['late-c'], concurrency: 4 }, async (ctx) => `ran ${String(ctx.input)}`);
    const r = await rec.result(t.taskId);
    expect(r).toMatchObject({ ok: true, output: 'ran queued', agentId: late.id });
  });

  it('never runs more than `concurrency` tasks per agent, leaves queued tasks to free agents, and runs each task once', async () => {
    const { bus, rec } = await open();
    const running = new Map<string, number>();
    let maxRunning = 0;
    const runs = new Map<unknown, number>();
    const started: { input: unknown; agentId: string }[] = [];
    const release = deferred();
    const serve = (name: string) => {
      const handle = bus.serve({ name, kinds: ['slow-c'], concurrency: 1 }, async (ctx) => {
        running.set(handle.id, (running.get(handle.id) ?? 0) + 1);
        maxRunning = Math.max(maxRunning, running.get(handle.id) ?? 0);
        runs.set(ctx.input, (runs.get(ctx.input) ?? 0) + 1);
        started.push({ input: ctx.input, agentId: handle.id });
        if (ctx.input !== 'sentinel') await release.promise;
        running.set(handle.id, (running.get(handle.id) ?? 1) - 1);
        return ctx.input;
      });
      return handle;
    };
    const a1 = serve('one');
    const [t1, t2, t3] = [task('slow-c', 't1'), task('slow-c', 't2'), task('slow-c', 't3')];
    bus.dispatch(t1);
    await poll(() => (started.length === 1 ? true : undefined), 't1 running');
    bus.dispatch(t2);
    bus.dispatch(t3);
    // Keep the only agent busy for twice the NATS ack wait: it must not start (or hoard, and then
    // lose to an ack timeout and run twice) the queued tasks. The in-process bus has no ack wait.
    const holdUntil = Date.now() + (kind.name === 'nats' ? 2 * ACK_WAIT_MS + 500 : 0);
    await poll(() => (Date.now() >= holdUntil ? true : undefined), 'the hold', 5000);
    expect(started.map((x) => x.input)).toEqual(['t1']);
    // A second agent takes the next queued task while the first is still busy.
    const a2 = serve('two');
    await poll(() => (started.length === 2 ? true : undefined), 'a queued task on the new agent');
    expect(started[1]).toEqual({ input: 't2', agentId: a2.id });
    release.resolve();
    const results = await Promise.all([t1, t2, t3].map((t) => rec.result(t.taskId)));
    expect(results.map((r) => r.ok && r.output)).toEqual(['t1', 't2', 't3']);
    expect(results[0]?.agentId).toBe(a1.id);
    // With only the first agent left, a last task queues behind anything it may still hold: once it ran, nothing ran twice.
    await a2.close();
    const sentinel = task('slow-c', 'sentinel');
    bus.dispatch(sentinel);
    expect((await rec.result(sentinel.taskId)).agentId).toBe(a1.id);
    expect(maxRunning).toBe(1);
    expect([...runs.entries()]).toEqual([['t1', 1], ['t2', 1], ['t3', 1], ['sentinel', 1]]);
    expect(rec.results).toHaveLength(4);
  });

  it('cancel aborts an in-flight task: the handler sees its signal abort', async () => {
    const { bus, rec } = await open();
    const aborted = deferred<unknown>();
    const running = deferred();
    bus.serve({ name: 'waiter', kinds: ['wait-c'], concurrency: 2 }, (ctx) => {
      running.resolve();
      return new Promise((_, reject) => ctx.signal.addEventListener('abort', () => (aborted.resolve(ctx.signal.reason), reject(ctx.signal.reason)), { once: true }));
    });
    const t = task('wait-c');
    bus.dispatch(t);
    await running.promise;
    await rec.until(() => rec.taken.find((x) => x.taskId === t.taskId), 'taken');
    bus.cancel(t.taskId);
    const reason = await Promise.race([aborted.promise, new Promise((_, rej) => setTimeout(() => rej(new Error('handler not aborted')), 5000))]);
    expect(reason).toBeTruthy();
  });

  it('cancel drops a queued task: no handler ever runs it', async () => {
    const { bus, rec } = await open();
    const ran: unknown[] = [];
    const gate = deferred();
    const busy = deferred();
    bus.serve({ name: 'single', kinds: ['q-c'], concurrency: 1 }, async (ctx) => {
      ran.push(ctx.input);
      if (ctx.input === 'first') {
        busy.resolve();
        await gate.promise;
      }
      return ctx.input;
    });
    const first = task('q-c', 'first');
    const second = task('q-c', 'second');
    const third = task('q-c', 'third');
    bus.dispatch(first);
    await busy.promise;
    bus.dispatch(second);
    bus.cancel(second.taskId);
    bus.dispatch(third);
    gate.resolve();
    await rec.result(first.taskId);
    await rec.result(third.taskId);
    expect(ran).toEqual(['first', 'third']);
    expect(rec.results.some((r) => r.taskId === second.taskId)).toBe(false);
  });

  it('lists its agents with kinds, capacity, load, version and stats; busy at capacity, offline once closed', async () => {
    const { bus, rec } = await open();
    const gate = deferred();
    const agent = bus.serve({ name: 'listed', kinds: ['list-a', 'list-b'], concurrency: 1, version: '9.9.9' }, async (ctx) => {
      if (ctx.input === 'hold') await gate.promise;
      if (ctx.input === 'fail') throw new ActorflowError('nope', 'failed', { retryable: false });
      return ctx.input;
    });
    const registered = await rec.until(() => rec.agentEvents.find((e) => e.type === 'agent.registered' && e.agent.id === agent.id), 'agent.registered');
    expect(registered.agent).toMatchObject({ name: 'listed', kinds: ['list-a', 'list-b'], capacity: 1, version: '9.9.9' });
    const find = (): AgentView | undefined => bus.agents().find((a) => a.id === agent.id);
    expect(find()).toMatchObject({ id: agent.id, name: 'listed', kinds: ['list-a', 'list-b'], capacity: 1, version: '9.9.9', status: 'online' });
    expect(find()?.lastHeartbeatAt).toBeGreaterThan(Date.now() - 60_000);

    const ok = task('list-a', 'fine');
    const bad = task('list-b', 'fail');
    bus.dispatch(ok);
    await rec.result(ok.taskId);
    bus.dispatch(bad);
    await rec.result(bad.taskId);
    const stats = await poll(() => {
      const s = find()?.stats;
      return s && s.completed + s.failed === 2 ? s : undefined;
    }, 'stats of two results');
    expect(stats).toMatchObject({ completed: 1, failed: 1, failureRate: 0.5 });
    expect(stats.p50Ms).toEqual(expect.any(Number));

    const held = task('list-a', 'hold');
    bus.dispatch(held);
    const busy = await poll(() => (find()?.status === 'busy' ? find() : undefined), 'status busy');
    expect(busy.inFlight).toBe(1);
    gate.resolve();
    await rec.result(held.taskId);
    await poll(() => (find()?.status === 'online' ? true : undefined), 'status online again');

    await agent.close();
    await poll(() => (find()?.status === 'offline' ? true : undefined), 'status offline after close');
    expect(rec.agentEvents.some((e) => e.type === 'agent.status.changed' && e.agent.id === agent.id && e.agent.status === 'offline')).toBe(true);
  });

  it('reports its state and stops after close', async () => {
    const { bus } = await open();
    expect(bus.state()).toBe(kind.name === 'nats' ? 'connected' : 'embedded');
    await bus.close();
    expect(bus.state()).toBe('closed');
  });
});

describe.each(KINDS)('engine and API over the $name bus', (kind) => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer(kind.name === 'nats' ? { natsUrl: nats.url, natsPrefix: `engine${++prefixSeq}` } : {});
  });

  afterAll(async () => {
    await server?.close();
  });

  it('runs a 3-step flow with retries through the built-in agents and lists them under /agents', async () => {
    const http = api(server.url);
    const res = await http.post('/executions', {
      definition: {
        name: `three-${kind.name}`,
        steps: [
          { id: 'a', type: 'task', agent: 'echo', input: { n: '$.input.n' } },
          { id: 'b', type: 'task', agent: 'fail', input: { times: 1, code: 'flaky' }, retry: { maxAttempts: 2, backoff: 'fixed', initialMs: 5 } },
          { id: 'c', type: 'task', agent: 'log', input: { level: 'info', message: 'done', data: '$.steps.a.output' } },
        ],
      },
      input: { n: 5 },
    });
    expect(res.status).toBe(201);
    const x = await waitForEnd(server.engine, res.body.id as string);
    expect(x.status).toBe('completed');
    expect(x.output).toEqual({ level: 'info', message: 'done', data: { n: 5 } });
    const attempts = (await http.get(`/executions/${x.id}/steps/b/attempts`)).body.items as { status: string; agentId: string; error: { code: string } | null }[];
    expect(attempts.map((a) => a.status)).toEqual(['failed', 'completed']);
    expect(attempts[0]?.error?.code).toBe('flaky');
    const events = (await http.get(`/executions/${x.id}/events`)).body.items as { type: string; stepId: string | null; data: { agentId?: string } }[];
    const selected = events.filter((e) => e.type === 'agent.selected');
    expect(selected.map((e) => e.stepId)).toEqual(['a', 'b', 'b', 'c']);
    expect(selected[1]?.data.agentId).toBe(attempts[0]?.agentId);

    const agents = await http.get('/agents');
    expect(agents.status).toBe(200);
    const fail = (agents.body.items as { id: string; kinds: string[] }[]).find((a) => a.kinds.includes('fail'));
    expect(fail?.id).toBe(attempts[0]?.agentId);
    expect((agents.body.items as { kinds: string[] }[]).flatMap((a) => a.kinds).sort()).toEqual(['echo', 'fail', 'http', 'log', 'sleep']);
    const one = await http.get(`/agents/${encodeURIComponent(fail?.id ?? '')}`);
    expect(one.status).toBe(200);
    expect(one.body.stats).toMatchObject({ completed: 1, failed: 1, failureRate: 0.5 });
    // Pages of two, by id, until nextCursor is null.
    const paged: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await http.get('/agents', { query: cursor === null ? { limit: 2 } : { limit: 2, cursor } });
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      paged.push(...(page.body.items as { id: string }[]).map((a) => a.id));
      cursor = page.body.nextCursor as string | null;
    } while (cursor !== null && paged.length < 10);
    expect(paged).toEqual((agents.body.items as { id: string }[]).map((a) => a.id).sort());
    expect(paged).toHaveLength(5);
    const status = await http.get('/status');
    expect(status.body.bus).toBe(kind.name === 'nats' ? 'connected' : 'embedded');
    expect(status.body.agents.online).toBe(5);
  });
});

describe('only on NATS', () => {
  let nc: NatsConnection;

  beforeAll(async () => {
    nc = await connect({ servers: nats.url, name: 'contract-test-observer' });
  });

  afterAll(async () => {
    await nc?.close();
  });

  it('keeps a task durably in the JetStream work queue while no agent serves its kind', async () => {
    const prefix = `durable${++prefixSeq}`;
    const bus = await createNatsBus({ servers: nats.url, prefix, ackWaitMs: 1500 });
    cleanups.push(() => bus.close());
    const rec = new Recorder(bus);
    const t = task('nobody-yet', { keep: true });
    bus.dispatch(t);
    const jsm = await jetstreamManager(nc);
    const s = subjects(prefix);
    const stored = await (async () => {
      const deadline = Date.now() + 5000;
      for (;;) {
        const info = await jsm.streams.info(s.stream);
        if (info.state.messages === 1) return info;
        if (Date.now() > deadline) throw new Error(`stream ${s.stream} holds ${info.state.messages} messages`);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    expect(stored.config.retention).toBe('workqueue');
    const msg = await jsm.streams.getMessage(s.stream, { last_by_subj: s.task('default', 'nobody-yet') });
    expect(msg ? msgpackCodec.decode<TaskMessage>(msg.data) : undefined).toEqual(t);
    expect(msg?.header?.get('Nats-Msg-Id')).toBe(t.taskId);
    // An agent of the kind comes up, takes it, and the acked task leaves the work queue.
    bus.serve({ name: 'finally', kinds: ['nobody-yet'], concurrency: 1 }, async (ctx) => ctx.input);
    const r = await rec.result(t.taskId);
    expect(r).toMatchObject({ ok: true, output: { keep: true } });
    const deadline = Date.now() + 5000;
    for (;;) {
      const info = await jsm.streams.info(s.stream);
      if (info.state.messages === 0) break;
      if (Date.now() > deadline) throw new Error('the acked task is still in the stream');
      await new Promise((res) => setTimeout(res, 20));
    }
  });

  it('publishes committed execution events on <prefix>.events.<workflow>.<executionId> as msgpack', async () => {
    const prefix = `events${++prefixSeq}`;
    const server = await startTestServer({ natsUrl: nats.url, natsPrefix: prefix });
    cleanups.push(() => server.close());
    const got: { subject: string; event: EventView }[] = [];
    const sub = nc.subscribe(`${prefix}.events.>`, { callback: (_e, m) => void got.push({ subject: m.subject, event: msgpackCodec.decode<EventView>(m.data) }) });
    cleanups.push(async () => sub.unsubscribe());
    await nc.flush();
    const http = api(server.url);
    const res = await http.post('/executions', { definition: { name: 'pub.lished', steps: [{ id: 'only', type: 'task', agent: 'echo', input: 'x' }] } });
    expect(res.status).toBe(201);
    const id = res.body.id as string;
    await waitForEnd(server.engine, id);
    const all = await poll(() => (got.some((g) => g.event.type === 'workflow.completed') ? got : undefined), 'the completed event on NATS');
    const journal = (await http.get(`/executions/${id}/events`)).body.items as EventView[];
    expect(all.map((g) => g.event)).toEqual(journal);
    // `.` is not allowed inside a subject token: the workflow name is escaped.
    expect(new Set(all.map((g) => g.subject))).toEqual(new Set([`${prefix}.events.pub~2elished.${id}`]));
  });

  it('publishes no event with natsEvents off (ACTORFLOW_NATS_EVENTS=0), and still runs the flow', async () => {
    const prefix = `noevents${++prefixSeq}`;
    const server = await startTestServer({ natsUrl: nats.url, natsPrefix: prefix, natsEvents: false });
    cleanups.push(() => server.close());
    const got: string[] = [];
    const sub = nc.subscribe(`${prefix}.events.>`, { callback: (_e, m) => void got.push(m.subject) });
    cleanups.push(async () => sub.unsubscribe());
    await nc.flush();
    const res = await api(server.url).post('/executions', { definition: { name: 'quiet', steps: [{ id: 'only', type: 'task', agent: 'echo', input: 'x' }] } });
    expect(res.status).toBe(201);
    expect(await waitForEnd(server.engine, res.body.id as string)).toMatchObject({ status: 'completed', output: 'x' });
    // A heartbeat of the server's built-in agents goes out on the same connection after the commits: NATS keeps one
    // connection's messages in order, so any event published after them would have arrived before it.
    const beats = nc.subscribe(subjects(prefix).heartbeat, { max: 1 });
    for await (const _ of beats) break;
    expect(got).toEqual([]);
  });

  it('marks an agent whose heartbeats stop offline and emits agent.lost', async () => {
    const prefix = `lost${++prefixSeq}`;
    const bus = await createNatsBus({ servers: nats.url, prefix });
    cleanups.push(() => bus.close());
    const rec = new Recorder(bus);
    const hb: Heartbeat = { id: 'ag_ghost_1', name: 'ghost', kinds: ['echo'], capacity: 3, inFlight: 1, version: '0.0.1', startedAt: Date.now() };
    // Beat until seen, as a real agent does: the bus's subscription may reach the server after a first publish.
    const beat = setInterval(() => nc.publish(subjects(prefix).heartbeat, msgpackCodec.encode(hb)), 100);
    nc.publish(subjects(prefix).heartbeat, msgpackCodec.encode(hb));
    const registered = await rec
      .until(() => rec.agentEvents.find((e) => e.type === 'agent.registered' && e.agent.id === hb.id), 'agent.registered')
      .finally(() => clearInterval(beat));
    expect(registered.agent).toMatchObject({ name: 'ghost', capacity: 3, inFlight: 1, status: 'online' });
    const sentAt = Date.now();
    const lost = await rec.until(() => rec.agentEvents.find((e) => e.type === 'agent.lost' && e.agent.id === hb.id), 'agent.lost', HEARTBEAT_MS * (MISSED_HEARTBEATS + 4));
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(HEARTBEAT_MS * MISSED_HEARTBEATS);
    expect(lost.agent.status).toBe('offline');
    expect(bus.agents().find((a) => a.id === hb.id)?.status).toBe('offline');
  });
});
