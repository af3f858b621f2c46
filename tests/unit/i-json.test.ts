/** I-JSON (RFC 7493) for request bodies and WebSocket text frames (src/api/http/i-json.ts), issue 11 item 8. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IJSON_MESSAGES, IJsonError, decodeUtf8, iJsonIssue, invalidUtf8Issue, parseIJson, plainlyIJson } from '../../src/api/http/i-json.ts';

/** The issue `parseIJson` throws for `text`, or `undefined` when it parses. */
function refusal(text: string): { path: string; message: string } | undefined {
  try {
    parseIJson(text);
    return undefined;
  } catch (err) {
    if (err instanceof IJsonError) return err.issue;
    throw err;
  }
}

const bytes = (...parts: (string | number[])[]): Uint8Array => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));

describe('parseIJson', () => {
  it('refuses numbers outside the double range at their pointer', () => {
    expect(refusal('{"input":{"n":1e400}}')).toEqual({ path: '/input/n', message: IJSON_MESSAGES.number });
    expect(refusal('{"input":{"n":-1E+400}}')).toEqual({ path: '/input/n', message: IJSON_MESSAGES.number });
    expect(refusal('[1, [2, 3e999]]')?.path).toBe('/1/1');
    expect(refusal('1e400')?.path).toBe('');
    expect(refusal(`{"big":${'9'.repeat(309)}}`)?.path).toBe('/big');
  });

  it('accepts numbers that round within the range, underflow and long fractions included', () => {
    for (const t of ['1.7976931348623157e308', '-1.7976931348623157e308', '1e-400', `0.${'9'.repeat(400)}`, '9'.repeat(308), '123456789012345678901234567890', '-0']) {
      expect(refusal(`{"n":${t}}`), t).toBeUndefined();
    }
  });

  it('refuses duplicate member names, top level and nested, at the pointer of the repeat', () => {
    expect(refusal('{"a":1,"a":1}')).toEqual({ path: '/a', message: IJSON_MESSAGES.duplicate });
    expect(refusal('{"workflow":"w","input":{"a":1,"b":{"a":2},"a":3}}')?.path).toBe('/input/a');
    expect(refusal('{"x":[{"k":1},{"k":1,"k":2}]}')?.path).toBe('/x/1/k');
    expect(refusal('{"a/b~c":{"d":1,"d":2}}')?.path).toBe('/a~1b~0c/d');
  });

  it('compares member names after unescaping', () => {
    expect(refusal('{"a\\u0062":1,"ab":2}')?.path).toBe('/ab');
    expect(refusal('{"\\u00e9":1,"é":2}')?.path).toBe('/é');
    expect(refusal('{"\\"":1,"\\u0022":2}')?.path).toBe('/"');
    expect(refusal('{"a:b":1,"a\\u003ab":2}')?.path).toBe('/a:b');
    expect(refusal('{"a\\\\":1,"a\\\\\\\\":2}')).toBeUndefined();
  });

  it('accepts the same name in sibling and nested objects, and empty objects anywhere', () => {
    expect(refusal('{"a":{"a":{"a":1}},"b":[{"a":1},{"a":2}],"c":{},"d":[{},"x",{}]}')).toBeUndefined();
  });

  it('finds a repeat among many members (the Set past the list size)', () => {
    const members = Array.from({ length: 40 }, (_, i) => `"k${i}":${i}`);
    expect(refusal(`{${members.join(',')}}`)).toBeUndefined();
    expect(refusal(`{${[...members, '"k7":0'].join(',')}}`)?.path).toBe('/k7');
  });

  it('refuses unpaired surrogate escapes, accepts pairs', () => {
    expect(refusal('{"s":"\\ud800"}')).toEqual({ path: '/s', message: IJSON_MESSAGES.surrogate });
    expect(refusal('{"s":"x\\uDC00y"}')?.path).toBe('/s');
    expect(refusal('{"s":["ok","\\ud83d\\u0041"]}')?.path).toBe('/s/1');
    expect(refusal('{"\\ud800":1}')?.path).toBe('/\ud800');
    expect(refusal('{"s":"\\ud83d\\ude00","t":"\\\\ud800"}')).toBeUndefined();
  });

  it('keeps __proto__ and constructor as own members and never sets a prototype', () => {
    const text = '{"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}},"a":[{"__proto__":null}]}';
    const v = parseIJson(text) as Record<string, unknown>;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.keys(v)).toEqual(['__proto__', 'constructor', 'a']);
    expect(JSON.stringify(v)).toBe(text);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(refusal('{"__proto__":1,"__proto__":2}')?.path).toBe('/__proto__');
  });

  it('leaves syntax errors to JSON.parse', () => {
    expect(() => parseIJson('{"a":')).toThrow(SyntaxError);
    expect(() => parseIJson('{"a":')).not.toThrow(IJsonError);
  });

  it('walks deep values without recursion', () => {
    const depth = 50_000;
    expect(refusal(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`)).toBeUndefined();
    expect(refusal(`${'['.repeat(depth)}{"a":1,"a":2}${']'.repeat(depth)}`)?.path).toBe(`${'/0'.repeat(depth)}/a`);
  });
});

describe('the quick check and the scan agree', () => {
  const name = fc.constantFrom('a', 'b', 'a:b', ':', 'é', '__proto__', 'constructor', 'a\\u0062', 'ab', '\\u003a', '\\"', '~/');
  const scalar = fc.constantFrom('1', '-2.5', '1e400', '-1e400', '1e-400', '"x"', '"a:b::"', '"\\ud800"', '"\\ud83d\\ude00"', 'true', 'null', '"\\\\u003a"');
  const json: fc.Arbitrary<string> = fc.letrec<{ value: string }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      scalar,
      fc.array(tie('value'), { maxLength: 4 }).map((items) => `[${items.join(',')}]`),
      fc.array(fc.tuple(name, tie('value')), { maxLength: 4 }).map((members) => `{${members.map(([k, v]) => `"${k}":${v}`).join(', ')}}`),
    ),
  })).value;

  it('finds an issue exactly when the quick check fails (or cannot tell)', () => {
    fc.assert(
      fc.property(json, (text) => {
        const value = JSON.parse(text) as unknown;
        const issue = iJsonIssue(text);
        if (plainlyIJson(text, value)) expect(issue).toBeUndefined();
        else if (!/\\u003a/i.test(text)) expect(issue).toBeDefined();
      }),
      { numRuns: 3000, seed: 7493 },
    );
  });
});

describe('UTF-8', () => {
  it('decodes valid bytes, keeps a BOM, and refuses instead of replacing', () => {
    expect(decodeUtf8(bytes('{"s":"é ✓ 😀"}'))).toBe('{"s":"é ✓ 😀"}');
    expect(decodeUtf8(bytes([0xef, 0xbb, 0xbf], '{}'))).toBe('\uFEFF{}');
    expect(decodeUtf8(bytes('{"s":"', [0xff], '"}'))).toBeUndefined();
    expect(decodeUtf8(bytes('"', [0xed, 0xa0, 0x80], '"'))).toBeUndefined(); // an encoded surrogate
    expect(decodeUtf8(bytes('"', [0xc0, 0xaf], '"'))).toBeUndefined(); // overlong
    expect(decodeUtf8(bytes('"', [0xe2, 0x82], '"'))).toBeUndefined(); // truncated
  });

  it('locates the first bad byte and the string holding it, past real U+FFFD', () => {
    expect(invalidUtf8Issue(bytes('{"input":{"name":"ab', [0xc3, 0x28], '"}}'))).toEqual({ path: '/input/name', message: IJSON_MESSAGES.utf8, byte: 20 });
    expect(invalidUtf8Issue(bytes('{"ok":"\uFFFD\uFFFD","list":["x","', [0xff], '"]}'))).toMatchObject({ path: '/list/1', byte: 28 });
    expect(invalidUtf8Issue(bytes('{"k', [0xfe], '":1}'))).toMatchObject({ path: '/k\uFFFD' });
    expect(invalidUtf8Issue(bytes('{"a":1,', [0xff], '}'))).toEqual({ path: '', message: IJSON_MESSAGES.utf8, byte: 7 });
  });
});
