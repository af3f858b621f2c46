/** @module store/sqlite/tenant-store — tenants and their quotas in the journal's SQLite file. */
import type { Db } from './db.ts';
import type { TenantRow, TenantStore } from '../types.ts';

interface TenantDbRow {
  slug: string;
  name: string;
  max_running: number | null;
  rps: number | null;
  created_at: number;
  updated_at: number;
}

const toRow = (r: TenantDbRow): TenantRow => ({
  slug: r.slug,
  name: r.name,
  maxRunning: r.max_running,
  rps: r.rps,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** The `TenantStore` over an open, migrated database (shares the journal's writer connection). */
export function createSqliteTenantStore(db: Db): TenantStore {
  return {
    listTenants: async () => (await db.all<TenantDbRow>('SELECT * FROM tenants ORDER BY slug')).map(toRow),
    insertTenant: (t) =>
      db.run('INSERT INTO tenants (slug, name, max_running, rps, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)', [t.slug, t.name, t.maxRunning, t.rps, t.createdAt, t.updatedAt]),
    updateTenant: (t) => db.run('UPDATE tenants SET name = ?, max_running = ?, rps = ?, updated_at = ? WHERE slug = ?', [t.name, t.maxRunning, t.rps, t.updatedAt, t.slug]),
  };
}
