/**
 * @module bench/direct — direct executions (`durability: "none"`) against bare XState, in one run
 * (issue 12 targets: e2e p50 ≤ 3 × bare XState's, flows/s ≥ 0.7 × its).
 *
 * - **bare XState**, in this (the bench) process, as the peers harness's bare XState peer: a machine
 *   of 3 states each invoking a promise actor (+1), `toPromise(createActor(m).start())`; nothing durable.
 * - **actorflow direct**: `POST /api/v1/executions?wait=5000` `{"workflow":"bench3","input":…,
 *   "durability":"none"}` against a server child (bench/server-proc.ts: 3 `echo` tasks, built-in
 *   in-process agents), one HTTP request per flow (node:http keep-alive agent), the reply must say
 *   `completed`.
 * - **actorflow journaled**: the same request without `durability` (start, 3 steps and the end
 *   committed, fsynced with sync=full), for comparison.
 *
 * Each: 1 client, flows one after another (e2e p50/p99, after a warm-up of 1,500-2,000), then 64 client loops for
 * 10 s (`--quick`: 3 s) (flows/s, as the peers harness counts them). Per sync mode, the XState
 * figures are taken in the same minute as the server's, right before them.
 *
 * Beside them, to show where the time goes: the HTTP floor (`GET /health` over the same client, no
 * engine work) and the direct flow in-process in the server child (bench/flow3.ts with
 * `durability: "none"`: `engine.start` until `workflow.completed` reaches an `onEvent` listener, no HTTP).
 */
import http from 'node:http';
import { createHistogram } from 'node:perf_hooks';
import { assign, createActor, fromPromise, setup, toPromise } from 'xstate';
import type { Flow3Result } from './flow3.ts';
import { type BenchOpts, type Figure, type LatencySummary, fmtLat, int, machineCpuSeconds, ms, procCpuSeconds, recordNs, selfCpuSeconds, summarize, waitQuiet, withServer } from './common.ts';

// ---- bare XState (peer-xstate.js) ----

const inc = fromPromise(async ({ input }: { input: number }) => input + 1);
const benchMachine = setup({ types: {} as { context: { v: number }; input: number; output: number }, actors: { inc } }).createMachine({
  id: 'benchwf',
  context: ({ input }) => ({ v: input }),
  initial: 's1',
  states: {
    s1: { invoke: { src: 'inc', input: ({ context }) => context.v, onDone: { target: 's2', actions: assign({ v: ({ event }) => event.output }) } } },
    s2: { invoke: { src: 'inc', input: ({ context }) => context.v, onDone: { target: 's3', actions: assign({ v: ({ event }) => event.output }) } } },
    s3: { invoke: { src: 'inc', input: ({ context }) => context.v, onDone: { target: 'done', actions: assign({ v: ({ event }) => event.output }) } } },
    done: { type: 'final' },
  },
  output: ({ context }) => context.v,
});

async function xstateFlow(i: number): Promise<void> {
  const out = await toPromise(createActor(benchMachine, { input: i }).start());
  if (out !== i + 3) throw new Error(`xstate: bad output ${String(out)} for ${i}`);
}

// ---- actorflow over HTTP ----

const agent = new http.Agent({ keepAlive: true, maxSockets: 128 });

function httpFlow(base: string, direct: boolean): (i: number) => Promise<void> {
  const url = `${base}/api/v1/executions?wait=5000`;
  return (i) =>
    new Promise((resolve, reject) => {
      const body = JSON.stringify(direct ? { workflow: 'bench3', input: { v: i }, durability: 'none' } : { workflow: 'bench3', input: { v: i } });
      const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          if (res.statusCode !== 201) return reject(new Error(`start ${res.statusCode}: ${text.slice(0, 200)}`));
          const ex = JSON.parse(text) as { status?: string; output?: { v?: number } };
          if (ex.status !== 'completed' || ex.output?.v !== i) return reject(new Error(`not completed within ?wait: ${text.slice(0, 300)}`));
          resolve();
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
}

/** `GET /health`: uWS, the router and this client, no engine work (the floor of every figure over HTTP). */
function healthCall(base: string): (i: number) => Promise<void> {
  const url = `${base}/health`;
  return () =>
    new Promise((resolve, reject) => {
      http
        .get(url, { agent }, (res) => {
          res.resume();
          res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`/health ${res.statusCode}`))));
        })
        .on('error', reject);
    });
}

// ---- the two loops of the peers harness ----

interface SeqResult {
  readonly latency: LatencySummary;
  /** The warm-up's own latencies (cold code: reported beside, never the figure). */
  readonly warmup: LatencySummary;
}

async function sequential(fn: (i: number) => Promise<void>, n: number, warm: number): Promise<SeqResult> {
  const timed = async (h: ReturnType<typeof createHistogram>, count: number): Promise<LatencySummary> => {
    for (let i = 0; i < count; i++) {
      const t0 = process.hrtime.bigint();
      await fn(i);
      recordNs(h, t0, process.hrtime.bigint());
    }
    return summarize(h);
  };
  const warmup = await timed(createHistogram(), warm);
  return { warmup, latency: await timed(createHistogram(), n) };
}

interface TputResult {
  readonly flows: number;
  readonly errors: number;
  readonly seconds: number;
  readonly flowsPerSec: number;
  readonly latency: LatencySummary;
}

async function throughput(fn: (i: number) => Promise<void>, clients: number, durationMs: number): Promise<TputResult> {
  const h = createHistogram();
  let flows = 0;
  let errors = 0;
  const t0 = performance.now();
  const end = t0 + durationMs;
  const loop = async (c: number) => {
    let i = c * 1_000_000;
    while (performance.now() < end) {
      const s = process.hrtime.bigint();
      try {
        await fn(i++);
        flows++;
        recordNs(h, s, process.hrtime.bigint());
      } catch (err) {
        if (errors++ < 5) console.error(`flow error: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: clients }, (_, c) => loop(c)));
  const seconds = (performance.now() - t0) / 1000;
  return { flows, errors, seconds, flowsPerSec: flows / seconds, latency: summarize(h) };
}

const CLIENTS = 64;

/** Parent side: per sync mode, bare XState here, then a fresh server child: direct, then journaled. */
export async function directPart(o: BenchOpts): Promise<Figure[]> {
  const figs: Figure[] = [];
  const n = o.quick ? 500 : 2000;
  // A fresh server's p50 over HTTP keeps falling for its first ~1,500 requests while V8 optimizes the request path
  // (direct: 0.62-0.73 ms per block of 500 at first, 0.35-0.49 ms from 1,500 on; bench/RESULTS.md, seventeenth
  // session); bare XState's tight loop is optimized within a few hundred. The warm-up's own p50 is reported beside.
  const warm = o.quick ? 1500 : 2000;
  const dur = o.quick ? 3000 : 10_000;
  for (const sync of o.syncs) {
    console.log(`\n## direct executions vs bare XState — sync=${sync} (journaled comparison); 1 client × ${int(n)}, then ${CLIENTS} clients × ${dur / 1000} s`);
    await withServer(sync, { cpuProfDir: o.cpuProfDir }, async (s) => {
      const direct = httpFlow(s.url, true);
      const journaled = httpFlow(s.url, false);
      await waitQuiet(o.quick ? 3000 : 8000);
      const xSeq = await sequential(xstateFlow, n, warm);
      console.log(`bare XState, 1 client: ${fmtLat(xSeq.latency)}`);
      const dSeq = await sequential(direct, n, warm);
      console.log(`direct (durability none, ?wait), 1 client: ${fmtLat(dSeq.latency)}`);
      const jSeq = await sequential(journaled, n, warm);
      console.log(`journaled (?wait), 1 client: ${fmtLat(jSeq.latency)}`);
      const hSeq = await sequential(healthCall(s.url), n, warm);
      console.log(`HTTP floor (GET /health), 1 client: ${fmtLat(hSeq.latency)}`);
      const inSeq = await s.call<Flow3Result>('flow3', { clients: 1, durationMs: o.quick ? 1500 : 4000, warmupMs: o.quick ? 300 : 1000, durability: 'none' });
      console.log(`direct in-process (engine.start → workflow.completed, no HTTP), 1 client: ${fmtLat(inSeq.latency)}`);

      const cpu = async (fn: () => Promise<TputResult>) => {
        await waitQuiet(o.quick ? 3000 : 8000);
        const c0 = procCpuSeconds(s.pid);
        const m0 = machineCpuSeconds();
        const p0 = selfCpuSeconds();
        const t0 = performance.now();
        const r = await fn();
        const secs = (performance.now() - t0) / 1000;
        const server = procCpuSeconds(s.pid) - c0;
        const self = selfCpuSeconds() - p0;
        const others = Math.max(0, machineCpuSeconds() - m0 - server - self);
        return { r, serverPct: (server / secs) * 100, clientPct: (self / secs) * 100, othersPct: (others / secs) * 100 };
      };
      const xT = await cpu(() => throughput(xstateFlow, CLIENTS, dur));
      console.log(`bare XState, ${CLIENTS} clients: ${int(xT.r.flowsPerSec)} flows/s; ${fmtLat(xT.r.latency)}; errors ${xT.r.errors}; CPU this process ${xT.clientPct.toFixed(0)}%, others ${xT.othersPct.toFixed(0)}%`);
      const dT = await cpu(() => throughput(direct, CLIENTS, dur));
      console.log(`direct, ${CLIENTS} clients: ${int(dT.r.flowsPerSec)} flows/s; ${fmtLat(dT.r.latency)}; errors ${dT.r.errors}; CPU server ${dT.serverPct.toFixed(0)}%, client ${dT.clientPct.toFixed(0)}%, others ${dT.othersPct.toFixed(0)}%`);
      const jT = await cpu(() => throughput(journaled, CLIENTS, dur));
      console.log(`journaled, ${CLIENTS} clients: ${int(jT.r.flowsPerSec)} flows/s; ${fmtLat(jT.r.latency)}; errors ${jT.r.errors}; CPU server ${jT.serverPct.toFixed(0)}%, client ${jT.clientPct.toFixed(0)}%, others ${jT.othersPct.toFixed(0)}%`);
      const hT = await cpu(() => throughput(healthCall(s.url), CLIENTS, dur));
      console.log(`HTTP floor (GET /health), ${CLIENTS} clients: ${int(hT.r.flowsPerSec)} req/s; ${fmtLat(hT.r.latency)}; CPU server ${hT.serverPct.toFixed(0)}%, client ${hT.clientPct.toFixed(0)}%, others ${hT.othersPct.toFixed(0)}%`);
      await waitQuiet(o.quick ? 3000 : 8000);
      const inT = await s.call<Flow3Result>('flow3', { clients: CLIENTS, durationMs: dur, warmupMs: o.quick ? 300 : 1000, durability: 'none' });
      console.log(`direct in-process, ${CLIENTS} clients: ${int(inT.flowsPerSec)} flows/s; ${fmtLat(inT.latency)}; failed ${inT.failed}`);

      const part = 'direct';
      const full = sync === 'full';
      const tgt = (t: string) => (full ? t : `${t} (full only)`);
      const p50Ratio = dSeq.latency.p50 / xSeq.latency.p50;
      const tputRatio = dT.r.flowsPerSec / xT.r.flowsPerSec;
      figs.push(
        {
          part, what: 'direct (durability none) 3-step e2e p50, 1 client, HTTP ?wait=5000', sync, value: ms(dSeq.latency.p50), target: tgt(`≤ 3 × bare XState's (${ms(xSeq.latency.p50)}) = ${ms(3 * xSeq.latency.p50)}`),
          pass: p50Ratio <= 3, note: `${p50Ratio.toFixed(1)} × XState; p99 ${ms(dSeq.latency.p99)} (XState ${ms(xSeq.latency.p99)}); n=${int(dSeq.latency.count)}; the first ${int(warm)} after boot (warm-up, cold code): p50 ${ms(dSeq.warmup.p50)}`,
        },
        {
          part, what: `direct 3-step flows/s, ${CLIENTS} clients, HTTP ?wait=5000`, sync, value: `${int(dT.r.flowsPerSec)}/s`, target: tgt(`≥ 0.7 × bare XState's (${int(xT.r.flowsPerSec)}/s) = ${int(0.7 * xT.r.flowsPerSec)}/s`),
          pass: tputRatio >= 0.7 && dT.r.errors === 0,
          note: `${tputRatio.toFixed(2)} × XState; p50 ${ms(dT.r.latency.p50, 2)}, p99 ${ms(dT.r.latency.p99, 2)} under load; errors ${dT.r.errors}; CPU server ${dT.serverPct.toFixed(0)}%, client ${dT.clientPct.toFixed(0)}%, others ${dT.othersPct.toFixed(0)}%`,
        },
        {
          part, what: 'bare XState 3 promise steps, in-process: e2e p50 / flows/s', sync: '-', value: `${ms(xSeq.latency.p50)} / ${int(xT.r.flowsPerSec)}/s`, target: '—', pass: null,
          note: `p99 ${ms(xSeq.latency.p99)}; ${CLIENTS} clients: p50 ${ms(xT.r.latency.p50, 2)}, p99 ${ms(xT.r.latency.p99, 2)}; measured before the ${sync} server's figures`,
        },
        {
          part, what: 'HTTP floor: GET /health, 1 client p50 / 64 clients req/s', sync, value: `${ms(hSeq.latency.p50)} / ${int(hT.r.flowsPerSec)}/s`, target: '—', pass: null,
          note: `${(hSeq.latency.p50 / xSeq.latency.p50).toFixed(1)} × XState's e2e p50 with no engine work; p99 ${ms(hSeq.latency.p99)}; CPU server ${hT.serverPct.toFixed(0)}%, client ${hT.clientPct.toFixed(0)}%`,
        },
        {
          part, what: 'direct 3-step in-process (no HTTP): e2e p50 / flows/s (64 clients)', sync, value: `${ms(inSeq.latency.p50)} / ${int(inT.flowsPerSec)}/s`, target: '—', pass: null,
          note: `${(inSeq.latency.p50 / xSeq.latency.p50).toFixed(1)} × XState's p50, ${(inT.flowsPerSec / xT.r.flowsPerSec).toFixed(2)} × its flows/s; p99 ${ms(inSeq.latency.p99)}; failed ${inT.failed + inSeq.failed}`,
        },
        {
          part, what: 'journaled 3-step e2e p50, 1 client, HTTP ?wait=5000 (comparison)', sync, value: ms(jSeq.latency.p50), target: '—', pass: null,
          note: `p99 ${ms(jSeq.latency.p99)}; ${(jSeq.latency.p50 / xSeq.latency.p50).toFixed(1)} × XState`,
        },
        {
          part, what: `journaled 3-step flows/s, ${CLIENTS} clients, HTTP ?wait=5000 (comparison)`, sync, value: `${int(jT.r.flowsPerSec)}/s`, target: '—', pass: null,
          note: `${(jT.r.flowsPerSec / xT.r.flowsPerSec).toFixed(2)} × XState; p50 ${ms(jT.r.latency.p50, 2)}, p99 ${ms(jT.r.latency.p99, 2)}; errors ${jT.r.errors}; CPU server ${jT.serverPct.toFixed(0)}%, client ${jT.clientPct.toFixed(0)}%`,
        },
      );
    });
  }
  return figs;
}
