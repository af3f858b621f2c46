/**
 * @module templates/placeholders — the `${params.x}` placeholders of a template's string values: found,
 * checked and substituted. A string that is exactly one placeholder becomes the parameter's value (any JSON
 * type); a placeholder inside a longer string becomes its string form.
 */
import type { Issue } from '../common/errors.ts';
import { isRecord, pointerToken } from '../common/json.ts';

/** A parameter name: letters, digits and `_`, not starting with a digit (dots reach into object parameters). */
export const PARAM_NAME = '[A-Za-z_][A-Za-z0-9_]*';
const REF = `${PARAM_NAME}(?:\\.${PARAM_NAME})*`;
const WHOLE = new RegExp(`^\\$\\{params\\.(${REF})\\}$`, 'u');
const INSIDE = new RegExp(`\\$\\{params\\.(${REF})\\}`, 'gu');
/** Anything that looks like it means to be a placeholder; what INSIDE does not match of it is malformed. */
const OPENING = /\$\{params\b/gu;

/** The value of `params.<ref>` (own properties only), undefined when absent. */
function lookup(params: Readonly<Record<string, unknown>>, ref: string): unknown {
  let v: unknown = params;
  for (const key of ref.split('.')) {
    if (!isRecord(v) || !Object.hasOwn(v, key)) return undefined;
    v = v[key];
  }
  return v;
}

/** The text a value takes inside a longer string. */
function stringForm(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  return JSON.stringify(v);
}

/** Every string of `value` with its JSON Pointer (below `path`). */
function* strings(value: unknown, path: string): Generator<{ path: string; text: string }> {
  if (typeof value === 'string') yield { path, text: value };
  else if (Array.isArray(value)) for (let i = 0; i < value.length; i++) yield* strings(value[i], `${path}/${i}`);
  else if (isRecord(value)) for (const [k, v] of Object.entries(value)) yield* strings(v, `${path}/${pointerToken(k)}`);
}

/**
 * Issues of the placeholders in `value` (at `path`): malformed ones, and those naming a parameter
 * that `known` (the top-level parameter names) lacks.
 */
export function placeholderIssues(value: unknown, path: string, known: ReadonlySet<string>): Issue[] {
  const issues: Issue[] = [];
  for (const s of strings(value, path)) {
    if (!s.text.includes('${params')) continue;
    const wellFormed = [...s.text.matchAll(INSIDE)];
    if ((s.text.match(OPENING)?.length ?? 0) > wellFormed.length) {
      issues.push({ path: s.path, message: 'has a malformed placeholder: write ${params.<name>} (letters, digits, _; dots for fields of an object parameter)' });
    }
    for (const m of wellFormed) {
      const top = (m[1] as string).split('.')[0] as string;
      if (!known.has(top)) issues.push({ path: s.path, message: `names the parameter ${top}, which the template does not declare in parameters.properties` });
    }
  }
  return issues;
}

const ANY = new RegExp(INSIDE.source, 'u');

/** True when `text` holds a placeholder. */
export function hasPlaceholder(text: string): boolean {
  return ANY.test(text);
}

export interface Substituted {
  readonly value: unknown;
  /** Pointers of the strings left with a placeholder (only with `keepMissing`): no value to put there yet. */
  readonly unresolved: readonly string[];
}

/**
 * `value` with its placeholders replaced by `params`. A parameter without a value: with `keepMissing` its
 * placeholder stays as written (and its string's pointer is listed in `unresolved`); otherwise a whole-value
 * placeholder drops its property (null in an array) and one inside a string becomes the empty string.
 */
export function substitute(value: unknown, params: Readonly<Record<string, unknown>>, keepMissing: boolean): Substituted {
  const unresolved: string[] = [];
  const DROP = Symbol('drop');
  const walk = (v: unknown, path: string): unknown => {
    if (typeof v === 'string') {
      if (!v.includes('${params.')) return v;
      const whole = WHOLE.exec(v);
      if (whole) {
        const found = lookup(params, whole[1] as string);
        if (found !== undefined) return found;
        if (keepMissing) unresolved.push(path);
        return keepMissing ? v : DROP;
      }
      let missing = false;
      const out = v.replace(INSIDE, (all, ref: string) => {
        const found = lookup(params, ref);
        if (found !== undefined) return stringForm(found);
        missing = true;
        return keepMissing ? all : '';
      });
      if (missing && keepMissing) unresolved.push(path);
      return out;
    }
    if (Array.isArray(v)) return v.map((item, i) => {
      const r = walk(item, `${path}/${i}`);
      return r === DROP ? null : r;
    });
    if (isRecord(v)) {
      const out: Record<string, unknown> = {};
      for (const [k, item] of Object.entries(v)) {
        const r = walk(item, `${path}/${pointerToken(k)}`);
        // defineProperty: a `__proto__` key of parsed JSON stays a key, never a prototype.
        if (r !== DROP) Object.defineProperty(out, k, { value: r, enumerable: true, writable: true, configurable: true });
      }
      return out;
    }
    return v;
  };
  const result = walk(value, '');
  return { value: result === DROP ? null : result, unresolved };
}
