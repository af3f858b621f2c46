/**
 * @module bench/micro.bench — tinybench micro-benchmarks, in their own process:
 *   node --import tsx bench/micro.bench.ts [--quick]      (bench/run.ts forks it the same way)
 *
 * Time / iteration budget: every task runs for `time` = 1,000 ms (quick: 200 ms) and at least
 * `iterations` = 20 samples, after a warm-up of 250 ms (quick: 50 ms) / 5 iterations. 12 tasks, so
 * ~15 s in all (~4 s quick) plus store/engine setup. Async tasks are timed one awaited call at a time.
 *
 * Tasks:
 *  - validate and compile a 10-step flow (FLOW10 in bench/common.ts) → XState machine;
 *  - msgpackr encode / decode of the persisted snapshot of a running execution (FLOW10 actor after
 *    2 steps completed, now in its `sleep` step; `actor.getPersistedSnapshot()`, src/common/codec.ts);
 *  - journal append: `store.commit` of 1 and of 100 event rows (~40-byte msgpack data each), sync
 *    full (fsync) and normal, on a fresh SQLite file per mode;
 *  - `engine.start` in-process (no HTTP) of the `park` flow, awaited (journal commit included), one at
 *    a time and 64 concurrently (one group commit serves the batch), sync full and normal;
 *  - a flow actor alone: a 3-step flow of tasks (the peers' workload) created, started and given its 3
 *    results, no effects; its note has the bytes it allocates (V8's sampling heap profiler over 20,000 runs,
 *    collected objects included).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Session } from 'node:inspector/promises';
import { pathToFileURL } from 'node:url';
import { Bench, type Task } from 'tinybench';
import { createActor } from 'xstate';
import { startActorflow, type Running } from '../src/cli/serve.ts';
import { compileFlow } from '../src/engine/flow/compile-flow.ts';
import { flowActions, withEffects } from '../src/engine/flow/compile/flow-machine.ts';
import type { FlowEffects } from '../src/engine/flow/flow-context.ts';
import { validateFlow } from '../src/engine/flow/validate-flow.ts';
import { msgpackCodec } from '../src/common/codec.ts';
import type { EventRecord } from '../src/common/execution.ts';
import type { FlowDocument } from '../src/common/flow.ts';
import { createSqliteStore } from '../src/store/sqlite/open-sqlite-stores.ts';
import type { Store } from '../src/store/types.ts';
import { FLOW10, PARK_FLOW, SYNC_MODES, type Figure, type SyncMode, int, machineInfo } from './common.ts';

const noEffects: FlowEffects = {
  emit: () => undefined,
  dispatch: () => undefined,
  abort: () => undefined,
  armTimer: () => undefined,
  clearTimer: () => undefined,
  startChild: () => undefined,
  cancelChild: () => undefined,
};

/** The persisted snapshot of a FLOW10 execution with s1 and s2 done (now sleeping in s5). */
function runningSnapshot(): unknown {
  const machine = withEffects(compileFlow(FLOW10 as unknown as FlowDocument).machine, flowActions(noEffects));
  const now = Date.now();
  const actor = createActor(machine, { input: { executionId: 'ex_01JBENCH0000000000000000000', input: { orderId: 'A-1042', amount: 129.9 }, at: now } });
  actor.start();
  actor.send({ type: 'START', at: now });
  const done = (stepId: string, output: unknown) =>
    actor.send({ type: 'STEP_DONE', stepId, attempt: 1, output, agentId: 'echo-1', durationMs: 0.05, costs: [], at: now + 1 });
  done('s1', { order: 'A-1042' });
  done('s2', { level: 'info', message: 'validated' });
  const snap = actor.getPersistedSnapshot();
  actor.stop();
  return snap;
}

/** A 3-step flow actor's whole life, no effects: created, started, given its 3 results (what every peers flow costs XState). */
function flow3Actor(): () => void {
  const doc = { name: 'flow3', steps: ['a', 'b', 'c'].map((id) => ({ id, type: 'task', agent: 'echo', input: { v: '$.input.v' } })) } as FlowDocument;
  const machine = withEffects(compileFlow(doc).machine, flowActions(noEffects));
  let n = 0;
  return () => {
    const actor = createActor(machine, { input: { executionId: `ex_bench_${n++}`, input: { v: n }, at: 1 } });
    actor.start();
    actor.send({ type: 'START', at: 2 });
    for (const stepId of ['a', 'b', 'c']) actor.send({ type: 'STEP_DONE', stepId, attempt: 1, output: { v: n }, agentId: null, durationMs: 0, costs: [], at: 3 });
    if (actor.getSnapshot().status !== 'done') throw new Error('the 3-step flow did not complete');
    actor.stop();
  };
}

/** Bytes `fn` allocates per call, collected objects included (V8's sampling heap profiler). */
async function allocatedPerCall(fn: () => void, calls: number): Promise<number> {
  const session = new Session();
  session.connect();
  try {
    await session.post('HeapProfiler.startSampling', { samplingInterval: 1024, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
    for (let i = 0; i < calls; i++) fn();
    const { profile } = await session.post('HeapProfiler.stopSampling');
    let bytes = 0;
    const walk = (node: typeof profile.head): void => {
      bytes += node.selfSize;
      for (const c of node.children) walk(c);
    };
    walk(profile.head);
    return bytes / calls;
  } finally {
    session.disconnect();
  }
}

function eventRows(id: string, seq0: number, n: number): EventRecord[] {
  const ts = Date.now();
  return Array.from({ length: n }, (_, i) => ({
    executionId: id, seq: seq0 + i, type: 'workflow.step.completed', ts, stepId: 'a', data: { output: { n: i, s: 'payload-16-bytes' } },
  }));
}

export async function runMicro(quick: boolean): Promise<Figure[]> {
  const bench = new Bench({ time: quick ? 200 : 1000, iterations: 20, warmupTime: quick ? 50 : 250, warmupIterations: 5, throws: true });
  const dirs: string[] = [];
  const tmp = (p: string) => {
    const d = mkdtempSync(join(tmpdir(), `actorflow-micro-${p}-`));
    dirs.push(d);
    return d;
  };
  const stores: Store[] = [];
  const apps: Running[] = [];
  const notes = new Map<string, string>();
  /** Tasks doing `n` units per call: derived units/s = n / mean latency. */
  const units = new Map<string, { n: number; unit: string }>();

  bench.add('validate 10-step flow', () => void validateFlow(FLOW10));
  bench.add('compile 10-step flow', () => void compileFlow(FLOW10 as unknown as FlowDocument));
  const snap = runningSnapshot();
  const buf = msgpackCodec.encode(snap);
  notes.set('snapshot encode (msgpackr)', `${buf.length} bytes`);
  notes.set('snapshot decode (msgpackr)', `${buf.length} bytes`);
  bench.add('snapshot encode (msgpackr)', () => void msgpackCodec.encode(snap));
  bench.add('snapshot decode (msgpackr)', () => void msgpackCodec.decode(buf));
  const actorRun = flow3Actor();
  for (let i = 0; i < 2_000; i++) actorRun();
  notes.set('flow actor: 3-step flow, create + start + 3 results', `${(await allocatedPerCall(actorRun, 20_000) / 1024).toFixed(1)} KiB allocated per flow`);
  bench.add('flow actor: 3-step flow, create + start + 3 results', actorRun);

  for (const sync of SYNC_MODES) {
    const store = await createSqliteStore({ path: join(tmp(sync), 'journal.db'), sync });
    stores.push(store);
    let seq = 1;
    for (const n of [1, 100]) {
      const name = `journal commit ${n} event row${n > 1 ? 's' : ''} (${sync})`;
      notes.set(name, sync === 'full' ? 'fsync' : 'no fsync');
      units.set(name, { n, unit: 'rows' });
      bench.add(name, async () => {
        const events = eventRows('ex_bench_journal', seq, n);
        seq += n;
        await store.commit({ events, executions: [], snapshots: [] });
      });
    }
  }
  for (const sync of SYNC_MODES) {
    const app = await startActorflow({ host: '127.0.0.1', port: 0, dataDir: tmp(`engine-${sync}`), sync, quiet: true });
    apps.push(app);
    await app.engine.registerDefinition('default', PARK_FLOW);
    const start = () => app.engine.start({ tenant: 'default', workflow: 'park', input: {} });
    bench.add(`engine.start park (${sync})`, async () => void (await start()));
    units.set(`engine.start park ×64 concurrent (${sync})`, { n: 64, unit: 'starts' });
    bench.add(`engine.start park ×64 concurrent (${sync})`, async () => void (await Promise.all(Array.from({ length: 64 }, start))));
  }

  console.log(`## micro (tinybench, ${quick ? 'quick: 200 ms' : '1 s'} per task) — ${machineInfo()}`);
  try {
    await bench.run();
  } finally {
    for (const a of apps) await a.close();
    for (const s of stores) await s.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
  console.table(bench.table());
  return bench.tasks.map((t: Task) => figureOf(t, notes.get(t.name), units.get(t.name)));
}

function figureOf(t: Task, note: string | undefined, per: { n: number; unit: string } | undefined): Figure {
  const r = t.result;
  const sync: SyncMode | '-' = t.name.includes('(full)') ? 'full' : t.name.includes('(normal)') ? 'normal' : '-';
  if (!r || r.error) return { part: 'micro', what: t.name, sync, value: `error: ${r?.error?.message ?? 'no result'}`, target: '—', pass: null };
  const l = r.latency;
  const f = (x: number | undefined) => (x === undefined ? '?' : x < 0.1 ? `${(x * 1000).toFixed(1)} µs` : `${x.toFixed(3)} ms`);
  return {
    part: 'micro', what: t.name, sync, value: `mean ${f(l.mean)}, p50 ${f(l.p50)}, p99 ${f(l.p99)}`, target: '—', pass: null,
    note: [per ? `${int((per.n * 1000) / l.mean)} ${per.unit}/s (${per.n} / mean)` : `${int(1000 / l.mean)} ops/s (1 / mean)`, `${int(l.samples.length)} samples`, note]
      .filter(Boolean)
      .join('; '),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const figs = await runMicro(process.argv.includes('--quick'));
  const u = process.cpuUsage();
  if (process.send) process.send({ type: 'figures', figures: figs, cpuSeconds: (u.user + u.system) / 1e6 }, () => process.exit(0));
  else process.exit(0);
}
