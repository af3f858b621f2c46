/** @module api/auth/key-ring — API keys: generation, hashing, the in-memory hash → key map, batched last-used writes. */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { ulid } from '../../common/ids.ts';
import type { Logger } from '../../common/logger.ts';
import { localWrites, type SharedWrites } from '../../common/shared-writes.ts';
import type { ApiKeyRow, AuthStore } from '../../store/types.ts';
import { widestScope } from './scopes.ts';
import type { Principal, RateLimit, Scope } from './types.ts';

/** Prefix of every generated key (easy to spot in a leaked-secret scan). */
export const KEY_PREFIX = 'afk_';

/** A key as listed (`GET /api-keys`): never the secret nor its hash. */
export interface ApiKeyView {
  readonly id: string;
  readonly name: string;
  readonly tenant: string;
  readonly scopes: readonly string[];
  readonly rateLimit: RateLimit | null;
  readonly createdAt: string;
  readonly lastUsedAt: string | null;
}

export interface NewKey {
  readonly name: string;
  readonly tenant: string;
  readonly scopes: readonly Scope[];
  readonly rateLimit?: RateLimit | undefined;
  /** Use this secret instead of a random one (the `ACTORFLOW_ADMIN_KEY` bootstrap). */
  readonly secret?: string | undefined;
}

interface Entry {
  readonly row: ApiKeyRow;
  readonly hash: Buffer;
  readonly principal: Principal;
}

/** SHA-256 of a key (hex). A key carries 256 random bits, so a fast hash is enough. */
export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** A fresh random key: `afk_` + 43 base64url characters (256 bits). */
export function generateKey(): string {
  return KEY_PREFIX + randomBytes(32).toString('base64url');
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function toKeyView(row: ApiKeyRow): ApiKeyView {
  return {
    id: row.id,
    name: row.name,
    tenant: row.tenant,
    scopes: row.scopes,
    rateLimit: row.rateLimit,
    createdAt: new Date(row.createdAt).toISOString(),
    lastUsedAt: iso(row.lastUsedAt),
  };
}

export interface KeyRing {
  /** The principal of a presented key; undefined when unknown or revoked. A map hit, no I/O. */
  lookup(key: string, now: number): Principal | undefined;
  /** Stores a new key, then adds it to the map; returns the row and the secret (shown once). */
  create(k: NewKey, now: number): Promise<{ row: ApiKeyRow; key: string }>;
  /** Revokes a key of `tenant` (any tenant when undefined); false when unknown or already revoked. */
  revoke(id: string, tenant: string | undefined, now: number): Promise<boolean>;
  /** Active keys, by id. */
  list(): ApiKeyRow[];
  /** Active keys right now. */
  count(): number;
  /** Writes pending last-used timestamps (one transaction). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** A write of API keys (common/shared-writes.ts: in cluster mode every node applies it). */
export type KeyOp =
  | { readonly kind: 'insert'; readonly row: ApiKeyRow }
  | { readonly kind: 'revoke'; readonly id: string; readonly tenant: string | undefined; readonly at: number };

/** How often last-used timestamps are written. */
const TOUCH_FLUSH_MS = 1000;

/**
 * Loads every active key into memory. Lookups hash the presented key and hit the map, then
 * compare the digests with `timingSafeEqual`; `lastUsedAt` is updated in memory and written in
 * the background once a second.
 */
export async function createKeyRing(store: AuthStore, logger: Logger, writes: SharedWrites = localWrites): Promise<KeyRing> {
  const byHash = new Map<string, Entry>();
  const byId = new Map<string, Entry>();
  /** Every stored key by hash, revoked ones included (a hash is unique in the store). */
  const stored = new Map<string, ApiKeyRow>();
  const dirty = new Map<string, number>();
  const add = (row: ApiKeyRow): void => {
    stored.set(row.hash, row);
    const scope = widestScope(row.scopes);
    if (row.revokedAt !== null || scope === undefined) return;
    const principal: Principal = { keyId: row.id, tenant: row.tenant, scope, limiterId: row.id, rateLimit: row.rateLimit ?? undefined };
    const entry = { row, hash: Buffer.from(row.hash, 'hex'), principal };
    byHash.set(row.hash, entry);
    byId.set(row.id, entry);
  };
  for (const row of await store.listKeys()) add(row);

  /** Applies a write of keys here (on every node in cluster mode): deterministic, idempotent. */
  const apply = async (op: KeyOp): Promise<ApiKeyRow | boolean> => {
    if (op.kind === 'insert') {
      // The same secret stored already (applied before, or nodes booting with one ACTORFLOW_ADMIN_KEY): that row.
      const known = stored.get(op.row.hash);
      if (known !== undefined) return known;
      await store.insertKey(op.row);
      add(op.row);
      return op.row;
    }
    const entry = byId.get(op.id);
    if (entry === undefined || (op.tenant !== undefined && entry.row.tenant !== op.tenant)) return false;
    // Out of the map first: the key stops working before the write lands.
    byId.delete(op.id);
    byHash.delete(entry.row.hash);
    dirty.delete(op.id);
    entry.row.revokedAt = op.at;
    await store.revokeKey(op.id, op.at);
    return true;
  };
  const write = writes.channel<KeyOp, ApiKeyRow | boolean>('api-keys', apply);
  // Cluster mode: keys made and revoked elsewhere meanwhile first (the bootstrap counts the active keys).
  await writes.caughtUp('api-keys');

  let flushing: Promise<void> = Promise.resolve();
  const flush = (): Promise<void> => {
    if (dirty.size === 0) return flushing;
    const batch = new Map(dirty);
    dirty.clear();
    flushing = flushing.then(() => store.touchKeys(batch)).catch((err: unknown) => logger.warn('could not write key last-used times', { error: String(err) }));
    return flushing;
  };
  const timer = setInterval(() => void flush(), TOUCH_FLUSH_MS);
  timer.unref();

  return {
    lookup: (key, now) => {
      if (key.length > 512) return undefined;
      const digest = hashKey(key);
      const entry = byHash.get(digest);
      if (entry === undefined || !timingSafeEqual(entry.hash, Buffer.from(digest, 'hex'))) return undefined;
      // Coarse (1 s) so a hot key dirties the map once a second, not once a request.
      if (entry.row.lastUsedAt === null || now - entry.row.lastUsedAt >= TOUCH_FLUSH_MS) {
        entry.row.lastUsedAt = now;
        dirty.set(entry.row.id, now);
      }
      return entry.principal;
    },
    create: async (k, now) => {
      const key = k.secret ?? generateKey();
      const row: ApiKeyRow = {
        id: `key_${ulid(now)}`,
        hash: hashKey(key),
        name: k.name,
        tenant: k.tenant,
        scopes: [...k.scopes],
        rateLimit: k.rateLimit ?? null,
        createdAt: now,
        lastUsedAt: null,
        revokedAt: null,
      };
      return { row: (await write({ kind: 'insert', row })) as ApiKeyRow, key };
    },
    revoke: async (id, tenant, now) => {
      const entry = byId.get(id);
      if (entry === undefined || (tenant !== undefined && entry.row.tenant !== tenant)) return false;
      return (await write({ kind: 'revoke', id, tenant, at: now })) as boolean;
    },
    list: () => [...byId.values()].map((e) => e.row),
    count: () => byId.size,
    flush,
    close: async () => {
      clearInterval(timer);
      await flush();
    },
  };
}
