/** @module store/sqlite/migrations — numbered, named schema steps; applied in order, recorded in schema_migrations. */
import type { Db } from './db.ts';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'journal-executions-snapshots-definitions',
    sql: `
      CREATE TABLE events (
        execution_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        type TEXT NOT NULL,
        ts INTEGER NOT NULL,
        step_id TEXT,
        data BLOB NOT NULL,
        PRIMARY KEY (execution_id, seq)
      ) WITHOUT ROWID;
      CREATE TABLE executions (
        id TEXT PRIMARY KEY,
        tenant TEXT NOT NULL,
        workflow TEXT NOT NULL,
        version INTEGER NOT NULL,
        status TEXT NOT NULL,
        input BLOB,
        output BLOB,
        error BLOB,
        current_steps TEXT NOT NULL,
        parent_id TEXT,
        parent_step_id TEXT,
        labels TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        started_at INTEGER,
        updated_at INTEGER NOT NULL,
        finished_at INTEGER,
        retry_attempt INTEGER NOT NULL,
        last_seq INTEGER NOT NULL,
        idem_key TEXT,
        idem_hash TEXT,
        definition BLOB
      );
      CREATE INDEX executions_tenant_id ON executions (tenant, id);
      CREATE INDEX executions_status ON executions (status);
      CREATE INDEX executions_parent ON executions (parent_id) WHERE parent_id IS NOT NULL;
      CREATE UNIQUE INDEX executions_idem ON executions (tenant, idem_key) WHERE idem_key IS NOT NULL;
      CREATE TABLE snapshots (
        execution_id TEXT PRIMARY KEY,
        seq INTEGER NOT NULL,
        data BLOB NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE definitions (
        tenant TEXT NOT NULL,
        name TEXT NOT NULL,
        version INTEGER NOT NULL,
        source TEXT NOT NULL,
        document TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        retired INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (tenant, name, version)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 2,
    name: 'api-keys-and-audit',
    sql: `
      CREATE TABLE api_keys (
        id TEXT PRIMARY KEY,
        hash TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        tenant TEXT NOT NULL,
        scopes TEXT NOT NULL,
        rate_rps REAL,
        rate_burst REAL,
        created_at INTEGER NOT NULL,
        last_used_at INTEGER,
        revoked_at INTEGER
      );
      CREATE TABLE audit (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        key_id TEXT,
        tenant TEXT NOT NULL,
        method TEXT NOT NULL,
        route TEXT NOT NULL,
        target_id TEXT,
        status INTEGER NOT NULL,
        request_id TEXT NOT NULL
      );
      CREATE INDEX audit_tenant ON audit (tenant, seq);
      CREATE INDEX audit_key ON audit (key_id, seq);
    `,
  },
  {
    version: 3,
    name: 'schedules',
    sql: `
      CREATE TABLE schedules (
        id TEXT PRIMARY KEY,
        tenant TEXT NOT NULL,
        workflow TEXT NOT NULL,
        input TEXT,
        cron TEXT,
        timezone TEXT,
        every_ms INTEGER,
        at INTEGER,
        enabled INTEGER NOT NULL,
        catch_up TEXT NOT NULL,
        overlap TEXT NOT NULL,
        next_run_at INTEGER,
        last_run_at INTEGER,
        last_execution_id TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX schedules_tenant_id ON schedules (tenant, id);
    `,
  },
  {
    version: 4,
    name: 'webhooks',
    sql: `
      CREATE TABLE webhooks (
        id TEXT PRIMARY KEY,
        tenant TEXT NOT NULL,
        url TEXT NOT NULL,
        events TEXT NOT NULL,
        secret TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE webhook_deliveries (
        id TEXT PRIMARY KEY,
        webhook_id TEXT NOT NULL,
        tenant TEXT NOT NULL,
        event_id TEXT NOT NULL,
        event_type TEXT NOT NULL,
        body TEXT NOT NULL,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        last_status_code INTEGER,
        last_error TEXT,
        next_attempt_at INTEGER,
        created_at INTEGER NOT NULL,
        delivered_at INTEGER
      );
      CREATE INDEX webhook_deliveries_hook ON webhook_deliveries (webhook_id, id);
      CREATE INDEX webhook_deliveries_open ON webhook_deliveries (status) WHERE status IN ('pending', 'failed');
    `,
  },
  {
    // Replaces the status index (same writes per commit, wider entries): covers the counts of one
    // tenant by status (`/status`), one seek per status, and still serves recovery's `status IN (…)`.
    version: 5,
    name: 'executions-status-tenant-index',
    sql: `
      DROP INDEX IF EXISTS executions_status;
      CREATE INDEX executions_status_tenant ON executions (status, tenant, id);
    `,
  },
  {
    // The earliest durable timer of an execution: recovery re-arms waiting executions from this
    // column alone and rebuilds them only when it is due (passivation, issue 12).
    version: 6,
    name: 'executions-next-due',
    sql: `ALTER TABLE executions ADD COLUMN next_due_at INTEGER;`,
  },
  {
    // HTTP push agents (issue 15): registrations survive a restart, with the secret their POSTs are signed with.
    version: 7,
    name: 'http-agents',
    sql: `
      CREATE TABLE http_agents (
        id TEXT PRIMARY KEY,
        tenant TEXT NOT NULL,
        name TEXT NOT NULL,
        kinds TEXT NOT NULL,
        url TEXT NOT NULL,
        secret TEXT NOT NULL,
        concurrency INTEGER NOT NULL,
        timeout_ms INTEGER NOT NULL,
        created_at INTEGER NOT NULL
      );
    `,
  },
  {
    // Tenants with quotas (issue 16). Every tenant the data already names (keys, executions, definitions,
    // schedules, webhooks, HTTP push agents) gets a row without limits, so what worked before keeps working;
    // `default` always exists.
    version: 10,
    name: 'tenants',
    sql: `
      CREATE TABLE tenants (
        slug TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        max_running INTEGER,
        rps REAL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      INSERT INTO tenants (slug, name, max_running, rps, created_at, updated_at)
        SELECT tenant, tenant, NULL, NULL, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER), CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)
          FROM (SELECT 'default' AS tenant
                UNION SELECT tenant FROM api_keys
                UNION SELECT tenant FROM executions
                UNION SELECT tenant FROM definitions
                UNION SELECT tenant FROM schedules
                UNION SELECT tenant FROM webhooks
                UNION SELECT tenant FROM http_agents);
    `,
  },
  {
    // Versioned documents (issue 16): the head of each document and every version with its content; an
    // execution's default document scope. Written in journal commits, with the `document.saved` events.
    version: 9,
    name: 'documents',
    sql: `
      CREATE TABLE documents (
        id TEXT PRIMARY KEY,
        tenant TEXT NOT NULL,
        scope_type TEXT NOT NULL,
        scope_id TEXT NOT NULL,
        type TEXT NOT NULL,
        title TEXT NOT NULL,
        status TEXT NOT NULL,
        version INTEGER NOT NULL,
        execution_id TEXT,
        step_id TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX documents_tenant ON documents (tenant, id);
      CREATE INDEX documents_scope ON documents (tenant, scope_type, scope_id, id);
      CREATE TABLE document_versions (
        document_id TEXT NOT NULL,
        version INTEGER NOT NULL,
        title TEXT NOT NULL,
        status TEXT NOT NULL,
        content BLOB NOT NULL,
        execution_id TEXT,
        step_id TEXT,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (document_id, version)
      ) WITHOUT ROWID;
      CREATE INDEX document_versions_execution ON document_versions (execution_id, document_id) WHERE execution_id IS NOT NULL;
      ALTER TABLE executions ADD COLUMN scope_type TEXT;
      ALTER TABLE executions ADD COLUMN scope_id TEXT;
    `,
  },
  {
    // Workflow templates (issue 16): every version as posted, its parent pinned; deleted versions are kept
    // (hidden) so a version number is never reused. A definition made from a template records which one.
    version: 8,
    name: 'workflow-templates',
    sql: `
      CREATE TABLE workflow_templates (
        tenant TEXT NOT NULL,
        name TEXT NOT NULL,
        version INTEGER NOT NULL,
        document TEXT NOT NULL,
        parent_name TEXT,
        parent_version INTEGER,
        created_at INTEGER NOT NULL,
        deleted_at INTEGER,
        PRIMARY KEY (tenant, name, version)
      ) WITHOUT ROWID;
      ALTER TABLE definitions ADD COLUMN template TEXT;
    `,
  },
  {
    // Bulk operations (issue 17): the matched set is fixed at creation (one row per execution, numbered), each
    // row's outcome recorded as the operation goes, so a restart resumes where it stopped. `started` rows carry
    // the execution's last seq when they were marked: on resume its events say whether the call was made.
    version: 11,
    name: 'bulk-operations',
    sql: `
      CREATE TABLE bulk_operations (
        id TEXT PRIMARY KEY,
        tenant TEXT NOT NULL,
        action TEXT NOT NULL,
        filter TEXT NOT NULL,
        signal TEXT,
        reason TEXT,
        status TEXT NOT NULL,
        matched INTEGER NOT NULL,
        succeeded INTEGER NOT NULL,
        failed INTEGER NOT NULL,
        skipped INTEGER NOT NULL,
        errors TEXT NOT NULL,
        next_seq INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        finished_at INTEGER,
        idem_key TEXT,
        idem_hash TEXT
      ) WITHOUT ROWID;
      CREATE INDEX bulk_operations_tenant ON bulk_operations (tenant, id);
      CREATE INDEX bulk_operations_open ON bulk_operations (status) WHERE status IN ('creating', 'running');
      CREATE INDEX bulk_operations_idem ON bulk_operations (tenant, idem_key) WHERE idem_key IS NOT NULL;
      CREATE TABLE bulk_operation_items (
        operation_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        execution_id TEXT NOT NULL,
        outcome TEXT,
        mark_seq INTEGER,
        code TEXT,
        PRIMARY KEY (operation_id, seq)
      ) WITHOUT ROWID;
    `,
  },
  {
    // Concurrency limits with priority queues (issue 17): an execution's priority and, when its definition
    // declares a limit, its group and limit. The partial index is the one read that rebuilds the queues and
    // the running counts at boot (every non-terminal execution of a limited workflow, covered, by status).
    version: 12,
    name: 'concurrency-limits',
    sql: `
      ALTER TABLE executions ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE executions ADD COLUMN concurrency_key TEXT;
      ALTER TABLE executions ADD COLUMN concurrency_limit INTEGER;
      CREATE INDEX executions_concurrency ON executions (status, tenant, workflow, concurrency_key, priority, id, concurrency_limit)
        WHERE concurrency_key IS NOT NULL;
      ALTER TABLE schedules ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
    `,
  },
  {
    // Cluster mode (issue 18): how far this node's copy of each partition's journal goes (the stream sequence
    // of the last batch applied), written in each batch's transaction; partition -1 is the journal feed's cursor.
    version: 13,
    name: 'cluster-journal-positions',
    sql: `
      CREATE TABLE journal_positions (
        partition INTEGER PRIMARY KEY,
        seq INTEGER NOT NULL
      );
    `,
  },
  {
    // Issue 12: snapshots are written every few dozen inputs, not with every commit; a restore replays the inputs
    // applied since (engine/runtime/replay.ts). Rows below a snapshot's count are dropped with it.
    version: 14,
    name: 'journal-inputs',
    sql: `
      CREATE TABLE inputs (
        execution_id TEXT NOT NULL,
        n INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        end_seq INTEGER NOT NULL,
        data BLOB NOT NULL,
        PRIMARY KEY (execution_id, n)
      ) WITHOUT ROWID;
    `,
  },
  {
    // A completed or cancelled execution drops its snapshot with its last commit (nothing restores it); earlier
    // builds kept it. The executions' primary key drives the delete, one pass.
    version: 15,
    name: 'drop-finished-snapshots',
    sql: `
      DELETE FROM snapshots WHERE execution_id IN (SELECT id FROM executions WHERE status IN ('completed', 'cancelled'));
    `,
  },
  {
    // An input or inline definition of 1 KiB or more is written once, here, instead of in the executions row that
    // every commit rewrites (store/sqlite/execution-blobs.ts). Rows already written keep theirs inline. A rowid
    // table: its values are large (SQLite's advice for WITHOUT ROWID is small rows).
    version: 16,
    name: 'execution-blobs',
    sql: `
      CREATE TABLE execution_blobs (
        execution_id TEXT PRIMARY KEY,
        big_input BLOB,
        big_definition BLOB
      );
    `,
  },
];

/** Applies the steps not applied yet, each in a transaction of its own with its record. */
export async function migrate(db: Db): Promise<void> {
  await db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
  const done = new Set((await db.all<{ version: number }>('SELECT version FROM schema_migrations')).map((r) => r.version));
  for (const m of MIGRATIONS) {
    if (done.has(m.version)) continue;
    await db.transaction(() => {
      db.raw.exec(m.sql);
      db.statement('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, Date.now());
    });
  }
}
