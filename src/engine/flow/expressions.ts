/** @module engine/flow/expressions — JSONPath-like data paths in flow documents (`$.input.x`), resolved against a scope; never evaluated code. */
import type { Condition } from '../../common/flow.ts';

/** What a path can see while a step starts. */
export interface Scope {
  readonly input: unknown;
  readonly steps: Readonly<Record<string, { readonly output?: unknown; readonly error?: unknown }>>;
  readonly context: Readonly<Record<string, unknown>>;
}

/**
 * A whole-string path: a root (`input`, `steps`, `context`) then `.key` (letters, digits, `_ $ @ -`)
 * or `[index]` segments.
 * Shared with the flow schema so the validator and the resolver agree on what a path is.
 */
export const PATH_PATTERN = String.raw`^\$\.(?:input|steps|context)(?:\.[\p{L}\p{N}_$@-]+|\[\d+\])*$`;

/** A path into the input only (`$.input`, `$.input.customerId`): what exists when an execution starts. */
export const INPUT_PATH_PATTERN = String.raw`^\$\.input(?:\.[\p{L}\p{N}_$@-]+|\[\d+\])*$`;

const PATH_RE = new RegExp(PATH_PATTERN, 'u');
const SEGMENT_RE = /\.([\p{L}\p{N}_$@-]+)|\[(\d+)\]/gu;

type Root = 'input' | 'steps' | 'context';
interface ParsedPath {
  readonly root: Root;
  readonly segments: readonly string[];
}

// Paths come from a small set of definitions, so parse each once; the cap bounds memory if they don't.
const parsed = new Map<string, ParsedPath>();
const PARSE_CACHE_MAX = 10_000;

/** True when `s` is exactly a path (a string that merely contains `$.` is a literal). */
export function isPath(s: unknown): s is string {
  return typeof s === 'string' && s.startsWith('$.') && PATH_RE.test(s);
}

function parse(path: string): ParsedPath | undefined {
  const cached = parsed.get(path);
  if (cached !== undefined) return cached;
  if (!isPath(path)) return undefined;
  const rootEnd = path.slice(2).search(/[.[]/u);
  const root = (rootEnd === -1 ? path.slice(2) : path.slice(2, 2 + rootEnd)) as Root;
  const segments: string[] = [];
  for (const m of path.slice(2 + root.length).matchAll(SEGMENT_RE)) segments.push(m[1] ?? m[2] ?? '');
  const result: ParsedPath = { root, segments };
  if (parsed.size >= PARSE_CACHE_MAX) parsed.clear();
  parsed.set(path, result);
  return result;
}

/** Own properties only: `$.input.constructor` must not reach Object.prototype. */
function child(value: unknown, key: string): unknown {
  if (Array.isArray(value)) return /^\d+$/u.test(key) ? (value[Number(key)] as unknown) : undefined;
  if (value !== null && typeof value === 'object' && Object.hasOwn(value, key)) {
    return (value as Record<string, unknown>)[key];
  }
  return undefined;
}

/** The value at `path`, or undefined when it is missing or `path` is not a path. */
export function getPath(scope: Scope, path: string): unknown {
  const p = parse(path);
  if (p === undefined) return undefined;
  let value: unknown = scope[p.root];
  for (const segment of p.segments) {
    value = child(value, segment);
    if (value === undefined) return undefined;
  }
  return value;
}

/**
 * Replace every string that is exactly a path with the value it names (missing → null), recursing
 * into arrays and objects. Returns new containers; values taken from the scope are not copied,
 * so callers must treat the result as read-only.
 */
export function resolveValue(template: unknown, scope: Scope): unknown {
  if (typeof template === 'string') return isPath(template) ? (getPath(scope, template) ?? null) : template;
  if (Array.isArray(template)) return template.map((item: unknown) => resolveValue(item, scope));
  if (template !== null && typeof template === 'object') {
    // A loop, not fromEntries(entries().map()): a step's input is resolved on every attempt, and the three arrays per object showed in profiles.
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(template)) {
      const v = resolveValue((template as Record<string, unknown>)[k], scope);
      // Defined, not assigned: a `__proto__` key stays data instead of setting the prototype.
      if (k === '__proto__') Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
      else out[k] = v;
    }
    return out;
  }
  return template;
}

/** Structural equality of JSON-like values (key order ignored). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item: unknown, i) => deepEqual(item, b[i]));
  }
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const keys = Object.keys(ra);
  if (keys.length !== Object.keys(rb).length) return false;
  return keys.every((k) => Object.hasOwn(rb, k) && deepEqual(ra[k], rb[k]));
}

/**
 * Evaluate a choice condition. A leaf's operators must all hold. A missing value compares as null
 * (as it would after resolveValue); `exists` means present and not null; gt/gte/lt/lte need numbers.
 */
export function evaluateCondition(cond: Condition, scope: Scope): boolean {
  if ('all' in cond) return cond.all.every((c) => evaluateCondition(c, scope));
  if ('any' in cond) return cond.any.some((c) => evaluateCondition(c, scope));
  if ('not' in cond) return !evaluateCondition(cond.not, scope);
  const value = getPath(scope, cond.path) ?? null;
  let hasOperator = false;
  const num = typeof value === 'number' ? value : undefined;
  if ('equals' in cond) {
    hasOperator = true;
    if (!deepEqual(value, cond.equals ?? null)) return false;
  }
  if ('notEquals' in cond) {
    hasOperator = true;
    if (deepEqual(value, cond.notEquals ?? null)) return false;
  }
  if (cond.exists !== undefined) {
    hasOperator = true;
    if ((value !== null) !== cond.exists) return false;
  }
  if (cond.gt !== undefined) {
    hasOperator = true;
    if (num === undefined || !(num > cond.gt)) return false;
  }
  if (cond.gte !== undefined) {
    hasOperator = true;
    if (num === undefined || !(num >= cond.gte)) return false;
  }
  if (cond.lt !== undefined) {
    hasOperator = true;
    if (num === undefined || !(num < cond.lt)) return false;
  }
  if (cond.lte !== undefined) {
    hasOperator = true;
    if (num === undefined || !(num <= cond.lte)) return false;
  }
  if (cond.in !== undefined) {
    hasOperator = true;
    if (!Array.isArray(cond.in) || !cond.in.some((candidate: unknown) => deepEqual(value, candidate))) return false;
  }
  // The validator requires an operator; a bare path (from code-built flows) tests presence.
  return hasOperator || value !== null;
}
