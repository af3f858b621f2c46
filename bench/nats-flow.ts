/**
 * @module bench/nats-flow — issue 3: the 3-step flow (`bench3`: three `echo` tasks) start → completed
 * through NATS and out-of-process agents; p50/p99 and flows/s with 1 and 4 agent processes. Since
 * issue 12 item 9 a step goes to an agent with a free slot by core request/reply (the direct path) and
 * to the JetStream work queue only when none has one (src/bus/nats/subjects.ts).
 *
 * Setup (everything on 127.0.0.1): a private `nats-server -js` on a free port with a temp store dir
 * (never the shared one on 4222); the server child (bench/server-proc.ts `--nats <url>
 * --no-builtin-agents`, a fresh temp data dir per sync mode); 1, then 4, agent processes
 * `node --import tsx src/cli/main.ts agent --nats <url> --kinds echo --concurrency 64 --name bench-agent-N`,
 * measured once the engine lists them online. The loop runs inside the server child as in
 * bench/flow3.ts: `engine.start`, done when `engine.onEvent` delivers the committed
 * `workflow.completed` (no HTTP on the path). A fresh server and agent first run 64 clients for 1.5-3 s, not
 * measured (cold code). Runs: (a) 1 agent, 1 sequential client → p50/p99 over ~2,000 flows after a warm-up; (b) 1 agent, 64 concurrent clients → flows/s; (c) 4 agents, 1 client;
 * (d) 4 agents, 64 clients. Then (e) the server's own built-in `echo` on the NATS bus (no agent process:
 * its direct tasks and results stay in process), 1 and 64 clients. Each run prints the CPU of the
 * server, agents, nats-server, softirq and every other process.
 *
 * Where the time goes: after (a) and (c), a short traced run with a NATS observer in this process
 * (plain subscriber to direct requests and their answers, queued tasks, `taken` and results; same
 * monotonic clock as the server child) splits a flow into legs and counts which path each step took. First of all, the floor: the same transport with no actorflow code
 * (bench/nats-floor-agent.ts). The nats-server and every agent process are killed at the end, also on errors.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { startNatsServer } from '../tests/support/nats.ts';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { subjects } from '../src/bus/nats/subjects.ts';
import type { AgentView } from '../src/bus/types.ts';
import type { Engine } from '../src/engine/types.ts';
import { msgpackCodec as codec } from '../src/common/codec.ts';
import type { EventView } from '../src/common/execution.ts';
import {
  type BenchOpts,
  type Figure,
  type LatencySummary,
  type ServerChild,
  type SyncMode,
  fmtLat,
  int,
  ms,
  procCpuSeconds,
  recordNs,
  selfCpuSeconds,
  sleep,
  summarize,
  waitQuiet,
  withServer,
} from './common.ts';

// ---- inside the server child ----

export interface NatsFlowArgs {
  readonly clients: number;
  readonly warmupMs: number;
  /** Measured phase: stops at `maxFlows` finished flows or after `durationMs`, whichever comes first. */
  readonly durationMs: number;
  readonly maxFlows: number;
  /** Return every measured flow's id and times (for the breakdown against the NATS observer). */
  readonly trace: boolean;
}

/** One measured flow: `process.hrtime` ns (CLOCK_MONOTONIC, comparable across processes of this machine). */
export interface FlowTrace {
  readonly id: string;
  /** `engine.start` called. */
  readonly t0: number;
  /** `engine.start` resolved (the start is committed). */
  readonly started: number;
  /** committed `workflow.completed` delivered by `engine.onEvent`. */
  readonly done: number;
}

export interface NatsFlowResult {
  readonly clients: number;
  readonly flows: number;
  readonly failed: number;
  readonly seconds: number;
  readonly flowsPerSec: number;
  readonly latency: LatencySummary;
  readonly commitsPerFlow: number;
  readonly trace: FlowTrace[];
}

/** Target (bench/RESULTS.md): 3-step flow with agents over NATS (out of process), e2e p50 (sync=full). */
const TARGET_P50_MS = 2;

const TERMINAL = new Set(['workflow.completed', 'workflow.failed', 'workflow.cancelled', 'workflow.timed_out']);

async function journalCommits(engine: Engine): Promise<number> {
  const st = (await engine.status()) as { journal?: { commits: number } };
  return st.journal?.commits ?? Number.NaN;
}

/** Runs inside the server child (bench/server-proc.ts, started with `--nats`). */
export async function runNatsFlowInProcess(engine: Engine, args: NatsFlowArgs): Promise<NatsFlowResult> {
  // The completion may be delivered before `engine.start` resolves: keep it until the flow asks.
  const done = new Map<string, { type: string; at: bigint }>();
  const waiting = new Map<string, (r: { type: string; at: bigint }) => void>();
  const off = engine.onEvent((e: EventView) => {
    if (!TERMINAL.has(e.type)) return;
    const r = { type: e.type, at: process.hrtime.bigint() };
    const w = waiting.get(e.executionId);
    if (w) {
      waiting.delete(e.executionId);
      w(r);
    } else done.set(e.executionId, r);
  });
  const trace: FlowTrace[] = [];
  const oneFlow = async (n: number): Promise<{ ok: boolean; t0: bigint; t1: bigint; id: string; started: bigint }> => {
    const t0 = process.hrtime.bigint();
    const { execution } = await engine.start({ tenant: 'default', workflow: 'bench3', input: { n, payload: 'x'.repeat(16) } });
    const started = process.hrtime.bigint();
    let r = done.get(execution.id);
    if (r) done.delete(execution.id);
    else r = await new Promise<{ type: string; at: bigint }>((resolve) => waiting.set(execution.id, resolve));
    return { ok: r.type === 'workflow.completed', t0, t1: r.at, id: execution.id, started };
  };
  const phase = async (durationMs: number, maxFlows: number, h: RecordableHistogram | null) => {
    let flows = 0;
    let failed = 0;
    const t0 = process.hrtime.bigint();
    const end = Date.now() + durationMs;
    const client = async () => {
      while (Date.now() < end && flows + failed < maxFlows) {
        const r = await oneFlow(flows + failed);
        if (r.ok) flows++;
        else failed++;
        if (!h) continue;
        recordNs(h, r.t0, r.t1);
        if (args.trace) trace.push({ id: r.id, t0: Number(r.t0), started: Number(r.started), done: Number(r.t1) });
      }
    };
    await Promise.all(Array.from({ length: args.clients }, client));
    return { flows, failed, seconds: Number(process.hrtime.bigint() - t0) / 1e9 };
  };
  try {
    await phase(args.warmupMs, Number.POSITIVE_INFINITY, null);
    const h = createHistogram();
    const c0 = await journalCommits(engine);
    const m = await phase(args.durationMs, args.maxFlows, h);
    const commitsPerFlow = ((await journalCommits(engine)) - c0) / Math.max(1, m.flows + m.failed);
    return { clients: args.clients, flows: m.flows, failed: m.failed, seconds: m.seconds, flowsPerSec: m.flows / m.seconds, latency: summarize(h), commitsPerFlow, trace };
  } finally {
    off();
  }
}

// ---- parent side: child processes (nats-server, agents), always killed at the end ----

/** Every child this part started and has not reaped yet: SIGKILLed if the bench process exits first. */
const children = new Set<ChildProcess>();
/** Temp dirs to remove then too (the nats-server's store). */
const tempDirs = new Set<string>();
const killAll = () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
};

const isAlive = (c: ChildProcess) => c.exitCode === null && c.signalCode === null;

/** SIGTERM (or `signal`), then SIGKILL after `graceMs`; resolves once the process has exited. */
async function stopChild(c: ChildProcess, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  if (isAlive(c)) {
    const exited = once(c, 'exit');
    c.kill(signal);
    const timer = setTimeout(() => c.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }
  children.delete(c);
}

interface NatsProc {
  readonly url: string;
  readonly pid: number;
  close(): Promise<void>;
}

/** A private `nats-server` on a free loopback port with a temp JetStream store (the tests' launcher). */
async function startNats(): Promise<NatsProc> {
  const ns = await startNatsServer();
  const c = ns.process();
  if (c) children.add(c);
  tempDirs.add(ns.storeDir);
  return {
    url: ns.url,
    pid: c?.pid ?? -1,
    close: async () => {
      await ns.close();
      if (c) children.delete(c);
      tempDirs.delete(ns.storeDir);
    },
  };
}

interface AgentProc {
  readonly name: string;
  readonly pid: number;
  stop(): Promise<void>;
}

const REPO = fileURLToPath(new URL('..', import.meta.url));
const CLI = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));

/** `node --import tsx src/cli/main.ts agent --nats <url> --kinds echo --concurrency 64 --name <name>`; resolves once it serves. */
async function spawnAgent(natsUrl: string, name: string, cpuProfDir: string | null): Promise<AgentProc> {
  const execArgs = ['--import', 'tsx'];
  if (cpuProfDir) execArgs.push('--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`);
  const c = spawn(process.execPath, [...execArgs, CLI, 'agent', '--nats', natsUrl, '--kinds', 'echo', '--concurrency', '64', '--name', name], {
    cwd: REPO,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.add(c);
  let log = '';
  // SIGTERM: the agent drains (finishes running tasks) and exits 0, writing its CPU profile if any.
  const stop = () => stopChild(c, 'SIGTERM', 5000);
  try {
    await new Promise<void>((res, rej) => {
      const timer = setTimeout(() => rej(new Error(`agent ${name} did not start in 20 s:\n${log}`)), 20_000);
      c.stderr?.on('data', (chunk: Buffer) => {
        log += chunk.toString();
        if (log.includes(' serving ')) {
          clearTimeout(timer);
          res();
        }
      });
      c.once('error', (err) => (clearTimeout(timer), rej(err)));
      c.once('exit', (code, sig) => (clearTimeout(timer), rej(new Error(`agent ${name} exited (${code ?? sig}):\n${log}`))));
    });
  } catch (err) {
    await stopChild(c, 'SIGKILL', 0);
    throw err;
  }
  // Anything it says later (errors) goes to our stderr.
  c.stderr?.removeAllListeners('data');
  c.stderr?.on('data', (chunk: Buffer) => process.stderr.write(`[${name}] ${chunk.toString()}`));
  return { name, pid: c.pid ?? -1, stop };
}

/** Waits until the engine sees every named agent, serving `echo`, online (its registry: heartbeats). */
async function waitAgentsOnline(s: ServerChild, names: readonly string[], maxMs = 15_000): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    const list = await s.call<AgentView[]>('agents');
    const online = new Set(list.filter((a) => a.kinds.includes('echo') && a.status !== 'offline').map((a) => a.name));
    if (names.every((n) => online.has(n))) return Date.now() - t0;
    if (Date.now() - t0 > maxMs) throw new Error(`agents not online after ${maxMs} ms: want ${names.join(', ')}, engine sees ${[...online].join(', ') || 'none'}`);
    await sleep(100);
  }
}

interface Measured {
  readonly r: NatsFlowResult;
  /** CPU % (100 = one core) over the run, warm-up included. */
  readonly cpu: { server: number; agents: number; nats: number; irq: number; others: number };
}

/** Print each run's time window (for reading `--cpu-prof` profiles). */
let cpuProfWindows = false;

/** Busy CPU seconds of the whole machine so far (/proc/stat, 100 Hz): processes (user, nice, system) and interrupts (irq, softirq: here mostly loopback TCP). */
function machineSplit(): { procs: number; irq: number } {
  const f = (/^cpu\s+(.*)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1] ?? '').trim().split(/\s+/).map(Number);
  const at = (i: number) => f[i] ?? 0;
  return { procs: (at(0) + at(1) + at(2)) / 100, irq: (at(5) + at(6)) / 100 };
}

/** One `natsflow` run in the server child, with the CPU of every process involved and of everyone else. */
async function measure(s: ServerChild, agents: readonly AgentProc[], nats: NatsProc, args: NatsFlowArgs): Promise<Measured> {
  const pids = { server: [s.pid], agents: agents.map((a) => a.pid), nats: [nats.pid] };
  const read = (xs: readonly number[]) => xs.reduce((sum, pid) => sum + procCpuSeconds(pid), 0);
  const c0 = { server: read(pids.server), agents: read(pids.agents), nats: read(pids.nats) };
  const m0 = machineSplit();
  const p0 = selfCpuSeconds();
  const t0 = performance.now();
  const w0 = process.hrtime.bigint() / 1000n;
  const r = await s.call<NatsFlowResult>('natsflow', args);
  const secs = (performance.now() - t0) / 1000;
  // `--cpu-prof` timestamps are CLOCK_MONOTONIC µs, as hrtime here: the window selects this run's samples.
  if (cpuProfWindows) console.log(`  (cpu-prof window: ${args.clients} client${args.clients > 1 ? 's' : ''}, ${agents.length} agent(s), µs ${w0}–${process.hrtime.bigint() / 1000n})`);
  const d = { server: read(pids.server) - c0.server, agents: read(pids.agents) - c0.agents, nats: read(pids.nats) - c0.nats };
  const m1 = machineSplit();
  const others = Math.max(0, m1.procs - m0.procs - d.server - d.agents - d.nats - (selfCpuSeconds() - p0));
  const pct = (x: number) => (x / secs) * 100;
  return { r, cpu: { server: pct(d.server), agents: pct(d.agents), nats: pct(d.nats), irq: pct(m1.irq - m0.irq), others: pct(others) } };
}

const cpuNote = (c: Measured['cpu']) =>
  `CPU server ${c.server.toFixed(0)}%, agents ${c.agents.toFixed(0)}%, nats-server ${c.nats.toFixed(0)}%, softirq ${c.irq.toFixed(0)}%, other processes ${c.others.toFixed(0)}%`;

// ---- where the time goes: a NATS observer in this (idle) process ----

interface Seen {
  /** The engine's dispatch as seen by a core subscriber: the direct request, or the JetStream publish. */
  d?: number;
  /** The agent took it: its answer to the direct request, or `taken` (queue path); it is about to run the handler. */
  k?: number;
  /** The agent's result request to the engine. */
  r?: number;
  /** Which path the (first) dispatch took. */
  via?: 'direct' | 'queue';
}

interface Observer {
  readonly seen: Map<string, Seen>;
  close(): Promise<void>;
}

/**
 * A plain subscriber to the direct-request, task, `taken` and result subjects, and to every inbox (the
 * answers to direct requests, which carry the task id): it records (hrtime, same clock as the server
 * child's) when each message of each task passes through nats-server. Every mark includes one
 * nats-server → observer hop, so differences between marks cancel it out.
 */
async function startObserver(url: string): Promise<Observer> {
  const nc = await connect({ servers: url, name: 'actorflow-bench-observer' });
  const s = subjects();
  const seen = new Map<string, Seen>();
  const mark = (taskId: string, key: 'd' | 'k' | 'r', at: number, via?: Seen['via']) => {
    let e = seen.get(taskId);
    if (!e) seen.set(taskId, (e = {}));
    e[key] ??= at;
    if (via) e.via ??= via;
  };
  const on = (subject: string, key: 'd' | 'k' | 'r', via?: Seen['via']) =>
    nc.subscribe(subject, {
      callback: (_err, m) => mark(codec.decode<{ taskId: string }>(m.data).taskId, key, Number(process.hrtime.bigint()), via),
    });
  on(s.directAll, 'd', 'direct');
  on(s.tasksAll, 'd', 'queue');
  on(s.taken, 'k');
  on(s.results, 'r');
  // Answers to direct requests (other inbox traffic — result acks, JetStream API — is not one).
  nc.subscribe('_INBOX.>', {
    callback: (_err, m) => {
      const at = Number(process.hrtime.bigint());
      if (m.data.length === 0 || m.data[0] === 0x7b) return;
      try {
        const a = codec.decode<{ taskId?: unknown; taken?: unknown }>(m.data);
        if (typeof a === 'object' && a !== null && a.taken === true && typeof a.taskId === 'string') mark(a.taskId, 'k', at);
      } catch {
        // not an answer
      }
    },
  });
  await nc.flush();
  return { seen, close: () => nc.close() };
}

/** Medians (ms) of each leg of a flow, from the child's trace and the observer's marks. */
export interface Breakdown {
  readonly n: number;
  /** Steps of the traced flows by the path they took. */
  readonly direct: number;
  readonly queued: number;
  readonly total: number;
  /** `engine.start` called → task a published (start of the flow in the engine, until the first dispatch). */
  readonly toFirstDispatch: number;
  /** task sent → the agent says it took it (direct: request + answer; queue: JetStream store, pull delivery, agent decode); per step, all 3 pooled. */
  readonly queue: number;
  /** `taken` → result request (the agent's handler, encode, publish). */
  readonly agent: number;
  /** result request → next task published (engine: result decode, XState, next dispatch); a→b and b→c. */
  readonly engine: number;
  /** last result request → committed `workflow.completed` delivered (engine + the final commit). */
  readonly finish: number;
  /** `engine.start` called → resolved (the start's commit; runs alongside step a). */
  readonly startCommit: number;
}

function breakdown(trace: readonly FlowTrace[], seen: ReadonlyMap<string, Seen>): Breakdown | null {
  const legs = { total: [] as number[], toFirstDispatch: [] as number[], queue: [] as number[], agent: [] as number[], engine: [] as number[], finish: [] as number[], startCommit: [] as number[] };
  let n = 0;
  let direct = 0;
  let queued = 0;
  for (const f of trace) {
    const st = ['a', 'b', 'c'].map((id) => seen.get(`${f.id}:${id}:1`));
    for (const x of st) {
      if (x?.via === 'direct') direct++;
      else if (x?.via === 'queue') queued++;
    }
    const marks = st.map((x) => (x && x.d !== undefined && x.k !== undefined && x.r !== undefined ? { d: x.d, k: x.k, r: x.r } : null));
    const [a, b, c] = marks;
    if (!a || !b || !c) continue;
    n++;
    legs.total.push(f.done - f.t0);
    legs.startCommit.push(f.started - f.t0);
    legs.toFirstDispatch.push(a.d - f.t0);
    for (const x of [a, b, c]) {
      legs.queue.push(x.k - x.d);
      legs.agent.push(x.r - x.k);
    }
    legs.engine.push(b.d - a.r, c.d - b.r);
    legs.finish.push(f.done - c.r);
  }
  if (n === 0) return null;
  const med = (xs: number[]) => {
    const v = [...xs].sort((p, q) => p - q);
    return (v[Math.floor(v.length / 2)] ?? Number.NaN) / 1e6;
  };
  return { n, direct, queued, total: med(legs.total), toFirstDispatch: med(legs.toFirstDispatch), queue: med(legs.queue), agent: med(legs.agent), engine: med(legs.engine), finish: med(legs.finish), startCommit: med(legs.startCommit) };
}

function breakdownNote(b: Breakdown | null): string {
  if (!b) return 'no breakdown (observer saw no complete flow)';
  const f = (x: number) => x.toFixed(2);
  return (
    `medians over ${b.n} traced flows (total ${f(b.total)} ms; steps direct ${b.direct}, queued ${b.queued}): start → task a sent ${f(b.toFirstDispatch)}; per step: sent → taken by agent ${f(b.queue)}, ` +
    `taken → result sent ${f(b.agent)}, result → next task sent ${f(b.engine)}; last result → completed delivered ${f(b.finish)} ms (start commit ${f(b.startCommit)} ms, alongside step a)`
  );
}

// ---- the floor: the same NATS path with no actorflow code (bench/nats-floor-agent.ts) ----

const FLOOR = { stream: 'BENCH_FLOOR', tasks: 'benchfloor.tasks', results: 'benchfloor.results', core: 'benchfloor.core' } as const;
const FLOOR_AGENT = fileURLToPath(new URL('./nats-floor-agent.ts', import.meta.url));

export interface FloorResult {
  /** 3 chained steps: JetStream publish → pull → request back to us (we answer at once and publish the next). */
  readonly js3: LatencySummary;
  /** One such step. */
  readonly jsStep: LatencySummary;
  /** 3 chained core request/replies (no JetStream). */
  readonly core3: LatencySummary;
}

/**
 * A process that pulls from a JetStream work queue with fetch, as the actorflow worker does, and
 * requests back; this process plays the engine: it answers at once and publishes the next step.
 * So 3 steps here = the transport's share of a 3-step flow, without engine, journal or XState.
 */
async function natsFloor(url: string, chains: number): Promise<FloorResult> {
  const child = fork(FLOOR_AGENT, [url], { cwd: REPO, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  children.add(child);
  const nc = await connect({ servers: url, name: 'actorflow-bench-floor' });
  try {
    await new Promise<void>((res, rej) => {
      const timer = setTimeout(() => rej(new Error('floor agent not ready in 20 s')), 20_000);
      child.once('message', () => (clearTimeout(timer), res()));
      child.once('exit', (code) => (clearTimeout(timer), rej(new Error(`floor agent exited (${code})`))));
    });
    const js = jetstream(nc);
    const payload = codec.encode({ taskId: 'exec_01J0000000000000000000000:a:1', executionId: 'exec_01J0000000000000000000000', stepId: 'a', attempt: 1, agent: 'echo', tenant: 'default', workflow: 'bench3', input: { n: 1, payload: 'x'.repeat(16) } });
    const ok = codec.encode({ ok: true });
    let arrived: (() => void) | null = null;
    nc.subscribe(FLOOR.results, {
      callback: (_e, m) => {
        const a = arrived;
        arrived = null;
        a?.();
        m.respond(ok);
      },
    });
    await nc.flush();
    const jsStep = () =>
      new Promise<void>((res) => {
        arrived = res;
        js.publish(FLOOR.tasks, payload).catch(() => undefined);
      });
    const hJs3 = createHistogram();
    const hStep = createHistogram();
    const hCore3 = createHistogram();
    for (let i = 0; i < chains + 200; i++) {
      const t0 = process.hrtime.bigint();
      let t = t0;
      for (let k = 0; k < 3; k++) {
        await jsStep();
        const now = process.hrtime.bigint();
        if (i >= 200) recordNs(hStep, t, now);
        t = now;
      }
      if (i >= 200) recordNs(hJs3, t0, t);
    }
    for (let i = 0; i < chains + 200; i++) {
      const t0 = process.hrtime.bigint();
      for (let k = 0; k < 3; k++) await nc.request(FLOOR.core, payload, { timeout: 5000 });
      if (i >= 200) recordNs(hCore3, t0, process.hrtime.bigint());
    }
    return { js3: summarize(hJs3), jsStep: summarize(hStep), core3: summarize(hCore3) };
  } finally {
    if (child.connected) child.disconnect();
    await stopChild(child, 'SIGTERM', 3000);
    await jetstreamManager(nc)
      .then((jsm) => jsm.streams.delete(FLOOR.stream))
      .catch(() => undefined);
    await nc.close();
  }
}

/** Parent side: one nats-server for the part; per sync mode a fresh server child and fresh agents. */
export async function natsFlowPart(o: BenchOpts): Promise<Figure[]> {
  const figs: Figure[] = [];
  const seqFlows = o.quick ? 300 : 2000;
  const seqMaxMs = o.quick ? 3000 : 12_000;
  const conMs = o.quick ? 2000 : 5000;
  const traceFlows = o.quick ? 100 : 200;
  const warmupMs = o.quick ? 500 : 1000;
  /**
   * A fresh server and agent first run flows from 64 clients, not measured: their code is cold for their first
   * ~1,500 flows (V8 optimizing on helper threads that take the cores), and the 1-agent figure came first, cold (p50
   * 4.55 ms against 2.92 ms after 5 s of warm-up, bench/RESULTS.md, seventeenth session).
   */
  const warmLoad: NatsFlowArgs = { clients: 64, warmupMs: 0, durationMs: o.quick ? 1500 : 3000, maxFlows: 4000, trace: false };
  const quietMs = o.quick ? 1500 : 2000;
  /** The whole part should stay under ~90 s: a sync mode that would not fit is skipped (and said). */
  const budgetMs = o.quick ? 60_000 : 95_000;
  const partStart = Date.now();
  let lastModeMs = 0;
  cpuProfWindows = o.cpuProfDir !== null;
  // Also when the bench is stopped: kill ours, then die of the same signal.
  const onSignal = (sig: NodeJS.Signals) => {
    killAll();
    process.kill(process.pid, sig);
  };
  process.once('exit', killAll);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const nats = await startNats();
  console.log(`\nnats-server ${nats.url} (pid ${nats.pid}, JetStream, temp store)`);
  try {
    await waitQuiet(quietMs);
    const fl = await natsFloor(nats.url, o.quick ? 300 : 1000);
    console.log(`floor (no actorflow code: JetStream publish → pull consumer in another process → request back, answered at once), 3 chained steps: ${fmtLat(fl.js3)}; one step p50 ${ms(fl.jsStep.p50)}`);
    console.log(`floor, 3 chained core NATS request/replies (no JetStream): ${fmtLat(fl.core3)}`);
    figs.push(
      { part: 'nats floor', what: '3 chained steps, JetStream publish → fetch → request back, no actorflow code', sync: '-', value: `p50 ${ms(fl.js3.p50)}, p99 ${ms(fl.js3.p99)}`, target: '—', pass: null, note: `one step p50 ${ms(fl.jsStep.p50)}, p99 ${ms(fl.jsStep.p99)}; n=${int(fl.js3.count)}; the transport's share of a 3-step flow` },
      { part: 'nats floor', what: '3 chained core request/replies (no JetStream)', sync: '-', value: `p50 ${ms(fl.core3.p50)}, p99 ${ms(fl.core3.p99)}`, target: '—', pass: null, note: `n=${int(fl.core3.count)}` },
    );
    for (const sync of o.syncs) {
      const elapsed = Date.now() - partStart;
      if (lastModeMs > 0 && elapsed + lastModeMs > budgetMs) {
        console.log(`\n(nats: sync=${sync} skipped: ${(elapsed / 1000).toFixed(0)} s spent, another mode takes ~${(lastModeMs / 1000).toFixed(0)} s; run it alone with --only nats --sync ${sync})`);
        continue;
      }
      const m0 = Date.now();
      figs.push(...(await oneMode(sync)));
      figs.push(...(await builtinMode(sync)));
      lastModeMs = Date.now() - m0;
    }
  } finally {
    await nats.close();
    killAll();
    process.removeListener('exit', killAll);
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
  return figs;

  /** The same flow with the server's built-in `echo` on the NATS bus: its own agent, handed tasks and results in process. */
  async function builtinMode(sync: SyncMode): Promise<Figure[]> {
    console.log(`\n## nats flow, built-in echo in the server process (a NATS agent of its own: tasks and results in process) — sync=${sync}`);
    return withServer(sync, { cpuProfDir: o.cpuProfDir, args: ['--nats', nats.url] }, async (s) => {
      const part = 'nats flow';
      const label = 'built-in echo';
      await s.call<NatsFlowResult>('natsflow', warmLoad);
      await waitQuiet(quietMs);
      const seq = await measure(s, [], nats, { clients: 1, warmupMs, durationMs: seqMaxMs, maxFlows: seqFlows, trace: false });
      console.log(`${label}, 1 client sequential: ${fmtLat(seq.r.latency)}; ${int(seq.r.flowsPerSec)} flows/s; failed ${seq.r.failed}; ${seq.r.commitsPerFlow.toFixed(2)} commits/flow; ${cpuNote(seq.cpu)}`);
      await waitQuiet(quietMs);
      const con = await measure(s, [], nats, { clients: 64, warmupMs, durationMs: conMs, maxFlows: Number.MAX_SAFE_INTEGER, trace: false });
      console.log(`${label}, 64 clients: ${int(con.r.flowsPerSec)} flows/s (${int(con.r.flows)} in ${con.r.seconds.toFixed(1)} s); ${fmtLat(con.r.latency)}; failed ${con.r.failed}; ${con.r.commitsPerFlow.toFixed(2)} commits/flow; ${cpuNote(con.cpu)}`);
      return [
        { part, what: `3-step start→completed p50, ${label}, 1 client`, sync, value: ms(seq.r.latency.p50), target: '—', pass: null, note: `p99 ${ms(seq.r.latency.p99, 2)}; n=${int(seq.r.latency.count)}; failed ${seq.r.failed}; ${cpuNote(seq.cpu)}` },
        { part, what: `3-step flows/s, ${label}, 64 clients`, sync, value: `${int(con.r.flowsPerSec)}/s`, target: '—', pass: null, note: `p50 ${ms(con.r.latency.p50, 2)}, p99 ${ms(con.r.latency.p99, 2)} under load; failed ${con.r.failed}; ${con.r.commitsPerFlow.toFixed(3)} commits/flow; ${cpuNote(con.cpu)}` },
      ];
    });
  }

  async function oneMode(sync: SyncMode): Promise<Figure[]> {
    console.log(`\n## nats flow (bench3 through NATS: direct to a free agent, else JetStream; agents in their own processes) — sync=${sync}`);
    return withServer(sync, { cpuProfDir: o.cpuProfDir, args: ['--nats', nats.url, '--no-builtin-agents'] }, async (s) => {
      const agents: AgentProc[] = [];
      try {
        const out: Figure[] = [];
        const part = 'nats flow';
        const full = sync === 'full';
        const tgt = (t: string) => (full ? t : `${t} (full only)`);
        for (const count of [1, 4]) {
          const t0 = Date.now();
          const more = await Promise.all(Array.from({ length: count - agents.length }, (_, i) => spawnAgent(nats.url, `bench-agent-${agents.length + i + 1}`, o.cpuProfDir)));
          agents.push(...more);
          const seen = await waitAgentsOnline(s, agents.map((a) => a.name));
          console.log(`${count} agent process${count > 1 ? 'es' : ''} (pids ${agents.map((a) => a.pid).join(', ')}) online in ${((Date.now() - t0) / 1000).toFixed(1)} s (${seen} ms after start)`);
          const label = `${count} agent${count > 1 ? 's' : ''}`;

          if (count === 1) await s.call<NatsFlowResult>('natsflow', warmLoad);
          await waitQuiet(quietMs);
          const seq = await measure(s, agents, nats, { clients: 1, warmupMs, durationMs: seqMaxMs, maxFlows: seqFlows, trace: false });
          console.log(`${label}, 1 client sequential: ${fmtLat(seq.r.latency)}; ${int(seq.r.flowsPerSec)} flows/s; failed ${seq.r.failed}; ${seq.r.commitsPerFlow.toFixed(2)} commits/flow; ${cpuNote(seq.cpu)}`);

          // A short extra run with the observer on (not in the figures above: it adds a subscriber and wake-ups).
          const obs = await startObserver(nats.url);
          let bd: Breakdown | null;
          try {
            const traced = await measure(s, agents, nats, { clients: 1, warmupMs: 200, durationMs: 4000, maxFlows: traceFlows, trace: true });
            bd = breakdown(traced.r.trace, obs.seen);
          } finally {
            await obs.close();
          }
          console.log(`  ${breakdownNote(bd)}`);

          await waitQuiet(quietMs);
          const con = await measure(s, agents, nats, { clients: 64, warmupMs, durationMs: conMs, maxFlows: Number.MAX_SAFE_INTEGER, trace: false });
          console.log(`${label}, 64 clients: ${int(con.r.flowsPerSec)} flows/s (${int(con.r.flows)} in ${con.r.seconds.toFixed(1)} s); ${fmtLat(con.r.latency)}; failed ${con.r.failed}; ${con.r.commitsPerFlow.toFixed(2)} commits/flow; ${cpuNote(con.cpu)}`);

          const p50 = seq.r.latency.p50;
          const over = p50 > TARGET_P50_MS ? `; misses by ${ms(p50 - TARGET_P50_MS, 2)} (${(p50 / TARGET_P50_MS).toFixed(2)}×)` : '';
          out.push(
            { part, what: `3-step start→completed p50, ${label}, 1 client`, sync, value: ms(p50), target: tgt(`≤ ${TARGET_P50_MS} ms`), pass: p50 <= TARGET_P50_MS && seq.r.failed === 0, note: `n=${int(seq.r.latency.count)}${over}; ${cpuNote(seq.cpu)}; ${breakdownNote(bd)}` },
            { part, what: `3-step start→completed p99, ${label}, 1 client`, sync, value: ms(seq.r.latency.p99), target: '—', pass: null, note: `max ${ms(seq.r.latency.max, 2)}; ${int(seq.r.flowsPerSec)} flows/s sequential` },
            { part, what: `3-step flows/s, ${label}, 64 clients`, sync, value: `${int(con.r.flowsPerSec)}/s`, target: '—', pass: null, note: `p50 ${ms(con.r.latency.p50, 2)}, p99 ${ms(con.r.latency.p99, 2)} under load; failed ${con.r.failed}; ${con.r.commitsPerFlow.toFixed(3)} commits/flow; ${cpuNote(con.cpu)}` },
          );
        }
        return out;
      } finally {
        await Promise.all(agents.map((a) => a.stop()));
      }
    });
  }
}
