/**
 * @module bench/parked — waiting executions (issue 12 targets, bench/RESULTS.md):
 *
 * 1. **RSS with 1,000,000 waiting executions** (`--quick`: 10,000, sync=normal: 100,000, both
 *    without a verdict; `BENCH_PARKED_COUNT=<n>` overrides) of the
 *    `parkecho` flow (bench/common.ts: an `echo` step, a `wait` for signal `go`, an `echo` step).
 *    Inside a server child run with `--expose-gc`: 500 in-process clients each `engine.start` one
 *    and wait for its `workflow.waiting` event, then start the next. Then it waits until the engine
 *    has passivated them (`status().live` back to what it was), reads RSS, forces `gc()` and reads
 *    RSS again. RSS per waiting execution = (RSS after gc − RSS of the idle server) / count. Target:
 *    1,000,000 in ≤ 2 GiB RSS. If the starts run past the time budget (`BENCH_PARKED_BUDGET_S`,
 *    default 420 s) it stops and the figure is the measured per-execution RSS extrapolated to
 *    1,000,000, labelled so (an upper bound: passivated executions leave memory, so RSS grows far
 *    less than linearly; 1,000,000 measured 395–441 MiB on 2026-12-06).
 * 2. **Signal to a passivated execution → next step dispatched**, on the same server (the million
 *    in its store): 2,000 (`--quick`: 500) of the parked executions, spread over the whole parking
 *    window, all passivated (`live` = 0 before the first), after 1,000 others whose signals warm the code
 *    (timed apart: their p99 is a comparison line). One at a time: `POST
 *    /executions/{id}/signals/go`; the clock stops when the `workflow.step.started` of step `b`
 *    arrives on a WebSocket firehose subscription (`/api/v1/ws`, filter workflow + that type). It
 *    includes HTTP, the rebuild from the snapshot, the fsynced commit (sync=full) and the publish.
 *    Target p99 ≤ 5 ms. The 202 reply time is reported beside it, and, as a comparison, the same
 *    to as many executions still in memory (each started with `POST ?wait=5000` right before its signal).
 */
import http from 'node:http';
import { createHistogram } from 'node:perf_hooks';
import WebSocket from 'ws';
import type { Engine } from '../src/engine/types.ts';
import type { EventView } from '../src/common/execution.ts';
import { type BenchOpts, type Figure, type LatencySummary, type SyncMode, fmtLat, int, mib, ms, procMem, recordNs, sleep, summarize, waitQuiet, withServer } from './common.ts';

export const PARKED_FLOW = 'parkecho';
/** Target: 1,000,000 waiting executions in ≤ 2 GiB RSS. */
const TARGET_COUNT = 1_000_000;
const RSS_LIMIT = 2 * 2 ** 30;
const SIGNAL_P99_MS = 5;

export interface ParkedArgs {
  readonly count: number;
  /** In-process clients, each: start one, wait until it waits, next. */
  readonly concurrency: number;
  /** Stop early (and say so) past this time budget. */
  readonly maxMs: number;
  /** Return this many ids, spread evenly over the starts (for signals). */
  readonly sampleIds?: number;
  /** Print a progress line every this many ms (0: never). */
  readonly progressMs?: number;
  /** The flow to park. @default 'parkecho' */
  readonly workflow?: string;
}

export interface ParkedResult {
  readonly started: number;
  /** Executions that reached `workflow.waiting`. */
  readonly waiting: number;
  readonly failed: number;
  /** First start → last `workflow.waiting`. */
  readonly seconds: number;
  readonly rssBefore: number;
  /** RSS once passivated, before a forced gc. */
  readonly rssSettled: number;
  readonly rssAfter: number;
  readonly heapUsedBefore: number;
  readonly heapUsedAfter: number;
  readonly externalAfter: number;
  /** ms from the last waiting until `live` was back to its idle value (passivation). */
  readonly passivateWaitMs: number;
  readonly liveBefore: number;
  readonly liveAfter: number;
  readonly passivated: number;
  readonly timers: number;
  readonly timedOut: boolean;
  readonly ids: string[];
}

function fullGc(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run the child with --expose-gc');
  gc();
  gc();
}

interface SystemStatus {
  live?: number;
  passivated?: number;
  timers?: number;
  executions: Record<string, number>;
}

/** Runs inside the server child (bench/server-proc.ts). */
export async function runParkedInProcess(engine: Engine, args: ParkedArgs): Promise<ParkedResult> {
  const workflow = args.workflow ?? PARKED_FLOW;
  const st0 = (await engine.status()) as SystemStatus;
  fullGc();
  const before = process.memoryUsage();
  // One listener for all clients: `workflow.waiting` (or an end) of an execution resolves its client.
  // It may come before `start` resolves (same commit): kept in `early` until asked for.
  const early = new Map<string, boolean>();
  const waiters = new Map<string, (ok: boolean) => void>();
  const off = engine.onEvent((e: EventView) => {
    let ok: boolean;
    if (e.type === 'workflow.waiting') ok = true;
    else if (e.type === 'workflow.failed' || e.type === 'workflow.completed' || e.type === 'workflow.cancelled' || e.type === 'workflow.timed_out') ok = false;
    else return;
    const w = waiters.get(e.executionId);
    if (w) {
      waiters.delete(e.executionId);
      w(ok);
    } else early.set(e.executionId, ok);
  });
  const every = args.sampleIds ? Math.max(1, Math.floor(args.count / args.sampleIds)) : 0;
  const ids: string[] = [];
  const t0 = performance.now();
  let next = 0;
  let started = 0;
  let waiting = 0;
  let failed = 0;
  let timedOut = false;
  let lastAt = t0;
  const progress =
    args.progressMs && args.progressMs > 0
      ? setInterval(() => {
          const s = (performance.now() - t0) / 1000;
          console.log(`  parked ${int(waiting)} in ${s.toFixed(0)} s (${int(waiting / s)}/s), RSS ${mib(process.memoryUsage().rss)}`);
        }, args.progressMs)
      : undefined;
  const client = async () => {
    for (;;) {
      if (next >= args.count) return;
      if (performance.now() - t0 > args.maxMs) {
        timedOut = true;
        return;
      }
      const n = next++;
      const { execution } = await engine.start({ tenant: 'default', workflow, input: { n } });
      started++;
      let ok = early.get(execution.id);
      if (ok === undefined) ok = await new Promise<boolean>((resolve) => waiters.set(execution.id, resolve));
      else early.delete(execution.id);
      if (ok) waiting++;
      else failed++;
      lastAt = performance.now();
      if (every > 0 && n % every === 0 && ids.length < (args.sampleIds ?? 0)) ids.push(execution.id);
    }
  };
  try {
    await Promise.all(Array.from({ length: args.concurrency }, client));
  } finally {
    off();
    if (progress) clearInterval(progress);
  }
  const seconds = (lastAt - t0) / 1000;
  // Passivation: idle waiting executions leave memory after ACTORFLOW_PASSIVATE_MS (default 1 s).
  const p0 = performance.now();
  let st = (await engine.status()) as SystemStatus;
  while ((st.live ?? 0) > (st0.live ?? 0) && performance.now() - p0 < 30_000) {
    await sleep(250);
    st = (await engine.status()) as SystemStatus;
  }
  const passivateWaitMs = performance.now() - p0;
  await sleep(200);
  const settled = process.memoryUsage();
  fullGc();
  const after = process.memoryUsage();
  return {
    started, waiting, failed, seconds, timedOut, ids, passivateWaitMs,
    rssBefore: before.rss, rssSettled: settled.rss, rssAfter: after.rss,
    heapUsedBefore: before.heapUsed, heapUsedAfter: after.heapUsed, externalAfter: after.external,
    liveBefore: st0.live ?? 0, liveAfter: st.live ?? 0, passivated: (st.passivated ?? 0) - (st0.passivated ?? 0), timers: st.timers ?? 0,
  };
}

// ---- parent side: signals over HTTP, dispatches seen on a WebSocket firehose ----

const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });

/** A POST with a JSON body on a keep-alive connection; resolves with the status once the body is read. */
export function postJson(url: string, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

export interface SignalResult {
  readonly dispatch: LatencySummary;
  readonly ack: LatencySummary;
  readonly accepted: number;
  readonly missing: number;
  /** `live` of the server right before the first signal (0 = every sampled execution was passivated). */
  readonly liveBefore: number;
}

/**
 * `count` times, one after another: `idAt(i)` names an execution (untimed), then POST signal `go` to
 * it and stop the clock at the `workflow.step.started` of `stepId` on the firehose (bounded: 5 s, then
 * counted missing).
 */
export async function signalToDispatch(url: string, workflow: string, stepId: string, count: number, idAt: (i: number) => string | Promise<string>, liveBefore: number): Promise<SignalResult> {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/api/v1/ws`, { perMessageDeflate: false });
  await new Promise<void>((res, rej) => {
    ws.once('open', () => res());
    ws.once('error', rej);
  });
  let want: { id: string; resolve: (at: bigint) => void } | null = null;
  let acked: () => void = () => undefined;
  const ackP = new Promise<void>((r) => (acked = r));
  ws.on('message', (buf: Buffer) => {
    const at = process.hrtime.bigint();
    const m = JSON.parse(buf.toString()) as { op?: string; event?: { executionId?: string; stepId?: string } };
    if (m.op === 'ack') acked();
    if (m.op !== 'event' || !want || m.event?.executionId !== want.id || m.event.stepId !== stepId) return;
    const w = want;
    want = null;
    w.resolve(at);
  });
  ws.send(JSON.stringify({ op: 'subscribe', id: 'dispatch', filter: { workflow, types: ['workflow.step.started'] } }));
  await Promise.race([ackP, sleep(1000)]);
  const dispatch = createHistogram();
  const ack = createHistogram();
  let accepted = 0;
  let missing = 0;
  const body = JSON.stringify({ payload: { bench: 'signal' } });
  try {
    for (let i = 0; i < count; i++) {
      const id = await idAt(i);
      let timer: NodeJS.Timeout | undefined;
      const seen = new Promise<bigint | null>((resolve) => {
        want = { id, resolve };
        timer = setTimeout(() => resolve(null), 5000);
      });
      const t0 = process.hrtime.bigint();
      const r = await postJson(`${url}/api/v1/executions/${id}/signals/go`, body);
      recordNs(ack, t0, process.hrtime.bigint());
      if (r.status === 202) accepted++;
      else console.error(`signal ${id}: ${r.status} ${r.text.slice(0, 200)}`);
      const at = await seen;
      clearTimeout(timer);
      want = null;
      if (at === null) missing++;
      else recordNs(dispatch, t0, at);
    }
  } finally {
    ws.close();
  }
  return { dispatch: summarize(dispatch), ack: summarize(ack), accepted, missing, liveBefore };
}

/** How many to park per sync mode: the target's million for full, 100,000 for normal (comparison); 10,000 when quick. */
function countFor(o: BenchOpts, sync: SyncMode): number {
  const env = Number(process.env['BENCH_PARKED_COUNT'] ?? '');
  if (Number.isInteger(env) && env > 0) return env;
  if (o.quick) return 10_000;
  return sync === 'full' ? TARGET_COUNT : 100_000;
}

/** Parent side: per sync mode, a fresh server child with --expose-gc: park, measure RSS, then signal a sample. */
export async function parkedPart(o: BenchOpts): Promise<Figure[]> {
  const figs: Figure[] = [];
  const budgetS = Number(process.env['BENCH_PARKED_BUDGET_S'] ?? '') || (o.quick ? 60 : 420);
  const sampleN = o.quick ? 500 : 2000;
  // Signals to other passivated executions first, timed apart: the signal path's code is cold until then (the live
  // comparison below runs after it, warm), and the target is about rebuilding an execution, not JIT warm-up. V8
  // optimized ~400 functions over a fresh server's first 1,000 signals, on helper threads that took the main thread's
  // core (bench/RESULTS.md, seventeenth session): 200 left the measured signals in that window. Their own p99 is
  // reported beside the target's, without a verdict. `BENCH_SIGNAL_WARMUP=<n>` overrides.
  const warmN = Number(process.env['BENCH_SIGNAL_WARMUP'] ?? '') || 1000;
  for (const sync of o.syncs) {
    const count = countFor(o, sync);
    console.log(`\n## waiting executions — sync=${sync}, ${int(count)} × ${PARKED_FLOW} (echo, wait for a signal, echo), 500 in-process clients; budget ${budgetS} s`);
    await withServer(sync, { gc: true, cpuProfDir: o.cpuProfDir }, async (s) => {
      const r = await s.call<ParkedResult>('parked', { count, concurrency: 500, maxMs: budgetS * 1000, sampleIds: sampleN + warmN, progressMs: o.quick ? 0 : 30_000 });
      const proc = procMem(s.pid);
      const n = r.waiting;
      const per = (r.rssAfter - r.rssBefore) / n;
      const heapPer = (r.heapUsedAfter - r.heapUsedBefore) / n;
      console.log(
        `${int(n)} waiting (${int(r.started)} started, ${r.failed} failed) in ${r.seconds.toFixed(1)} s = ${int(n / r.seconds)}/s${r.timedOut ? ' (STOPPED at the time budget)' : ''}; ` +
          `passivated within ${int(r.passivateWaitMs)} ms (live ${int(r.liveAfter)}, passivations ${int(r.passivated)}, timers ${int(r.timers)})\n` +
          `RSS: idle server ${mib(r.rssBefore)}; with ${int(n)} waiting ${mib(r.rssSettled)} before gc, ${mib(r.rssAfter)} after gc; peak VmHWM ${mib(proc.hwm)}; ` +
          `per waiting execution ${(per / 1024).toFixed(2)} KiB RSS, ${(heapPer / 1024).toFixed(2)} KiB JS heap; external ${mib(r.externalAfter)}`,
      );
      const part = 'parked';
      const full = sync === 'full';
      const measured = n >= TARGET_COUNT;
      const projected = r.rssBefore + per * TARGET_COUNT;
      const tgt = (t: string) => (full ? t : `${t} (full only)`);
      const rssNote = `${(per / 1024).toFixed(2)} KiB/execution RSS, ${(heapPer / 1024).toFixed(2)} KiB heap; idle ${mib(r.rssBefore)}; before gc ${mib(r.rssSettled)}; peak ${mib(proc.hwm)}`;
      figs.push(
        measured || !r.timedOut
          ? {
              // A run asked for fewer (--quick, sync=normal) gets no verdict and no extrapolation: live executions
              // are capped (ACTORFLOW_MAX_LIVE) and passivated ones leave memory, so RSS is not linear in a small count.
              part, what: `RSS with ${int(n)} waiting executions (passivated, after gc)`, sync, value: mib(r.rssAfter), target: tgt('1,000,000 ≤ 2 GiB RSS'),
              pass: measured ? r.rssAfter <= RSS_LIMIT : null,
              note: measured ? rssNote : `${rssNote}; fewer than 1,000,000 asked for: no verdict`,
            }
          : {
              // Stopped by the time budget: the verdict is on the linear extrapolation (an upper bound, see above).
              part, what: `RSS for 1,000,000 waiting EXTRAPOLATED linearly from ${int(n)} measured (after gc)`, sync, value: mib(projected), target: tgt('1,000,000 ≤ 2 GiB RSS'),
              pass: projected <= RSS_LIMIT,
              note: `measured ${mib(r.rssAfter)} with ${int(n)} before the time budget ran out; ${rssNote}`,
            },
        {
          part, what: `time to park ${int(n)} (start → waiting, 500 clients in-process)`, sync, value: `${r.seconds.toFixed(1)} s`, target: '—', pass: null,
          note: `${int(n / r.seconds)}/s; ${r.failed} failed${r.timedOut ? '; stopped at the time budget' : ''}; passivated within ${int(r.passivateWaitMs)} ms, live after ${int(r.liveAfter)}`,
        },
      );

      // 2. signal → dispatch, on the same server, to passivated executions.
      await waitQuiet(o.quick ? 3000 : 8000);
      const st = await s.call<SystemStatus>('status');
      // Both sets spread over the whole parking window (r.ids is in start order): id i is measured when it moves the
      // measured share's running count.
      const share = Math.min(1, sampleN / Math.max(1, r.ids.length));
      const isMeasured = (i: number) => Math.floor((i + 1) * share) > Math.floor(i * share);
      const ids = r.ids.filter((_, i) => isMeasured(i));
      const warmIds = r.ids.filter((_, i) => !isMeasured(i));
      console.log(`signalling ${ids.length} of them one at a time, after ${warmIds.length} others that warm the code (live ${st.live ?? '?'}, passivations so far ${st.passivated ?? '?'})`);
      const cold = await signalToDispatch(s.url, PARKED_FLOW, 'b', warmIds.length, (i) => warmIds[i] as string, -1);
      console.log(`passivated, the first ${warmIds.length} after parking (cold code): signal → step b started (WS): ${fmtLat(cold.dispatch)}; 202 reply: ${fmtLat(cold.ack)}`);
      // The warm-up's executions finish and leave memory: none of the measured ones may be live.
      await waitQuiet(1000);
      const warmed = await s.call<SystemStatus>('status');
      const sig = await signalToDispatch(s.url, PARKED_FLOW, 'b', ids.length, (i) => ids[i] as string, warmed.live ?? -1);
      console.log(`passivated: signal → step b started (WS): ${fmtLat(sig.dispatch)}; 202 reply: ${fmtLat(sig.ack)}; ${sig.accepted} × 202, ${sig.missing} not seen`);
      const okRun = sig.accepted === ids.length && sig.missing === 0 && sig.liveBefore === 0;
      // The same, to executions still in memory: each started (POST ?wait=5000 answers once it waits) right before its signal.
      await waitQuiet(o.quick ? 3000 : 8000);
      const startBody = JSON.stringify({ workflow: PARKED_FLOW, input: { live: true } });
      const live = await signalToDispatch(s.url, PARKED_FLOW, 'b', ids.length, async () => {
        const res = await postJson(`${s.url}/api/v1/executions?wait=5000`, startBody);
        const ex = JSON.parse(res.text) as { id?: string; status?: string };
        if (res.status !== 201 || ex.status !== 'waiting' || !ex.id) throw new Error(`start ${res.status}: ${res.text.slice(0, 200)}`);
        return ex.id;
      }, -1);
      console.log(`live (not passivated): signal → step b started (WS): ${fmtLat(live.dispatch)}; 202 reply: ${fmtLat(live.ack)}; ${live.accepted} × 202, ${live.missing} not seen`);
      figs.push(
        {
          part: 'signal', what: `signal to a passivated execution → next step dispatched, p99 (${int(n)} waiting in the store)`, sync, value: ms(sig.dispatch.p99), target: tgt('p99 ≤ 5 ms'),
          pass: sig.dispatch.p99 <= SIGNAL_P99_MS && okRun,
          note: `p50 ${ms(sig.dispatch.p50)}, max ${ms(sig.dispatch.max, 2)}, n=${sig.dispatch.count}; live before ${sig.liveBefore}; ${sig.accepted} × 202, ${sig.missing} not seen; POST → 202 p50 ${ms(sig.ack.p50)}, p99 ${ms(sig.ack.p99)}`,
        },
        ...(cold.dispatch.count === 0
          ? []
          : [
              {
                part: 'signal', what: `signal to a passivated execution → next step dispatched, p99 of the first ${int(cold.dispatch.count)} after parking (cold code, comparison)`, sync, value: ms(cold.dispatch.p99), target: '—', pass: null,
                note: `p50 ${ms(cold.dispatch.p50)}, max ${ms(cold.dispatch.max, 2)}; ${cold.accepted} × 202, ${cold.missing} not seen; the warm-up of the figure above`,
              },
            ]),
        {
          part: 'signal', what: 'signal to a live execution (not passivated) → next step dispatched, p99 (comparison)', sync, value: ms(live.dispatch.p99), target: '—', pass: null,
          note: `p50 ${ms(live.dispatch.p50)}, max ${ms(live.dispatch.max, 2)}, n=${live.dispatch.count}; ${live.accepted} × 202, ${live.missing} not seen; each started with POST ?wait=5000 right before`,
        },
      );
    });
  }
  return figs;
}
