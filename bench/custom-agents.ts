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
import { alternate, durations, reportFigures, runBench3, summarize, type VariantRun, variantFigures } from './agent-variants.ts';
import type { SyncMode } from './common.ts';

const sync: SyncMode = process.argv[process.argv.indexOf('--sync') + 1] === 'normal' ? 'normal' : 'full';
const d = durations(process.argv.includes('--quick'));

type Variant = 'echo' | 'custom-echo' | 'custom-pure';
const VARIANTS: readonly Variant[] = ['echo', 'custom-echo', 'custom-pure'];

async function measure(kind: Variant): Promise<VariantRun> {
  const dataDir = mkdtempSync(join(tmpdir(), `actorflow-bench-custom-${sync}-`));
  const app = await startActorflow({
    host: '127.0.0.1', port: 0, dataDir, sync, quiet: true, logLevel: 'error', noAuth: true, rateLimit: null,
    agents: { 'custom-echo': async (ctx) => ctx.input, 'custom-pure': { pure: true, handler: async (ctx) => ctx.input } },
  });
  try {
    return await runBench3(app.engine, kind, d);
  } finally {
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

console.log(`\n## custom agents: 3 in-process steps, built-in echo vs startActorflow({ agents }) — sync=${sync}, ${d.rounds} round(s)`);
const runs = await alternate(VARIANTS, d.rounds, measure);
const part = 'custom agents';
const [echo, custom, pure] = VARIANTS.map((v) => summarize(runs.get(v) ?? [])) as [ReturnType<typeof summarize>, ReturnType<typeof summarize>, ReturnType<typeof summarize>];
reportFigures([
  ...variantFigures(part, sync, 'built-in echo', echo),
  ...variantFigures(part, sync, 'in-process custom agent', custom, echo),
  ...variantFigures(part, sync, 'in-process custom agent declared pure', pure, echo, { text: `≈ echo's ${(echo.p50).toFixed(3)} ms`, met: pure.p50 <= echo.p50 * 1.2 }),
]);
