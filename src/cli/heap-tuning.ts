/**
 * @module cli/heap-tuning — how fast V8 lets the old generation grow before it collects it.
 *
 * Actors live a few ms to a second: long enough to be promoted out of the young generation, and then
 * they die in the old one. V8's default lets the old generation grow by a factor of up to 4 before a
 * major GC, so under a burst most of the server's memory is that garbage (bench/RESULTS.md, "Where the
 * parked memory goes": 10,000 parked executions retain 0.8 KiB each, but the peak was ~7.8 KiB each).
 * Growing by 20 % instead cut the peak to ~3.4–4.4 KiB (1,000,000 parked: 315 MiB instead of 518) for
 * ~5–15 % of throughput under sustained load; `--optimize-for-size` cut it further but cost a third.
 *
 * The same lifetimes mislead V8's allocation-site pretenuring: seeing actors survive a scavenge, it starts
 * allocating them (and what they point to) straight in the old generation, which then fills with their
 * garbage: 200,000 actors created, sent an event and stopped took 6.2–6.8 s with 28 major GCs, 2.9–3.2 s
 * and 5 without pretenuring (bench/RESULTS.md, "Pretenuring").
 */
import { setFlagsFromString } from 'node:v8';

/** V8's `--heap-growing-percent` of a server started by the CLI (`ACTORFLOW_HEAP_GROWING_PERCENT`; 0: V8's own policy). */
export const DEFAULT_HEAP_GROWING_PERCENT = 20;

/** The heap policy of a server started by the CLI: the growing factor, and pretenuring off unless `pretenuring` (`ACTORFLOW_V8_PRETENURING=1`). */
export function applyHeapPolicy(percent: number, pretenuring = false): void {
  applyHeapGrowingPercent(percent);
  // V8 reads it whenever it weighs pretenuring feedback (at each GC), so setting it at run time applies from then on.
  if (!pretenuring) setFlagsFromString('--no-allocation-site-pretenuring');
}

/** Sets the growing factor for this process; V8 reads it at each major GC, so it applies from the next one. */
export function applyHeapGrowingPercent(percent: number): void {
  if (percent > 0) setFlagsFromString(`--heap-growing-percent=${Math.floor(percent)}`);
}
