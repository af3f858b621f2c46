/** @module client/duration — how long to wait: milliseconds, or a duration string (`"1500ms"`, `"5s"`, `"2m"`, `"1h"`). */

/** Milliseconds as a number, or text: an integer or decimal followed by `ms`, `s`, `m` or `h` (bare digits are ms). */
export type Duration = number | string;

/** A duration that is not a non-negative number of milliseconds or `<n>ms|s|m|h`. */
export class ActorflowDurationError extends TypeError {
  readonly code = 'invalid_duration';
  override readonly name = 'ActorflowDurationError';
}

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const PATTERN = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/;

/** The duration in whole milliseconds (rounded up, so a wait is never shorter than asked). */
export function toMs(d: Duration, what = 'duration'): number {
  if (typeof d === 'number') {
    if (Number.isFinite(d) && d >= 0) return Math.ceil(d);
    throw new ActorflowDurationError(`${what} must be a non-negative number of milliseconds, not ${d}`);
  }
  const m = PATTERN.exec(d.trim());
  if (m === null) throw new ActorflowDurationError(`${what} must be milliseconds or a duration like 500ms, 5s, 2m, 1h, not "${d}"`);
  return Math.ceil(Number(m[1]) * (UNIT_MS[m[2] ?? 'ms'] ?? 1));
}
