/**
 * @module store/sqlite/document-store — versioned documents on SQLite: the reads, the statements a journal
 * commit writes them with, and the numbering of versions (`head`/`reserve`/`release`) on the main thread.
 */
import { msgpackCodec as codec } from '../../common/codec.ts';
import type { Db, WriteStep } from './db.ts';
import type { DocumentHead, DocumentQuery, DocumentRow, DocumentStatus, DocumentStore, DocumentVersionRow, DocumentWrite } from '../types.ts';

interface DocumentDbRow {
  id: string;
  tenant: string;
  scope_type: string;
  scope_id: string;
  type: string;
  title: string;
  status: string;
  version: number;
  execution_id: string | null;
  step_id: string | null;
  created_at: number;
  updated_at: number;
}

interface VersionDbRow {
  version: number;
  title: string;
  status: string;
  execution_id: string | null;
  step_id: string | null;
  created_at: number;
  content?: Buffer;
}

/** The head: inserted with version 1, moved forward by later versions (never back: versions may commit out of order). */
const UPSERT_DOCUMENT =
  'INSERT INTO documents (id, tenant, scope_type, scope_id, type, title, status, version, execution_id, step_id, created_at, updated_at)' +
  ' VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)' +
  ' ON CONFLICT(id) DO UPDATE SET title = excluded.title, status = excluded.status, version = excluded.version,' +
  ' execution_id = excluded.execution_id, step_id = excluded.step_id, updated_at = excluded.updated_at WHERE excluded.version > documents.version';
/** A version taken twice fails the transaction on the primary key: a version is never overwritten. */
const INSERT_VERSION = 'INSERT INTO document_versions (document_id, version, title, status, content, execution_id, step_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)';
const HEAD_COLUMNS = 'id, tenant, scope_type, scope_id, type, title, status, version, execution_id, step_id, created_at, updated_at';
const VERSION_COLUMNS = 'version, title, status, execution_id, step_id, created_at';
/** `a, b` → `t.a, t.b` (a column list of a join). */
const of = (table: string, columns: string): string => columns.split(', ').map((c) => `${table}.${c}`).join(', ');

/** The committer's statements for `writes` (one journal transaction). */
export function documentSteps(writes: readonly DocumentWrite[]): WriteStep[] {
  return [
    {
      sql: UPSERT_DOCUMENT,
      rows: writes.map((w) => [w.id, w.tenant, w.scopeType, w.scopeId, w.type, w.title, w.status, w.version, w.executionId, w.stepId, w.createdAt, w.at]),
    },
    { sql: INSERT_VERSION, rows: writes.map((w) => [w.id, w.version, w.title, w.status, codec.encode(w.content), w.executionId, w.stepId, w.at]) },
  ];
}

function toRow(r: DocumentDbRow): DocumentRow {
  return {
    id: r.id,
    tenant: r.tenant,
    scopeType: r.scope_type,
    scopeId: r.scope_id,
    type: r.type,
    title: r.title,
    status: r.status as DocumentStatus,
    version: r.version,
    executionId: r.execution_id,
    stepId: r.step_id,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function toVersion(r: VersionDbRow): DocumentVersionRow {
  return { version: r.version, title: r.title, status: r.status as DocumentStatus, executionId: r.execution_id, stepId: r.step_id, createdAt: r.created_at };
}

/** Documents over the main thread's read-only connection; their rows are written by journal commits (`documentSteps`). */
export function createSqliteDocumentStore(reader: Db): DocumentStore {
  /** Versions reserved and not yet settled, by document: the highest one's head, and how many are out. */
  const reserved = new Map<string, { head: DocumentHead; count: number }>();
  return {
    head(tenant, id) {
      const held = reserved.get(id)?.head;
      if (held !== undefined) return held.tenant === tenant ? held : undefined;
      // Synchronous on purpose: the version is numbered in the same turn as the check, so two writers cannot both take it.
      const r = reader.statement(`SELECT ${HEAD_COLUMNS} FROM documents WHERE id = ?`).get([id]) as DocumentDbRow | undefined;
      return r === undefined || r.tenant !== tenant ? undefined : toRow(r);
    },
    reserve(w) {
      const entry = reserved.get(w.id);
      const head: DocumentHead = { id: w.id, tenant: w.tenant, scopeType: w.scopeType, scopeId: w.scopeId, type: w.type, title: w.title, status: w.status, version: w.version, createdAt: w.createdAt };
      if (entry === undefined) reserved.set(w.id, { head, count: 1 });
      else {
        entry.count++;
        if (w.version > entry.head.version) entry.head = head;
      }
    },
    release(w) {
      const entry = reserved.get(w.id);
      if (entry === undefined) return;
      if (--entry.count <= 0) reserved.delete(w.id);
    },
    async get(tenant, id) {
      const r = await reader.get<DocumentDbRow & { content: Buffer }>(
        `SELECT ${of('d', HEAD_COLUMNS)}, v.content FROM documents d JOIN document_versions v ON v.document_id = d.id AND v.version = d.version WHERE d.id = ? AND d.tenant = ?`,
        [id, tenant],
      );
      return r && { ...toRow(r), content: codec.decode(r.content) };
    },
    async getVersion(tenant, id, version) {
      const r = await reader.get<VersionDbRow & { content: Buffer }>(
        `SELECT ${of('v', VERSION_COLUMNS)}, v.content FROM document_versions v JOIN documents d ON d.id = v.document_id WHERE v.document_id = ? AND v.version = ? AND d.tenant = ?`,
        [id, version, tenant],
      );
      return r && { ...toVersion(r), content: codec.decode(r.content) };
    },
    async listVersions(tenant, id, afterVersion, limit) {
      const rows = await reader.all<VersionDbRow>(
        `SELECT ${VERSION_COLUMNS} FROM document_versions WHERE document_id = (SELECT id FROM documents WHERE id = ? AND tenant = ?) AND version > ? ORDER BY version LIMIT ?`,
        [id, tenant, afterVersion, limit],
      );
      return rows.map(toVersion);
    },
    async list(q: DocumentQuery) {
      const where = ['tenant = ?'];
      const params: unknown[] = [q.tenant];
      if (q.scopeType !== undefined) (where.push('scope_type = ?'), params.push(q.scopeType));
      if (q.scopeId !== undefined) (where.push('scope_id = ?'), params.push(q.scopeId));
      if (q.type !== undefined) (where.push('type = ?'), params.push(q.type));
      if (q.status !== undefined) (where.push('status = ?'), params.push(q.status));
      if (q.executionId !== undefined) (where.push('id IN (SELECT document_id FROM document_versions WHERE execution_id = ?)'), params.push(q.executionId));
      if (q.beforeId !== undefined) (where.push('id < ?'), params.push(q.beforeId));
      params.push(q.limit);
      const rows = await reader.all<DocumentDbRow>(`SELECT ${HEAD_COLUMNS} FROM documents WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT ?`, params);
      return rows.map(toRow);
    },
  };
}
