/** @module cli/commands/output — what commands print: aligned tables, `key: value` details, or JSON with --json. */
import type { Ctx } from './common.ts';

export type Columns = readonly (readonly [header: string, key: string])[];

const cell = (v: unknown): string => {
  if (v === null || v === undefined) return '-';
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v.join(',');
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
};

/** Aligned columns with a header row; long cells are clipped to `max`. */
export function table(rows: readonly object[], columns: Columns, max = 60): string {
  const clip = (s: string) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);
  const grid = [columns.map(([h]) => h), ...rows.map((r) => columns.map(([, k]) => clip(cell((r as Record<string, unknown>)[k]))))];
  const widths = columns.map((_, i) => Math.max(...grid.map((row) => (row[i] ?? '').length)));
  return grid.map((row) => row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ')).join('\n');
}

/** `key: value` lines for one object. */
export function details(obj: object, keys?: readonly string[]): string {
  const o = obj as Record<string, unknown>;
  const ks = keys ?? Object.keys(o);
  const w = Math.max(...ks.map((k) => k.length));
  return ks.map((k) => `${`${k}:`.padEnd(w + 2)}${cell(o[k])}`).join('\n');
}

/** One object as JSON (--json) or `key: value` lines. */
export function show(c: Ctx, obj: object, keys?: readonly string[]): void {
  c.out(c.json ? JSON.stringify(obj, null, 2) : details(obj, keys));
}

/** A page as JSON (the whole page) or a table, plus a hint for the next cursor. */
export function printPage(c: Ctx, page: { items: readonly object[]; nextCursor: string | null }, columns: Columns): void {
  if (c.json) return c.out(JSON.stringify(page, null, 2));
  if (page.items.length === 0) return c.out('(none)');
  c.out(table(page.items, columns));
  if (page.nextCursor !== null) c.err(`more: --cursor ${page.nextCursor}`);
}

/** A done action: `<id>: <what>`, or `fallback` as JSON. */
export function done(c: Ctx, id: string, what: string, fallback: unknown): number {
  c.out(c.json ? JSON.stringify(fallback ?? { id }, null, 2) : `${id}: ${what}`);
  return 0;
}
