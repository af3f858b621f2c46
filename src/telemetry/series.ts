/** @module telemetry/series — starts and ends of executions in equal time buckets of a window (the dashboard's charts over time). */
import type { TelemetryExecutionRow, TimeWindow } from '../store/types.ts';
import type { TelemetryBucket, TelemetrySeries } from './types.ts';

/** Buckets of a series when `?buckets=` is not given. */
export const DEFAULT_BUCKETS = 24;
/** At most this many buckets: a chart's width in points, not a raw export. */
export const MAX_BUCKETS = 500;

const ENDS: Readonly<Record<string, 'completed' | 'failed' | 'cancelled'>> = { completed: 'completed', failed: 'failed', timed_out: 'failed', cancelled: 'cancelled' };

/**
 * Splits `window` into `buckets` buckets of `ceil(length / buckets)` ms (the last one may be shorter).
 * `started` counts the executions created in a bucket; `completed`, `failed` (`timed_out` included) and
 * `cancelled` count those of them that ended in it: an end at or after `to` is in no bucket.
 */
export function seriesOf(rows: readonly TelemetryExecutionRow[], window: TimeWindow, buckets: number): TelemetrySeries {
  const bucketMs = Math.max(1, Math.ceil((window.to - window.from) / buckets));
  const count = Math.ceil((window.to - window.from) / bucketMs);
  const acc = Array.from({ length: count }, () => ({ started: 0, completed: 0, failed: 0, cancelled: 0 }));
  const slot = (t: number) => (t >= window.from && t < window.to ? acc[Math.floor((t - window.from) / bucketMs)] : undefined);
  for (const r of rows) {
    const created = slot(r.createdAt);
    if (created) created.started += 1;
    const end = ENDS[r.status];
    const ended = end !== undefined && r.finishedAt !== null ? slot(r.finishedAt) : undefined;
    if (end !== undefined && ended) ended[end] += 1;
  }
  const items: TelemetryBucket[] = acc.map((c, i) => ({ at: new Date(window.from + i * bucketMs).toISOString(), ...c }));
  return { from: new Date(window.from).toISOString(), to: new Date(window.to).toISOString(), bucketMs, buckets: items };
}
