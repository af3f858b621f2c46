/** Array and string length caps of parsed request bodies (src/api/http/body-limits.ts `valueTooLarge`). */
import { describe, expect, it } from 'vitest';
import { BODY_SIZE_WALK_THRESHOLD, MAX_BODY_ARRAY_LENGTH, MAX_BODY_STRING_LENGTH, valueTooLarge } from '../../src/api/http/body-limits.ts';

const big = BODY_SIZE_WALK_THRESHOLD + 1;

describe('valueTooLarge', () => {
  it('accepts values at the caps', () => {
    expect(valueTooLarge({ a: new Array(MAX_BODY_ARRAY_LENGTH).fill(0), s: 'x'.repeat(MAX_BODY_STRING_LENGTH) }, big)).toBeUndefined();
  });

  it('reports the first array past the cap at its JSON Pointer', () => {
    expect(valueTooLarge({ a: [{ 'b/c~': new Array(MAX_BODY_ARRAY_LENGTH + 1).fill(0) }] }, big)).toEqual({ path: '/a/0/b~1c~0', message: `has more than ${MAX_BODY_ARRAY_LENGTH} items` });
  });

  it('reports a property name past the cap (string values are bounded by the body limit only), and the root itself', () => {
    expect(valueTooLarge({ x: [1, 'x'.repeat(MAX_BODY_STRING_LENGTH + 1)] }, big)).toBeUndefined();
    expect(valueTooLarge({ x: [1, { ['k'.repeat(MAX_BODY_STRING_LENGTH + 1)]: 1 }] }, big)?.path).toBe('/x/1');
    expect(valueTooLarge({ x: 'x'.repeat(11) }, big, { maxValueString: 10 })?.path).toBe('/x');
    expect(valueTooLarge(new Array(MAX_BODY_ARRAY_LENGTH + 1).fill(0), big)?.path).toBe('');
  });

  it('skips the walk for short texts', () => {
    expect(valueTooLarge(new Array(MAX_BODY_ARRAY_LENGTH + 1).fill(0), BODY_SIZE_WALK_THRESHOLD)).toBeUndefined();
  });

  it('walks deep values without recursion and shared nodes once', () => {
    let deep: unknown = new Array(MAX_BODY_ARRAY_LENGTH + 1).fill(0);
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(valueTooLarge(deep, big)?.path.length).toBe(100_000 * 2);
    const shared = new Array(1000).fill(0);
    expect(valueTooLarge(new Array(1000).fill(shared), big)).toBeUndefined();
  });
});
