/**
 * @module bench/features.bench — the read and delivery paths around the engine, in their own process:
 *   node --import tsx bench/features.bench.ts [--quick] [--sync full|normal]   (bench/run.ts forks it)
 *
 * One server (`startActorflow`, auth off, webhooks to 127.0.0.1 allowed) in this process; every
 * request goes over HTTP on 127.0.0.1, one at a time, so the figures are per-request latencies:
 *  - webhooks: a subscription to `workflow.completed` on a local receiver; N executions of a
 *    1-step echo flow started 32 at a time; deliveries/s until all N arrived, and the delay from
 *    the event's timestamp to the receiver (outbox commit + HMAC + HTTP);
 *  - telemetry: `GET /telemetry/summary` and `/telemetry/workflows/{name}/stats` over those N
 *    executions (each step reports a cost);
 *  - GraphQL: one execution with its steps, events and costs (first call: parse + validate; then cached);
 *  - tasks: `GET /tasks?limit=50` and `?limit=1000` over M standalone tasks.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startActorflow } from '../src/cli/serve.ts';
import { type Figure, type SyncMode, int, ms } from './common.ts';

const quick = process.argv.includes('--quick');
const sync: SyncMode = process.argv[process.argv.indexOf('--sync') + 1] === 'normal' ? 'normal' : 'full';
const N = quick ? 500 : 5_000;
const TASKS = quick ? 200 : 1_000;

const pct = (xs: readonly number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((s.length - 1) * p))] ?? NaN;
};

/** Times `fn` `n` times, one call at a time; ms per call. */
async function timeCalls(n: number, fn: () => Promise<void>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  return out;
}

async function getJson(url: string, init?: RequestInit): Promise<unknown> {
  const res = await fetch(url, init);
  const body = (await res.json()) as unknown;
  if (!res.ok) throw new Error(`${init?.method ?? 'GET'} ${url}: ${res.status} ${JSON.stringify(body)}`);
  return body;
}

const post = (url: string, body: unknown) => getJson(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

// A receiver that counts deliveries and how long after the event they arrived.
const delays: number[] = [];
let firstAt = 0;
let lastAt = 0;
let allDelivered: () => void = () => undefined;
const delivered = new Promise<void>((r) => (allDelivered = r));
const receiver = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const now = Date.now();
    const event = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { timestamp: string };
    delays.push(now - Date.parse(event.timestamp));
    firstAt ||= performance.now();
    lastAt = performance.now();
    res.writeHead(204).end();
    if (delays.length === N) allDelivered();
  });
});
await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
const rxUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

const dataDir = mkdtempSync(join(tmpdir(), `actorflow-features-${sync}-`));
const app = await startActorflow({ host: '127.0.0.1', port: 0, dataDir, sync, quiet: true, logLevel: 'error', noAuth: true, rateLimit: null, webhookAllowPrivate: true });
const api = `${app.url}/api/v1`;
const figs: Figure[] = [];
const fig = (what: string, value: string, note: string): void => void figs.push({ part: 'features', what, sync, value, target: '—', pass: null, note });

try {
  const flow = { name: 'costly', steps: [{ id: 'a', type: 'task', agent: 'echo', input: { cost: { model: 'm', tokens: 100, usd: 0.001 }, n: '$.input.n' } }] };
  await post(`${api}/workflow-definitions`, flow);
  await post(`${api}/webhooks`, { url: rxUrl, events: ['workflow.completed'], secret: 'bench-secret-0123456789' });

  // Webhooks: N starts, 32 in flight.
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < N) await app.engine.start({ tenant: 'default', workflow: 'costly', input: { n: next++ } });
    }),
  );
  const startedIn = performance.now() - t0;
  await Promise.race([delivered, new Promise((_, rej) => setTimeout(() => rej(new Error(`only ${delays.length}/${N} deliveries in 120 s`)), 120_000))]);
  const rate = (N / (lastAt - t0)) * 1000;
  fig('webhook deliveries (workflow.completed → local receiver)', `${int(rate)}/s`, `${int(N)} executions started in ${ms(startedIn, 0)} (32 in flight); all delivered ${ms(lastAt - t0, 0)} after the first start`);
  fig('webhook delay: event timestamp → receiver', `p50 ${ms(pct(delays, 0.5), 0)}, p99 ${ms(pct(delays, 0.99), 0)}`, 'includes queueing behind the burst of starts; HMAC-SHA256 signed, keep-alive connections (≤ 8 per webhook)');

  // Telemetry over those N executions.
  const summary = await timeCalls(quick ? 3 : 10, async () => void (await getJson(`${api}/telemetry/summary`)));
  fig(`GET /telemetry/summary over ${int(N)} executions`, `p50 ${ms(pct(summary, 0.5), 1)}`, `max ${ms(Math.max(...summary), 1)}; every step reports a cost`);
  const stats = await timeCalls(quick ? 3 : 10, async () => void (await getJson(`${api}/telemetry/workflows/costly/stats`)));
  fig(`GET /telemetry/workflows/{name}/stats over ${int(N)} executions`, `p50 ${ms(pct(stats, 0.5), 1)}`, `max ${ms(Math.max(...stats), 1)}`);

  // GraphQL: one execution with nested data.
  const page = (await getJson(`${api}/executions?limit=1`)) as { items: { id: string }[] };
  const id = page.items[0]?.id ?? '';
  const query = `{ execution(id: "${id}") { id status steps { items { stepId status attempts } } events { items { seq type } } costs { total { tokens usd } } } }`;
  const [first = NaN] = await timeCalls(1, async () => void (await post(`${api}/graphql`, { query })));
  const cached = await timeCalls(quick ? 50 : 300, async () => void (await post(`${api}/graphql`, { query })));
  fig('POST /graphql: execution with steps, events, costs', `p50 ${ms(pct(cached, 0.5))}, p99 ${ms(pct(cached, 0.99))}`, `first call (parse + validate + limits) ${ms(first)}; later calls use the cached document`);

  // Standalone tasks.
  let made = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (made < TASKS) {
        made++;
        await post(`${api}/tasks`, { agent: 'echo', input: { n: made } });
      }
    }),
  );
  const list50 = await timeCalls(quick ? 10 : 50, async () => void (await getJson(`${api}/tasks?limit=50`)));
  const list1000 = await timeCalls(quick ? 3 : 10, async () => void (await getJson(`${api}/tasks?limit=1000`)));
  fig(`GET /tasks over ${int(TASKS)} tasks`, `limit=50 p50 ${ms(pct(list50, 0.5), 2)}; limit=1000 p50 ${ms(pct(list1000, 0.5), 1)}`, 'two SQLite statements per page');
} finally {
  await app.close();
  receiver.close();
  rmSync(dataDir, { recursive: true, force: true });
}

for (const f of figs) console.log(`  ${f.what}: ${f.value} (${f.note})`);
const u = process.cpuUsage();
if (process.send) process.send({ type: 'figures', figures: figs, cpuSeconds: (u.user + u.system) / 1e6 }, () => process.exit(0));
else process.exit(0);
