/**
 * @module api/http/i-json — I-JSON (RFC 7493) for request bodies and WebSocket text frames: UTF-8 that
 * decodes without replacement, unique member names, numbers within the IEEE 754 double range and
 * no unpaired surrogate escapes. `JSON.parse` still builds the value (and keeps `__proto__` as an
 * own member, never a prototype). What it lets through is then found in two steps:
 *  - a quick check: one walk of the parsed value (no character loop over the text) that sees a
 *    non-finite number, a lone surrogate, or fewer `:` than the text has (a duplicate name drops a member);
 *  - only when that check fails, a linear scan of the text for the JSON Pointer of the first offender.
 */
import type { Issue } from '../../common/errors.ts';
import { pointerToken } from '../../common/json.ts';

/** An I-JSON rule a syntactically valid JSON text breaks, at the JSON Pointer of the offender. */
export class IJsonError extends SyntaxError {
  readonly issue: Issue;
  constructor(issue: Issue) {
    super(`${issue.path === '' ? 'the text' : issue.path} ${issue.message}`);
    this.name = 'IJsonError';
    this.issue = issue;
  }
}

/** The `message` of each I-JSON issue (its `path` says where). */
export const IJSON_MESSAGES = {
  duplicate: 'is a duplicate member name',
  number: 'is a number outside the IEEE 754 double range',
  surrogate: 'has an unpaired surrogate escape',
  utf8: 'is not valid UTF-8',
} as const;

// `ignoreBOM` keeps a leading BOM as U+FEFF (as Buffer#toString does), which JSON.parse refuses.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Decodes UTF-8 in one pass; `undefined` when the bytes are not valid UTF-8 (nothing becomes U+FFFD). */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/** `JSON.parse`, then the I-JSON rules; throws `SyntaxError` for bad syntax and `IJsonError` for the rest. */
export function parseIJson(text: string): unknown {
  const value = JSON.parse(text) as unknown;
  if (!plainlyIJson(text, value)) {
    const issue = scan(text, -1);
    if (issue !== undefined) throw new IJsonError(issue);
  }
  return value;
}

// A regular expression: `includes('\\u003a')` is several times slower on texts dense in backslashes.
const COLON_ESCAPE = /\\u003[aA]/;

/**
 * The quick check of a text and the value `JSON.parse` made of it; false means "scan the text".
 * A `:` stands in the text once per member and once per `:` inside a name or string, so the value
 * has as many exactly when no member was dropped — unless an escape (`\u003a`) spelled one.
 */
export function plainlyIJson(text: string, value: unknown): boolean {
  const escapes = text.includes('\\u');
  if (escapes && COLON_ESCAPE.test(text)) return false;
  const colons = colonsOf(value, escapes);
  return colons >= 0 && colons === count(text, ':');
}

function count(s: string, ch: string): number {
  let n = 0;
  for (let i = s.indexOf(ch); i !== -1; i = s.indexOf(ch, i + 1)) n++;
  return n;
}

const wellFormed = String.prototype as unknown as { isWellFormed(this: string): boolean };
/** A string from the value: its `:` count, or -1 when `escapes` may have left a lone surrogate in it. */
const colonsIn = (s: string, escapes: boolean): number => (escapes && !wellFormed.isWellFormed.call(s) ? -1 : s.includes(':') ? count(s, ':') : 0);

/**
 * The `:` of the value's JSON text: one per member plus those inside names and strings; -1 on a
 * non-finite number (an overflowing literal) or, when the text has `\\u` escapes, a lone surrogate.
 * Iterative; `JSON.parse` values share no nodes. Containers are pushed, scalars checked in place
 * (this loop runs once per value of every body: types are tested inline, most common first).
 */
function colonsOf(root: unknown, escapes: boolean): number {
  let total = 0;
  const stack: unknown[] = [root];
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    let v: unknown = top;
    if (typeof v !== 'object' || v === null) {
      // Only the root gets here.
      if (typeof v === 'string') {
        const c = colonsIn(v, escapes);
        if (c < 0) return -1;
        total += c;
      } else if (typeof v === 'number' && !Number.isFinite(v)) return -1;
      continue;
    }
    if (Array.isArray(v)) {
      const items = v as unknown[];
      for (let i = 0; i < items.length; i++) {
        v = items[i];
        if (typeof v === 'number') {
          if (v - v !== 0) return -1;
        } else if (typeof v === 'string') {
          const c = colonsIn(v, escapes);
          if (c < 0) return -1;
          total += c;
        } else if (typeof v === 'object' && v !== null) stack.push(v);
      }
    } else {
      // for-in: no array per object (a member inherited from a polluted prototype only adds to the count: a scan).
      const record = v as Record<string, unknown>;
      for (const name in record) {
        const n = colonsIn(name, escapes);
        if (n < 0) return -1;
        total += n + 1;
        v = record[name];
        if (typeof v === 'string') {
          const c = colonsIn(v, escapes);
          if (c < 0) return -1;
          total += c;
        } else if (typeof v === 'number') {
          if (v - v !== 0) return -1;
        } else if (typeof v === 'object' && v !== null) stack.push(v);
      }
    }
  }
  return total;
}

/** The first I-JSON rule a text that `JSON.parse` accepts breaks; `undefined` when none. */
export function iJsonIssue(text: string): Issue | undefined {
  return scan(text, -1);
}

/**
 * Where the first invalid UTF-8 sequence of `bytes` sits: the byte offset, and the JSON Pointer of
 * the string holding it when the text parses once the bad bytes are replaced (`''` otherwise).
 * For answering a refusal only: it decodes the bytes a second time.
 */
export function invalidUtf8Issue(bytes: Uint8Array): Issue & { readonly byte: number } {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lossy = buf.toString('utf8');
  // Before the first bad sequence the decoded prefix has exactly the bytes of the input, so each
  // U+FFFD is either a real EF BF BD at the running byte offset or the first replacement.
  let byte = 0;
  let from = 0;
  let index = lossy.indexOf('\uFFFD');
  while (index !== -1) {
    byte += Buffer.byteLength(lossy.slice(from, index));
    if (buf[byte] !== 0xef || buf[byte + 1] !== 0xbf || buf[byte + 2] !== 0xbd) break;
    byte += 3;
    from = index + 1;
    index = lossy.indexOf('\uFFFD', from);
  }
  let path = '';
  if (index !== -1) {
    try {
      JSON.parse(lossy);
      path = scan(lossy, index)?.path ?? '';
    } catch {
      // The bad bytes are outside any string (or the text is not JSON at all): the whole body.
    }
  }
  return { path, message: IJSON_MESSAGES.utf8, byte };
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
const LOWER_E = 0x65;
const UPPER_E = 0x45;
const LOWER_U = 0x75;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

/** An object with more members than this keeps their names in a Set rather than a list. */
const LIST_NAMES = 12;
/**
 * Number tokens shorter than this with no exponent are finite: overflowing the double range
 * (about 1.8e308) takes 309 integer digits.
 */
const MAX_SHORT_NUMBER = 309;

/** The state of a string with escapes: where the next backslash after it is, and whether an escape was an unpaired surrogate. */
interface EscapeScan {
  nextBackslash: number;
  unpaired: boolean;
}

/** The UTF-16 code unit of a `\uXXXX` escape whose hex digits start at `at` (valid JSON: four hex digits). */
const hex4 = (text: string, at: number): number => Number.parseInt(text.slice(at, at + 4), 16);
const isHigh = (cu: number): boolean => cu >= 0xd800 && cu <= 0xdbff;
const isLow = (cu: number): boolean => cu >= 0xdc00 && cu <= 0xdfff;
/** Only `\uD…` escapes can be surrogates: the rest are skipped without parsing their digits. */
const maybeSurrogate = (text: string, at: number): boolean => (text.charCodeAt(at) | 0x20) === 0x64;

/**
 * The closing quote of a string whose first backslash is at `backslash`, jumping from escape to
 * escape with indexOf (linear in the text however many escapes). Sets `s.nextBackslash` to the
 * first backslash past the string, and `s.unpaired` for a `\uD800`–`\uDFFF` escape without its pair.
 */
function escapedStringEnd(text: string, backslash: number, s: EscapeScan): number {
  let quote = text.indexOf('"', backslash);
  let k = backslash;
  for (;;) {
    if (text.charCodeAt(k + 1) === LOWER_U) {
      if (maybeSurrogate(text, k + 2)) {
        const cu = hex4(text, k + 2);
        if (isHigh(cu) && text.charCodeAt(k + 6) === BACKSLASH && text.charCodeAt(k + 7) === LOWER_U && maybeSurrogate(text, k + 8) && isLow(hex4(text, k + 8))) k += 6;
        else if (isHigh(cu) || isLow(cu)) s.unpaired = true;
      }
      k += 6;
    } else {
      k += 2;
    }
    if (quote < k) quote = text.indexOf('"', k);
    let next = text.indexOf('\\', k);
    if (next === -1) next = text.length;
    if (next > quote) {
      s.nextBackslash = next;
      return quote;
    }
    k = next;
  }
}

const escapeToken = (token: string | number): string => (typeof token === 'number' ? String(token) : pointerToken(token));

/** JSON Pointer of the current value: the member name or element index of every open container. */
function pointer(at: readonly (string | number)[], depth: number): string {
  let out = '';
  for (let d = 0; d < depth; d++) out += `/${escapeToken(at[d] ?? '')}`;
  return out;
}

/**
 * One pass over a text that `JSON.parse` accepted. With `locate < 0`: the first duplicate member
 * name, out-of-range number or unpaired surrogate escape. With `locate ≥ 0`: no checks, only the
 * pointer of the string (or member name) spanning that index.
 */
function scan(text: string, locate: number): Issue | undefined {
  const check = locate < 0;
  const n = text.length;
  // Per open container (index depth - 1): object or array, the member name or element index now
  // being read, and the member names seen so far (a list, then a Set past LIST_NAMES).
  const isObject: boolean[] = [];
  const at: (string | number)[] = [];
  const lists: string[][] = [];
  const sets: (Set<string> | undefined)[] = [];
  let depth = 0;
  let expectName = false;
  const escapes: EscapeScan = { nextBackslash: text.indexOf('\\'), unpaired: false };
  if (escapes.nextBackslash === -1) escapes.nextBackslash = n;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      let end = text.indexOf('"', i + 1);
      const escaped = escapes.nextBackslash < end;
      if (escaped) end = escapedStringEnd(text, escapes.nextBackslash, escapes);
      if (expectName) {
        const d = depth - 1;
        const name = escaped ? (JSON.parse(text.slice(i, end + 1)) as string) : text.slice(i + 1, end);
        at[d] = name;
        expectName = false;
        if (check) {
          let set = sets[d];
          const list = lists[d] as string[];
          if (set !== undefined ? set.has(name) : list.includes(name)) return { path: pointer(at, depth), message: IJSON_MESSAGES.duplicate };
          if (set !== undefined) set.add(name);
          else if (list.push(name) > LIST_NAMES) sets[d] = set = new Set(list);
        }
      }
      if (escapes.unpaired && check) return { path: pointer(at, depth), message: IJSON_MESSAGES.surrogate };
      if (!check && locate >= i && locate <= end) return { path: pointer(at, depth), message: '' };
      i = end + 1;
    } else if (c === MINUS || (c >= DIGIT_0 && c <= DIGIT_9)) {
      let j = i + 1;
      let exponent = false;
      for (; j < n; j++) {
        const d = text.charCodeAt(j);
        if ((d >= DIGIT_0 && d <= DIGIT_9) || d === DOT || d === MINUS || d === PLUS) continue;
        if (d === LOWER_E || d === UPPER_E) exponent = true;
        else break;
      }
      if (check && (exponent || j - i >= MAX_SHORT_NUMBER) && !Number.isFinite(Number(text.slice(i, j)))) return { path: pointer(at, depth), message: IJSON_MESSAGES.number };
      i = j;
    } else {
      if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
        const object = c === OPEN_OBJECT;
        isObject[depth] = object;
        if (object) {
          const list = lists[depth];
          if (list === undefined) lists[depth] = [];
          else list.length = 0;
          sets[depth] = undefined;
          at[depth] = '';
        } else {
          at[depth] = 0;
        }
        depth++;
        expectName = object;
      } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
        depth--;
        expectName = false;
      } else if (c === COMMA) {
        if (isObject[depth - 1] === true) expectName = true;
        else at[depth - 1] = (at[depth - 1] as number) + 1;
      } else if (c === COLON) {
        expectName = false;
      }
      i++;
    }
  }
  return undefined;
}
