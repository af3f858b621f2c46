/**
 * @module bench/flow3 — 3-step flow (`bench3`: three `echo` tasks, built-in in-process agents),
 * start → completed latency and flows/s.
 *
 * IN-PROCESS (no HTTP): the loop runs inside the server child process. A flow starts with
 * `engine.start` and is done when `engine.onEvent` delivers its committed `workflow.completed`
 * event (so the figure includes every group commit of the flow: start, 3 steps, completion,
 * fsynced in `full` mode). 1 client runs flows one after another (latency); 64 clients run
 * concurrently (flows/s, and their latency under load).
 */
import { createHistogram } from 'node:perf_hooks';
import type { Engine } from '../src/engine/types.ts';
import type { EventView } from '../src/common/execution.ts';
import {
  type BenchOpts,
  type Figure,
  type LatencySummary,
  fmtLat,
  int,
  machineCpuSeconds,
  ms,
  procCpuSeconds,
  recordNs,
  summarize,
  waitQuiet,
  withServer,
} from './common.ts';

export interface Flow3Args {
  readonly clients: number;
  readonly durationMs: number;
  readonly warmupMs: number;
  /** `none`: direct executions (bench/direct.ts), no file I/O while they run. @default the journal */
  readonly durability?: 'none';
}

export interface Flow3Result {
  readonly clients: number;
  readonly flows: number;
  readonly failed: number;
  readonly seconds: number;
  readonly flowsPerSec: number;
  readonly latency: LatencySummary;
  /** Group commits per completed flow (engine.status().journal), measured phase only. */
  readonly commitsPerFlow: number;
}

async function journalCommits(engine: Engine): Promise<number> {
  const st = (await engine.status()) as { journal?: { commits: number } };
  return st.journal?.commits ?? Number.NaN;
}

const TERMINAL = new Set(['workflow.completed', 'workflow.failed', 'workflow.cancelled', 'workflow.timed_out']);

/** Runs inside the server child (bench/server-proc.ts). */
export async function runFlow3InProcess(engine: Engine, args: Flow3Args): Promise<Flow3Result> {
  // A terminal event may be delivered before `start` resolves (same commit): park it until asked for.
  const early = new Map<string, { type: string; at: bigint }>();
  const waiting = new Map<string, (r: { type: string; at: bigint }) => void>();
  const off = engine.onEvent((e: EventView) => {
    if (!TERMINAL.has(e.type)) return;
    const r = { type: e.type, at: process.hrtime.bigint() };
    const w = waiting.get(e.executionId);
    if (w) {
      waiting.delete(e.executionId);
      w(r);
    } else early.set(e.executionId, r);
  });
  const oneFlow = async (n: number): Promise<{ ok: boolean; t0: bigint; t1: bigint }> => {
    const t0 = process.hrtime.bigint();
    const { execution } = await engine.start({ tenant: 'default', workflow: 'bench3', input: { n, payload: 'x'.repeat(16) }, ...(args.durability ? { durability: args.durability } : {}) });
    const got = early.get(execution.id);
    let r: { type: string; at: bigint };
    if (got) {
      early.delete(execution.id);
      r = got;
    } else r = await new Promise((resolve) => waiting.set(execution.id, resolve));
    return { ok: r.type === 'workflow.completed', t0, t1: r.at };
  };
  const phase = async (durationMs: number, h: ReturnType<typeof createHistogram> | null) => {
    let flows = 0;
    let failed = 0;
    const t0 = process.hrtime.bigint();
    const end = Date.now() + durationMs;
    const client = async () => {
      while (Date.now() < end) {
        const r = await oneFlow(flows + failed);
        if (r.ok) flows++;
        else failed++;
        if (h) recordNs(h, r.t0, r.t1);
      }
    };
    await Promise.all(Array.from({ length: args.clients }, client));
    return { flows, failed, seconds: Number(process.hrtime.bigint() - t0) / 1e9 };
  };
  try {
    await phase(args.warmupMs, null);
    const h = createHistogram();
    const c0 = await journalCommits(engine);
    const m = await phase(args.durationMs, h);
    const commitsPerFlow = ((await journalCommits(engine)) - c0) / (m.flows + m.failed);
    return { clients: args.clients, flows: m.flows, failed: m.failed, seconds: m.seconds, flowsPerSec: m.flows / m.seconds, latency: summarize(h), commitsPerFlow };
  } finally {
    off();
  }
}

/** Parent side: per sync mode, a fresh server child; 1 sequential client, then 64 concurrent clients. */
export async function flow3Part(o: BenchOpts): Promise<Figure[]> {
  const figs: Figure[] = [];
  const seqMs = o.quick ? 1500 : 6000;
  const conMs = o.quick ? 2000 : 10_000;
  const warmupMs = o.quick ? 500 : 1500;
  for (const sync of o.syncs) {
    console.log(`\n## flow3 (in-process, no HTTP) — sync=${sync}`);
    await withServer(sync, { cpuProfDir: o.cpuProfDir }, async (s) => {
      await waitQuiet(o.quick ? 3000 : 8000);
      const seq = await s.call<Flow3Result>('flow3', { clients: 1, durationMs: seqMs, warmupMs });
      console.log(`1 client, sequential: ${fmtLat(seq.latency)}; ${int(seq.flowsPerSec)} flows/s; failed ${seq.failed}; ${seq.commitsPerFlow.toFixed(2)} group commits/flow`);
      await waitQuiet(o.quick ? 3000 : 8000);
      const cpu0 = procCpuSeconds(s.pid);
      const m0 = machineCpuSeconds();
      const t0 = performance.now();
      const con = await s.call<Flow3Result>('flow3', { clients: 64, durationMs: conMs, warmupMs });
      const secs = (performance.now() - t0) / 1000;
      const server = procCpuSeconds(s.pid) - cpu0;
      const cpuPct = (server / secs) * 100;
      const othersPct = (Math.max(0, machineCpuSeconds() - m0 - server) / secs) * 100;
      console.log(`64 clients: ${int(con.flowsPerSec)} flows/s (${int(con.flows)} in ${con.seconds.toFixed(1)} s); ${fmtLat(con.latency)}; failed ${con.failed}; CPU: server ${cpuPct.toFixed(0)}%, other processes ${othersPct.toFixed(0)}%; ${con.commitsPerFlow.toFixed(2)} commits/flow`);
      const part = 'flow3 in-process';
      const ok = sync === 'full';
      const tgt = (t: string) => (ok ? t : `${t} (full only)`);
      figs.push(
        { part, what: '3-step start→completed p50, 1 client', sync, value: ms(seq.latency.p50), target: tgt('≤ 1 ms'), pass: seq.latency.p50 <= 1, note: `n=${int(seq.latency.count)}; ${seq.commitsPerFlow.toFixed(2)} group commits per flow` },
        { part, what: '3-step start→completed p99, 1 client', sync, value: ms(seq.latency.p99), target: tgt('≤ 2 ms'), pass: seq.latency.p99 <= 2, note: `max ${ms(seq.latency.max, 2)}` },
        { part, what: '3-step flows/s, 64 clients', sync, value: `${int(con.flowsPerSec)}/s`, target: tgt('≥ 8,000/s'), pass: con.flowsPerSec >= 8000 && con.failed === 0, note: `p50 ${ms(con.latency.p50, 2)}, p99 ${ms(con.latency.p99, 2)} under load; ${con.commitsPerFlow.toFixed(3)} commits/flow; CPU server ${cpuPct.toFixed(0)}%, others ${othersPct.toFixed(0)}%` },
      );
    });
  }
  return figs;
}
