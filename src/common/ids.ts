/** @module ids — branded ids; made only by the new…/parse… functions here. */
import { randomFillSync } from 'node:crypto';

export type ExecutionId = string & { readonly __brand: 'ExecutionId' };
export type AgentId = string & { readonly __brand: 'AgentId' };

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const EXECUTION_ID = /^ex_[0-9A-HJKMNP-TV-Z]{26}$/;
const POOL = Buffer.alloc(4096);
let poolAt = POOL.length;
let lastMs = -1;
let hi = 0; // upper 40 random bits
let lo = 0; // lower 40 random bits

function random40(): number {
  if (poolAt + 5 > POOL.length) {
    randomFillSync(POOL);
    poolAt = 0;
  }
  const v = POOL.readUIntBE(poolAt, 5);
  poolAt += 5;
  return v;
}

function encode(value: number, chars: number): string {
  let out = '';
  for (let i = chars - 1; i >= 0; i--) out += ALPHABET[Math.floor(value / 32 ** i) % 32];
  return out;
}

/** `encode(v, 8)` of a 40-bit value with bit operations on its two 20-bit halves (every id has one). */
function encode40(v: number): string {
  const high = Math.floor(v / 0x100000);
  const low = v - high * 0x100000;
  const a = ALPHABET;
  return (a[(high >>> 15) & 31] as string) + a[(high >>> 10) & 31] + a[(high >>> 5) & 31] + a[high & 31] + a[(low >>> 15) & 31] + a[(low >>> 10) & 31] + a[(low >>> 5) & 31] + a[low & 31];
}

/** Time and upper random part of the ids of `lastMs`: the same for every id of one millisecond. */
let prefix = '';

/**
 * A monotonic ULID: 48-bit time + 80 random bits drawn from a pooled buffer (one `randomFill` per
 * ~800 ids, not one call per character); within one millisecond the random part counts up.
 */
export function ulid(now: number): string {
  if (now === lastMs) {
    lo += 1;
    if (lo >= 2 ** 40) {
      lo = 0;
      hi = (hi + 1) % 2 ** 40;
      prefix = encode(now, 10) + encode40(hi);
    }
  } else {
    lastMs = now;
    hi = random40();
    lo = random40();
    prefix = encode(now, 10) + encode40(hi);
  }
  return prefix + encode40(lo);
}

/** Times a ULID can hold: 48 bits of epoch ms. */
const MAX_ULID_TIME = 2 ** 48 - 1;

/**
 * The 10-character time prefix of the ULIDs made at `ms` (floored), so ids can be range-selected
 * by creation time: an id made at t has `ulidTime(from) <= prefix < ulidTime(to)` iff from <= t < to.
 * Times before 1970 clamp to `0000000000`; times past the 48-bit range give `8000000000`, a bound
 * after every id.
 * @example `ex_${ulidTime(t)}` <= newExecutionId(t) // true
 */
export function ulidTime(ms: number): string {
  const t = Math.floor(ms);
  if (!(t >= 0)) return encode(0, 10); // also NaN
  return t > MAX_ULID_TIME ? encode(MAX_ULID_TIME + 1, 10) : encode(t, 10);
}

export function newExecutionId(now: number = Date.now()): ExecutionId {
  return `ex_${ulid(now)}` as ExecutionId;
}

/** Returns the id when it has the `ex_` + ULID shape, else undefined. */
export function parseExecutionId(raw: string): ExecutionId | undefined {
  return EXECUTION_ID.test(raw) ? (raw as ExecutionId) : undefined;
}

export function newAgentId(name: string): AgentId {
  return `ag_${name}` as AgentId;
}
