/**
 * @module engine/runtime/input-slicer — inputs from agents and timers are applied in slices of a few ms per
 * event-loop turn; the rest wait for the next turn (setImmediate), so a burst of results (a wide
 * parallel, a tight loop) never holds the loop while other clients wait. Order is kept: once one
 * input waits, every later one queues behind it.
 */

/** Longest run of inputs applied in one event-loop turn. @default 5 ms */
export const DEFAULT_SLICE_MS = 5;

export class InputSlicer {
  private sliceStart = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly onError: (err: unknown) => void,
    private readonly sliceMs = DEFAULT_SLICE_MS,
  ) {}

  /** Runs `apply` now when the current slice has time left and nothing waits, else in a later turn. */
  run(apply: () => void): void {
    if (this.waiting.length === 0 && this.inSlice()) apply();
    else this.waiting.push(apply);
  }

  private inSlice(): boolean {
    const now = performance.now();
    if (this.sliceStart === 0) {
      this.sliceStart = now;
      setImmediate(this.next);
      return true;
    }
    return now - this.sliceStart < this.sliceMs;
  }

  private readonly next = (): void => {
    this.sliceStart = 0;
    while (this.waiting.length > 0 && this.inSlice()) {
      try {
        (this.waiting.shift() as () => void)();
      } catch (err) {
        this.onError(err);
      }
    }
  };
}
