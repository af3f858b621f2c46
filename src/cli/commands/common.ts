/** @module cli/commands/common — shared CLI plumbing: global flags, exit codes, tables, JSON output. */
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ActorflowApiError, createClient, type ActorflowClient } from '../../client/index.ts';

/** Exit codes that mean something to scripts. */
export const ExitCode = { ok: 0, error: 1, usage: 2, notFound: 3, conflict: 4, executionFailed: 5 } as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** A mistake in the command line (exit 2). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** What every command gets: the client, output mode, and its own parsed flags/positionals. */
export interface Ctx {
  readonly client: ActorflowClient;
  readonly json: boolean;
  readonly url: string;
  readonly values: Readonly<Record<string, unknown>>;
  readonly positionals: string[];
  /** A string flag's value. */
  str(name: string): string | undefined;
  out(text: string): void;
  err(text: string): void;
}

type Options = NonNullable<ParseArgsConfig['options']>;

const GLOBAL_OPTIONS = {
  url: { type: 'string' },
  key: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies Options;

/** The server origin: `--url`, else ACTORFLOW_URL, else http://127.0.0.1:8080. */
export function resolveUrl(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  return flag ?? env['ACTORFLOW_URL'] ?? 'http://127.0.0.1:8080';
}

/** The credential: `--key`, else ACTORFLOW_KEY, else ./data/admin.key when present. */
export function resolveKey(flag: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  if (flag !== undefined) return flag;
  if (env['ACTORFLOW_KEY']) return env['ACTORFLOW_KEY'];
  const file = './data/admin.key';
  if (existsSync(file)) return readFileSync(file, 'utf8').trim() || undefined;
  return undefined;
}

/** Parses the flags of one command (plus the global ones) and builds its context. */
export function context(argv: string[], options: Options = {}): Ctx {
  const parsed = parseArgs({ args: argv, options: { ...GLOBAL_OPTIONS, ...options }, strict: true, allowPositionals: true });
  const values = parsed.values as { url?: string; key?: string; json?: boolean; help?: boolean } & Record<string, unknown>;
  const url = resolveUrl(values.url, process.env);
  const key = resolveKey(values.key, process.env);
  return {
    client: createClient({ url, ...(key === undefined ? {} : { key }) }),
    json: values.json === true,
    url,
    values,
    str: (name: string) => (typeof values[name] === 'string' ? (values[name] as string) : undefined),
    positionals: parsed.positionals,
    out: (text: string) => void process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
    err: (text: string) => void process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
  };
}

/** The positional at `i`, or a usage error naming it. */
export function need(positionals: readonly string[], i: number, name: string): string {
  const v = positionals[i];
  if (v === undefined || v === '') throw new UsageError(`missing <${name}>`);
  return v;
}

/** Parses a JSON flag value, or a usage error. */
export function jsonFlag(value: unknown, flag: string): unknown {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(String(value));
  } catch {
    throw new UsageError(`--${flag} must be JSON`);
  }
}

/** Parses an integer flag value, or a usage error. */
export function intFlag(value: unknown, flag: string, min = 0): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${flag} must be an integer ≥ ${min}`);
  return n;
}

const cell = (v: unknown): string => {
  if (v === null || v === undefined) return '-';
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v.join(',');
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
};

/** Aligned columns with a header row; long cells are clipped to `max`. */
export function table(rows: readonly Record<string, unknown>[], columns: readonly (readonly [header: string, key: string])[], max = 60): string {
  const clip = (s: string) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);
  const grid = [columns.map(([h]) => h), ...rows.map((r) => columns.map(([, k]) => clip(cell(r[k]))))];
  const widths = columns.map((_, i) => Math.max(...grid.map((row) => (row[i] ?? '').length)));
  return grid.map((row) => row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ')).join('\n');
}

/** `key: value` lines for one object. */
export function details(obj: Record<string, unknown>, keys?: readonly string[]): string {
  const ks = keys ?? Object.keys(obj);
  const w = Math.max(...ks.map((k) => k.length));
  return ks.map((k) => `${`${k}:`.padEnd(w + 2)}${cell(obj[k])}`).join('\n');
}

/** Prints a page as JSON (the whole page) or a table (plus a hint for the next cursor). */
export function printPage<T extends object>(ctx: Ctx, page: { items: T[]; nextCursor: string | null }, columns: readonly (readonly [string, string])[]): void {
  if (ctx.json) return ctx.out(JSON.stringify(page, null, 2));
  if (page.items.length === 0) return ctx.out('(none)');
  ctx.out(table(page.items as unknown as Record<string, unknown>[], columns));
  if (page.nextCursor !== null) ctx.err(`more: --cursor ${page.nextCursor}`);
}

/** Maps any error to a message on stderr and an exit code. */
export function failure(err: unknown): ExitCode {
  const e = (msg: string) => process.stderr.write(`actorflow: ${msg}\n`);
  if (err instanceof UsageError || (err instanceof TypeError && String((err as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS'))) {
    e(`${err.message} (see: actorflow help)`);
    return ExitCode.usage;
  }
  if (err instanceof ActorflowApiError) {
    const where = err.errors.map((x) => `\n  ${x.path || '/'}: ${x.message}`).join('');
    e(`${err.status === 0 ? '' : `${err.status} ${err.code}: `}${err.message}${where}`);
    if (err.status === 404) return ExitCode.notFound;
    if (err.status === 409) return ExitCode.conflict;
    return ExitCode.error;
  }
  e(err instanceof Error ? err.message : String(err));
  return ExitCode.error;
}
