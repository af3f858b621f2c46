/** inputSchema validators: compiled once per distinct content, bounded, and really freed once evicted. */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { DefinitionRegistry, DYNAMIC_DEFINITION_CACHE, inputIssues } from '../../src/engine/definitions/definitions.ts';
import type { FlowEffects } from '../../src/engine/flow/flow-context.ts';
import { INPUT_SCHEMA_CACHE, InputSchemaCache, inputSchemas, validatorBytes } from '../../src/engine/definitions/schema-cache.ts';
import { validateFlow } from '../../src/engine/flow/validate-flow.ts';
import type { FlowDocument } from '../../src/common/flow.ts';
import type { Store } from '../../src/store/types.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
/** Heap after full collections, in MiB. */
const heapMiB = (): number => {
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed / 1_048_576;
};

/** A distinct schema per `i`, with a pattern and some text (each one compiles to its own code). */
const schemaOf = (i: number) => ({
  type: 'object',
  description: `schema ${i} ${'x'.repeat(200)}`,
  properties: { [`p${i}`]: { type: 'string', pattern: `^v${i}$` }, n: { type: 'integer', minimum: i } },
  required: [`p${i}`],
});
const docOf = (i: number, schema: object = schemaOf(i)): FlowDocument => ({ name: 'inline', inputSchema: schema as Record<string, unknown>, steps: [{ id: 'a', type: 'task', agent: 'echo', input: {} }] });

const noEffects = new Proxy({}, { get: () => () => undefined }) as FlowEffects;
const registry = () => new DefinitionRegistry({} as Store, noEffects, () => 0);

describe('InputSchemaCache', () => {
  it('reuses one compiled validator for equal schemas (distinct objects)', () => {
    const cache = new InputSchemaCache(10, 1_000_000);
    const a = cache.compile(schemaOf(1));
    const b = cache.compile(JSON.parse(JSON.stringify(schemaOf(1))) as object);
    expect(b).toBe(a);
    expect(cache.compile(schemaOf(2))).not.toBe(a);
    expect(cache.stats()).toMatchObject({ size: 2, hits: 1, misses: 2 });
    expect(a({ p1: 'v1', n: 1 })).toBe(true);
    expect(a({ p1: 'v2', n: 0 })).toBe(false);
    expect(inputIssues(a).map((i) => i.path)).toEqual(['/input/p1', '/input/n']); // allErrors
  });

  it('validates like a plain Ajv: invalid schemas throw, draft-07 $schema works, equal $ids never clash', () => {
    const cache = new InputSchemaCache(10, 1_000_000);
    expect(() => cache.compile({ type: 'nope' })).toThrow(/^schema is invalid: data\/type must be equal to one of the allowed values/);
    expect(() => cache.compile({ properties: { a: { minimum: 'x' } } })).toThrow(/^schema is invalid: /);
    const plain = new Ajv({ allErrors: true, strict: false });
    expect(() => plain.compile({ type: 'nope' })).toThrow(/^schema is invalid: data\/type must be equal to one of the allowed values/);
    const drafted = cache.compile({ $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', required: ['a'] });
    expect(drafted({})).toBe(false);
    expect(() => cache.compile({ $schema: 'http://json-schema.org/draft-07/schema#', type: 'nope' })).toThrow(/^schema is invalid: /);
    const metaRef = cache.compile({ type: 'object', properties: { s: { $ref: 'http://json-schema.org/draft-07/schema#' } } });
    expect([metaRef({ s: { type: 'string' } }), metaRef({ s: { type: 'nope' } })]).toEqual([true, false]);
    expect(() => cache.compile({ $schema: 'https://example.com/unknown', type: 'object' })).toThrow(/no schema with key or ref/);
    // A shared Ajv refuses a second schema with the same $id ("already exists"): each entry has its own.
    const one = cache.compile({ $id: 'https://example.com/in', type: 'object', required: ['a'] });
    const two = cache.compile({ $id: 'https://example.com/in', type: 'object', required: ['b'] });
    expect([one({ a: 1 }), two({ a: 1 })]).toEqual([true, false]);
  });

  it('keeps at most its entries and its bytes, least recently used out first', () => {
    const cache = new InputSchemaCache(3, 1_000_000);
    const first = cache.compile(schemaOf(0));
    for (let i = 1; i <= 3; i++) {
      cache.compile(schemaOf(i));
      if (i === 2) expect(cache.compile(schemaOf(0))).toBe(first); // touched: 1 goes first
    }
    expect(cache.stats().size).toBe(3);
    expect(cache.compile(schemaOf(0))).toBe(first);
    const bytes = validatorBytes(JSON.stringify(schemaOf(0)).length);
    const small = new InputSchemaCache(100, bytes * 2);
    for (let i = 0; i < 5; i++) small.compile(schemaOf(i));
    expect(small.stats()).toMatchObject({ size: 2, bytes: bytes * 2 });
    // Bigger than the whole budget: compiled, never kept.
    const huge = { type: 'object', description: 'x'.repeat(bytes) };
    expect(small.compile(huge)({})).toBe(true);
    expect(small.stats().size).toBe(2);
  });

  it('frees what it evicts: the validator and its Ajv are collected', async () => {
    const cache = new InputSchemaCache(5, 1_000_000);
    const refs = Array.from({ length: 20 }, (_, i) => new WeakRef(cache.compile(schemaOf(i))));
    // A WeakRef holds its target until the job ends, and a compile job still running on V8's background thread
    // holds what it compiles (CI's Node 22 run, other test files busy on both cores, once kept one past the first
    // collection): collect again, a job later, until the evicted ones are gone, 20 rounds at most.
    let alive: boolean[] = [];
    for (let round = 0; round < 20; round++) {
      await new Promise((r) => setTimeout(r, round === 0 ? 0 : 25));
      heapMiB();
      alive = refs.map((r) => r.deref() !== undefined);
      if (alive.slice(0, 15).every((a) => !a)) break;
    }
    expect(alive.slice(0, 15).every((a) => !a)).toBe(true);
    expect(alive.slice(15).every((a) => a)).toBe(true);
  });
});

describe('DefinitionRegistry.loadDynamic', () => {
  it('shares one compiled machine and validator between equal documents, with a row of its own', () => {
    const reg = registry();
    const a = reg.loadDynamic('t1', docOf(7), 1);
    const b = reg.loadDynamic('t2', JSON.parse(JSON.stringify(docOf(7))) as FlowDocument, 2);
    expect(b.compiled).toBe(a.compiled);
    expect(b.validateInput).toBe(a.validateInput);
    expect([a.row.tenant, a.row.createdAt, b.row.tenant, b.row.createdAt]).toEqual(['t1', 1, 't2', 2]);
    // Another document with the same inputSchema still shares the validator.
    const c = reg.loadDynamic('t1', { ...docOf(7), name: 'other' }, 3);
    expect(c.compiled).not.toBe(a.compiled);
    expect(c.validateInput).toBe(a.validateInput);
  });

  it('compiles a start\'s inputSchema once: validation and the start share the validator', () => {
    const before = inputSchemas.stats();
    const doc = docOf(123_456);
    expect(validateFlow(doc)).toEqual([]);
    const def = registry().loadDynamic('default', doc, 0);
    expect(def.validateInput?.({ p123456: 'v123456', n: 123_456 })).toBe(true);
    const after = inputSchemas.stats();
    expect([after.misses - before.misses, after.hits - before.hits]).toEqual([1, 1]);
    expect(validateFlow({ ...doc, inputSchema: { type: 'nope' } })).toEqual([{ path: '/inputSchema', message: expect.stringMatching(/^is not a valid JSON Schema: schema is invalid: /) as unknown }]);
  });

  it('keeps the heap bounded over 10,000 inline starts with distinct inputSchemas (validate, then load)', { timeout: 180_000 }, () => {
    expect(INPUT_SCHEMA_CACHE.entries).toBe(1000);
    expect(DYNAMIC_DEFINITION_CACHE.entries).toBeLessThan(2000);
    const reg = registry();
    const run = (from: number, to: number) => {
      for (let i = from; i < to; i++) {
        const doc = docOf(i);
        expect(validateFlow(doc)).toEqual([]);
        const def = reg.loadDynamic('default', doc, i);
        expect(def.validateInput?.({ [`p${i}`]: `v${i}`, n: i })).toBe(true);
      }
    };
    const start = heapMiB();
    run(0, 2_000); // both caches are full from here on
    const at2k = heapMiB();
    run(2_000, 10_000);
    const at10k = heapMiB();
    console.log(`heap MiB: start ${start.toFixed(1)}, after 2,000 ${at2k.toFixed(1)}, after 10,000 ${at10k.toFixed(1)}`);
    expect(at10k - at2k).toBeLessThan(8);
  });
});
