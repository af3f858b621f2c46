/** @module cli/commands/common — a command's context (flags, client, output), exit codes, and errors as messages. */
import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ActorflowApiError, ActorflowDurationError, ActorflowExecutionError, createClient, toMs, type ActorflowClient } from '../../client/index.ts';
import { tlsFetch } from '../../client/tls-fetch.ts';
import { type KeyLookup, keyHint, resolveKey, resolveTls, resolveUrl } from './credentials.ts';
import type { Command, Flags } from './spec.ts';
import { didYouMean } from './suggest.ts';

/** Exit codes that mean something to scripts. */
export const ExitCode = { ok: 0, error: 1, usage: 2, notFound: 3, conflict: 4, executionFailed: 5, unfinished: 6 } as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** A mistake in the command line (exit 2). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Flags every client command takes. */
export const GLOBAL_FLAGS: Flags = {
  url: { type: 'string', arg: 'URL', help: 'server origin (default $ACTORFLOW_URL, else http://127.0.0.1:8080)' },
  key: { type: 'string', arg: 'KEY', help: 'API key or JWT (default $ACTORFLOW_KEY, else <data dir>/admin.key: $ACTORFLOW_DATA_DIR or ./data)' },
  json: { type: 'boolean', help: 'print JSON' },
  ca: { type: 'string', arg: 'FILE', help: 'PEM CA to trust for an https:// URL (default $ACTORFLOW_CA)' },
  'client-cert': { type: 'string', arg: 'FILE', help: 'PEM client certificate for a server requiring one (default $ACTORFLOW_CLIENT_CERT)' },
  'client-key': { type: 'string', arg: 'FILE', help: 'PEM key of --client-cert (default $ACTORFLOW_CLIENT_KEY)' },
};
export const HELP_FLAG: Flags = { help: { type: 'boolean', short: 'h', help: 'this help' } };

/** Flags of list commands. */
export const PAGE_FLAGS: Flags = {
  limit: { type: 'string', arg: 'N', help: 'items per page (1-1000, default 50)' },
  cursor: { type: 'string', arg: 'C', help: 'the page after this cursor (printed as "more: --cursor C")' },
};

/** PAGE_FLAGS as list options. */
export function pageOptions(c: Ctx): { limit?: number; cursor?: string } {
  const limit = c.int('limit', 1);
  const cursor = c.str('cursor');
  return { ...(limit === undefined ? {} : { limit }), ...(cursor === undefined ? {} : { cursor }) };
}

/** What a command runs with: its parsed flags and positionals, the client, output. */
export interface Ctx {
  readonly command: Command;
  /** The arguments after the command name, as given. */
  readonly argv: readonly string[];
  readonly positionals: readonly string[];
  readonly values: Readonly<Record<string, unknown>>;
  readonly url: string;
  readonly key: KeyLookup;
  readonly client: ActorflowClient;
  /** --json: machine-readable output. */
  readonly json: boolean;
  /** Positional `i`, or a usage error naming it. */
  arg(i: number, name: string): string;
  str(flag: string): string | undefined;
  bool(flag: string): boolean;
  strs(flag: string): string[];
  /** An integer ≥ `min`, or a usage error. */
  int(flag: string, min?: number): number | undefined;
  /** JSON text, `@file` (its JSON content) or `@-` (stdin). */
  jsonValue(flag: string): unknown;
  /** Milliseconds, from `1500`, `500ms`, `5s`, `2m`, `1h`. */
  duration(flag: string): number | undefined;
  out(text: string): void;
  err(text: string): void;
}

type ParseOptions = NonNullable<ParseArgsConfig['options']>;

function parseOptions(flags: Flags): ParseOptions {
  const out: ParseOptions = {};
  for (const [name, f] of Object.entries(flags)) out[name] = { type: f.type, ...(f.multiple ? { multiple: true } : {}), ...(f.short ? { short: f.short } : {}) };
  return out;
}

/** Every flag `cmd` accepts (its own, the global ones, --help). */
export function flagsOf(cmd: Command): Flags {
  return { ...(cmd.flags ?? {}), ...(cmd.local === true ? {} : GLOBAL_FLAGS), ...HELP_FLAG };
}

function readJson(text: string, flag: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`--${flag} must be JSON, @file or @- (stdin): ${err instanceof Error ? err.message : String(err)}`);
  }
}

function readArgFile(path: string, flag: string): string {
  try {
    return readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (err) {
    throw new UsageError(`--${flag}: cannot read ${path === '-' ? 'stdin' : path}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Parses `argv` for `cmd` (strictly, unless it parses its own) and builds its context. */
export function context(cmd: Command, argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Ctx {
  const parsed = cmd.rawArgs === true ? { values: {}, positionals: [] } : parseArgs({ args: [...argv], options: parseOptions(flagsOf(cmd)), strict: true, allowPositionals: true });
  const values = parsed.values as Record<string, unknown>;
  const str = (flag: string) => (typeof values[flag] === 'string' ? (values[flag] as string) : undefined);
  const url = resolveUrl(str('url'), env);
  let key: KeyLookup | undefined;
  let client: ActorflowClient | undefined;
  const ctx: Ctx = {
    command: cmd,
    argv,
    positionals: parsed.positionals,
    values,
    url,
    // Looked up on first use: serve and agent never read a key file.
    get key() {
      return (key ??= resolveKey(str('key'), env));
    },
    get client() {
      if (client !== undefined) return client;
      const k = ctx.key.key;
      const tls = resolveTls({ ca: str('ca'), clientCert: str('client-cert'), clientKey: str('client-key') }, env);
      return (client = createClient({ url, ...(k === undefined ? {} : { key: k }), ...(tls === undefined ? {} : { fetch: tlsFetch(tls) }) }));
    },
    json: values['json'] === true,
    arg(i, name) {
      const v = parsed.positionals[i];
      if (v === undefined || v === '') throw new UsageError(`missing <${name}>`);
      return v;
    },
    str,
    bool: (flag) => values[flag] === true,
    strs: (flag) => (Array.isArray(values[flag]) ? (values[flag] as string[]) : []),
    int(flag, min = 0) {
      const v = str(flag);
      if (v === undefined) return undefined;
      const n = Number(v);
      if (!Number.isInteger(n) || n < min) throw new UsageError(`--${flag} must be an integer ≥ ${min}`);
      return n;
    },
    jsonValue(flag) {
      const v = str(flag);
      if (v === undefined) return undefined;
      return readJson(v.startsWith('@') ? readArgFile(v.slice(1), flag) : v, flag);
    },
    duration(flag) {
      const v = str(flag);
      if (v === undefined) return undefined;
      try {
        return toMs(v, `--${flag}`);
      } catch (err) {
        throw new UsageError(err instanceof Error ? err.message : String(err));
      }
    },
    out: (text) => void process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
    err: (text) => void process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
  };
  return ctx;
}

/** Node's parseArgs errors (`ERR_PARSE_ARGS_*`) as one line naming the command, with a suggestion. */
function parseArgsMessage(err: Error & { code: string }, cmd: Command): string {
  const option = /'(-[^' ]+)/.exec(err.message)?.[1] ?? '';
  const flags = Object.keys(flagsOf(cmd)).map((f) => `--${f}`);
  if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `unknown option ${option} for "${cmd.name}"${didYouMean(option, flags, (s) => s)}`;
  if (err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    return /does not take/.test(err.message) ? `option ${option} of "${cmd.name}" takes no value` : `option ${option} of "${cmd.name}" needs a value`;
  }
  return `${err.message} (command "${cmd.name}")`;
}

const isParseArgsError = (err: unknown): err is Error & { code: string } => err instanceof Error && String((err as Error & { code?: unknown }).code).startsWith('ERR_PARSE_ARGS');

/** Prints an error on stderr and answers its exit code. `cmd` names the help to see; `key` explains a 401. */
export function failure(err: unknown, cmd?: Command, key?: () => KeyLookup): ExitCode {
  const e = (msg: string) => process.stderr.write(`actorflow: ${msg}\n`);
  const help = `actorflow help${cmd === undefined ? '' : ` ${cmd.name}`}`;
  if (isParseArgsError(err) && cmd !== undefined) {
    e(`${parseArgsMessage(err, cmd)}; see ${help}`);
    return ExitCode.usage;
  }
  if (err instanceof UsageError || err instanceof ActorflowDurationError) {
    e(`${err.message}; see ${help}`);
    return ExitCode.usage;
  }
  if (err instanceof ActorflowExecutionError) {
    e(err.message);
    return ExitCode.executionFailed;
  }
  if (err instanceof ActorflowApiError) {
    const where = err.errors.map((x) => `\n  ${x.path || '/'}: ${x.message}`).join('');
    e(`${err.status === 0 ? '' : `${err.status} ${err.code}: `}${err.message}${where}`);
    if (err.status === 401 && key !== undefined) process.stderr.write(`  ${keyHint(key())}\n`);
    if (err.status === 404) return ExitCode.notFound;
    // 412: a stale `if-match` (documents put) is a conflict with a newer version.
    if (err.status === 409 || err.status === 412) return ExitCode.conflict;
    return ExitCode.error;
  }
  e(err instanceof Error ? err.message : String(err));
  return ExitCode.error;
}
