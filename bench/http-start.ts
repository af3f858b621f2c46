/**
 * @module bench/http-start — HTTP load on `POST /api/v1/executions {"workflow":"park","input":{}}`
 * (a parked flow: the load is the start path only: validate, spawn actor, journal, 201).
 *
 * Server: a child process per run (bench/server-proc.ts, fresh data dir) so RSS and CPU are its own;
 * load generator: this (parent) process, same 2 cores, 127.0.0.1.
 * Runs per sync mode, each on a fresh server after a 2 s warm-up at 2,000 req/s:
 *  1. fixed 2,000 req/s, open loop, own generator (undici Pool of 64 connections if installed, else a
 *     node:http keep-alive Agent): per-request latency at ns resolution (perf_hooks histogram), from the
 *     moment the request is handed to the client to the end of the response; also from the
 *     scheduled send time (corrects coordinated omission). Sends are paced on the ~1 ms timer tick.
 *  2. fixed 2,000 req/s with autocannon `overallRate` (10 connections). Latency is integer ms, and
 *     autocannon enforces the rate as a per-connection quota per second (bursts at the start of
 *     each second), so this run is informative; the target is judged on run 1.
 *  3. max throughput: autocannon, 64 connections.
 */
import autocannon, { type Result } from 'autocannon';
import http from 'node:http';
import { createHistogram } from 'node:perf_hooks';
import {
  type BenchOpts,
  type Figure,
  type LatencySummary,
  type ServerChild,
  type SyncMode,
  fmtLat,
  int,
  machineCpuSeconds,
  mib,
  ms,
  procCpuSeconds,
  procMem,
  recordNs,
  selfCpuSeconds,
  summarize,
  waitQuiet,
  withServer,
} from './common.ts';

const PATH = '/api/v1/executions';
const BODY = JSON.stringify({ workflow: 'park', input: {} });
const HEADERS = { 'content-type': 'application/json' };
const RATE = 2000;

interface Sender {
  readonly label: string;
  send(): Promise<number>;
  close(): Promise<void>;
}

interface UndiciLike {
  Pool: new (origin: string, o: { connections: number; pipelining: number }) => {
    request(o: { path: string; method: string; headers: Record<string, string>; body?: string }): Promise<{ statusCode: number; body: { dump(): Promise<void> } }>;
    close(): Promise<void>;
  };
}

interface Req {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly body?: string;
}

const START_REQ: Req = { method: 'POST', path: PATH, body: BODY };
/** The HTTP floor (router + uWS + client, no engine work): a cheap GET. */
const HEALTH_REQ: Req = { method: 'GET', path: '/api/v1/health' };

async function makeSender(url: string, connections: number, req: Req = START_REQ): Promise<Sender> {
  // undici is not a direct dependency (it arrives with node-gyp); fall back to node:http when absent.
  const u = (await import('undici' as string).catch(() => null)) as UndiciLike | null;
  const headers: Record<string, string> = req.body === undefined ? {} : { ...HEADERS, 'content-length': String(Buffer.byteLength(req.body)) };
  if (u?.Pool) {
    const pool = new u.Pool(url, { connections, pipelining: 1 });
    const o = { path: req.path, method: req.method, headers, ...(req.body === undefined ? {} : { body: req.body }) };
    return {
      label: `undici Pool (${connections} connections)`,
      send: async () => {
        const r = await pool.request(o);
        await r.body.dump();
        return r.statusCode;
      },
      close: () => pool.close(),
    };
  }
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  return {
    label: `node:http keep-alive Agent (${connections} sockets)`,
    send: () =>
      new Promise((resolve, reject) => {
        const r = http.request(url + req.path, { method: req.method, agent, headers }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        r.on('error', reject);
        r.end(req.body);
      }),
    close: async () => agent.destroy(),
  };
}

interface OpenLoopResult {
  readonly sent: number;
  readonly ok: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly rate: number;
  readonly lat: LatencySummary;
  readonly latSched: LatencySummary;
}

/** Open-loop generator: request k is due at start + k/rate, whatever the responses do. */
async function openLoop(sender: Sender, rate: number, durationMs: number): Promise<OpenLoopResult> {
  const hSend = createHistogram();
  const hSched = createHistogram();
  const total = Math.round((rate * durationMs) / 1000);
  const periodNs = 1e9 / rate;
  let sent = 0;
  let inflight = 0;
  let ok = 0;
  let non2xx = 0;
  let errors = 0;
  let lastSendAt = 0n;
  const start = process.hrtime.bigint();
  await new Promise<void>((done) => {
    const finish = () => {
      inflight--;
      if (sent >= total && inflight === 0) done();
    };
    const tick = () => {
      const due = Math.min(total, Math.floor(Number(process.hrtime.bigint() - start) / periodNs) + 1);
      while (sent < due) {
        const intended = start + BigInt(Math.round(sent * periodNs));
        sent++;
        inflight++;
        const t0 = process.hrtime.bigint();
        lastSendAt = t0;
        sender.send().then(
          (status) => {
            const t1 = process.hrtime.bigint();
            recordNs(hSend, t0, t1);
            recordNs(hSched, intended, t1);
            if (status >= 200 && status < 300) ok++;
            else non2xx++;
            finish();
          },
          () => {
            errors++;
            finish();
          },
        );
      }
      if (sent < total) setTimeout(tick, 0);
    };
    tick();
  });
  const seconds = Number(lastSendAt - start) / 1e9;
  return { sent, ok, non2xx, errors, rate: seconds > 0 ? (sent - 1) / seconds : 0, lat: summarize(hSend), latSched: summarize(hSched) };
}

interface ServerUse {
  readonly rss: number;
  readonly hwm: number;
  readonly cpuPct: number;
  /** Group commits per second and journal events per commit during the run (engine.status().journal). */
  readonly commitsPerSec: number;
  readonly eventsPerCommit: number;
  /** CPU % of the load generator (this process) and of every other process on the machine. */
  readonly clientPct: number;
  readonly othersPct: number;
}

interface JournalStats {
  readonly journal?: { readonly commits: number; readonly rows: number };
}

async function measured<T>(s: ServerChild, fn: () => Promise<T>): Promise<{ r: T; use: ServerUse }> {
  const j0 = (await s.call<JournalStats>('status')).journal;
  const c0 = procCpuSeconds(s.pid);
  const m0 = machineCpuSeconds();
  const p0 = selfCpuSeconds();
  const t0 = performance.now();
  const r = await fn();
  const secs = (performance.now() - t0) / 1000;
  const server = procCpuSeconds(s.pid) - c0;
  const client = selfCpuSeconds() - p0;
  const others = Math.max(0, machineCpuSeconds() - m0 - server - client);
  const cpuPct = (server / secs) * 100;
  const m = procMem(s.pid);
  const j1 = (await s.call<JournalStats>('status')).journal;
  const commits = j0 && j1 ? j1.commits - j0.commits : 0;
  const events = j0 && j1 ? j1.rows - j0.rows : 0;
  return { r, use: { rss: m.rss, hwm: m.hwm, cpuPct, commitsPerSec: commits / secs, eventsPerCommit: commits > 0 ? events / commits : 0, clientPct: (client / secs) * 100, othersPct: (others / secs) * 100 } };
}

const useStr = (u: ServerUse) =>
  `server RSS ${mib(u.rss)} (peak ${mib(u.hwm)}), CPU: server ${u.cpuPct.toFixed(0)}%, load generator ${u.clientPct.toFixed(0)}%, other processes ${u.othersPct.toFixed(0)}%; journal ${int(u.commitsPerSec)} commits/s, ${u.eventsPerCommit.toFixed(1)} events/commit`;
const acStr = (r: Result) =>
  `${int(r.requests.average)} req/s, latency p50 ${r.latency.p50} ms · p99 ${r.latency.p99} ms · max ${r.latency.max} ms (autocannon, 1 ms resolution); ` +
  `${int(r['2xx'])} × 2xx, non-2xx ${r.non2xx}, errors ${r.errors}, timeouts ${r.timeouts}`;

/** Waits for a quiet machine (others share the 2 cores), then warms the server up at 2,000 req/s. */
async function warmup(s: ServerChild, quick: boolean): Promise<void> {
  const busy = await waitQuiet(quick ? 3000 : 8000);
  if (busy >= 0.15) console.log(`  (machine still ${(busy * 100).toFixed(0)}% busy before this run)`);
  const w = await makeSender(s.url, 16);
  await openLoop(w, RATE, quick ? 500 : 2000);
  await w.close();
}

async function oneMode(sync: SyncMode, o: BenchOpts): Promise<Figure[]> {
  const durS = o.quick ? 3 : 10;
  const part = 'HTTP POST /executions';
  const tgt = (t: string) => (sync === 'full' ? t : `${t} (full only)`);
  const figs: Figure[] = [];
  console.log(`\n## HTTP start — sync=${sync}, ${durS} s per run, fresh server per run`);

  await withServer(sync, { cpuProfDir: o.cpuProfDir }, async (s) => {
    await warmup(s, o.quick);
    const floorSender = await makeSender(s.url, 64, HEALTH_REQ);
    const floor = await openLoop(floorSender, RATE, o.quick ? 1000 : 3000);
    await floorSender.close();
    console.log(`floor: GET /api/v1/health open loop ${RATE}/s: ${fmtLat(floor.lat)}`);
    figs.push({ part, what: `HTTP floor: GET /health at ${int(RATE)} req/s (open loop)`, sync, value: `p50 ${ms(floor.lat.p50)}, p99 ${ms(floor.lat.p99)}`, target: '—', pass: null, note: 'uWS + router + client, no engine work' });
    const sender = await makeSender(s.url, 64);
    const { r, use } = await measured(s, () => openLoop(sender, RATE, durS * 1000));
    await sender.close();
    console.log(`open loop ${RATE}/s via ${sender.label}: achieved ${int(r.rate)} req/s; ${r.ok} × 2xx, non-2xx ${r.non2xx}, errors ${r.errors}`);
    console.log(`  latency from send:     ${fmtLat(r.lat)}`);
    console.log(`  latency from schedule: ${fmtLat(r.latSched)}`);
    console.log(`  ${useStr(use)}`);
    const bad = r.non2xx + r.errors;
    figs.push(
      { part, what: `p50 at ${int(RATE)} req/s (open loop, ns clock)`, sync, value: ms(r.lat.p50), target: tgt('≤ 0.5 ms'), pass: r.lat.p50 <= 0.5 && bad === 0, note: `achieved ${int(r.rate)} req/s, non-2xx+errors ${bad}; CPU server ${use.cpuPct.toFixed(0)}%, client ${use.clientPct.toFixed(0)}%, others ${use.othersPct.toFixed(0)}%` },
      { part, what: `p99 at ${int(RATE)} req/s (open loop, ns clock)`, sync, value: ms(r.lat.p99), target: tgt('≤ 2 ms'), pass: r.lat.p99 <= 2 && bad === 0, note: `max ${ms(r.lat.max, 2)}; from schedule p50 ${ms(r.latSched.p50)}, p99 ${ms(r.latSched.p99)}` },
      { part, what: `server RSS / CPU after ${int(RATE)} req/s × ${durS} s`, sync, value: mib(use.rss), target: '—', pass: null, note: `peak ${mib(use.hwm)}; journal ${int(use.commitsPerSec)} commits/s, ${use.eventsPerCommit.toFixed(1)} events/commit` },
    );
  });

  await withServer(sync, { cpuProfDir: o.cpuProfDir }, async (s) => {
    await warmup(s, o.quick);
    const { r, use } = await measured(s, () => autocannon({ url: s.url + PATH, method: 'POST', headers: HEADERS, body: BODY, connections: 10, overallRate: RATE, duration: durS }));
    console.log(`autocannon overallRate ${RATE}, 10 connections: ${acStr(r)}\n  ${useStr(use)}`);
    figs.push({
      part, what: `autocannon at ${int(RATE)} req/s, 10 conns: p50 / p99 / max`, sync, value: `${r.latency.p50} / ${r.latency.p99} / ${r.latency.max} ms`, target: tgt('p99 ≤ 2 ms'),
      pass: r.latency.p99 <= 2 && r.non2xx === 0 && r.errors === 0,
      note: `integer ms; bursty per-second quota; ${int(r.requests.average)} req/s, non-2xx ${r.non2xx}; RSS ${mib(use.rss)}`,
    });
  });

  await withServer(sync, { cpuProfDir: o.cpuProfDir }, async (s) => {
    await warmup(s, o.quick);
    const { r, use } = await measured(s, () => autocannon({ url: s.url + PATH, method: 'POST', headers: HEADERS, body: BODY, connections: 64, duration: durS }));
    console.log(`autocannon max, 64 connections: ${acStr(r)}\n  ${useStr(use)}`);
    figs.push({
      part, what: 'max starts/s, 64 connections (autocannon)', sync, value: `${int(r.requests.average)}/s`, target: tgt('≥ 15,000/s'),
      pass: r.requests.average >= 15_000 && r.non2xx === 0 && r.errors === 0,
      note: `p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, max ${r.latency.max} ms; non-2xx ${r.non2xx}, errors ${r.errors}; RSS ${mib(use.rss)} (peak ${mib(use.hwm)}); CPU server ${use.cpuPct.toFixed(0)}%, client ${use.clientPct.toFixed(0)}%, others ${use.othersPct.toFixed(0)}%`,
    });
  });
  return figs;
}

export async function httpPart(o: BenchOpts): Promise<Figure[]> {
  const figs: Figure[] = [];
  for (const sync of o.syncs) figs.push(...(await oneMode(sync, o)));
  return figs;
}
