/**
 * @module tenants/tenant-registry — the tenants and their quotas, held in memory (every request's
 * rate limit and every start's quota read them) and written through to the store.
 */
import { ConflictError, ErrorCode, NotFoundError } from '../common/errors.ts';
import type { Page } from '../common/execution.ts';
import { localWrites, type SharedWrites } from '../common/shared-writes.ts';
import type { TenantRow, TenantStore } from '../store/types.ts';

/** The tenant that always exists: the server's operators, and everything made without auth. */
export const DEFAULT_TENANT_SLUG = 'default';

/** Quotas as given: a number sets it, null removes it, absent keeps it (a patch) or means none (a create). */
export interface TenantLimitsInput {
  readonly maxRunning?: number | null | undefined;
  readonly rps?: number | null | undefined;
}

export interface NewTenant {
  readonly slug: string;
  readonly name: string;
  readonly limits?: TenantLimitsInput | undefined;
}

export interface TenantPatch {
  readonly name?: string | undefined;
  readonly limits?: TenantLimitsInput | undefined;
}

/** A token bucket over all of a tenant's credentials. */
export interface TenantRate {
  readonly rps: number;
  readonly burst: number;
}

export interface TenantRegistry {
  /** Whether `slug` names a tenant. */
  has(slug: string): boolean;
  /** The tenant; `tenant_not_found` when unknown. */
  get(slug: string): TenantRow;
  /** Tenants by slug; the cursor is the last slug of the previous page. */
  list(page: { readonly limit: number; readonly cursor?: string | undefined }): Page<TenantRow>;
  /** `tenant_exists` when the slug is taken (also by a create still being written). */
  create(t: NewTenant, now: number): Promise<TenantRow>;
  /** `tenant_not_found` when unknown. */
  update(slug: string, patch: TenantPatch, now: number): Promise<TenantRow>;
  /** Its `maxRunning`; undefined = no limit (unknown tenants have none). */
  maxRunning(slug: string): number | undefined;
  /** Its request rate over all its credentials; undefined = no limit. A burst is one second's worth. */
  rate(slug: string): TenantRate | undefined;
}

/** A write of tenants (common/shared-writes.ts: in cluster mode every node applies it, in log order). */
export type TenantOp =
  | { readonly kind: 'create'; readonly row: TenantRow }
  /** Merged into the tenant as the apply finds it: racing patches of other fields both hold. */
  | { readonly kind: 'update'; readonly slug: string; readonly patch: TenantPatch; readonly at: number };

const rateOf = (rps: number | null): TenantRate | undefined => (rps === null ? undefined : { rps, burst: Math.max(1, Math.ceil(rps)) });

/** A quota after an input: given (number or null) replaces, absent keeps `current`. */
const merged = (given: number | null | undefined, current: number | null): number | null => (given === undefined ? current : given);

/** Loads every tenant; makes sure `default` exists (its migration inserts it; a store that lost it gets it back). */
export async function createTenantRegistry(store: TenantStore, now: number, writes: SharedWrites = localWrites): Promise<TenantRegistry> {
  const bySlug = new Map<string, TenantRow>();
  const rates = new Map<string, TenantRate>();
  const put = (row: TenantRow): void => {
    bySlug.set(row.slug, row);
    const r = rateOf(row.rps);
    if (r === undefined) rates.delete(row.slug);
    else rates.set(row.slug, r);
  };
  for (const row of await store.listTenants()) put(row);
  if (!bySlug.has(DEFAULT_TENANT_SLUG)) {
    const row: TenantRow = { slug: DEFAULT_TENANT_SLUG, name: DEFAULT_TENANT_SLUG, maxRunning: null, rps: null, createdAt: now, updatedAt: now };
    await store.insertTenant(row);
    put(row);
  }
  /** Slugs being inserted: a second create of one is `tenant_exists` before the first's write lands. */
  const creating = new Set<string>();

  const get = (slug: string): TenantRow => {
    const row = bySlug.get(slug);
    if (row === undefined) throw new NotFoundError(ErrorCode.tenantNotFound, `no tenant ${slug}`);
    return row;
  };

  /** Applies a write of tenants here (on every node in cluster mode): deterministic, idempotent. */
  const apply = async (op: TenantOp): Promise<TenantRow> => {
    if (op.kind === 'create') {
      const known = bySlug.get(op.row.slug);
      // Applied before (a restart between the apply and the record of its position): the same row.
      if (known !== undefined && known.createdAt === op.row.createdAt && known.name === op.row.name) return known;
      if (known !== undefined) throw new ConflictError(ErrorCode.tenantExists, `tenant ${op.row.slug} exists`);
      await store.insertTenant(op.row);
      put(op.row);
      return op.row;
    }
    const cur = get(op.slug);
    const row: TenantRow = {
      ...cur,
      name: op.patch.name ?? cur.name,
      maxRunning: merged(op.patch.limits?.maxRunning, cur.maxRunning),
      rps: merged(op.patch.limits?.rps, cur.rps),
      updatedAt: op.at,
    };
    await store.updateTenant(row);
    put(row);
    return row;
  };
  const write = writes.channel<TenantOp, TenantRow>('tenants', apply);
  await writes.caughtUp('tenants');

  return {
    has: (slug) => bySlug.has(slug),
    get,
    list: ({ limit, cursor }) => {
      const slugs = [...bySlug.keys()].filter((s) => cursor === undefined || s > cursor).sort();
      const kept = slugs.slice(0, limit);
      return { items: kept.map(get), nextCursor: slugs.length > limit ? (kept[kept.length - 1] ?? null) : null };
    },
    create: async (t, at) => {
      if (bySlug.has(t.slug) || creating.has(t.slug)) throw new ConflictError(ErrorCode.tenantExists, `tenant ${t.slug} exists`);
      const row: TenantRow = { slug: t.slug, name: t.name, maxRunning: t.limits?.maxRunning ?? null, rps: t.limits?.rps ?? null, createdAt: at, updatedAt: at };
      creating.add(t.slug);
      try {
        return await write({ kind: 'create', row });
      } finally {
        creating.delete(t.slug);
      }
    },
    update: async (slug, patch, at) => {
      get(slug);
      return write({ kind: 'update', slug, patch, at });
    },
    maxRunning: (slug) => bySlug.get(slug)?.maxRunning ?? undefined,
    rate: (slug) => rates.get(slug),
  };
}
