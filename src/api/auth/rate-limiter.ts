/** @module api/auth/rate-limiter — one token bucket per credential; O(1) per request. */
import type { RateLimit } from './types.ts';

interface Bucket {
  tokens: number;
  last: number;
  limit: RateLimit;
}

/** Result of a refused take: the headers of the 429 answer. */
export interface Refusal {
  readonly limit: number;
  /** Seconds until one token is back. */
  readonly resetS: number;
}

export interface RateLimiter {
  /** Takes a token for `id` under `limit`; undefined when allowed, else why not. */
  take(id: string, limit: RateLimit, now: number): Refusal | undefined;
  /** Buckets held (bounded: full buckets are dropped by `sweep`). */
  size(): number;
  /** Drops buckets that have refilled completely (they equal a fresh bucket). */
  sweep(now: number): void;
}

/**
 * Token buckets keyed by credential. A bucket starts full (`burst`) and refills at `rps`
 * tokens per second, computed lazily on each take: no timers per credential.
 */
export function createRateLimiter(): RateLimiter {
  const buckets = new Map<string, Bucket>();
  return {
    take: (id, limit, now) => {
      let b = buckets.get(id);
      if (b === undefined) {
        b = { tokens: limit.burst, last: now, limit };
        buckets.set(id, b);
      } else if (now > b.last) {
        b.tokens = Math.min(limit.burst, b.tokens + ((now - b.last) * limit.rps) / 1000);
        b.last = now;
        b.limit = limit;
      }
      if (b.tokens >= 1) {
        b.tokens -= 1;
        return undefined;
      }
      const resetS = limit.rps > 0 ? Math.max(1, Math.ceil((1 - b.tokens) / limit.rps)) : 60;
      return { limit: limit.burst, resetS };
    },
    size: () => buckets.size,
    sweep: (now) => {
      for (const [id, b] of buckets) {
        if (b.tokens + ((now - b.last) * b.limit.rps) / 1000 >= b.limit.burst) buckets.delete(id);
      }
    },
  };
}
