/** @module api/auth/bootstrap — the first admin key: from ACTORFLOW_ADMIN_KEY, or generated once into `<data dir>/admin.key` (0600). */
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KeyRing } from './key-ring.ts';
import { DEFAULT_TENANT, Scope } from './types.ts';

/** File the generated admin key is written to, inside the data directory. */
export const ADMIN_KEY_FILE = 'admin.key';
/** Shortest accepted `ACTORFLOW_ADMIN_KEY`. */
export const MIN_ADMIN_KEY_CHARS = 16;

export interface BootstrapOptions {
  readonly keys: KeyRing;
  readonly dataDir: string;
  /** `ACTORFLOW_ADMIN_KEY`: made an admin key of tenant `default` unless it already is one. */
  readonly adminKey?: string | undefined;
  /** Shows a generated key once (the console; never the structured log). */
  readonly print: (text: string) => void;
}

/** What happened at boot; the key itself is never part of it. */
export type BootstrapResult =
  | { readonly kind: 'existing' }
  | { readonly kind: 'from-env'; readonly keyId: string | null }
  | { readonly kind: 'generated'; readonly keyId: string; readonly file: string };

/**
 * Ensures an admin can get in. A given `adminKey` is added when no active key has that secret.
 * Otherwise, when no active key exists at all, one is generated, written to
 * `<dataDir>/admin.key` with mode 0600 and printed once.
 */
export async function bootstrapAdminKey(o: BootstrapOptions): Promise<BootstrapResult> {
  const now = Date.now();
  if (o.adminKey !== undefined && o.adminKey !== '') {
    if (o.adminKey.length < MIN_ADMIN_KEY_CHARS) throw new Error(`ACTORFLOW_ADMIN_KEY must have at least ${MIN_ADMIN_KEY_CHARS} characters`);
    if (o.keys.lookup(o.adminKey, now) !== undefined) return { kind: 'from-env', keyId: null };
    const { row } = await o.keys.create({ name: 'bootstrap admin (ACTORFLOW_ADMIN_KEY)', tenant: DEFAULT_TENANT, scopes: [Scope.admin], secret: o.adminKey }, now);
    return { kind: 'from-env', keyId: row.id };
  }
  if (o.keys.count() > 0) return { kind: 'existing' };
  const { row, key } = await o.keys.create({ name: 'bootstrap admin', tenant: DEFAULT_TENANT, scopes: [Scope.admin] }, now);
  const file = join(o.dataDir, ADMIN_KEY_FILE);
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  o.print(`admin API key (shown once; also in ${file}): ${key}\n`);
  return { kind: 'generated', keyId: row.id, file };
}
