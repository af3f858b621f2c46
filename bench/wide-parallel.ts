/**
 * @module bench/wide-parallel — part `wide`: one `parallel` step of N one-step `echo` branches,
 * started inline over HTTP (`POST /api/v1/executions?wait=30000 { definition }`: the reply comes when
 * the execution has ended) against a server child (bench/server-proc.ts, fresh data dir).
 *
 * Per width: start → completed as the client sees it (send to reply) and as the server journals it
 * (finishedAt − createdAt), the server's CPU seconds and peak RSS during the run (/proc of the child,
 * sampled every 5 ms), and GET /api/v1/health latency of a second client polling meanwhile (one request
 * at a time, 2 ms apart, one keep-alive connection; the requests sent during the run). Widths: ¼, ½, ¾ and all of LIMITS.maxParallelBranches
 * (the cap, issue 11), then 100 / 200 / 400 / 1,000; those over the cap must be refused (422).
 * Before the cap a wide parallel was cubic (XState visits every region of a parallel state on every
 * event): this part shows the curve below the cap and that the rest is refused.
 */
import http from 'node:http';
import { LIMITS } from '../src/common/flow.ts';
import { type BenchOpts, type Figure, type ServerChild, mib, ms, procCpuSeconds, procMem, waitQuiet, withServer } from './common.ts';

const CAP = (LIMITS as { readonly maxParallelBranches?: number }).maxParallelBranches ?? 256;
const ASKED = [100, 200, 400, 1000];
const WIDTHS = [...new Set([...[0.25, 0.5, 0.75].map((f) => Math.max(1, Math.floor(CAP * f))), CAP, ...ASKED])].filter((w) => w <= 1000).sort((a, b) => a - b);

interface Answer {
  readonly status: number;
  readonly body: string;
}

/** One request on a keep-alive agent; never rejects (status -1 on a network error). */
function request(agent: http.Agent, url: URL, method: string, body?: string): Promise<Answer> {
  return new Promise((resolve) => {
    const headers: Record<string, string> = body === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) };
    const req = http.request({ host: url.hostname, port: url.port, path: url.pathname + url.search, method, agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', () => resolve({ status: -1, body: '' }));
    });
    req.on('error', (err) => resolve({ status: -1, body: String(err) }));
    req.end(body);
  });
}

const wideFlow = (width: number) => ({
  name: `wide-${width}`,
  steps: [{ id: 'p', type: 'parallel', branches: Array.from({ length: width }, (_, i) => [{ id: `b${i}`, type: 'task', agent: 'echo', input: { i } }]) }],
});

interface HealthSample {
  readonly at: number;
  readonly ms: number;
  readonly ok: boolean;
}

/** A second client on /health for the server's lifetime; `between(t0, t1)`: the requests sent in that window. */
function healthPoller(base: string): { between(t0: number, t1: number): HealthSample[]; stop(): Promise<void> } {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const url = new URL('/api/v1/health', base);
  let samples: HealthSample[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const at = performance.now();
      const r = await request(agent, url, 'GET');
      samples.push({ at, ms: performance.now() - at, ok: r.status === 200 });
      if (samples.length > 100_000) samples = samples.slice(-50_000);
      await new Promise((res) => setTimeout(res, 2));
    }
  })();
  return {
    between: (t0, t1) => samples.filter((x) => x.at >= t0 && x.at <= t1),
    stop: async () => {
      running = false;
      await loop;
      agent.destroy();
    },
  };
}

interface Run {
  readonly status: number;
  readonly finalStatus: string;
  readonly clientMs: number;
  readonly serverMs: number;
  readonly cpuS: number;
  readonly peakRss: number;
  readonly rssBefore: number;
  readonly health: number[];
  readonly healthErrors: number;
  readonly refusal: string;
}

async function runOnce(s: ServerChild, agent: http.Agent, health: ReturnType<typeof healthPoller>, width: number): Promise<Run> {
  const body = JSON.stringify({ definition: wideFlow(width), input: {} });
  const rssBefore = procMem(s.pid).rss;
  let peakRss = rssBefore;
  const sampler = setInterval(() => {
    try {
      peakRss = Math.max(peakRss, procMem(s.pid).rss);
    } catch {
      // the child is gone: the request below fails and says so
    }
  }, 5);
  const cpu0 = procCpuSeconds(s.pid);
  const t0 = performance.now();
  const res = await request(agent, new URL('/api/v1/executions?wait=30000', s.url), 'POST', body);
  const clientMs = performance.now() - t0;
  const cpuS = procCpuSeconds(s.pid) - cpu0;
  // The last request sent during the run has to come back too.
  await new Promise((res) => setTimeout(res, 50));
  const h = health.between(t0, t0 + clientMs);
  clearInterval(sampler);
  peakRss = Math.max(peakRss, procMem(s.pid).rss);
  let finalStatus = '';
  let serverMs = Number.NaN;
  let refusal = '';
  try {
    const v = JSON.parse(res.body) as { status?: string; createdAt?: string; finishedAt?: string | null; code?: string; errors?: { path: string; message: string }[] };
    if (res.status === 201 || res.status === 200) {
      finalStatus = v.status ?? '?';
      if (v.finishedAt && v.createdAt) serverMs = Date.parse(v.finishedAt) - Date.parse(v.createdAt);
    } else refusal = `${v.code ?? '?'}: ${v.errors?.map((e) => `${e.path} ${e.message}`).join('; ') ?? ''}`;
  } catch {
    refusal = res.body.slice(0, 200);
  }
  return { status: res.status, finalStatus, clientMs, serverMs, cpuS, peakRss, rssBefore, health: h.map((x) => x.ms), healthErrors: h.filter((x) => !x.ok).length, refusal };
}

const pct = (xs: readonly number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
};
const median = (xs: readonly number[]): number => pct(xs, 50);

/** Parent side: per sync mode, one server child; each width `repeats` times (1 with --quick). */
export async function widePart(o: BenchOpts): Promise<Figure[]> {
  const figs: Figure[] = [];
  const repeats = o.quick ? 1 : 5;
  const rows: string[] = [];
  for (const sync of o.syncs) {
    console.log(`\n## wide parallel (HTTP, inline definition, ?wait=30000) — sync=${sync}; cap LIMITS.maxParallelBranches = ${CAP}`);
    await withServer(sync, { cpuProfDir: o.cpuProfDir }, async (s) => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const poller = healthPoller(s.url);
      try {
        // Warm-up: JIT, the first commit paths.
        for (let i = 0; i < 3; i++) await runOnce(s, agent, poller, Math.min(10, CAP));
        for (const width of WIDTHS) {
          await waitQuiet(o.quick ? 2000 : 5000);
          const runs: Run[] = [];
          for (let i = 0; i < repeats; i++) {
            const r = await runOnce(s, agent, poller, width);
            runs.push(r);
            if (r.status !== 201 && r.status !== 200) break; // refused: once is enough
          }
          const first = runs[0] as Run;
          const health = runs.flatMap((r) => r.health);
          const healthErrors = runs.reduce((n, r) => n + r.healthErrors, 0);
          const hp99 = pct(health, 99);
          const hmax = Math.max(...health);
          const peak = Math.max(...runs.map((r) => r.peakRss));
          const growth = Math.max(...runs.map((r) => r.peakRss - r.rssBefore));
          const healthCell = `p99 ${ms(hp99, 1)}, max ${ms(hmax, 1)} (n=${health.length}${healthErrors ? `, ${healthErrors} errors` : ''})`;
          const over = width > CAP;
          if (first.status !== 201 && first.status !== 200) {
            const expected = over && first.status === 422;
            const line = `| ${sync} | ${width} | refused ${first.status}${expected ? ' (over the cap)' : ' (UNEXPECTED)'} | ${ms(first.clientMs, 1)} to the refusal | — | ${first.cpuS.toFixed(2)} s | ${mib(peak)} | ${healthCell} |`;
            rows.push(line);
            console.log(`width ${width}: refused ${first.status} in ${ms(first.clientMs, 1)}: ${first.refusal.slice(0, 160)}`);
            figs.push({ part: 'wide', what: `parallel of ${width} echo branches`, sync, value: `refused ${first.status}`, target: over ? `422 (cap ${CAP})` : 'runs', pass: over === (first.status === 422), note: `${first.refusal.slice(0, 120)}; /health ${healthCell}` });
            continue;
          }
          const statuses = [...new Set(runs.map((r) => r.finalStatus))].join(', ');
          const client = runs.map((r) => r.clientMs);
          const server = runs.map((r) => r.serverMs);
          const cpu = runs.map((r) => r.cpuS);
          const result = `${statuses} ×${runs.length}`;
          rows.push(
            `| ${sync} | ${width} | ${result} | ${ms(median(client), 1)} (max ${ms(Math.max(...client), 1)}) | ${ms(median(server), 0)} | ${median(cpu).toFixed(2)} s | ${mib(peak)} (+${mib(growth)}) | ${healthCell} |`,
          );
          console.log(
            `width ${width}: ${result}; start→completed p50 ${ms(median(client), 1)} (server ${ms(median(server), 0)}), server CPU ${median(cpu).toFixed(2)} s, peak RSS ${mib(peak)} (+${mib(growth)}), /health ${healthCell}`,
          );
          figs.push({
            part: 'wide',
            what: `parallel of ${width} echo branches: start → completed (p50 of ${runs.length})`,
            sync,
            value: ms(median(client), 1),
            target: over ? `422 (cap ${CAP})` : '—',
            pass: over ? false : null,
            note: `server ${ms(median(server), 0)}, CPU ${median(cpu).toFixed(2)} s, peak RSS ${mib(peak)} (+${mib(growth)}); /health ${healthCell}`,
          });
        }
      } finally {
        await poller.stop();
        agent.destroy();
      }
    });
  }
  console.log(`\n### wide parallel (cap ${CAP}; ${repeats} run(s) per width)\n`);
  console.log('| sync | branches | result | start → completed, client p50 | server (finishedAt − createdAt) | server CPU | server peak RSS (growth) | /health meanwhile |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(r);
  return figs;
}
