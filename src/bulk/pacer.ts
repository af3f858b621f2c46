/**
 * @module bulk/pacer — runs bulk work without holding the event loop: at most one call is started per turn
 * of the loop (so requests of other clients are read between any two), and at most `maxInFlight` run at once
 * (their journal commits still group). A call's synchronous part (rebuilding a passivated execution, its
 * transition) runs with its microtasks before the loop turns: starting one per turn bounds that stretch to
 * one call's work.
 */

/**
 * Calls in flight at most, over every bulk operation of the process: enough to fill the journal's group commits
 * while one starts per turn, few enough that their events do not crowd the commits other clients wait on.
 */
export const DEFAULT_MAX_IN_FLIGHT = 8;

export interface Pacer {
  /** Runs `fn` once its turn comes; settles as it does. */
  run<T>(fn: () => Promise<T>): Promise<T>;
}

export function createPacer(maxInFlight: number = DEFAULT_MAX_IN_FLIGHT): Pacer {
  const queue: (() => void)[] = [];
  let inFlight = 0;
  let scheduled = false;

  const turn = (): void => {
    scheduled = false;
    if (inFlight >= maxInFlight) return;
    const next = queue.shift();
    if (next === undefined) return;
    inFlight++;
    next();
    schedule();
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
