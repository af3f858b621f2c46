/**
 * @module engine/definitions/schema-cache — compiled `inputSchema` validators, shared by content and bounded.
 *
 * One Ajv instance keeps every schema it ever compiled: `removeSchema()` empties its schema maps,
 * but each compiled function and its schema stay in the instance's code scope for good. So each
 * entry here compiles in an Ajv of its own, and an entry evicted from the LRU frees its instance
 * with it. Such an instance is made cheap (~0.1 ms): without the meta-schemas, which would be
 * added to every instance and compiled in each to check the schema (~5 ms); that check runs on
 * one shared instance instead, which only ever compiles the meta-schema itself.
 */
import { createHash } from 'node:crypto';
import { Ajv, type AnySchema, type ValidateFunction } from 'ajv';
import type { Issue } from '../../common/errors.ts';
import { LruCache } from '../../common/lru-cache.ts';

/** Validators kept: at most `entries`, and about `bytes` of heap (see validatorBytes). */
export const INPUT_SCHEMA_CACHE = { entries: 1000, bytes: 32 * 1_048_576 } as const;

/** Rough heap of a validator compiled in its own Ajv, from its schema's JSON length (measured: ~20 KiB + ~20× the JSON). */
export function validatorBytes(jsonLength: number): number {
  return 20_480 + 20 * jsonLength;
}

const OPTIONS = { allErrors: true, strict: false } as const;

/** Checks user schemas against the draft-07 meta-schema; never compiles a user schema. */
const meta = new Ajv({ ...OPTIONS, logger: false });

/** SHA-256 of a value's JSON (key order as given): equal documents share cache entries. */
export function contentKey(json: string): string {
  return createHash('sha256').update(json).digest('base64');
}

/** Validator options besides OPTIONS. */
export interface CompileOptions {
  /** Fill the `default` of an absent property into the data validated (a template's parameters). */
  readonly useDefaults?: boolean;
}

/** Compiles `schema` in an Ajv of its own, as `new Ajv({ ...OPTIONS, ...extra }).compile(schema)` would. @throws Error when invalid */
function compileAlone(schema: AnySchema, json: string, extra: CompileOptions = {}): ValidateFunction {
  // A schema naming a meta-schema (`$schema`, a `$ref` to it): an instance that has them, and checks against its own `$schema`.
  if (json.includes('json-schema.org')) return new Ajv({ ...OPTIONS, ...extra }).compile(schema);
  if (!meta.validateSchema(schema)) throw new Error(`schema is invalid: ${meta.errorsText(meta.errors)}`);
  return new Ajv({ ...OPTIONS, ...extra, meta: false, validateSchema: false }).compile(schema);
}

/** A validator of `schema` in a cheap Ajv of its own, not cached: its holder keeps it, and frees it with itself. @throws Error when the schema is invalid */
export function compileUncached(schema: AnySchema, extra: CompileOptions = {}): ValidateFunction {
  return compileAlone(schema, JSON.stringify(schema), extra);
}

/** A bounded LRU of compiled validators keyed by the SHA-256 of the schema's JSON. */
export class InputSchemaCache {
  private readonly lru: LruCache<ValidateFunction>;

  constructor(maxEntries: number = INPUT_SCHEMA_CACHE.entries, maxBytes: number = INPUT_SCHEMA_CACHE.bytes) {
    this.lru = new LruCache(maxEntries, maxBytes);
  }

  /** The validator of `schema`, compiled once per distinct content. @throws Error when the schema is invalid */
  compile(schema: AnySchema): ValidateFunction {
    const json = JSON.stringify(schema);
    const key = contentKey(json);
    let v = this.lru.get(key);
    if (v === undefined) {
      v = compileAlone(schema, json);
      this.lru.set(key, v, validatorBytes(json.length));
    }
    return v;
  }

  stats(): { size: number; bytes: number; hits: number; misses: number } {
    return { size: this.lru.size, bytes: this.lru.cost, hits: this.lru.hits, misses: this.lru.misses };
  }
}

/** The process-wide cache (definitions, dynamic documents). */
export const inputSchemas = new InputSchemaCache();

/** The errors of `v`'s last call as JSON Pointer issues under `root` (`/input`, `/output`); a missing property names itself. */
export function schemaIssues(v: ValidateFunction, root: string): Issue[] {
  return (v.errors ?? []).map((e) => {
    const missing = e.keyword === 'required' ? `/${String((e.params as { missingProperty?: string }).missingProperty)}` : '';
    return { path: `${root}${e.instancePath}${missing}`, message: e.message ?? 'invalid' };
  });
}
