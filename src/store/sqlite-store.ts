/** @module store/sqlite-store — SQLite (WAL) journal, snapshots, executions index and definitions. */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { msgpackCodec as codec } from '../shared/codec.ts';
import { type EventRecord, ExecutionStatus } from '../shared/execution.ts';
import { MIGRATIONS } from './migrations.ts';
import { type AsyncDb, openDb, openWorkerDb, type Db, type WriteStep } from './sqlite-db.ts';
import { type WalCheckpointer, type WalCheckpointerOptions, startWalCheckpointer, walSizeLimit } from './wal-checkpointer.ts';
import { createSqliteAuthStore } from './sqlite-auth-store.ts';
import { createSqliteScheduleStore } from './sqlite-schedule-store.ts';
import { createSqliteWebhookStore, deliveriesStep } from './sqlite-webhook-store.ts';
import { createSqliteTelemetryStore } from './sqlite-telemetry-store.ts';
import type { AuthStore, CommitBatch, CommitParticipant, CommitShare, CommitWrite, DefinitionRow, ExecutionQuery, ExecutionRow, RecoverableRow, ScheduleStore, SnapshotRow, StepAttempts, Store, TelemetryStore, WaitingRow, WebhookStore } from './types.ts';

export interface SqliteStoreOptions {
  /** Database file; its directory is created. */
  readonly path: string;
  /** `full` fsyncs every commit (power-loss safe); `normal` is process-crash safe only. @default 'full' */
  readonly sync?: 'full' | 'normal';
  /** Checkpoint cadence and WAL size thresholds; defaults in store/wal-checkpointer.ts. */
  readonly checkpoints?: WalCheckpointerOptions;
}

/**
 * Opens (and migrates) the database. All connections are better-sqlite3 (one SQLite library in the
 * process, so they see each other's locks) and share the WAL file: on the main thread, synchronous, a
 * reader, a telemetry reader and a writer for the small writes (definitions, keys, audit, schedules,
 * webhooks); in worker threads the journal's committer (group commits: an fsync never blocks the event
 * loop), the reader of long scans and the checkpointer.
 */
export async function createSqliteStore(opts: SqliteStoreOptions): Promise<Store> {
  return (await openSqliteStores(opts)).store;
}

/**
 * Opens the database once for the engine's `Store`, the API's `AuthStore` (keys, audit) and
 * the scheduler's `ScheduleStore`. They share the writer connection; `store.close()` closes it, so flush `auth` first.
 */
export async function openSqliteStores(opts: SqliteStoreOptions): Promise<{ store: Store; auth: AuthStore; schedules: ScheduleStore; telemetry: TelemetryStore; webhooks: WebhookStore }> {
  mkdirSync(dirname(opts.path), { recursive: true });
  const writer = await openDb(opts.path);
  const sync = (opts.sync ?? 'full') === 'full' ? 'FULL' : 'NORMAL';
  // wal_autocheckpoint=0: checkpoints run on a connection of their own (store/wal-checkpointer.ts), never inside a commit.
  // journal_size_limit: when the writer starts the WAL over (the checkpointer saw to it), a file grown past it is cut back.
  await writer.exec(
    `PRAGMA journal_mode=WAL; PRAGMA synchronous=${sync}; PRAGMA temp_store=MEMORY; PRAGMA wal_autocheckpoint=0; PRAGMA journal_size_limit=${walSizeLimit(opts.checkpoints)};`,
  );
  await migrate(writer);
  // The group commits: prepared statements in one transaction per batch, in a worker thread.
  const committer = await openWorkerDb(opts.path);
  await committer.exec(`PRAGMA synchronous=${sync}; PRAGMA busy_timeout=5000; PRAGMA temp_store=MEMORY; PRAGMA wal_autocheckpoint=0; PRAGMA journal_size_limit=${walSizeLimit(opts.checkpoints)};`);
  const checkpointer = await startWalCheckpointer(opts.path, opts.checkpoints);
  const reader = await openDb(opts.path);
  await reader.exec('PRAGMA query_only=1;');
  // Telemetry aggregates walk many rows in slices between event-loop turns, holding a statement open
  // across them: a connection of their own, so no other read meets a busy connection.
  const telemetryDb = await openDb(opts.path);
  await telemetryDb.exec('PRAGMA query_only=1;');
  // Reads that may walk many rows (counts: one index entry per execution, a million parked ones take tens
  // of ms; filtered lists: the tenant's ids until a page is full) run in a worker thread, off the event loop.
  const background = await openWorkerDb(opts.path);
  await background.exec('PRAGMA query_only=1; PRAGMA busy_timeout=1000;');
  return {
    store: new SqliteStore(writer, committer, reader, background, checkpointer, [telemetryDb]),
    auth: createSqliteAuthStore(writer),
    schedules: createSqliteScheduleStore(writer),
    telemetry: createSqliteTelemetryStore(telemetryDb),
    webhooks: createSqliteWebhookStore(writer),
  };
}

async function migrate(db: Db): Promise<void> {
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

interface ExecutionDbRow {
  id: string;
  tenant: string;
  workflow: string;
  version: number;
  status: string;
  input: Buffer | null;
  output: Buffer | null;
  error: Buffer | null;
  current_steps: string;
  parent_id: string | null;
  parent_step_id: string | null;
  labels: string;
  created_at: number;
  started_at: number | null;
  updated_at: number;
  finished_at: number | null;
  retry_attempt: number;
  last_seq: number;
  idem_key: string | null;
  idem_hash: string | null;
  definition: Buffer | null;
  next_due_at: number | null;
}

type RecoverableDbRow = Pick<ExecutionDbRow, 'id' | 'tenant' | 'workflow' | 'version' | 'status' | 'input' | 'labels' | 'parent_id' | 'parent_step_id' | 'created_at' | 'updated_at' | 'last_seq' | 'idem_key' | 'idem_hash' | 'definition'> & { snapshot: Buffer | null };

interface EventDbRow {
  execution_id: string;
  seq: number;
  type: string;
  ts: number;
  step_id: string | null;
  data: Buffer;
}

interface DefinitionDbRow {
  tenant: string;
  name: string;
  version: number;
  source: string;
  document: string;
  created_at: number;
  retired: number;
}

/** The `status IN (…)` of the counts: every execution status, as SQL literals. */
const COUNTED_STATUSES = `status IN (${Object.values(ExecutionStatus).map((x) => `'${x}'`).join(', ')})`;

/** The smallest string above every string that starts with `prefix` (a range an index can seek). */
const prefixEnd = (prefix: string): string => prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
const enc = (v: unknown): Buffer | null => (v === undefined || v === null ? null : codec.encode(v));
const dec = (b: Buffer | null): unknown => (b === null ? null : codec.decode(b));

function toExecution(r: ExecutionDbRow): ExecutionRow {
  return {
    id: r.id,
    tenant: r.tenant,
    workflow: r.workflow,
    version: r.version,
    status: r.status as ExecutionStatus,
    input: dec(r.input),
    output: dec(r.output),
    error: dec(r.error) as ExecutionRow['error'],
    currentSteps: JSON.parse(r.current_steps) as string[],
    parentId: r.parent_id,
    parentStepId: r.parent_step_id,
    labels: JSON.parse(r.labels) as Record<string, string>,
    createdAt: r.created_at,
    startedAt: r.started_at,
    updatedAt: r.updated_at,
    finishedAt: r.finished_at,
    retryAttempt: r.retry_attempt,
    lastSeq: r.last_seq,
    idempotencyKey: r.idem_key,
    requestHash: r.idem_hash,
    definition: dec(r.definition),
    nextDueAt: r.next_due_at ?? null,
  };
}

function toEvent(r: EventDbRow): EventRecord {
  return {
    executionId: r.execution_id,
    seq: r.seq,
    type: r.type as EventRecord['type'],
    ts: r.ts,
    stepId: r.step_id,
    data: codec.decode(r.data),
  };
}

function toDefinition(r: DefinitionDbRow): DefinitionRow {
  return {
    tenant: r.tenant,
    name: r.name,
    version: r.version,
    source: r.source as DefinitionRow['source'],
    document: JSON.parse(r.document) as unknown,
    createdAt: r.created_at,
    retired: r.retired === 1,
  };
}

/** The statements of a group commit (prepared once by the committer; no SQL text per commit). */
const INSERT_EVENT = 'INSERT INTO events VALUES (?, ?, ?, ?, ?, ?)';
const UPSERT_EXECUTION =
  'INSERT INTO executions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)' +
  ' ON CONFLICT(id) DO UPDATE SET status=excluded.status, output=excluded.output, error=excluded.error,' +
  ' current_steps=excluded.current_steps, labels=excluded.labels, updated_at=excluded.updated_at,' +
  ' finished_at=excluded.finished_at, retry_attempt=excluded.retry_attempt, last_seq=excluded.last_seq, next_due_at=excluded.next_due_at';
const PUT_SNAPSHOT = 'INSERT OR REPLACE INTO snapshots VALUES (?, ?, ?)';

/**
 * A participant's typed rows as the committer's statement and parameter rows. One kind so far
 * (webhook deliveries); a second kind of `CommitWrite` no longer type-checks here until it is handled.
 */
const writeStep = (w: CommitWrite): WriteStep => deliveriesStep(w.rows);

class SqliteStore implements Store {
  private participants: readonly CommitParticipant[] = [];

  constructor(
    private readonly writer: Db,
    private readonly committer: AsyncDb,
    private readonly reader: Db,
    private readonly background: AsyncDb,
    private readonly checkpointer: WalCheckpointer,
    private readonly others: readonly Db[],
  ) {}

  async commit(batch: CommitBatch): Promise<void> {
    // Parameter rows for the committer's prepared statements (blobs encoded here); no SQL text per commit.
    const steps: WriteStep[] = [];
    if (batch.events.length > 0) {
      steps.push({ sql: INSERT_EVENT, rows: batch.events.map((e) => [e.executionId, e.seq, e.type, e.ts, e.stepId, codec.encode(e.data)]) });
    }
    if (batch.executions.length > 0) {
      steps.push({
        sql: UPSERT_EXECUTION,
        rows: batch.executions.map((x) => [
          x.id, x.tenant, x.workflow, x.version, x.status, enc(x.input), enc(x.output), enc(x.error),
          JSON.stringify(x.currentSteps), x.parentId, x.parentStepId, JSON.stringify(x.labels),
          x.createdAt, x.startedAt, x.updatedAt, x.finishedAt, x.retryAttempt, x.lastSeq,
          x.idempotencyKey, x.requestHash, enc(x.definition), x.nextDueAt ?? null,
        ]),
      });
    }
    if (batch.snapshots.length > 0) steps.push({ sql: PUT_SNAPSHOT, rows: batch.snapshots.map((x) => [x.executionId, x.seq, x.data]) });
    // Outbox rows (webhook deliveries…) ride in the same transaction as the events that cause them.
    let shares: CommitShare[] | undefined;
    for (const p of this.participants) {
      const share = p.prepare(batch);
      if (share === undefined) continue;
      (shares ??= []).push(share);
      steps.push(writeStep(share.write));
    }
    try {
      // One transaction in the committer's thread: COMMIT (fsynced when sync = full), or ROLLBACK and the error.
      await this.committer.write(steps);
    } catch (err) {
      if (shares) for (const s of shares) s.settled(false);
      throw err;
    }
    if (shares) for (const s of shares) s.settled(true);
  }

  addCommitParticipant(p: CommitParticipant): () => void {
    this.participants = [...this.participants, p];
    return () => void (this.participants = this.participants.filter((x) => x !== p));
  }

  async getExecution(id: string): Promise<ExecutionRow | undefined> {
    const r = await this.reader.get<ExecutionDbRow>('SELECT * FROM executions WHERE id = ?', [id]);
    return r && toExecution(r);
  }

  async findByIdempotencyKey(tenant: string, key: string): Promise<ExecutionRow | undefined> {
    const r = await this.reader.get<ExecutionDbRow>('SELECT * FROM executions WHERE tenant = ? AND idem_key = ?', [tenant, key]);
    return r && toExecution(r);
  }

  async listExecutions(q: ExecutionQuery): Promise<ExecutionRow[]> {
    const where = ['tenant = ?'];
    const params: unknown[] = [q.tenant];
    if (q.status && q.status.length > 0) {
      where.push(`status IN (${q.status.map(() => '?').join(',')})`);
      params.push(...q.status);
    }
    if (q.workflow !== undefined) (where.push('workflow = ?'), params.push(q.workflow));
    if (q.parentId !== undefined) (where.push('parent_id = ?'), params.push(q.parentId));
    if (q.createdAfter !== undefined) (where.push('created_at >= ?'), params.push(q.createdAfter));
    if (q.createdBefore !== undefined) (where.push('created_at < ?'), params.push(q.createdBefore));
    if (q.beforeId !== undefined) (where.push('id < ?'), params.push(q.beforeId));
    if (q.idPrefix !== undefined) (where.push('id >= ? AND id < ?'), params.push(q.idPrefix, prefixEnd(q.idPrefix)));
    for (const [k, v] of Object.entries(q.labels ?? {})) {
      where.push('json_extract(labels, ?) = ?');
      params.push(`$."${k.replace(/"/g, '""')}"`, v);
    }
    params.push(q.limit);
    // Tenant, id range and at most one status: an index range read in order, `limit` rows at most, on this
    // thread. Any other filter may walk the tenant's ids until the page is full: in the worker.
    const ranged = q.workflow === undefined && q.parentId === undefined && q.createdAfter === undefined && q.createdBefore === undefined &&
      (q.status === undefined || q.status.length <= 1) && Object.keys(q.labels ?? {}).length === 0;
    const rows = await (ranged ? this.reader : this.background).all<ExecutionDbRow>(
      `SELECT * FROM executions WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT ?`,
      params,
    );
    return rows.map(toExecution);
  }

  async listWaiting(): Promise<WaitingRow[]> {
    const rows = await this.reader.all<{ id: string; next_due_at: number | null; parent_id: string | null; parent_step_id: string | null }>(
      "SELECT id, next_due_at, parent_id, parent_step_id FROM executions WHERE status = 'waiting'",
    );
    return rows.map((r) => ({ id: r.id, nextDueAt: r.next_due_at, parentId: r.parent_id, parentStepId: r.parent_step_id }));
  }

  async listRecoverable(): Promise<RecoverableRow[]> {
    // Only what a restore reads: the binding builds a JS object per row and column, and output, error and the
    // step list are re-derived from the snapshot anyway. One statement, so no second read and no Map by id.
    const rows = await this.reader.all<RecoverableDbRow>(
      `SELECT e.id, e.tenant, e.workflow, e.version, e.status, e.input, e.labels, e.parent_id, e.parent_step_id, e.created_at,
        e.updated_at, e.last_seq, e.idem_key, e.idem_hash, e.definition, s.data AS snapshot
       FROM executions e LEFT JOIN snapshots s ON s.execution_id = e.id
       WHERE e.status IN ('pending','running','paused') ORDER BY e.id`,
    );
    const out: RecoverableRow[] = new Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i] as RecoverableDbRow;
      out[i] = {
        id: r.id,
        tenant: r.tenant,
        workflow: r.workflow,
        version: r.version,
        status: r.status as ExecutionStatus,
        input: dec(r.input),
        labels: r.labels === '{}' ? {} : (JSON.parse(r.labels) as Record<string, string>),
        parentId: r.parent_id,
        parentStepId: r.parent_step_id,
        createdAt: r.created_at,
        updatedAt: r.updated_at,
        lastSeq: r.last_seq,
        idempotencyKey: r.idem_key,
        requestHash: r.idem_hash,
        definition: dec(r.definition),
        snapshot: r.snapshot,
      };
    }
    return out;
  }

  async listEvents(executionId: string, afterSeq: number, limit: number): Promise<EventRecord[]> {
    const rows = await this.reader.all<EventDbRow>(
      'SELECT * FROM events WHERE execution_id = ? AND seq > ? ORDER BY seq LIMIT ?',
      [executionId, afterSeq, limit],
    );
    return rows.map(toEvent);
  }

  async getSnapshot(executionId: string): Promise<SnapshotRow | undefined> {
    const r = await this.reader.get<{ execution_id: string; seq: number; data: Buffer }>(
      'SELECT * FROM snapshots WHERE execution_id = ?',
      [executionId],
    );
    return r && { executionId: r.execution_id, seq: r.seq, data: r.data };
  }

  async putDefinition(d: DefinitionRow): Promise<void> {
    await this.writer.run('INSERT INTO definitions VALUES (?, ?, ?, ?, ?, ?, ?)', [
      d.tenant, d.name, d.version, d.source, JSON.stringify(d.document), d.createdAt, d.retired ? 1 : 0,
    ]);
  }

  async setRetired(tenant: string, name: string, retired: boolean): Promise<void> {
    await this.writer.run('UPDATE definitions SET retired = ? WHERE tenant = ? AND name = ?', [retired ? 1 : 0, tenant, name]);
  }

  async listAllDefinitions(): Promise<DefinitionRow[]> {
    return (await this.writer.all<DefinitionDbRow>('SELECT * FROM definitions ORDER BY tenant, name, version')).map(toDefinition);
  }

  async countByStatus(tenant: string | undefined, idPrefix?: string): Promise<Record<string, number>> {
    // `status IN (every status)`: one seek of the covering index (status, tenant, id) per status, never a table read.
    const where = [COUNTED_STATUSES];
    const params: unknown[] = [];
    if (tenant !== undefined) (where.push('tenant = ?'), params.push(tenant));
    if (idPrefix !== undefined) (where.push('id >= ? AND id < ?'), params.push(idPrefix, prefixEnd(idPrefix)));
    const rows = await this.background.all<{ status: string; n: number }>(`SELECT status, count(*) AS n FROM executions WHERE ${where.join(' AND ')} GROUP BY status`, params);
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  }

  async stepAttempts(tenant: string, executionIds: readonly string[], stepId: string): Promise<Map<string, StepAttempts>> {
    const out = new Map<string, StepAttempts>();
    if (executionIds.length === 0) return out;
    // One grouped scan of the page's events (primary key seeks): the seq of the latest start, take and end of an attempt.
    const rows = await this.reader.all<{ id: string; n: number; started: number; selected: number | null; ended: number | null }>(
      `SELECT execution_id AS id, sum(type = 'workflow.step.started') AS n,
              max(CASE WHEN type = 'workflow.step.started' THEN seq END) AS started,
              max(CASE WHEN type = 'agent.selected' THEN seq END) AS selected,
              max(CASE WHEN type IN ('workflow.step.completed', 'workflow.step.retrying', 'workflow.step.failed') THEN seq END) AS ended
         FROM events
        WHERE execution_id IN (SELECT id FROM executions WHERE tenant = ? AND id IN (${executionIds.map(() => '?').join(',')}))
          AND step_id = ?
          AND type IN ('workflow.step.started', 'agent.selected', 'workflow.step.completed', 'workflow.step.retrying', 'workflow.step.failed')
        GROUP BY execution_id`,
      [tenant, ...executionIds, stepId],
    );
    for (const r of rows) {
      if (r.n === 0) continue;
      const open = r.ended === null || r.ended < r.started;
      out.set(r.id, { count: r.n, taken: open && r.selected !== null && r.selected > r.started });
    }
    return out;
  }

  async close(): Promise<void> {
    await this.checkpointer.close();
    await this.committer.close();
    for (const db of this.others) await db.close();
    await this.background.close();
    await this.reader.close();
    await this.writer.close();
  }
}
