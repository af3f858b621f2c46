/**
 * @module bench/ws-fanout — WebSocket fan-out: 1,000 and 10,000 subscribers on one execution's
 * stream, event published → delivered to every subscriber (p50/p99), and events/s through the
 * unfiltered firehose.
 *
 *   node --import tsx bench/ws-fanout.ts [--quick] [--sync normal|full] [--subs 1000,10000] [--client raw|ws]
 *
 * The server runs in a child process (bench/server-proc.ts, `sync=normal` by default: the
 * subject is the fan-out, not the fsync). Subscribers are real `ws` clients in this process, all
 * on `/api/v1/ws/executions/{id}` of one parked execution (so they share one uWS topic). Each
 * round sends `PATCH /executions/{id}` (a `workflow.updated` event) and waits until every
 * subscriber received it; the clock starts when the PATCH is sent, so a figure includes HTTP,
 * the group commit and the publish, and is an upper bound of publish → delivered. The client
 * side (10,000 sockets read by one Node thread) shares the machine's 2 cores with the server.
 * Each size is followed by the platform's floor: a bare uWS app in a child process publishing a
 * frame of the same size to the same kind of clients (what no hub code can beat on this machine).
 * Firehose: 10 unfiltered `/ws/events` subscribers while the server runs the `bench3` flow loop
 * (64 concurrent in-process clients, bench/flow3.ts); the same loop without subscribers first.
 * Clients default to raw RFC 6455 sockets (frame headers parsed, nothing else) to keep the
 * client's CPU out of the figures; `--client ws` uses the `ws` package instead. Each part waits
 * for a quiet machine first (bench/common.ts `waitQuiet`).
 */
import { fork } from 'node:child_process';
import { createConnection } from 'node:net';
import { performance, createHistogram } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { us_socket } from 'uWebSockets.js';
import WebSocket from 'ws';
import { type LatencySummary, type ServerChild, fmtLat, int, machineInfo, mib, procMem, recordNs, summarize, waitQuiet, withServer } from './common.ts';
import type { Flow3Result } from './flow3.ts';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const syncAt = argv.indexOf('--sync');
const sync = syncAt >= 0 && argv[syncAt + 1] === 'full' ? 'full' : 'normal';
const subsArg = argv.includes('--subs') ? (argv[argv.indexOf('--subs') + 1] ?? '') : '';
const SUBSCRIBERS = subsArg ? subsArg.split(',').map(Number) : [1000, 10_000];
const ROUNDS: Record<number, number> = quick ? { 1000: 30, 10000: 20 } : { 1000: 300, 10000: 150 };
const FIREHOSE_SUBS = 10;
const FIREHOSE_MS = quick ? 2000 : 5000;
const TARGET_P99_MS = 50;

/** One subscriber: the `ws` package, or a raw TCP socket speaking just enough RFC 6455 (`--client raw`). */
interface Sub {
  count: number;
  at: number;
  close(): Promise<void>;
}

type OnFrame = (s: Sub, bytes: number) => void;

const clientKind = argv.includes('--client') && argv[argv.indexOf('--client') + 1] === 'ws' ? 'ws' : 'raw';

function connectWsPackage(url: string, onFrame: OnFrame): Promise<Sub> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const sub: Sub = {
      count: 0,
      at: 0,
      close: () => new Promise<void>((r) => (ws.readyState === WebSocket.CLOSED ? r() : (ws.once('close', () => r()), ws.close()))),
    };
    ws.on('message', (data) => onFrame(sub, (data as Buffer).length));
    ws.once('open', () => resolve(sub));
    ws.once('error', reject);
  });
}

const PONG = Buffer.from([0x8a, 0x80, 0, 0, 0, 0]);
const CLOSE = Buffer.from([0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8]);

/**
 * A minimal client: the upgrade request, then server frames parsed by their headers only (text
 * and binary counted, pings answered). It keeps the client's CPU per frame low, so the figures
 * say more about the server than about a JS WebSocket library.
 */
function connectRaw(url: string, onFrame: OnFrame): Promise<Sub> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const sock = createConnection({ host: u.hostname, port: Number(u.port) });
    sock.setNoDelay(true);
    let upgraded = false;
    let buf: Buffer = Buffer.alloc(0);
    const closed = new Promise<void>((r) => sock.once('close', () => r()));
    const sub: Sub = {
      count: 0,
      at: 0,
      close: async () => {
        if (!sock.destroyed) sock.end(CLOSE);
        await closed;
      },
    };
    sock.once('connect', () =>
      sock.write(`GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`),
    );
    sock.on('data', (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      if (!upgraded) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        if (!buf.subarray(0, 12).toString().includes('101')) return reject(new Error(buf.subarray(0, end).toString()));
        upgraded = true;
        buf = buf.subarray(end + 4);
        resolve(sub);
      }
      for (;;) {
        if (buf.length < 2) return;
        const op = (buf[0] as number) & 0x0f;
        let len = (buf[1] as number) & 0x7f;
        let at = 2;
        if (len === 126) {
          if (buf.length < 4) return;
          len = buf.readUInt16BE(2);
          at = 4;
        } else if (len === 127) {
          if (buf.length < 10) return;
          len = Number(buf.readBigUInt64BE(2));
          at = 10;
        }
        if (buf.length < at + len) return;
        if (op === 0x1 || op === 0x2) onFrame(sub, len);
        else if (op === 0x9) sock.write(PONG);
        buf = buf.subarray(at + len);
      }
    });
    sock.once('error', reject);
  });
}

const connect = (url: string, onFrame: OnFrame): Promise<Sub> => (clientKind === 'ws' ? connectWsPackage(url, onFrame) : connectRaw(url, onFrame));

async function post(url: string, method: string, body: unknown): Promise<any> {
  const res = await fetch(url, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const json = await res.json();
  if (res.status >= 300) throw new Error(`${method} ${url}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function connectMany(n: number, url: string, onMessage: OnFrame): Promise<Sub[]> {
  const subs: Sub[] = [];
  for (let i = 0; i < n; i += 250) subs.push(...(await Promise.all(Array.from({ length: Math.min(250, n - i) }, () => connect(url, onMessage)))));
  return subs;
}

async function closeAll(subs: readonly Sub[]): Promise<void> {
  await Promise.all(subs.map((s) => s.close()));
}

/** Counts frames per subscriber and resolves when all of them reached a count. */
class Tracker {
  private expected = 0;
  private arrived = 0;
  private allIn: (() => void) | null = null;
  constructor(private readonly n: number) {}

  readonly onFrame: OnFrame = (s) => {
    s.count++;
    s.at = performance.now();
    if (s.count === this.expected && ++this.arrived === this.n) this.allIn?.();
  };

  /** Resolves once every subscriber has `count` frames. */
  all(subs: readonly Sub[], count: number): Promise<void> {
    this.expected = count;
    this.arrived = subs.filter((s) => s.count >= count).length;
    return new Promise((resolve) => {
      this.allIn = resolve;
      if (this.arrived === this.n) resolve();
    });
  }
}

interface RoundFigures {
  readonly all: LatencySummary;
  readonly first: LatencySummary;
  readonly each: LatencySummary;
}

/** `rounds` times: trigger one event, wait until all subscribers have it; latencies from the trigger. */
async function measure(subs: readonly Sub[], tracker: Tracker, base: number, rounds: number, trigger: (r: number) => Promise<unknown>): Promise<RoundFigures> {
  const all = createHistogram();
  const first = createHistogram();
  const each = createHistogram();
  for (let r = 1; r <= rounds; r++) {
    const done = tracker.all(subs, base + r);
    const start = performance.now();
    const triggered = trigger(r);
    await done;
    await triggered;
    let min = Number.POSITIVE_INFINITY;
    let max = 0;
    for (const s of subs) {
      const dt = s.at - start;
      if (dt < min) min = dt;
      if (dt > max) max = dt;
      each.record(Math.max(1, Math.round(dt * 1e6)));
    }
    all.record(Math.max(1, Math.round(max * 1e6)));
    first.record(Math.max(1, Math.round(min * 1e6)));
  }
  return { all: summarize(all), first: summarize(first), each: summarize(each) };
}

/** N subscribers on one execution; rounds of one event each. */
async function fanout(server: ServerChild, n: number): Promise<{ text: string; p99: number }> {
  const exec = await post(`${server.url}/api/v1/executions`, 'POST', { workflow: 'park' });
  const id = exec.id as string;
  const tracker = new Tracker(n);
  const t0 = performance.now();
  const subs = await connectMany(n, `${server.url.replace('http', 'ws')}/api/v1/ws/executions/${id}`, tracker.onFrame);
  const lastSeq = ((await post(`${server.url}/api/v1/executions/${id}`, 'PATCH', { labels: { round: '0' } })) as { lastSeq: number }).lastSeq;
  // ack + the replayed history + the warm-up event.
  await tracker.all(subs, 1 + lastSeq);
  const setupS = (performance.now() - t0) / 1000;
  const rss = procMem(server.pid).rss;
  const patch = createHistogram();
  const rounds = ROUNDS[n] ?? 50;
  const f = await measure(subs, tracker, 1 + lastSeq, rounds, async (r) => {
    const sent = process.hrtime.bigint();
    await post(`${server.url}/api/v1/executions/${id}`, 'PATCH', { labels: { round: String(r) } });
    recordNs(patch, sent, process.hrtime.bigint());
  });
  await closeAll(subs);
  const target = n === 10_000 ? ` (target p99 ≤ ${TARGET_P99_MS} ms: ${f.all.p99 <= TARGET_P99_MS ? 'met' : 'missed'})` : '';
  const text = [
    `- event → **all ${int(n)}** delivered: ${fmtLat(f.all)}${target}`,
    `- event → first subscriber: ${fmtLat(f.first)}`,
    `- event → each delivery (${int(n * rounds)} deliveries): ${fmtLat(f.each)}`,
    `- the triggering PATCH round trip (HTTP + commit), included above: ${fmtLat(summarize(patch))}`,
    `- setup: ${int(n)} sockets connected and replayed in ${setupS.toFixed(1)} s; server RSS with them open: ${mib(rss)}`,
  ].join('\n');
  return { text, p99: f.all.p99 };
}

/**
 * The platform's floor: a bare uWS app (no actorflow code) in a child process, the same clients,
 * one `app.publish` of a frame of the same size per round, triggered over IPC.
 */
async function floor(n: number, frameBytes: number): Promise<string> {
  const child = fork(fileURLToPath(import.meta.url), ['--floor-server', String(frameBytes)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.once('message', (m: { port: number }) => resolve(m.port));
      child.once('exit', (code) => reject(new Error(`floor server exited ${code}`)));
    });
    const tracker = new Tracker(n);
    const subs = await connectMany(n, `ws://127.0.0.1:${port}/ws`, tracker.onFrame);
    const f = await measure(subs, tracker, 0, ROUNDS[n] ?? 50, async () => void child.send('publish'));
    await closeAll(subs);
    return `- floor, bare uWS \`app.publish\` to the same ${int(n)} clients (no actorflow code): all delivered ${fmtLat(f.all)}; first ${fmtLat(f.first)}`;
  } finally {
    child.kill();
  }
}

/** Child mode: a bare uWS server publishing one frame per IPC message. */
async function floorServer(frameBytes: number): Promise<void> {
  const { default: uWS } = await import('uWebSockets.js');
  const app = uWS.App();
  app.ws('/ws', { compression: 0, open: (ws) => void ws.subscribe('t') });
  const frame = JSON.stringify({ op: 'event', sub: 'x', event: { pad: 'x'.repeat(Math.max(0, frameBytes - 40)) } });
  app.listen('127.0.0.1', 0, (ls) => {
    if (ls === false) throw new Error('floor server cannot listen');
    process.send?.({ port: uWS.us_socket_local_port(ls as us_socket) });
  });
  process.on('message', () => void app.publish('t', frame, false));
}

/** Events/s through the unfiltered firehose while the engine runs flows at full speed. */
async function firehose(server: ServerChild): Promise<string> {
  const args = { clients: 64, durationMs: FIREHOSE_MS, warmupMs: 500 };
  const base = await server.call<Flow3Result>('flow3', args);
  let bytes = 0;
  const subs = await connectMany(FIREHOSE_SUBS, `${server.url.replace('http', 'ws')}/api/v1/ws/events`, (s, length) => {
    s.count++;
    bytes += length;
  });
  const t0 = performance.now();
  const loaded = await server.call<Flow3Result>('flow3', args);
  const seconds = (performance.now() - t0) / 1000;
  // Wait until every subscriber has the same count (everything published was delivered).
  for (let i = 0; i < 200 && new Set(subs.map((s) => s.count)).size > 1; i++) await new Promise((r) => setTimeout(r, 25));
  const counts = subs.map((s) => s.count);
  await closeAll(subs);
  const per = (counts[0] ?? 0) / seconds;
  return [
    `### Firehose: ${FIREHOSE_SUBS} unfiltered subscribers while the engine runs 3-step flows (64 in-process clients, sync=${sync})`,
    '',
    `- delivered: ${int(per)} events/s to each subscriber, ${int(per * FIREHOSE_SUBS)} frames/s in all (${mib(bytes)} over ${seconds.toFixed(1)} s); every subscriber got the same ${int(counts[0] ?? 0)} events: ${new Set(counts).size === 1 ? 'yes' : `no (${counts.join(', ')})`}`,
    `- engine meanwhile: ${int(loaded.flowsPerSec)} flows/s (≈ ${int(loaded.flowsPerSec * 11)} events/s), start → completed ${fmtLat(loaded.latency)}`,
    `- same loop without subscribers: ${int(base.flowsPerSec)} flows/s, ${fmtLat(base.latency)}`,
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const out: string[] = [
    `Machine: ${machineInfo()}`,
    `Command: node --import tsx bench/ws-fanout.ts${quick ? ' --quick' : ''}${clientKind === 'ws' ? ' --client ws' : ''} (clients: ${clientKind === 'ws' ? 'the `ws` package' : 'raw RFC 6455 sockets'}; server sync=${sync})`,
    '',
  ];
  console.log(out.join('\n'));
  for (const n of SUBSCRIBERS) {
    await waitQuiet(30_000);
    const { text } = await withServer(sync, {}, (s) => fanout(s, n));
    await waitQuiet(30_000);
    const section = [`### ${int(n)} subscribers on one execution (${ROUNDS[n] ?? 50} events)`, '', text, await floor(n, FRAME_BYTES), ''].join('\n');
    console.log(section);
    out.push(section);
  }
  await waitQuiet(30_000);
  const fh = await withServer(sync, {}, (s) => firehose(s));
  console.log(fh);
  out.push(fh);
}

/** About the size of the `workflow.updated` frame the actorflow rounds send. */
const FRAME_BYTES = 380;

if (argv[0] === '--floor-server') await floorServer(Number(argv[1] ?? FRAME_BYTES));
else await main();
