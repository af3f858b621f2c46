/**
 * @module bench/parked — RSS with 100,000 parked executions (the `park` flow: one `wait` step).
 * Inside a server child run with `--expose-gc`: starts them with `engine.start` in concurrent
 * batches of 500 (each batch shares group commits), then forces `gc()` and reads RSS / heap.
 * RSS per parked execution = (RSS after − RSS of the idle server before) / count.
 */
import type { Engine } from '../src/engine/types.ts';
import { type BenchOpts, type Figure, int, mib, procMem, withServer } from './common.ts';

export interface ParkedArgs {
  readonly count: number;
  readonly batch: number;
  /** Stop early (and say so) past this time budget. */
  readonly maxMs: number;
}

export interface ParkedResult {
  readonly started: number;
  readonly waiting: number;
  readonly seconds: number;
  readonly rssBefore: number;
  readonly rssAfter: number;
  readonly heapUsedBefore: number;
  readonly heapUsedAfter: number;
  readonly externalAfter: number;
  readonly timedOut: boolean;
}

function fullGc(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run the child with --expose-gc');
  gc();
  gc();
}

/** Runs inside the server child (bench/server-proc.ts). */
export async function runParkedInProcess(engine: Engine, args: ParkedArgs): Promise<ParkedResult> {
  fullGc();
  const before = process.memoryUsage();
  const t0 = performance.now();
  let started = 0;
  let waiting = 0;
  let timedOut = false;
  while (started < args.count) {
    if (performance.now() - t0 > args.maxMs) {
      timedOut = true;
      break;
    }
    const n = Math.min(args.batch, args.count - started);
    const rs = await Promise.all(Array.from({ length: n }, () => engine.start({ tenant: 'default', workflow: 'park', input: {} })));
    started += n;
    for (const r of rs) if (r.execution.status === 'waiting') waiting++;
  }
  const seconds = (performance.now() - t0) / 1000;
  await new Promise((r) => setTimeout(r, 200));
  fullGc();
  const after = process.memoryUsage();
  return {
    started, waiting, seconds, timedOut,
    rssBefore: before.rss, rssAfter: after.rss,
    heapUsedBefore: before.heapUsed, heapUsedAfter: after.heapUsed, externalAfter: after.external,
  };
}

const LIMIT = 1.5 * 2 ** 30;

/** Parent side: per sync mode, a fresh server child with --expose-gc. */
export async function parkedPart(o: BenchOpts): Promise<Figure[]> {
  const figs: Figure[] = [];
  const count = o.quick ? 10_000 : 100_000;
  for (const sync of o.syncs) {
    console.log(`\n## parked executions — sync=${sync}, ${int(count)} × park (wait step), batches of 500`);
    await withServer(sync, { gc: true, cpuProfDir: o.cpuProfDir }, async (s) => {
      const r = await s.call<ParkedResult>('parked', { count, batch: 500, maxMs: o.quick ? 60_000 : 150_000 });
      const status = await s.call<{ live?: number; executions: Record<string, number> }>('status');
      const proc = procMem(s.pid);
      const per = (r.rssAfter - r.rssBefore) / r.started;
      const heapPer = (r.heapUsedAfter - r.heapUsedBefore) / r.started;
      console.log(
        `started ${int(r.started)} (${int(r.waiting)} waiting) in ${r.seconds.toFixed(1)} s = ${int(r.started / r.seconds)} starts/s${r.timedOut ? ' (STOPPED at the time budget)' : ''}\n` +
          `RSS after gc ${mib(r.rssAfter)} (idle server ${mib(r.rssBefore)}; peak VmHWM ${mib(proc.hwm)}); ` +
          `per parked execution ${(per / 1024).toFixed(1)} KiB RSS, ${(heapPer / 1024).toFixed(1)} KiB JS heap; external ${mib(r.externalAfter)}; live in engine ${status.live ?? '?'}`,
      );
      // Scaled to 100,000 when a quick run parks fewer.
      const projected = r.rssBefore + per * 100_000;
      const part = 'parked';
      const tgt = sync === 'full' ? '100,000 ≤ 1.5 GiB RSS' : '100,000 ≤ 1.5 GiB RSS (full only)';
      figs.push(
        {
          part, what: `RSS with ${int(r.started)} parked executions (after gc)`, sync, value: mib(r.rssAfter), target: tgt,
          pass: r.started >= 100_000 ? r.rssAfter <= LIMIT : projected <= LIMIT,
          note: `${(per / 1024).toFixed(1)} KiB/execution RSS, ${(heapPer / 1024).toFixed(1)} KiB heap; peak ${mib(proc.hwm)}${r.started < 100_000 ? `; projected to 100k: ${mib(projected)}` : ''}`,
        },
        { part, what: `time to start ${int(r.started)} parked (batches of 500)`, sync, value: `${r.seconds.toFixed(1)} s`, target: '—', pass: null, note: `${int(r.started / r.seconds)} starts/s in-process` },
      );
    });
  }
  return figs;
}
