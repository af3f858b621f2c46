/**
 * @module bulk/pacer — runs bulk work without holding the event loop: at most one call is started per turn
 * of the loop (so requests of other clients are read between any two), at most `maxInFlight` run at once
 * (their journal commits still group), and no call starts while the loop has been busier than `maxLoopShare`
 * of the last few ms (the pacer then waits a timer instead of the next turn). A call's synchronous part
 * (rebuilding a passivated execution, its transition) runs with its microtasks before the loop turns:
 * starting one per turn bounds that stretch to one call's work.
 *
 * Why a loop budget: one call per turn alone let a bulk signal take ~80 % of the loop (measured: 2,300
 * signals/s, the loop 30 % busy before), and other clients' starts queued behind it (start p99 6.7 → 31 ms).
 * Bulk work is background work: it takes what the loop has left up to the budget.
 */
import { performance } from 'node:perf_hooks';

/**
 * Calls in flight at most, over every bulk operation of the process: enough to fill the journal's group commits
 * while one starts per turn, few enough that their events do not crowd the commits other clients wait on.
 */
export const DEFAULT_MAX_IN_FLIGHT = 8;
/** The share of the event loop's time past which no bulk call starts. @default 0.5 */
export const DEFAULT_MAX_LOOP_SHARE = 0.5;
/** How often the loop's utilization is read, and how long the pacer waits when it is over budget. */
const WINDOW_MS = 10;
const BACKOFF_MS = 2;

export interface Pacer {
  /** Runs `fn` once its turn comes; settles as it does. */
  run<T>(fn: () => Promise<T>): Promise<T>;
}

/** The event loop's busy share over the last window of `WINDOW_MS` (read at most once per window). */
export function loopShareMeter(): () => number {
  let mark = performance.eventLoopUtilization();
  let markAt = performance.now();
  let share = 0;
  return () => {
    const now = performance.now();
    if (now - markAt >= WINDOW_MS) {
      const current = performance.eventLoopUtilization();
      share = performance.eventLoopUtilization(current, mark).utilization;
      mark = current;
      markAt = now;
    }
    return share;
  };
}

export function createPacer(maxInFlight: number = DEFAULT_MAX_IN_FLIGHT, maxLoopShare: number = DEFAULT_MAX_LOOP_SHARE, loopShare: () => number = loopShareMeter()): Pacer {
  const queue: (() => void)[] = [];
  let inFlight = 0;
  let scheduled = false;
  const overBudget = (): boolean => loopShare() > maxLoopShare;

  const turn = (): void => {
    scheduled = false;
    if (inFlight >= maxInFlight || queue.length === 0) return;
    // Over budget, one call still runs at a time: a loop kept busy by others slows bulk work down, never stops it.
    if (inFlight > 0 && overBudget()) return void wait();
    const next = queue.shift() as () => void;
    inFlight++;
    next();
    schedule();
  };
  const wait = (): void => {
    scheduled = true;
    setTimeout(turn, BACKOFF_MS);
  };
  const schedule = (): void => {
    if (scheduled || queue.length === 0 || inFlight >= maxInFlight) return;
    scheduled = true;
    setImmediate(turn);
  };

  return {
    run<T>(fn: () => Promise<T>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        queue.push(() => {
          // A microtask, not a direct call: a synchronous throw becomes the rejection.
          Promise.resolve()
            .then(fn)
            .then(resolve, reject)
            .finally(() => {
              inFlight--;
              schedule();
            });
        });
        schedule();
      });
    },
  };
}
