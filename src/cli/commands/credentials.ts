/** @module cli/commands/credentials — which server and which API key a command uses, and where the key came from. */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ClientTls } from '../../client/tls-fetch.ts';

/** The server origin: `--url`, else ACTORFLOW_URL, else http://127.0.0.1:8080. */
export function resolveUrl(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  return flag ?? env['ACTORFLOW_URL'] ?? 'http://127.0.0.1:8080';
}

/** The key a command sends (if any) and where it was found, or where it was looked for. */
export interface KeyLookup {
  readonly key: string | undefined;
  /** `--key`, `$ACTORFLOW_KEY` or the admin key file's path. */
  readonly source: string | undefined;
  /** The admin key file looked at: `$ACTORFLOW_DATA_DIR/admin.key`, else `./data/admin.key` (absolute). */
  readonly file: string;
}

/** The credential: `--key`, else ACTORFLOW_KEY, else the admin key a local server wrote to its data dir. */
export function resolveKey(flag: string | undefined, env: NodeJS.ProcessEnv, cwd = process.cwd()): KeyLookup {
  // The same data dir `actorflow serve` uses, so the CLI finds the key of a server started here.
  const file = resolve(cwd, env['ACTORFLOW_DATA_DIR'] || './data', 'admin.key');
  if (flag !== undefined) return { key: flag, source: '--key', file };
  if (env['ACTORFLOW_KEY']) return { key: env['ACTORFLOW_KEY'], source: '$ACTORFLOW_KEY', file };
  const key = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
  return key === '' ? { key: undefined, source: undefined, file } : { key, source: file, file };
}

/** What to tell a user whose request was refused with 401. */
export function keyHint(k: KeyLookup): string {
  if (k.key !== undefined) return `the key from ${k.source ?? '?'} was refused; pass another with --key KEY or ACTORFLOW_KEY=KEY`;
  return [
    `no API key was sent: no --key flag, no ACTORFLOW_KEY variable, and ${k.file} ${existsSync(k.file) ? 'is empty' : 'does not exist'}.`,
    'Pass a key with --key KEY or ACTORFLOW_KEY=KEY. A server writes its admin key to <data dir>/admin.key on first boot;',
    'run the CLI where the server runs, or point ACTORFLOW_DATA_DIR at its data dir.',
  ].join('\n  ');
}

/** Files of an HTTPS server's CA and of a client certificate (mTLS), from flags or variables. */
export interface TlsFlags {
  readonly ca: string | undefined;
  readonly clientCert: string | undefined;
  readonly clientKey: string | undefined;
}

/** `--ca` (ACTORFLOW_CA), `--client-cert` and `--client-key` (ACTORFLOW_CLIENT_CERT, ACTORFLOW_CLIENT_KEY) as PEM texts; undefined when none is set. */
export function resolveTls(flags: TlsFlags, env: NodeJS.ProcessEnv): ClientTls | undefined {
  const pick = (flag: string | undefined, name: string): string | undefined => flag ?? (env[name] || undefined);
  const ca = pick(flags.ca, 'ACTORFLOW_CA');
  const cert = pick(flags.clientCert, 'ACTORFLOW_CLIENT_CERT');
  const key = pick(flags.clientKey, 'ACTORFLOW_CLIENT_KEY');
  if ((cert === undefined) !== (key === undefined)) throw new TlsFlagsError('--client-cert and --client-key (ACTORFLOW_CLIENT_CERT, ACTORFLOW_CLIENT_KEY) go together');
  if (ca === undefined && cert === undefined) return undefined;
  const read = (what: string, file: string): string => {
    try {
      return readFileSync(file, 'utf8');
    } catch (err) {
      throw new TlsFlagsError(`cannot read the ${what} file ${file}: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  return {
    ...(ca === undefined ? {} : { ca: read('CA', ca) }),
    ...(cert === undefined || key === undefined ? {} : { cert: read('client certificate', cert), key: read('client key', key) }),
  };
}

/** A TLS flag that cannot be used (missing half, unreadable file). */
export class TlsFlagsError extends Error {
  override readonly name = 'TlsFlagsError';
}
