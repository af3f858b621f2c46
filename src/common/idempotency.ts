/** @module common/idempotency — how long an idempotency key answers what it first created (API.md: 24 h). */

export const IDEMPOTENCY_WINDOW_MS = 24 * 3600_000;

/** True once a key used at `createdAt` no longer replays at `now`. */
export function idempotencyExpired(createdAt: number, now: number): boolean {
  return now - createdAt >= IDEMPOTENCY_WINDOW_MS;
}
