/**
 * @module bench/large-outputs — what an execution whose steps return large results writes (issue 12: "a full
 * snapshot row re-encoded for every touched execution on every commit, growing with every step output").
 *
 * A flow of N `sleep` steps (1 ms each, so every step is a commit of its own, as with a remote agent), each
 * returning its input: a 16 KiB string, passed from step to step. Inside a server child (bench/server-proc.ts),
 * one client runs such flows back to back; per flow: bytes the process wrote (`wchar` of /proc/self/io: the
 * WAL, checkpoints), CPU of the process (all threads) and the start→completed time. With 10 and 40 steps:
 * if every commit re-encoded and rewrote every earlier output, the work per flow would grow with N² (40 steps:
 * ~15 × the 10-step figure); written once each, with N (~4 ×). Target: CPU per flow of 40 steps ≤ 5 × 10 steps.
 * Beside them, 40 steps whose 16 KiB stays in the execution's input (the steps pass a few bytes): what a large input
 * costs once it is out of the executions row that every step rewrites.
 */
import { readFileSync } from 'node:fs';
import type { Engine } from '../src/engine/types.ts';
import type { EventView } from '../src/common/execution.ts';
import { type BenchOpts, type Figure, int, ms, waitQuiet, withServer } from './common.ts';

export interface LargeOutputsArgs {
  readonly steps: number;
  readonly outputBytes: number;
  /** The payload stays in the execution's input; the steps get and return a few bytes. */
  readonly inputOnly?: boolean;
  readonly durationMs: number;
  readonly warmupMs: number;
}

export interface LargeOutputsResult {
  readonly steps: number;
  readonly flows: number;
  readonly writtenBytesPerFlow: number;
  readonly cpuMsPerFlow: number;
  readonly p50Ms: number;
}

/** Bytes this process has passed to write() so far (files and sockets; the server child serves no HTTP here). */
function writtenBytes(): number {
  const m = /^wchar: (\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'));
  return m ? Number(m[1]) : Number.NaN;
}

/** Runs inside the server child. */
export async function runLargeOutputsInProcess(engine: Engine, args: LargeOutputsArgs): Promise<LargeOutputsResult> {
  const name = `big${args.inputOnly === true ? 'in' : 'out'}${args.steps}`;
  const stepInput = (i: number) => (args.inputOnly === true ? { ms: 1 } : i === 0 ? { ms: 1, payload: '$.input.payload' } : `$.steps.s${i - 1}.output`);
  const steps = Array.from({ length: args.steps }, (_, i) => ({ id: `s${i}`, type: 'task', agent: 'sleep', input: stepInput(i) }));
  await engine.registerDefinition('default', { name, steps } as never);
  const ends = new Map<string, () => void>();
  const off = engine.onEvent((e: EventView) => {
    if (e.type === 'workflow.completed' || e.type === 'workflow.failed') ends.get(e.executionId)?.();
  });
  const payload = 'x'.repeat(args.outputBytes);
  const one = async (): Promise<void> => {
    const { execution } = await engine.start({ tenant: 'default', workflow: name, input: { payload } });
    if (execution.status !== 'running' && execution.status !== 'pending') return;
    await new Promise<void>((r) => ends.set(execution.id, r));
    ends.delete(execution.id);
  };
  try {
    for (const end = Date.now() + args.warmupMs; Date.now() < end; ) await one();
    const w0 = writtenBytes();
    const c0 = process.cpuUsage();
    const lat: number[] = [];
    for (const end = Date.now() + args.durationMs; Date.now() < end; ) {
      const t0 = performance.now();
      await one();
      lat.push(performance.now() - t0);
    }
    const c = process.cpuUsage(c0);
    lat.sort((a, b) => a - b);
    const n = lat.length;
    return { steps: args.steps, flows: n, writtenBytesPerFlow: (writtenBytes() - w0) / n, cpuMsPerFlow: (c.user + c.system) / 1000 / n, p50Ms: lat[n >> 1] ?? Number.NaN };
  } finally {
    off();
  }
}

const OUTPUT_BYTES = 16 * 1024;

/** Parent side: per sync mode, one server child; 10 steps, then 40. */
export async function largeOutputsPart(o: BenchOpts): Promise<Figure[]> {
  const figs: Figure[] = [];
  const durationMs = o.quick ? 1500 : 5000;
  const warmupMs = o.quick ? 300 : 1000;
  for (const sync of o.syncs) {
    console.log(`\n## large step outputs (in-process, sleep steps of 1 ms passing 16 KiB) — sync=${sync}`);
    await withServer(sync, { cpuProfDir: o.cpuProfDir }, async (s) => {
      await waitQuiet(o.quick ? 2000 : 5000);
      const r: LargeOutputsResult[] = [];
      for (const steps of [10, 40]) {
        const x = await s.call<LargeOutputsResult>('outputs', { steps, outputBytes: OUTPUT_BYTES, durationMs, warmupMs } satisfies LargeOutputsArgs);
        console.log(`${steps} steps: ${int(x.writtenBytesPerFlow / 1024)} KiB written per flow (${(x.writtenBytesPerFlow / (steps * OUTPUT_BYTES)).toFixed(1)} × its outputs); CPU ${x.cpuMsPerFlow.toFixed(2)} ms per flow; p50 ${ms(x.p50Ms, 2)}; n=${x.flows}`);
        r.push(x);
      }
      // The same 40 steps with the 16 KiB only in the execution's input: written once in its `workflow.started` and
      // once beside its row (store/sqlite/execution-blobs.ts), never again with the row that each step rewrites.
      const inOnly = await s.call<LargeOutputsResult>('outputs', { steps: 40, outputBytes: OUTPUT_BYTES, inputOnly: true, durationMs, warmupMs } satisfies LargeOutputsArgs);
      console.log(`40 steps, 16 KiB in the input only: ${int(inOnly.writtenBytesPerFlow / 1024)} KiB written per flow; CPU ${inOnly.cpuMsPerFlow.toFixed(2)} ms per flow; p50 ${ms(inOnly.p50Ms, 2)}; n=${inOnly.flows}`);
      const [ten, forty] = r as [LargeOutputsResult, LargeOutputsResult];
      const cpuGrowth = forty.cpuMsPerFlow / ten.cpuMsPerFlow;
      const bytesGrowth = forty.writtenBytesPerFlow / ten.writtenBytesPerFlow;
      const part = 'large outputs';
      figs.push(
        { part, what: 'CPU per flow, 40 steps ÷ 10 steps (16 KiB outputs), all threads', sync, value: `${cpuGrowth.toFixed(1)} ×`, target: '≤ 5 × (linear in the steps)', pass: cpuGrowth <= 5, note: `${ms(ten.cpuMsPerFlow, 2)} / ${ms(forty.cpuMsPerFlow, 2)} per flow; p50 ${ms(ten.p50Ms, 1)} / ${ms(forty.p50Ms, 1)} (1 ms sleeps and a commit per step); n=${ten.flows} / ${forty.flows}` },
        { part, what: 'bytes written per flow of 40 steps, 16 KiB in the input only', sync, value: `${int(inOnly.writtenBytesPerFlow / 1024)} KiB`, target: '—', pass: null, note: `CPU ${ms(inOnly.cpuMsPerFlow, 2)} per flow; n=${inOnly.flows}` },
        { part, what: 'bytes written per flow of 40 steps (16 KiB outputs)', sync, value: `${int(forty.writtenBytesPerFlow / 1024)} KiB`, target: '—', pass: null, note: `${(forty.writtenBytesPerFlow / (40 * OUTPUT_BYTES)).toFixed(1)} × its outputs (WAL and checkpoints); 10 steps: ${int(ten.writtenBytesPerFlow / 1024)} KiB, ${bytesGrowth.toFixed(1)} × less` },
      );
    });
  }
  return figs;
}
