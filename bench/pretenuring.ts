/**
 * @module bench/pretenuring — why `actorflow serve` turns V8's allocation-site pretenuring off (cli/heap-tuning.ts):
 *   node --import tsx bench/pretenuring.ts [count]
 *
 * Each variant runs in a child process of its own: `count` (default 200,000) XState actors of a two-state
 * machine restored from a snapshot, started, sent one event and stopped — either in slices of 8 between
 * event-loop turns (an execution rebuilt for one input) or all in one synchronous stretch (a burst: recovery,
 * a batch of results). It prints the wall time, the scavenges and major GCs (PerformanceObserver `gc`
 * entries), and what a scavenge kept alive on average (`--trace-gc-nvp`'s new_space_survived), with V8's
 * default and with `--no-allocation-site-pretenuring`.
 */
import { spawnSync } from 'node:child_process';

const count = Number(process.argv[2] ?? 200_000);

const child = (slice: number): string => `
const { createMachine, createActor, assign } = require('xstate');
const { PerformanceObserver } = require('node:perf_hooks');
const m = createMachine({ id: 'x', context: { out: {} }, initial: 'w', states: { w: { on: { GO: { target: 'd', actions: assign({ out: ({ event }) => event.p }) } } }, d: { type: 'final' } } });
const base = createActor(m); base.start(); const persisted = base.getPersistedSnapshot(); base.stop();
const kinds = { minor: 0, major: 0, ms: 0 };
new PerformanceObserver((l) => { for (const e of l.getEntries()) { const k = e.detail.kind; if (k === 1) kinds.minor++; else if (k === 4) kinds.major++; kinds.ms += e.duration; } }).observe({ entryTypes: ['gc'] });
(async () => {
  const t0 = performance.now();
  for (let i = 0; i < ${count}; i++) {
    const a = createActor(m, { snapshot: JSON.parse(JSON.stringify(persisted)) });
    a.subscribe({ error: () => {} });
    a.start();
    a.send({ type: 'GO', p: { i } });
    a.stop();
    if (${slice} > 0 && i % ${slice} === 0) await new Promise((r) => setImmediate(r));
  }
  const ms = performance.now() - t0;
  setTimeout(() => console.log(JSON.stringify({ ms, minor: kinds.minor, major: kinds.major, gcMs: kinds.ms })), 20);
})();
`;

function run(flags: string[], slice: number): { ms: number; minor: number; major: number; gcMs: number; survived: number } {
  const r = spawnSync(process.execPath, [...flags, '--trace-gc-nvp', '-e', child(slice)], { encoding: 'utf8', cwd: process.cwd(), maxBuffer: 256 * 2 ** 20 });
  if (r.status !== 0) throw new Error(r.stderr);
  const lines = r.stdout.trim().split('\n');
  const result = JSON.parse(lines[lines.length - 1] as string) as { ms: number; minor: number; major: number; gcMs: number };
  const survived = lines.filter((l) => l.includes('gc=s')).map((l) => Number(/new_space_survived=(\d+)/.exec(l)?.[1] ?? 0));
  const avg = survived.length === 0 ? 0 : survived.reduce((a, b) => a + b, 0) / survived.length;
  return { ...result, survived: avg };
}

for (const slice of [8, 0]) {
  console.log(`${count.toLocaleString('en-US')} actors restored, started, sent one event, stopped, ${slice > 0 ? `${slice} per event-loop turn` : 'in one synchronous stretch'}:`);
  for (const [name, flags] of [['V8 default', []], ['--no-allocation-site-pretenuring', ['--no-allocation-site-pretenuring']]] as const) {
    const r = run([...flags], slice);
    console.log(`  ${name}: ${(r.ms / 1000).toFixed(2)} s, ${r.minor} scavenges, ${r.major} major GCs (${(r.gcMs / 1000).toFixed(2)} s in GC), ${(r.survived / 1024).toFixed(0)} KiB kept alive per scavenge`);
  }
}
