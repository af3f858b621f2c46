/** @module store/sqlite/http-agent-store — registrations of HTTP push agents in the journal's SQLite file. */
import type { Db } from './db.ts';
import type { HttpAgentRow, HttpAgentStore } from '../types.ts';

interface HttpAgentDbRow {
  id: string;
  tenant: string;
  name: string;
  kinds: string;
  url: string;
  secret: string;
  concurrency: number;
  timeout_ms: number;
  created_at: number;
}

const toRow = (r: HttpAgentDbRow): HttpAgentRow => ({
  id: r.id,
  tenant: r.tenant,
  name: r.name,
  kinds: JSON.parse(r.kinds) as string[],
  url: r.url,
  secret: r.secret,
  concurrency: r.concurrency,
  timeoutMs: r.timeout_ms,
  createdAt: r.created_at,
});

/** The `HttpAgentStore` over an open, migrated database (shares the journal's writer connection). */
export function createSqliteHttpAgentStore(db: Db): HttpAgentStore {
  return {
    listHttpAgents: async () => (await db.all<HttpAgentDbRow>('SELECT * FROM http_agents ORDER BY id')).map(toRow),
    insertHttpAgent: (a) =>
      db.run('INSERT INTO http_agents VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)', [a.id, a.tenant, a.name, JSON.stringify(a.kinds), a.url, a.secret, a.concurrency, a.timeoutMs, a.createdAt]),
    deleteHttpAgent: (id) => db.run('DELETE FROM http_agents WHERE id = ?', [id]),
  };
}
