/**
 * @module bench/agent-variants — what the agent parts (bench/custom-agents.ts, bench/http-agents.ts) share:
 * the 3-step `bench3` flow on one agent kind, run at 1 and 64 clients; variants alternated over rounds so
 * machine drift hits each alike; medians of the rounds; the figures of a variant against the built-in echo.
 */
import type { Engine } from '../src/engine/types.ts';
import { BENCH3_FLOW, type Figure, type SyncMode, fmtLat, int, ms } from './common.ts';
import { type Flow3Result, runFlow3InProcess } from './flow3.ts';

export interface VariantRun {
  readonly seq: Flow3Result;
  readonly con: Flow3Result;
}

export interface Durations {
  readonly rounds: number;
  readonly seqMs: number;
  readonly conMs: number;
  readonly warmupMs: number;
}

export const durations = (quick: boolean): Durations =>
  quick ? { rounds: 1, seqMs: 1500, conMs: 1500, warmupMs: 500 } : { rounds: 3, seqMs: 5000, conMs: 5000, warmupMs: 1500 };

/** Registers `bench3` with every step on `kind`, then start → committed `workflow.completed` at 1 client and at 64. */
export async function runBench3(engine: Engine, kind: string, d: Durations): Promise<VariantRun> {
  await engine.registerDefinition('default', { ...BENCH3_FLOW, steps: BENCH3_FLOW.steps.map((s) => ({ ...s, agent: kind })) });
  const seq = await runFlow3InProcess(engine, { clients: 1, durationMs: d.seqMs, warmupMs: d.warmupMs });
  const con = await runFlow3InProcess(engine, { clients: 64, durationMs: d.conMs, warmupMs: d.warmupMs });
  return { seq, con };
}

/** Each variant once a round, in reverse order every other round; logs each run. */
export async function alternate<V extends string>(variants: readonly V[], rounds: number, measure: (v: V) => Promise<VariantRun>): Promise<Map<V, VariantRun[]>> {
  const runs = new Map<V, VariantRun[]>(variants.map((v) => [v, []]));
  const width = Math.max(...variants.map((v) => v.length));
  for (let r = 0; r < rounds; r++) {
    for (const v of r % 2 === 0 ? variants : [...variants].reverse()) {
      const m = await measure(v);
      runs.get(v)?.push(m);
      console.log(`${v.padEnd(width)} round ${r + 1}: 1 client ${fmtLat(m.seq.latency)}, ${m.seq.commitsPerFlow.toFixed(2)} commits/flow; 64 clients ${int(m.con.flowsPerSec)} flows/s, failed ${m.seq.failed + m.con.failed}`);
    }
  }
  return runs;
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)] ?? Number.NaN;

export interface Summary {
  readonly p50: number;
  readonly p99: number;
  readonly commits: number;
  readonly perSec: number;
  readonly failed: number;
}

export function summarize(rs: readonly VariantRun[]): Summary {
  return {
    p50: median(rs.map((x) => x.seq.latency.p50)),
    p99: median(rs.map((x) => x.seq.latency.p99)),
    commits: median(rs.map((x) => x.seq.commitsPerFlow)),
    perSec: median(rs.map((x) => x.con.flowsPerSec)),
    failed: rs.reduce((n, x) => n + x.seq.failed + x.con.failed, 0),
  };
}

/** The p50 and flows/s figures of one variant; `echo` given: each compared with the built-in echo's. */
export function variantFigures(part: string, sync: SyncMode, what: string, s: Summary, echo?: Summary, target?: { text: string; met: boolean }): Figure[] {
  const failed = s.failed ? `; ${s.failed} flows failed` : '';
  const vsP50 = echo ? `; ${(s.p50 / echo.p50).toFixed(2)}× echo's p50` : '';
  return [
    {
      part, what: `3-step start→completed p50, 1 client, ${what}`, sync, value: ms(s.p50), target: target?.text ?? '—',
      pass: s.failed > 0 ? false : target ? target.met : null, note: `p99 ${ms(s.p99)}; ${s.commits.toFixed(2)} group commits/flow${vsP50}${failed}`,
    },
    { part, what: `3-step flows/s, 64 clients, ${what}`, sync, value: `${int(s.perSec)}/s`, target: '—', pass: null, ...(echo ? { note: `${(s.perSec / echo.perSec).toFixed(2)}× echo's` } : {}) },
  ];
}

/** Prints the figures and hands them to bench/run.ts when forked by it. */
export function reportFigures(figs: readonly Figure[]): void {
  for (const f of figs) console.log(`${f.what}: ${f.value}${f.note ? ` (${f.note})` : ''}`);
  const u = process.cpuUsage();
  if (process.send) process.send({ type: 'figures', figures: figs, cpuSeconds: (u.user + u.system) / 1e6 }, () => process.exit(0));
}
