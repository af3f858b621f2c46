/**
 * @module cli/heap-tuning — how fast V8 lets the old generation grow before it collects it.
 *
 * Actors live a few ms to a second: long enough to be promoted out of the young generation, and then
 * they die in the old one. V8's default lets the old generation grow by a factor of up to 4 before a
 * major GC, so under a burst most of the server's memory is that garbage (bench/RESULTS.md, "Where the
 * parked memory goes": 10,000 parked executions retain 0.8 KiB each, but the peak was ~7.8 KiB each).
 * Growing by 20 % instead cut the peak to ~3.4–4.4 KiB (1,000,000 parked: 315 MiB instead of 518) for
 * ~5–15 % of throughput under sustained load; `--optimize-for-size` cut it further but cost a third.
 */
import { setFlagsFromString } from 'node:v8';

/** V8's `--heap-growing-percent` of a server started by the CLI (`ACTORFLOW_HEAP_GROWING_PERCENT`; 0: V8's own policy). */
export const DEFAULT_HEAP_GROWING_PERCENT = 20;

/** Sets the growing factor for this process; V8 reads it at each major GC, so it applies from the next one. */
export function applyHeapGrowingPercent(percent: number): void {
  if (percent > 0) setFlagsFromString(`--heap-growing-percent=${Math.floor(percent)}`);
}
