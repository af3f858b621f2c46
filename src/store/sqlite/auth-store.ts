/** @module store/sqlite/auth-store — API keys and the audit trail in the journal's SQLite file (shares its connections). */
import type { AsyncDb, Db } from './db.ts';
import type { ApiKeyRow, AuditQuery, AuditRow, AuthStore } from '../types.ts';

interface KeyDbRow {
  id: string;
  hash: string;
  name: string;
  tenant: string;
  scopes: string;
  rate_rps: number | null;
  rate_burst: number | null;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

interface AuditDbRow {
  seq: number;
  at: number;
  key_id: string | null;
  tenant: string;
  method: string;
  route: string;
  target_id: string | null;
  status: number;
  request_id: string;
}

function toKey(r: KeyDbRow): ApiKeyRow {
  return {
    id: r.id,
    hash: r.hash,
    name: r.name,
    tenant: r.tenant,
    scopes: JSON.parse(r.scopes) as string[],
    rateLimit: r.rate_rps === null || r.rate_burst === null ? null : { rps: r.rate_rps, burst: r.rate_burst },
    createdAt: r.created_at,
    lastUsedAt: r.last_used_at,
    revokedAt: r.revoked_at,
  };
}

const INSERT_AUDIT = 'INSERT INTO audit (at, key_id, tenant, method, route, target_id, status, request_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)';
const TOUCH_KEY = 'UPDATE api_keys SET last_used_at = ? WHERE id = ?';

/**
 * The `AuthStore` over an open, migrated database. Keys are written on the shared writer connection
 * (`db`), synchronously, so they fall between two group commits and a read that follows sees them.
 * The audit trail and keys' last use are batches nobody waits on: they go to the committer's worker
 * thread (`committer`), in order with the group commits, without an fsync of their own (the next
 * durable commit's covers them). On the main thread a batch of a few hundred entries held the event
 * loop 3-20 ms every 250 ms under load (bench/RESULTS.md, "The audit trail off the main thread").
 */
export function createSqliteAuthStore(db: Db, committer: AsyncDb): AuthStore {
  return {
    listKeys: async () => (await db.all<KeyDbRow>('SELECT * FROM api_keys ORDER BY id')).map(toKey),
    insertKey: (k) =>
      db.run('INSERT INTO api_keys VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)', [
        k.id, k.hash, k.name, k.tenant, JSON.stringify(k.scopes), k.rateLimit?.rps ?? null, k.rateLimit?.burst ?? null,
        k.createdAt, k.lastUsedAt, k.revokedAt,
      ]),
    revokeKey: (id, at) => db.run('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL', [at, id]),
    touchKeys: async (lastUsed) => {
      if (lastUsed.size === 0) return;
      await committer.write([{ sql: TOUCH_KEY, rows: [...lastUsed].map(([id, at]) => [at, id]) }], { relaxed: true });
    },
    appendAudit: async (rows) => {
      if (rows.length === 0) return;
      const values = rows.map((r) => [r.at, r.keyId, r.tenant, r.method, r.route, r.targetId, r.status, r.requestId]);
      await committer.write([{ sql: INSERT_AUDIT, rows: values }], { relaxed: true });
    },
    listAudit: async (q: AuditQuery) => {
      const where: string[] = [];
      const params: unknown[] = [];
      const add = (sql: string, v: unknown): void => {
        where.push(sql);
        params.push(v);
      };
      if (q.tenant !== undefined) add('tenant = ?', q.tenant);
      if (q.keyId !== undefined) add('key_id = ?', q.keyId);
      if (q.route !== undefined) add('route = ?', q.route);
      if (q.from !== undefined) add('at >= ?', q.from);
      if (q.to !== undefined) add('at < ?', q.to);
      if (q.beforeSeq !== undefined) add('seq < ?', q.beforeSeq);
      params.push(q.limit);
      const rows = await db.all<AuditDbRow>(
        `SELECT * FROM audit ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT ?`,
        params,
      );
      return rows.map((r) => ({
        seq: r.seq,
        at: r.at,
        keyId: r.key_id,
        tenant: r.tenant,
        method: r.method,
        route: r.route,
        targetId: r.target_id,
        status: r.status,
        requestId: r.request_id,
      }));
    },
  };
}
