/** @module telemetry/percentiles — nearest-rank percentiles of a sample (monotonic in p: p50 ≤ p95 ≤ p99). */

/**
 * The nearest-rank `p`-th percentile (0 < p ≤ 100) of an ascending sample: the smallest value with
 * at least p % of the sample at or below it. Always one of the samples; null for an empty sample.
 * @example percentile([1, 2, 3, 4], 50) // 2
 */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] ?? null;
}

/** Sorts a copy ascending (numbers, not strings). */
export function ascending(values: readonly number[]): number[] {
  return [...values].sort((a, b) => a - b);
}
