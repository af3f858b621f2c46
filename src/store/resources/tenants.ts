/** @module store/resources/tenants — the rows and the store interface of tenants and their limits (re-exported by store/types.ts). */

/** A tenant (src/tenants): its display name and quotas; null = no limit. */
export interface TenantRow {
  slug: string;
  name: string;
  /** Non-terminal executions at most; a start past it is refused. */
  maxRunning: number | null;
  /** Requests per second over all its credentials. */
  rps: number | null;
  createdAt: number;
  updatedAt: number;
}

/** Tenants (the registry keeps them in memory). */
export interface TenantStore {
  /** Every tenant, by slug. */
  listTenants(): Promise<TenantRow[]>;
  insertTenant(row: TenantRow): Promise<void>;
  updateTenant(row: TenantRow): Promise<void>;
}
