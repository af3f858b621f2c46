/**
 * @module bench/custom-agents — a 3-step flow whose steps run a user's in-process agent (issue 15), next to
 * the same flow on the built-in `echo`, in its own process:
 *   node --import tsx bench/custom-agents.ts [--quick] [--sync full|normal]   (bench/run.ts may fork it)
 *
 * Each variant gets a fresh server (`startActorflow`, this process, no HTTP) whose `bench3` flow has three
 * `task` steps of one kind: `echo` (built-in, effect-free: a step may start before its dispatch is durable)
 * or `custom-echo`, served from `startActorflow({ agents })` with the same body (it returns its input; a
 * user's agent is not effect-free, so each step leaves only after its start is journaled), and `custom-pure`,
 * the same handler declared `pure: true` (effect-free like echo). The loop is
 * bench/flow3.ts's `runFlow3InProcess`: start → committed `workflow.completed`, 1 client, then 64 clients.
 * The variants alternate over the rounds so machine drift hits both; figures are the rounds' medians.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startActorflow } from '../src/cli/serve.ts';
import { BENCH3_FLOW, type Figure, type SyncMode, fmtLat, int, ms } from './common.ts';
import { type Flow3Result, runFlow3InProcess } from './flow3.ts';

const quick = process.argv.includes('--quick');
const sync: SyncMode = process.argv[process.argv.indexOf('--sync') + 1] === 'normal' ? 'normal' : 'full';
const ROUNDS = quick ? 1 : 3;
const SEQ_MS = quick ? 1500 : 5000;
const CON_MS = quick ? 1500 : 5000;
const WARMUP_MS = quick ? 500 : 1500;

type Variant = 'echo' | 'custom-echo' | 'custom-pure';
const VARIANTS: readonly Variant[] = ['echo', 'custom-echo', 'custom-pure'];

async function measure(kind: Variant): Promise<{ seq: Flow3Result; con: Flow3Result }> {
  const dataDir = mkdtempSync(join(tmpdir(), `actorflow-bench-custom-${sync}-`));
  const app = await startActorflow({
    host: '127.0.0.1', port: 0, dataDir, sync, quiet: true, logLevel: 'error', noAuth: true, rateLimit: null,
    agents: { 'custom-echo': async (ctx) => ctx.input, 'custom-pure': { pure: true, handler: async (ctx) => ctx.input } },
  });
  try {
    await app.engine.registerDefinition('default', { ...BENCH3_FLOW, steps: BENCH3_FLOW.steps.map((s) => ({ ...s, agent: kind })) });
    const seq = await runFlow3InProcess(app.engine, { clients: 1, durationMs: SEQ_MS, warmupMs: WARMUP_MS });
    const con = await runFlow3InProcess(app.engine, { clients: 64, durationMs: CON_MS, warmupMs: WARMUP_MS });
    return { seq, con };
  } finally {
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)] ?? Number.NaN;

const runs = new Map<Variant, { seq: Flow3Result; con: Flow3Result }[]>(VARIANTS.map((v) => [v, []]));
console.log(`\n## custom agents: 3 in-process steps, built-in echo vs startActorflow({ agents }) — sync=${sync}, ${ROUNDS} round(s)`);
for (let r = 0; r < ROUNDS; r++) {
  for (const kind of r % 2 === 0 ? VARIANTS : [...VARIANTS].reverse()) {
    const m = await measure(kind);
    (runs.get(kind) as { seq: Flow3Result; con: Flow3Result }[]).push(m);
    console.log(`${kind.padEnd(11)} round ${r + 1}: 1 client ${fmtLat(m.seq.latency)}, ${m.seq.commitsPerFlow.toFixed(2)} commits/flow; 64 clients ${int(m.con.flowsPerSec)} flows/s, failed ${m.seq.failed + m.con.failed}`);
  }
}

const part = 'custom agents';
const sum = (kind: Variant) => {
  const rs = runs.get(kind) as { seq: Flow3Result; con: Flow3Result }[];
  return {
    p50: median(rs.map((x) => x.seq.latency.p50)),
    p99: median(rs.map((x) => x.seq.latency.p99)),
    commits: median(rs.map((x) => x.seq.commitsPerFlow)),
    perSec: median(rs.map((x) => x.con.flowsPerSec)),
    failed: rs.reduce((n, x) => n + x.seq.failed + x.con.failed, 0),
  };
};
const echo = sum('echo');
const custom = sum('custom-echo');
const pure = sum('custom-pure');
const figs: Figure[] = [
  { part, what: '3-step start→completed p50, 1 client, built-in echo', sync, value: ms(echo.p50), target: '—', pass: null, note: `p99 ${ms(echo.p99)}; ${echo.commits.toFixed(2)} group commits/flow` },
  {
    part, what: '3-step start→completed p50, 1 client, in-process custom agent', sync, value: ms(custom.p50), target: '—', pass: custom.failed === 0 ? null : false,
    note: `p99 ${ms(custom.p99)}; ${custom.commits.toFixed(2)} group commits/flow; ${(custom.p50 / echo.p50).toFixed(2)}× echo's p50${custom.failed ? `; ${custom.failed} flows failed` : ''}`,
  },
  {
    part, what: '3-step start→completed p50, 1 client, in-process custom agent declared pure', sync, value: ms(pure.p50), target: `≈ echo's ${ms(echo.p50)}`, pass: pure.failed === 0 ? pure.p50 <= echo.p50 * 1.2 : false,
    note: `p99 ${ms(pure.p99)}; ${pure.commits.toFixed(2)} group commits/flow; ${(pure.p50 / echo.p50).toFixed(2)}× echo's p50${pure.failed ? `; ${pure.failed} flows failed` : ''}`,
  },
  { part, what: '3-step flows/s, 64 clients, built-in echo', sync, value: `${int(echo.perSec)}/s`, target: '—', pass: null },
  { part, what: '3-step flows/s, 64 clients, in-process custom agent', sync, value: `${int(custom.perSec)}/s`, target: '—', pass: null, note: `${(custom.perSec / echo.perSec).toFixed(2)}× echo's` },
];
for (const f of figs) console.log(`${f.what}: ${f.value}${f.note ? ` (${f.note})` : ''}`);
const u = process.cpuUsage();
if (process.send) process.send({ type: 'figures', figures: figs, cpuSeconds: (u.user + u.system) / 1e6 }, () => process.exit(0));
