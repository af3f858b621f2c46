/** @module store/sql-literal — values as SQL literals, so a whole group commit is one `exec` (one native call). */

/** A literal for a TEXT/INTEGER/REAL/BLOB/NULL value; strings with NUL go through a blob cast. */
export function sqlLiteral(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new TypeError('non-finite number in a SQL literal');
    return String(v);
  }
  if (typeof v === 'string') {
    return v.includes('\u0000') ? `CAST(X'${Buffer.from(v, 'utf8').toString('hex')}' AS TEXT)` : `'${v.replaceAll("'", "''")}'`;
  }
  if (v instanceof Uint8Array) return `X'${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')}'`;
  if (typeof v === 'boolean') return v ? '1' : '0';
  throw new TypeError(`no SQL literal for ${typeof v}`);
}

/** `(a,b,c)` for one row. */
export function sqlRow(values: readonly unknown[]): string {
  let out = '(';
  for (let i = 0; i < values.length; i++) out += (i === 0 ? '' : ',') + sqlLiteral(values[i]);
  return out + ')';
}
