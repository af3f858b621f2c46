/** @module clock — time is injected so tests can control it. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, Math.max(0, Math.min(ms, 2_147_483_647))),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** RFC 3339 UTC with milliseconds, or null. */
export function iso(ms: number | null | undefined): string | null {
  return ms === null || ms === undefined ? null : new Date(ms).toISOString();
}
