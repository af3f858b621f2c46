/** yamlTextTooDeep: deep YAML is refused on its text, before the parser can recurse into a stack overflow. */
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { MAX_BODY_DEPTH, yamlTextTooDeep } from '../../src/api/http/body-limits.ts';

const blockSeq = (n: number) => Array.from({ length: n }, (_, i) => ' '.repeat(i * 2) + '-').join('\n') + ' x';
const blockMap = (n: number) => Array.from({ length: n }, (_, i) => ' '.repeat(i * 2) + 'a:').join('\n') + ' 1';
const flow = (n: number) => '['.repeat(n) + ']'.repeat(n);

describe('yamlTextTooDeep', () => {
  it('accepts ordinary documents and nesting up to the limit', () => {
    const doc = 'name: hello\nsteps:\n  - id: a\n    type: task\n    agent: echo\n    input: { msg: "[[[[ not a level", list: [1, 2, [3]] }\n';
    expect(yamlTextTooDeep(doc)).toBe(false);
    for (const text of [blockSeq(MAX_BODY_DEPTH - 1), blockMap(MAX_BODY_DEPTH - 1), flow(MAX_BODY_DEPTH)]) {
      expect(yamlTextTooDeep(text)).toBe(false);
      expect(() => parse(text)).not.toThrow();
    }
  });

  it('refuses flow and block nesting past the limit', () => {
    expect(yamlTextTooDeep(flow(MAX_BODY_DEPTH + 1))).toBe(true);
    expect(yamlTextTooDeep(blockSeq(MAX_BODY_DEPTH + 2))).toBe(true);
    expect(yamlTextTooDeep(blockMap(MAX_BODY_DEPTH + 2))).toBe(true);
    expect(yamlTextTooDeep('- '.repeat(MAX_BODY_DEPTH * 2 + 1) + 'x')).toBe(true);
    expect(yamlTextTooDeep('{"a":'.repeat(20_000) + '1' + '}'.repeat(20_000))).toBe(true);
  });

  it('is not fooled by apostrophes inside plain scalars hiding brackets', () => {
    const hidden = Array.from({ length: 200 }, () => "a'[").join('\n');
    expect(yamlTextTooDeep(hidden)).toBe(true);
  });

  it('skips brackets inside quoted scalars only', () => {
    expect(yamlTextTooDeep(`msg: "${'['.repeat(1000)}"`)).toBe(false);
    expect(yamlTextTooDeep(`msg: '${'{'.repeat(1000)}'`)).toBe(false);
  });
});
