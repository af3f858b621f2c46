/** @module tests/unit/codec — msgpack round trips keep `__proto__` keys as own data, without prototype pollution. */
import { afterEach, describe, expect, it } from 'vitest';
import { Packr } from 'msgpackr';
import { msgpackCodec as codec } from '../../src/common/codec.ts';

const roundTrip = <T = any>(v: unknown): T => codec.decode<T>(codec.encode(v));
const ownKeys = (v: object) => Object.keys(v);
/** The value as JSON, with `__proto__` written out as the member it is (JSON.stringify emits own keys). */
const json = (v: unknown) => JSON.stringify(v);

function expectNoPollution(): void {
  expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  expect(Object.hasOwn(Object.prototype, 'polluted')).toBe(false);
  expect(Object.prototype.toString).toBe(Object.prototype.toString);
}

/** A plain object whose `__proto__` is an own data property and whose prototype is Object.prototype. */
function expectOwnProtoKey(v: unknown, value: unknown): void {
  expect(v).not.toBeNull();
  expect(typeof v).toBe('object');
  const o = v as object;
  expect(Object.getPrototypeOf(o)).toBe(Object.prototype);
  const d = Object.getOwnPropertyDescriptor(o, '__proto__');
  expect(d).toBeDefined();
  expect(d).toMatchObject({ writable: true, enumerable: true, configurable: true });
  expect(json(d?.value)).toBe(json(value));
  expect(Object.hasOwn(o, '__proto_')).toBe(false);
}

afterEach(() => expectNoPollution());

describe('msgpackCodec and __proto__ keys', () => {
  it('keeps a top-level __proto__ key as an own property', () => {
    const sent = JSON.parse('{"__proto__":{"polluted":true},"constructor":2}') as object;
    const back = roundTrip(sent);
    expectOwnProtoKey(back, { polluted: true });
    expect(json(back)).toBe(json(sent));
    expect(json(back)).toBe('{"__proto__":{"polluted":true},"constructor":2}');
    expect(ownKeys(back)).toEqual(['__proto__', 'constructor']);
    expect((back as { polluted?: unknown }).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(back.__proto__)).toBe(Object.prototype);
  });

  it('keeps nested __proto__ keys, and those inside arrays', () => {
    const text = '{"a":{"b":{"__proto__":{"polluted":true,"__proto__":{"deeper":1}}}},"list":[{"__proto__":{"polluted":1}},{"x":1},[{"__proto__":[1,2]}]]}';
    const sent = JSON.parse(text) as unknown;
    const back = roundTrip<any>(sent);
    expect(json(back)).toBe(text);
    // (an object literal's `__proto__:` would set a prototype, hence JSON.parse)
    expectOwnProtoKey(back.a.b, JSON.parse('{"polluted":true,"__proto__":{"deeper":1}}'));
    expectOwnProtoKey(Object.getOwnPropertyDescriptor(back.a.b, '__proto__')?.value, { deeper: 1 });
    expectOwnProtoKey(back.list[0], { polluted: 1 });
    expectOwnProtoKey(back.list[2][0], [1, 2]);
    expect(Array.isArray(back.list[2][0].__proto__)).toBe(true);
    expect(Object.getPrototypeOf(back.list[1])).toBe(Object.prototype);
    const arr = roundTrip<unknown[]>([JSON.parse('{"__proto__":{"polluted":true}}'), JSON.parse('{"__proto__":{"polluted":true}}')]);
    for (const o of arr) expectOwnProtoKey(o, { polluted: true });
  });

  it('keeps __proto__ with scalar and null values', () => {
    for (const v of ['5', 'null', '"s"', 'true', '[]', '{}']) {
      const text = `{"__proto__":${v}}`;
      const back = roundTrip(JSON.parse(text));
      expectOwnProtoKey(back, JSON.parse(v));
      expect(json(back)).toBe(text);
    }
  });

  it('keeps a real __proto_ key distinct from __proto__', () => {
    const text = '{"__proto_":1,"__proto__":2,"___proto__":3,"__proto___":4}';
    expect(json(roundTrip(JSON.parse(text)))).toBe(text);
    expect(json(roundTrip({ __proto_: 1 }))).toBe('{"__proto_":1}');
  });

  it('finds the key at every offset, in small and large payloads, Buffer or plain Uint8Array', () => {
    for (let pad = 0; pad < 320; pad++) {
      const text = `{"p":"${'x'.repeat(pad)}","__proto__":{"at":${pad}}}`;
      const buf = codec.encode(JSON.parse(text));
      // The same bytes at an odd offset of a bigger ArrayBuffer, not a Buffer.
      const ab = new ArrayBuffer(buf.length + 7);
      const u8 = new Uint8Array(ab, 3, buf.length);
      u8.set(buf);
      for (const b of [buf, u8]) {
        const back = codec.decode(b);
        expectOwnProtoKey(back, { at: pad });
        expect(json(back)).toBe(text);
      }
    }
  });

  it('decodes a __proto__ key written by another encoder as str8', () => {
    // fixmap(1), str8(9) "__proto__", positive fixint 1
    const buf = Buffer.concat([Buffer.from([0x81, 0xd9, 9]), Buffer.from('__proto__'), Buffer.from([1])]);
    expectOwnProtoKey(codec.decode(buf), 1);
  });

  it('decodes a payload that merely mentions __proto__ exactly as the plain decoder does', () => {
    const value = {
      s: '__proto__',
      when: new Date(1_700_000_000_123),
      bin: Buffer.from([1, 2, 3]),
      n: null,
      f: 1.5,
      big: 2 ** 40,
      neg: -3,
      nested: [[{ a: [] }], {}, 'text'],
      constructor: { toString: 'x', hasOwnProperty: 1 },
    };
    const plain = new Packr({ useRecords: false, moreTypes: false });
    const expected = plain.unpack(plain.pack(value)) as unknown;
    const back = roundTrip(value);
    expect(back).toEqual(expected);
    expect(back.when).toBeInstanceOf(Date);
    expect(Object.keys(back)).toEqual(Object.keys(expected as object));
  });

  it('leaves payloads without __proto__ unchanged', () => {
    const value = { orderId: 'A-1042', amount: 129.9, items: [{ sku: 'x', qty: 2 }], tags: ['a'], constructor: 1, toString: 2 };
    expect(roundTrip(value)).toEqual(value);
    expect(json(roundTrip(value))).toBe(json(value));
  });

  it('never touches Object.prototype, even when the payload names its members', () => {
    const text = '{"__proto__":{"polluted":true,"toString":1,"hasOwnProperty":2},"constructor":{"prototype":{"polluted":true}}}';
    const back = roundTrip<any>(JSON.parse(text));
    expect(json(back)).toBe(text);
    expect(typeof back.toString).toBe('function');
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted')).toBe(false);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});

describe('msgpackCodec and other msgpack writers', () => {
  // Bytes as Python's msgpack (and most other libraries) write integers past 32 bits: uint64 (0xcf), int64 (0xd3).
  const hex = (h: string) => Buffer.from(h.replace(/ /g, ''), 'hex');

  it('reads 64-bit integers as numbers, never BigInt (a JSON reply cannot carry one)', () => {
    // { "at": 1700000000123, "neg": -1099511627776 }
    const back = codec.decode<any>(hex('82 a2 6174 cf 0000018bcfe5687b a3 6e6567 d3 ffffff0000000000'));
    expect(back).toEqual({ at: 1_700_000_000_123, neg: -(2 ** 40) });
    expect(JSON.stringify(back)).toBe('{"at":1700000000123,"neg":-1099511627776}');
    // The map-decoding path (a payload holding `__proto__`) reads them the same way.
    expect(codec.decode<any>(hex('82 a9 5f5f70726f746f5f5f c0 a1 6e cf 0000010000000000')).n).toBe(2 ** 40);
  });

  it('reads beyond 2^53 as the nearest number, as JSON.parse does', () => {
    expect(codec.decode(hex('cf ffffffffffffffff'))).toBe(JSON.parse('18446744073709551615'));
  });
});
