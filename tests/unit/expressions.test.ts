/** @module tests/unit/expressions — path resolution and choice conditions. */
import { describe, it, expect } from 'vitest';
import { deepEqual, evaluateCondition, getPath, isPath, resolveValue, type Scope } from '../../src/engine/flow/expressions.ts';
import type { Condition } from '../../src/common/flow.ts';

const scope = (): Scope => ({
  input: { orderId: 'o-1', a: { b: [10, { c: 'deep' }] }, n: 5, tags: ['x', 'y'], nothing: null },
  steps: {
    'pack-it': { output: { box: 3, items: ['p', 'q'] } },
    charge: { error: { code: 'card_declined', message: 'no' } },
  },
  context: { k: 'v', flag: false },
});

describe('isPath', () => {
  it.each([
    '$.input',
    '$.input.a.b',
    '$.input.a.b.0',
    '$.input.a.b[1].c',
    '$.steps.pack-it.output.box',
    '$.steps.charge.error.code',
    '$.context.k',
    '$.context',
    '$.input.größe.@type',
  ])('accepts %s', (s) => {
    expect(isPath(s)).toBe(true);
  });

  it.each([
    ['a literal', 'hello'],
    ['a path in the middle', 'order $.input.orderId'],
    ['a trailing text', '$.input.orderId please'],
    ['an unknown root', '$.secrets.key'],
    ['an empty segment', '$.input..a'],
    ['a trailing dot', '$.input.'],
    ['a non-numeric index', '$.input.a[x]'],
    ['code', '$.input.constructor("x")'],
    ['a space in a key', '$.input.a b'],
    ['a non-string', 42],
    ['null', null],
  ])('rejects %s', (_name, s) => {
    expect(isPath(s)).toBe(false);
  });
});

describe('getPath', () => {
  it('walks objects, arrays (dot or bracket index) and step records', () => {
    const s = scope();
    expect(getPath(s, '$.input.orderId')).toBe('o-1');
    expect(getPath(s, '$.input.a.b.0')).toBe(10);
    expect(getPath(s, '$.input.a.b[1].c')).toBe('deep');
    expect(getPath(s, '$.steps.pack-it.output.items[1]')).toBe('q');
    expect(getPath(s, '$.steps.charge.error.code')).toBe('card_declined');
    expect(getPath(s, '$.context.k')).toBe('v');
    expect(getPath(s, '$.input')).toBe(s.input);
  });

  it('returns undefined for missing values and non-paths', () => {
    const s = scope();
    expect(getPath(s, '$.input.missing.deeper')).toBeUndefined();
    expect(getPath(s, '$.steps.nope.output')).toBeUndefined();
    expect(getPath(s, '$.input.a.b.7')).toBeUndefined();
    expect(getPath(s, '$.input.orderId.length')).toBeUndefined();
    expect(getPath(s, 'not a path')).toBeUndefined();
  });

  it('never reaches inherited properties', () => {
    const s = scope();
    expect(getPath(s, '$.input.constructor')).toBeUndefined();
    expect(getPath(s, '$.input.__proto__')).toBeUndefined();
    expect(getPath(s, '$.input.tags.length')).toBeUndefined();
    expect(getPath(s, '$.steps.charge.output.toString')).toBeUndefined();
  });
});

describe('resolveValue', () => {
  it('replaces exact paths at any depth and leaves other values alone', () => {
    const template = {
      order: '$.input.orderId',
      box: '$.steps.pack-it.output.box',
      list: ['$.input.tags[0]', 'plain', 7, true, null, { code: '$.steps.charge.error.code' }],
      note: 'see $.input.orderId',
      missing: '$.input.nope',
    };
    expect(resolveValue(template, scope())).toEqual({
      order: 'o-1',
      box: 3,
      list: ['x', 'plain', 7, true, null, { code: 'card_declined' }],
      note: 'see $.input.orderId',
      missing: null,
    });
  });

  it('resolves a bare path template to the whole value', () => {
    const s = scope();
    expect(resolveValue('$.input', s)).toEqual(s.input);
    expect(resolveValue('$.nope.x', s)).toBe('$.nope.x');
    expect(resolveValue(12, s)).toBe(12);
    expect(resolveValue(undefined, s)).toBeUndefined();
  });

  it('returns new containers and does not mutate the template', () => {
    const template = { a: { b: ['$.context.k'] } };
    const copy = structuredClone(template);
    const out = resolveValue(template, scope()) as { a: { b: unknown[] } };
    expect(out).toEqual({ a: { b: ['v'] } });
    expect(out).not.toBe(template);
    expect(out.a).not.toBe(template.a);
    expect(out.a.b).not.toBe(template.a.b);
    expect(template).toEqual(copy);
  });

  it('keeps a __proto__ key as data', () => {
    const template = JSON.parse('{"__proto__": {"polluted": "$.context.k"}}') as unknown;
    const out = resolveValue(template, scope()) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.hasOwn(out, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('deepEqual', () => {
  it('compares structurally, ignoring key order', () => {
    expect(deepEqual({ a: [1, { b: 2 }], c: null }, { c: null, a: [1, { b: 2 }] })).toBe(true);
    expect(deepEqual({ a: 1 }, { a: 1, b: undefined })).toBe(false);
    expect(deepEqual([1, 2], [2, 1])).toBe(false);
    expect(deepEqual([], {})).toBe(false);
    expect(deepEqual('1', 1)).toBe(false);
  });
});

describe('evaluateCondition', () => {
  const cases: [string, Condition, boolean][] = [
    ['equals a scalar', { path: '$.input.orderId', equals: 'o-1' }, true],
    ['equals mismatch', { path: '$.input.orderId', equals: 'o-2' }, false],
    ['equals deeply', { path: '$.steps.pack-it.output', equals: { items: ['p', 'q'], box: 3 } }, true],
    ['equals null for a missing value', { path: '$.input.nope', equals: null }, true],
    ['notEquals', { path: '$.input.n', notEquals: 4 }, true],
    ['notEquals deeply', { path: '$.input.tags', notEquals: ['x', 'y'] }, false],
    ['exists true', { path: '$.context.flag', exists: true }, true],
    ['exists on a missing value', { path: '$.input.nope', exists: true }, false],
    ['exists on null', { path: '$.input.nothing', exists: true }, false],
    ['exists false on a missing value', { path: '$.input.nope', exists: false }, true],
    ['gt', { path: '$.input.n', gt: 4 }, true],
    ['gt boundary', { path: '$.input.n', gt: 5 }, false],
    ['gte boundary', { path: '$.input.n', gte: 5 }, true],
    ['lt', { path: '$.input.n', lt: 5 }, false],
    ['lte boundary', { path: '$.input.n', lte: 5 }, true],
    ['range', { path: '$.input.n', gt: 1, lt: 10 }, true],
    ['range miss', { path: '$.input.n', gt: 1, lt: 5 }, false],
    ['gt on a string', { path: '$.input.orderId', gt: 0 }, false],
    ['gt on a missing value', { path: '$.input.nope', lt: 100 }, false],
    ['in', { path: '$.steps.charge.error.code', in: ['card_declined', 'expired'] }, true],
    ['in deeply', { path: '$.input.tags', in: [['x', 'y']] }, true],
    ['in miss', { path: '$.input.n', in: ['5'] }, false],
    ['all', { all: [{ path: '$.input.n', equals: 5 }, { path: '$.context.k', equals: 'v' }] }, true],
    ['all with one false', { all: [{ path: '$.input.n', equals: 5 }, { path: '$.context.k', equals: 'w' }] }, false],
    ['any', { any: [{ path: '$.input.n', equals: 6 }, { path: '$.context.k', equals: 'v' }] }, true],
    ['any all false', { any: [{ path: '$.input.n', equals: 6 }, { path: '$.context.k', equals: 'w' }] }, false],
    ['not', { not: { path: '$.context.flag', equals: true } }, true],
    [
      'nested',
      { all: [{ not: { path: '$.input.nope', exists: true } }, { any: [{ path: '$.input.tags[1]', equals: 'y' }] }] },
      true,
    ],
  ];

  it.each(cases)('%s', (_name, cond, expected) => {
    expect(evaluateCondition(cond, scope())).toBe(expected);
  });
});
