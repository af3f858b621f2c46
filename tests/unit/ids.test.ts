import { describe, expect, it } from 'vitest';
import { newExecutionId, parseExecutionId } from '../../src/shared/ids.ts';

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

  it('encodes the time in the first 10 characters', () => {
    expect(newExecutionId(0).slice(3, 13)).toBe('0000000000');
    expect(newExecutionId(2 ** 48 - 1).slice(3, 13)).toBe('7ZZZZZZZZZ');
  });
});
