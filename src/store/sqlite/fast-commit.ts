/**
 * @module store/sqlite/fast-commit — a small commit that finds the writer thread idle runs on the main thread.
 *
 * Group commits run in the committer's worker thread so that an fsync never blocks the event loop under
 * load (bench/RESULTS.md, "Step 2": on the main thread, batches grew behind every blocked fsync). But a
 * lone request pays two thread hops for it (post to the worker, wake the main thread with the answer),
 * and on a busy 2-core machine each hop waits for a core. A batch of a few rows with no other write in
 * flight is what a lone request makes: it commits at once on the main thread's connection (opened with
 * `busy_timeout=0`), so it never sleeps in SQLite's busy handler; if the lock is held (a checkpoint
 * RESTART, a write of another connection), it goes to the worker as before. Larger batches (load) always
 * go to the worker, and so does a commit nobody waits on (a direct execution's end written after its reply, bulk
 * bookkeeping): on the main thread it would only delay the next request. Measured with sync=full (bench/RESULTS.md, "Fast commits"): start p50 −0.15 ms, e2e
 * p50 −0.17 ms, p99 unchanged.
 *
 * With sync=full a commit waits for an fsync, which a busy disk stretches to milliseconds (p99 4-22 ms
 * measured here under load): the event loop would wait as long. So once main-thread commits slower than
 * `slowMs` are frequent (`slowShare` of the recent ones), the fast path is off for `pauseMs`: a slow disk costs
 * the loop a few commits, then the worker takes them again. A lone outlier does not: on this shared host one
 * fsync in ~100 takes over 4 ms, and a pause after each sent ~45% of lone starts through the worker's two
 * thread hops.
 */
import { isBusy, type AsyncDb, type Db, type WriteOptions, type WriteStep } from './db.ts';

/** Rows up to which an idle commit runs on the main thread (`ACTORFLOW_FAST_COMMIT_ROWS`; 0: never). A 3-step flow's start is ~10 rows. */
export const DEFAULT_FAST_COMMIT_ROWS = 16;

export interface FastCommitTiming {
  /** A main-thread commit slower than this (ms) is slow (a GC scavenge holds the loop about as long). @default 4 */
  readonly slowMs?: number;
  /**
   * The fast path pauses when the share of slow commits among the recent main-thread ones (a moving average
   * over ~8) passes this, i.e. after 3 slow ones in a row; 0 pauses after every slow one. @default 0.3
   */
  readonly slowShare?: number;
  /** For this long (ms). @default 1000 */
  readonly pauseMs?: number;
}

/** `committer` whose `write` takes the main-thread path on `main` for small batches while no write of its own is in flight. */
export function withFastCommits(committer: AsyncDb, main: Db, maxRows: number, timing: FastCommitTiming = {}): AsyncDb {
  if (maxRows <= 0) return committer;
  const slowMs = timing.slowMs ?? 4;
  const pauseMs = timing.pauseMs ?? 1000;
  const maxSlowShare = timing.slowShare ?? 0.3;
  let inFlight = 0;
  let pausedUntil = 0;
  let slowShare = 0;
  // Every step's rows in one IMMEDIATE transaction: it asks for the write lock first and fails at once when it is held.
  const run = main.raw.transaction((steps: readonly WriteStep[]) => {
    for (const step of steps) {
      const s = main.statement(step.sql);
      for (const row of step.rows) s.run(row as unknown[]);
    }
  });
  const viaWorker = async (steps: readonly WriteStep[], opts?: WriteOptions): Promise<void> => {
    inFlight++;
    try {
      await committer.write(steps, opts);
    } finally {
      inFlight--;
    }
  };
  return {
    ...committer,
    write: (steps, opts) => {
      // Only for a commit someone waits on: a background write (a direct execution's end, bulk bookkeeping) gains nothing from it.
      if (opts?.waited !== true || opts.relaxed === true || inFlight > 0 || main.raw.inTransaction || rowCount(steps) > maxRows) return viaWorker(steps, opts);
      const t0 = performance.now();
      if (t0 < pausedUntil) return viaWorker(steps, opts);
      try {
        run.immediate(steps);
        const took = performance.now() - t0;
        const slow = took > slowMs;
        slowShare += ((slow ? 1 : 0) - slowShare) / 8;
        if (slow && slowShare > maxSlowShare) pausedUntil = t0 + took + pauseMs;
        return Promise.resolve();
      } catch (err) {
        return isBusy(err) ? viaWorker(steps, opts) : Promise.reject(err);
      }
    },
  };
}

function rowCount(steps: readonly WriteStep[]): number {
  let n = 0;
  for (const s of steps) n += s.rows.length;
  return n;
}
