/** @module common/json — small helpers over parsed JSON values: object tests and JSON Pointer tokens. */

/** A JSON object: not null, not an array (its prototype is not checked: see `isPlainRecord`). */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A plain object (JSON object, msgpack map): a record whose prototype is Object's or null, so no decoded extension type. */
export function isPlainRecord(v: unknown): v is Record<string, unknown> {
  if (!isRecord(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/** Escapes one JSON Pointer reference token (RFC 6901): `~` → `~0`, `/` → `~1`. */
export function pointerToken(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}
