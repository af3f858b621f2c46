/** @module store/sqlite/template-store — workflow templates in the journal's SQLite file (shares its writer connection). */
import type { Db } from './db.ts';
import type { TemplateRow, TemplateStore } from '../types.ts';

interface TemplateDbRow {
  tenant: string;
  name: string;
  version: number;
  document: string;
  parent_name: string | null;
  parent_version: number | null;
  created_at: number;
  deleted_at: number | null;
}

const toRow = (r: TemplateDbRow): TemplateRow => ({
  tenant: r.tenant,
  name: r.name,
  version: r.version,
  document: JSON.parse(r.document) as Record<string, unknown>,
  parent: r.parent_name === null || r.parent_version === null ? null : { name: r.parent_name, version: r.parent_version },
  createdAt: r.created_at,
  deletedAt: r.deleted_at,
});

/** The `TemplateStore` over an open, migrated database. */
export function createSqliteTemplateStore(db: Db): TemplateStore {
  return {
    listAllTemplates: async () => (await db.all<TemplateDbRow>('SELECT * FROM workflow_templates ORDER BY tenant, name, version')).map(toRow),
    insertTemplate: (t) =>
      db.run(
        'INSERT INTO workflow_templates (tenant, name, version, document, parent_name, parent_version, created_at, deleted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
        [t.tenant, t.name, t.version, JSON.stringify(t.document), t.parent?.name ?? null, t.parent?.version ?? null, t.createdAt, t.deletedAt],
      ),
    markTemplateDeleted: (tenant, name, version, at) =>
      version === undefined
        ? db.run('UPDATE workflow_templates SET deleted_at = ? WHERE tenant = ? AND name = ? AND deleted_at IS NULL', [at, tenant, name])
        : db.run('UPDATE workflow_templates SET deleted_at = ? WHERE tenant = ? AND name = ? AND version = ? AND deleted_at IS NULL', [at, tenant, name, version]),
  };
}
