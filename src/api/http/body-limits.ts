/**
 * @module api/http/body-limits — the shape limits of a request body, checked around parsing: nesting
 * depth (on the text, before a recursive parser sees it) and array and property-name lengths.
 */
import type { Issue } from '../../common/errors.ts';
import { pointerToken } from '../../common/json.ts';

/** Deepest nesting a request body may have: deeper values overflow recursive code downstream. */
export const MAX_BODY_DEPTH = 128;

/**
 * True when a JSON text nests `[`/`{` deeper than `limit` (strings skipped). A text shorter
 * than the limit cannot, so small hot-path bodies cost one comparison.
 */
export function jsonTextTooDeep(text: string, limit: number = MAX_BODY_DEPTH): boolean {
  if (text.length <= limit) return false;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c) i++;
        else if (d === 0x22) break;
      }
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return false;
}

/** Indentation columns (plus compact `- `/`? ` entries) a YAML line may reach: 2 columns per level of MAX_BODY_DEPTH. */
const MAX_YAML_COLUMNS = 2 * MAX_BODY_DEPTH;
/** Characters after which a quote starts a quoted YAML scalar (NaN: start of text). */
const TOKEN_START: ReadonlySet<number> = new Set([Number.NaN, 0x20, 0x09, 0x0a, 0x0d, 0x5b, 0x7b, 0x2c, 0x3a, 0x2d, 0x3f]);

/**
 * True when YAML text may nest deeper than the limits, decided on the text before parsing:
 * the `yaml` parser recurses per level, and after one stack overflow a later parse can abort the
 * whole process (V8 "RegExpCompiler Allocation failed"), so deep documents must never reach it.
 * Conservative: brackets in comments and indentation count even when they add no level.
 */
export function yamlTextTooDeep(text: string, limit: number = MAX_BODY_DEPTH): boolean {
  if (text.length <= limit) return false;
  let flow = 0;
  let lineStart = true;
  let column = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0a) {
      lineStart = true;
      column = 0;
      continue;
    }
    if (lineStart) {
      // Leading spaces, and `- ` / `? ` / `: ` entries that open a level on the same line.
      if (c === 0x20 || ((c === 0x2d || c === 0x3f || c === 0x3a) && text.charCodeAt(i + 1) === 0x20)) {
        if (++column > MAX_YAML_COLUMNS) return true;
        continue;
      }
      lineStart = false;
    }
    // A quote opens a quoted scalar only at the start of a token (`it's` in a plain scalar does not).
    if ((c === 0x22 || c === 0x27) && TOKEN_START.has(text.charCodeAt(i - 1))) {
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c && c === 0x22) i++;
        else if (d === c) break;
      }
    } else if (c === 0x5b || c === 0x7b) {
      if (++flow > limit) return true;
    } else if (c === 0x5d || c === 0x7d) {
      flow--;
    }
  }
  return false;
}

/** True when a parsed value (e.g. from YAML) nests deeper than `limit`; iterative, no recursion. */
export function valueTooDeep(value: unknown, limit: number = MAX_BODY_DEPTH): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  const seen = new Set<object>();
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const [v, depth] = top;
    if (typeof v !== 'object' || v === null || seen.has(v)) continue;
    if (depth >= limit) return true;
    seen.add(v);
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
  return false;
}

/** Most elements one array of a request body may have. */
export const MAX_BODY_ARRAY_LENGTH = 10_000;
/**
 * Longest property name (in UTF-16 code units, i.e. JS `length`) a request body may hold. String
 * values have no cap of their own: the body limit bounds them (the API promises a 900 KiB string is a valid start).
 */
export const MAX_BODY_STRING_LENGTH = 262_144;
/**
 * Raw texts at most this long are not walked: an array of more than 10,000 elements needs at
 * least 20,001 characters of JSON or YAML (aliases included) and a string past the cap needs
 * more text than that, so a short body cannot break either cap.
 */
export const BODY_SIZE_WALK_THRESHOLD = 16 * 1024;

/**
 * The first array longer than `maxArray` or string longer than `maxString` in a parsed body, as
 * an issue at its JSON Pointer; undefined when none (or when `textLength` is below `threshold`,
 * which keeps small bodies at one comparison). Iterative, no recursion; shared nodes walked once.
 */
export function valueTooLarge(
  value: unknown,
  textLength: number,
  o: { maxArray?: number; maxString?: number; maxValueString?: number; threshold?: number } = {},
): Issue | undefined {
  if (textLength <= (o.threshold ?? BODY_SIZE_WALK_THRESHOLD)) return undefined;
  const maxArray = o.maxArray ?? MAX_BODY_ARRAY_LENGTH;
  const maxString = o.maxString ?? MAX_BODY_STRING_LENGTH;
  const values: unknown[] = [value];
  const paths: string[] = [''];
  const seen = new Set<object>();
  while (values.length > 0) {
    const v = values.pop();
    const path = paths.pop() as string;
    if (typeof v === 'string') {
      if (v.length > (o.maxValueString ?? Infinity)) return { path, message: `is longer than ${o.maxValueString} characters` };
      continue;
    }
    if (typeof v !== 'object' || v === null || seen.has(v)) continue;
    seen.add(v);
    if (Array.isArray(v)) {
      if (v.length > maxArray) return { path, message: `has more than ${maxArray} items` };
      for (let i = v.length - 1; i >= 0; i--) {
        values.push(v[i]);
        paths.push(`${path}/${i}`);
      }
    } else {
      const keys = Object.keys(v);
      for (let i = keys.length - 1; i >= 0; i--) {
        const k = keys[i] as string;
        if (k.length > maxString) return { path, message: `has a property name longer than ${maxString} characters` };
        values.push((v as Record<string, unknown>)[k]);
        paths.push(`${path}/${pointerToken(k)}`);
      }
    }
  }
  return undefined;
}
