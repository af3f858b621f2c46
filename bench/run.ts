/**
 * @module bench/run — `npm run bench [-- options]`: every part in sequence, then the figures table.
 *
 *   --quick            short durations and 10,000 parked / restarted executions (a smoke test, ~2 min)
 *   --only <part>      micro | http | flow3 | outputs | direct | nats | custom | http-agents | parked | restart | features | wide | bulk | queue | cluster (repeatable, or comma-separated)
 *   --sync <mode>      full | normal (default: both)
 *   --cpu-prof <dir>   run the server children with `node --cpu-prof` (profiles written into <dir>)
 *
 * Parts: micro (tinybench, own process: bench/micro.bench.ts); http (autocannon + an open-loop
 * generator against a server child, bench/http-start.ts); flow3 (3-step flow, in-process in a server
 * child, bench/flow3.ts); outputs (bytes written and CPU per flow when steps pass 16 KiB results, 10 and 40
 * steps, bench/large-outputs.ts); nats (the same flow through a private nats-server and 1 / 4 `actorflow agent`
 * processes, bench/nats-flow.ts); custom (the 3-step flow on users' own in-process agents against the built-in echo,
 * bench/custom-agents.ts); http-agents (the same flow on an HTTP push agent on loopback, answering 200 or 202 then
 * posting its result, bench/http-agents.ts); direct (`durability: "none"` flows over HTTP `?wait=` against bare XState, bench/direct.ts);
 * parked (1,000,000 waiting executions in a server child, then signals to passivated ones, bench/parked.ts);
 * restart (SIGKILL with 100,000 waiting, then `actorflow serve` on the same data dir until /ready, bench/restart.ts);
 * features (webhook deliveries, telemetry, GraphQL and task lists over HTTP, bench/features.bench.ts);
 * wide (one parallel step of 25 to 1,000 echo branches over HTTP: time, server CPU and RSS, /health meanwhile; over the cap refused, bench/wide-parallel.ts);
 * cluster (starts/s and latency on 1-3 `serve --cluster` nodes over 3 JetStream nats-servers, SQLite as reference, failover after SIGKILL, bench/cluster.ts).
 * Every server child gets a fresh temp data dir (restart: one kept dir per sync mode, removed after)
 * and listens on 127.0.0.1 only. A full run takes ≈ 14 min on a quiet machine (parking the million takes ≈ 5); it waits (bounded:
 * 15 s per part, 8 s per run) for other load on the machine to settle, and prints how busy the
 * machine was (the 2 cores are shared).
 */
import { fork } from 'node:child_process';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { type BenchOpts, type Figure, type SyncMode, SYNC_MODES, fmtLat, fsyncProbe, machineCpuSeconds, machineInfo, ms, selfCpuSeconds, waitQuiet } from './common.ts';
import { directPart } from './direct.ts';
import { flow3Part } from './flow3.ts';
import { largeOutputsPart } from './large-outputs.ts';
import { httpPart } from './http-start.ts';
import { natsFlowPart } from './nats-flow.ts';
import { parkedPart } from './parked.ts';
import { restartPart } from './restart.ts';
import { widePart } from './wide-parallel.ts';

const PARTS = ['micro', 'http', 'flow3', 'outputs', 'direct', 'nats', 'custom', 'http-agents', 'parked', 'restart', 'features', 'wide', 'bulk', 'queue', 'cluster'] as const;
type Part = (typeof PARTS)[number];

function parseArgs(argv: readonly string[]): { opts: BenchOpts; parts: Part[] } {
  const only: string[] = [];
  let syncs: SyncMode[] = [...SYNC_MODES];
  let cpuProfDir: string | null = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--quick') continue;
    else if (a === '--only') only.push(...next().split(','));
    else if (a === '--sync') syncs = next().split(',').map((s) => (s === 'normal' ? 'normal' : 'full'));
    else if (a === '--cpu-prof') cpuProfDir = next();
    else throw new Error(`unknown option ${a} (see bench/run.ts)`);
  }
  for (const p of only) if (!(PARTS as readonly string[]).includes(p)) throw new Error(`unknown part ${p}: ${PARTS.join(' | ')}`);
  const parts = only.length > 0 ? PARTS.filter((p) => only.includes(p)) : [...PARTS];
  return { opts: { quick: argv.includes('--quick'), syncs, cpuProfDir }, parts };
}

/** A `*.bench.ts` script in its own process (tsx, IPC), so its engines and stores are not in ours. */
function forkedPart(name: string, file: string, o: BenchOpts, args: readonly string[] = []): Promise<Figure[]> {
  const script = fileURLToPath(new URL(file, import.meta.url));
  const m0 = machineCpuSeconds();
  const p0 = selfCpuSeconds();
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    let figures: Figure[] = [];
    let childCpu = 0;
    const child = fork(script, [...(o.quick ? ['--quick'] : []), ...args], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.on('message', (m: { type?: string; figures?: Figure[]; cpuSeconds?: number }) => {
      if (m.type === 'figures' && m.figures) figures = m.figures;
      childCpu = m.cpuSeconds ?? 0;
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`${file} exited with ${code}`));
      const secs = (performance.now() - t0) / 1000;
      const others = (Math.max(0, machineCpuSeconds() - m0 - childCpu - (selfCpuSeconds() - p0)) / secs) * 100;
      console.log(`(${name}: other processes used ${others.toFixed(0)}% CPU during the run)`);
      resolve([...figures, { part: name, what: `CPU of other processes during ${name}`, sync: '-', value: `${others.toFixed(0)}%`, target: '—', pass: null, note: 'of one core; > 15% means disturbed figures' }]);
    });
  });
}

function table(figs: readonly Figure[]): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const verdict = (p: boolean | null) => (p === null ? '' : p ? 'pass' : '**MISS**');
  const rows = figs.map((f) => `| ${esc(f.part)} | ${esc(f.what)} | ${f.sync} | ${esc(f.value)} | ${esc(f.target)} | ${verdict(f.pass)} | ${esc(f.note ?? '')} |`);
  return ['| part | figure | sync | value | target | verdict | notes |', '|---|---|---|---|---|---|---|', ...rows].join('\n');
}

const { opts, parts } = parseArgs(process.argv.slice(2));
const cmd = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
const started = Date.now();
console.log(`# actorflow bench — ${new Date().toISOString()}`);
console.log(`machine: ${machineInfo()}`);
const disk = fsyncProbe();
console.log(`disk: 4 KiB write + fsync in ${tmpdir()}: ${fmtLat(disk)} (the floor of every sync=full commit)`);
console.log(`command: ${cmd}; parts: ${parts.join(', ')}; sync modes: ${opts.syncs.join(', ')}${opts.quick ? '; QUICK (smoke test: short runs)' : ''}`);

const figures: Figure[] = [
  { part: 'machine', what: `fsync of 4 KiB in ${tmpdir()} (floor of a sync=full commit)`, sync: '-', value: `p50 ${ms(disk.p50)}, p99 ${ms(disk.p99)}`, target: '—', pass: null, note: `max ${ms(disk.max, 2)}, n=${disk.count}` },
];
const failures: string[] = [];
const noisyParts: string[] = [];
const microPart = (o: BenchOpts) => forkedPart('micro', './micro.bench.ts', o);
/** A part forked once per sync mode. */
const perSync = (name: string, file: string) => async (o: BenchOpts): Promise<Figure[]> => {
  const figs: Figure[] = [];
  for (const sync of o.syncs) figs.push(...(await forkedPart(name, file, o, ['--sync', sync])));
  return figs;
};
/** The read and delivery paths (webhooks, telemetry, GraphQL, tasks). */
const featuresPart = perSync('features', './features.bench.ts');
const customPart = perSync('custom', './custom-agents.ts');
const httpAgentsPart = perSync('http agents', './http-agents.ts');
const runners: Record<Part, (o: BenchOpts) => Promise<Figure[]>> = { micro: microPart, features: featuresPart, custom: customPart, 'http-agents': httpAgentsPart, http: httpPart, flow3: flow3Part, outputs: largeOutputsPart, direct: directPart, nats: natsFlowPart, parked: parkedPart, restart: restartPart, wide: widePart, bulk: perSync('bulk', './bulk.ts'), queue: perSync('queue', './queue.ts'), cluster: (o) => forkedPart('cluster', './cluster.ts', o) };
for (const p of parts) {
  const busy = await waitQuiet(opts.quick ? 5_000 : 15_000);
  const noisy = busy >= 0.15;
  console.log(`\n(machine ${(busy * 100).toFixed(0)}% busy before part ${p}${noisy ? ': OTHER LOAD PRESENT, figures are disturbed' : ''})`);
  if (noisy) noisyParts.push(`${p} ${(busy * 100).toFixed(0)}%`);
  const t0 = Date.now();
  try {
    figures.push(...(await runners[p](opts)));
  } catch (err) {
    failures.push(p);
    console.error(`\npart ${p} FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  }
  console.log(`(${p}: ${((Date.now() - t0) / 1000).toFixed(0)} s)`);
}

console.log(`\n## figures (${cmd}; ${new Date().toISOString().slice(0, 10)}; ${machineInfo()})\n`);
console.log(table(figures));
const misses = figures.filter((f) => f.pass === false).length;
console.log(`\n${figures.length} figures, ${misses} target misses, ${failures.length} failed parts${failures.length ? ` (${failures.join(', ')})` : ''}; ${((Date.now() - started) / 1000).toFixed(0)} s in all`);
if (noisyParts.length > 0) console.log(`other load on the machine before: ${noisyParts.join(', ')} (busy = whole-machine CPU over 1 s)`);
process.exitCode = failures.length > 0 ? 1 : 0;
