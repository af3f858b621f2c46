import { describe, expect, it } from 'vitest';
import { iso, isoTime } from '../../src/common/clock.ts';

describe('isoTime', () => {
  it('writes what Date#toISOString writes, across milliseconds, seconds, days and years', () => {
    const base = Date.UTC(2026, 11, 31, 23, 59, 58, 990);
    const times = [0, 1, 9, 10, 99, 100, 999, 1000, 1001, 59_999, 60_000, base, 951_782_400_000 /* 2000-02-29 */, 253_402_300_799_999 /* 9999-12-31T23:59:59.999 */];
    for (let i = 0; i < 3_000; i++) times.push(base + i);
    for (let i = 0; i < 2_000; i++) times.push(Math.floor(Math.random() * 253_402_300_800_000));
    for (const t of times) expect(isoTime(t), String(t)).toBe(new Date(t).toISOString());
  });

  it('falls back to Date for times outside 1970–9999 and fractional ones', () => {
    for (const t of [-1, -86_400_001, 253_402_300_800_000, 8.64e15, 1_764_000_000_000.5]) expect(isoTime(t)).toBe(new Date(t).toISOString());
  });

  it('gives the same answer for a repeated time, and null for no time', () => {
    expect(isoTime(1_764_000_000_123)).toBe(isoTime(1_764_000_000_123));
    expect(iso(null)).toBeNull();
    expect(iso(undefined)).toBeNull();
  });
});
