/**
 * @module bench/bulk — bulk operations (issue 17), in their own process against a server child:
 *   node --import tsx bench/bulk.ts [--quick] [--sync full|normal]   (bench/run.ts forks it per sync mode)
 *
 * For each action, `cancel` then `signal` (`go`, which completes the parked flow):
 *  1. 10,000 executions of `park` (a `wait` step) are started in the server child (bench/parked.ts's
 *     loop, 256 in-process clients) and left to passivate (the engine's default: idle 1 s), so each
 *     bulk call rebuilds its execution from the store, the costly case;
 *  2. baseline: another client starts `park` executions over HTTP at a fixed rate (300/s, `--quick`
 *     200/s; open loop, 16 keep-alive connections) for 8 s (`--quick` 3 s): start latency from send to
 *     the end of the 201;
 *  3. `POST /bulk-operations` on exactly those 10,000 (workflow, status and their creation window), while
 *     the same client keeps starting at the same rate; the clock stops at `bulk.completed` on a
 *     WebSocket firehose subscription. Throughput = matched / (202 sent → `bulk.completed`); the
 *     counts must be exact (else the part fails). Start latency during the run is set beside the
 *     baseline: target p99 ≤ 2× the baseline's (issue 17).
 */
import http from 'node:http';
import { createHistogram } from 'node:perf_hooks';
import WebSocket from 'ws';
import { type Figure, type LatencySummary, type SyncMode, fmtLat, int, ms, recordNs, sleep, summarize, withServer } from './common.ts';
import { reportFigures } from './agent-variants.ts';
import type { ParkedResult } from './parked.ts';

const sync: SyncMode = process.argv[process.argv.indexOf('--sync') + 1] === 'normal' ? 'normal' : 'full';
const quick = process.argv.includes('--quick');
const COUNT = 10_000;
const RATE = quick ? 200 : 300;
const BASELINE_MS = quick ? 3_000 : 8_000;
/** Long enough for the engine (idle 1 s) to passivate what was just parked. */
const PASSIVATE_WAIT_MS = 2_500;
const PART = 'bulk';
const START_BODY = JSON.stringify({ workflow: 'park', labels: { client: 'rate' } });

type Action = 'cancel' | 'signal';

/** Starts `park` at `RATE`/s (open loop, paced on the timer tick) until `stop()` says so; latency per start. */
async function startAtRate(url: string, stop: () => boolean): Promise<LatencySummary & { errors: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  const { hostname, port } = new URL(url);
  const h = createHistogram();
  let errors = 0;
  const inFlight = new Set<Promise<void>>();
  const send = (): Promise<void> =>
    new Promise<void>((resolve) => {
      const t0 = process.hrtime.bigint();
      const req = http.request({ agent, hostname, port, path: '/api/v1/executions', method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode === 201) recordNs(h, t0, process.hrtime.bigint());
          else errors++;
          resolve();
        });
      });
      req.on('error', () => (errors++, resolve()));
      req.end(START_BODY);
    });
  const t0 = performance.now();
  let sent = 0;
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      if (stop()) return clearInterval(tick), resolve();
      const due = Math.floor(((performance.now() - t0) * RATE) / 1000);
      for (; sent < due; sent++) {
        const p = send().finally(() => inFlight.delete(p));
        inFlight.add(p);
      }
    }, 1);
  });
  await Promise.all(inFlight);
  agent.destroy();
  return { ...summarize(h), errors };
}

/** Resolves with the time of the `bulk.completed` of operation `id()` (once it is known). */
async function completions(url: string): Promise<{ completed: (id: string) => Promise<number>; close: () => void }> {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/api/v1/ws/events?types=bulk.completed`, { perMessageDeflate: false });
  await new Promise<void>((res, rej) => (ws.once('open', () => res()), ws.once('error', rej)));
  const seen = new Map<string, number>();
  const waiting = new Map<string, (at: number) => void>();
  ws.on('message', (buf: Buffer) => {
    const m = JSON.parse(buf.toString()) as { op?: string; event?: { operationId?: string } };
    const id = m.event?.operationId;
    if (m.op !== 'event' || id === undefined) return;
    const at = performance.now();
    const w = waiting.get(id);
    if (w) w(at);
    else seen.set(id, at);
  });
  return {
    completed: (id) => {
      const at = seen.get(id);
      return at !== undefined ? Promise.resolve(at) : new Promise((resolve) => waiting.set(id, resolve));
    },
    close: () => ws.close(),
  };
}

async function post(url: string, path: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

async function runAction(url: string, park: () => Promise<ParkedResult>, action: Action): Promise<Figure[]> {
  const from = new Date().toISOString();
  const parked = await park();
  if (parked.waiting !== COUNT) throw new Error(`parked ${parked.waiting} of ${COUNT}`);
  const to = new Date(Date.now() + 1).toISOString();
  await sleep(PASSIVATE_WAIT_MS);
  console.log(`  ${action}: parked ${int(COUNT)} in ${parked.seconds.toFixed(1)} s; baseline ${RATE}/s for ${BASELINE_MS / 1000} s`);
  const baseEnd = performance.now() + BASELINE_MS;
  const base = await startAtRate(url, () => performance.now() >= baseEnd);

  const events = await completions(url);
  let done = false;
  const during = startAtRate(url, () => done);
  const filter = { workflow: 'park', status: ['waiting'], createdAfter: from, createdBefore: to };
  const t0 = performance.now();
  const created = await post(url, '/api/v1/bulk-operations', { action, filter, ...(action === 'signal' ? { signal: { name: 'go', payload: { bench: true } } } : {}) });
  const createMs = performance.now() - t0;
  if (created.status !== 202) throw new Error(`POST /bulk-operations: ${created.status} ${JSON.stringify(created.body)}`);
  const t1 = await events.completed(created.body.id as string);
  done = true;
  const load = await during;
  events.close();
  const op = (await (await fetch(`${url}/api/v1/bulk-operations/${created.body.id}`)).json()) as { matched: number; succeeded: number; failed: number; skipped: number; status: string };
  if (op.matched !== COUNT || op.succeeded !== COUNT || op.status !== 'completed') throw new Error(`inexact bulk ${action}: ${JSON.stringify(op)}`);
  const secs = (t1 - t0) / 1000;
  const ratio = load.p99 / base.p99;
  console.log(`  ${action}: ${int(COUNT / secs)} executions/s (${secs.toFixed(2)} s, create ${ms(createMs, 0)}); starts without ${fmtLat(base)}; during ${fmtLat(load)}`);
  return [
    { part: PART, what: `bulk ${action} of 10,000 waiting (passivated) executions, throughput`, sync, value: `${int(COUNT / secs)} executions/s`, target: '—', pass: null, note: `${secs.toFixed(2)} s from POST to bulk.completed; the POST (matching and storing the set) ${ms(createMs, 0)}; exact counts` },
    { part: PART, what: `start latency at ${RATE}/s without a bulk run (before ${action})`, sync, value: fmtLat(base), target: '—', pass: null, note: base.errors > 0 ? `${base.errors} errors` : '' },
    {
      part: PART,
      what: `start latency at ${RATE}/s during bulk ${action}`,
      sync,
      value: fmtLat(load),
      target: `p99 ≤ 2× without (${ms(base.p99 * 2)})`,
      pass: load.p99 <= base.p99 * 2,
      note: `p99 ${ratio.toFixed(2)}× without${load.errors > 0 ? `; ${load.errors} errors` : ''}`,
    },
  ];
}

console.log(`\n## bulk operations: cancel and signal on ${int(COUNT)} waiting executions, starts at ${RATE}/s beside — sync=${sync}`);
const figures = await withServer(sync, { gc: true }, async (s) => {
  const park = () => s.call<ParkedResult>('parked', { count: COUNT, concurrency: 256, maxMs: 300_000, workflow: 'park' });
  const out: Figure[] = [];
  // Discarded: the first baseline would otherwise carry the server's cold start (JIT, first connections).
  const warmEnd = performance.now() + 2_000;
  await startAtRate(s.url, () => performance.now() >= warmEnd);
  for (const action of ['cancel', 'signal'] as const) out.push(...(await runAction(s.url, park, action)));
  return out;
});
reportFigures(figures);
