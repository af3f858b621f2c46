import { describe, expect, it } from 'vitest';
import { newExecutionId, parseExecutionId, ulidTime } from '../../src/common/ids.ts';

describe('newExecutionId', () => {
  it('makes ex_ + 26 Crockford characters that parse back', () => {
    const id = newExecutionId();
    expect(id).toMatch(/^ex_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(parseExecutionId(id)).toBe(id);
    expect(parseExecutionId('ex_123')).toBeUndefined();
  });

  it('sorts by time and counts up within one millisecond', () => {
    const ids = Array.from({ length: 1000 }, (_, i) => newExecutionId(1_700_000_000_000 + Math.floor(i / 10)));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('counts up by one in the last 8 characters within a millisecond, and keeps the 8 before them', () => {
    const decode = (s: string) => [...s].reduce((n, c) => n * 32 + '0123456789ABCDEFGHJKMNPQRSTVWXYZ'.indexOf(c), 0);
    const ids = Array.from({ length: 50 }, () => newExecutionId(1_800_000_000_000));
    for (let i = 1; i < ids.length; i++) {
      const [prev, id] = [ids[i - 1] as string, ids[i] as string];
      expect(id.slice(0, 21)).toBe(prev.slice(0, 21));
      // A carry into the upper part happens once in 2^40 ids: not in 50 of them, bar a draw right below it.
      if (decode(prev.slice(21)) < 2 ** 40 - 50) expect(decode(id.slice(21))).toBe(decode(prev.slice(21)) + 1);
    }
  });

  it('encodes the time in the first 10 characters', () => {
    expect(newExecutionId(0).slice(3, 13)).toBe('0000000000');
    expect(newExecutionId(2 ** 48 - 1).slice(3, 13)).toBe('7ZZZZZZZZZ');
  });
});

describe('ulidTime', () => {
  it('is the time prefix newExecutionId writes, for any ms', () => {
    for (const t of [0, 1, 31, 32, 1_700_000_000_000, Date.now(), 2 ** 48 - 1]) {
      expect(ulidTime(t)).toBe(newExecutionId(t).slice(3, 13));
    }
    expect(ulidTime(1_700_000_000_000.9)).toBe(newExecutionId(1_700_000_000_000).slice(3, 13));
  });

  it('range-selects ids by creation time: ex_ + ulidTime(from) <= id < ex_ + ulidTime(to) iff from <= t < to', () => {
    const from = 1_764_000_000_000;
    const to = from + 1000;
    const lo = `ex_${ulidTime(from)}`;
    const hi = `ex_${ulidTime(to)}`;
    const inside = (id: string) => id >= lo && id < hi;
    for (const t of [from - 1, from, from + 1, to - 1, to, to + 1, from - 32, to + 32]) {
      for (let i = 0; i < 3; i++) expect(inside(newExecutionId(t)), `t=${t}`).toBe(t >= from && t < to);
    }
    // Task ids (tk_) sort after every ex_ bound: never inside.
    expect(`tk_${ulidTime(from)}` >= hi).toBe(true);
  });

  it('clamps times outside the 48-bit range to bounds before/after every id', () => {
    expect(ulidTime(-5)).toBe('0000000000');
    expect(ulidTime(Number.NaN)).toBe('0000000000');
    expect(ulidTime(2 ** 48)).toBe('8000000000');
    expect(ulidTime(8.64e15)).toBe('8000000000');
    expect(newExecutionId(2 ** 48 - 1) < `ex_${ulidTime(2 ** 48)}`).toBe(true);
  });
});
