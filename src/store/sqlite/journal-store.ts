/** @module store/sqlite/journal-store — the journal `Store` on SQLite (WAL): events, snapshots, the executions index and definitions. */
import { msgpackCodec as codec } from '../../common/codec.ts';
import { type EventRecord, ExecutionStatus, TERMINAL_STATUSES } from '../../common/execution.ts';
import type { TemplateInstance } from '../../common/template.ts';
import type { AsyncDb, Db, WriteStep } from './db.ts';
import type { WalCheckpointer } from './wal-checkpointer.ts';
import { documentSteps } from './document-store.ts';
import { encodeEventData, type HolderRow, heldValue, mayHoldRef, resolveRefs, withRefResolved } from './event-refs.ts';
import { BLOB_COLUMNS, type BlobColumns, EXECUTIONS_WITH_BLOBS, PUT_BLOBS, splitBlobs } from './execution-blobs.ts';
import { executionWhere, prefixEnd } from './execution-filter.ts';
import { deliveriesStep } from './webhook-store.ts';
import { FEED_POSITION } from '../types.ts';
import type { CommitBatch, CommitParticipant, CommitShare, CommitWrite, ConcurrencyRow, DefinitionRow, ExecutionQuery, ExecutionRow, ExecutionScope, InputRow, RecoverableRow, RestorableRow, SnapshotRow, StepAttempts, StepEventData, Store, WaitingRow } from '../types.ts';

/** The connections the journal reads and writes through (opened by open-sqlite-stores.ts); `close()` closes them all. */
export interface JournalConnections {
  /** Main thread: definitions (and the other stores' small writes). */
  readonly writer: Db;
  /** Worker thread: the group commits. */
  readonly committer: AsyncDb;
  /** Main thread, read-only: short reads. */
  readonly reader: Db;
  /** Worker thread, read-only: reads that may walk many rows. */
  readonly background: AsyncDb;
  readonly checkpointer: WalCheckpointer;
  /** Other connections on the same file, closed with the journal (the telemetry reader). */
  readonly others: readonly Db[];
}

/** The journal over open connections of a migrated database. */
export function createSqliteJournalStore(c: JournalConnections): Store {
  return new SqliteStore(c.writer, c.committer, c.reader, c.background, c.checkpointer, c.others);
}

interface ExecutionDbRow extends BlobColumns {
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
  scope_type: string | null;
  scope_id: string | null;
  priority: number;
  concurrency_key: string | null;
  concurrency_limit: number | null;
}

type RestorableDbRow = Pick<
  ExecutionDbRow,
  | 'id' | 'tenant' | 'workflow' | 'version' | 'status' | 'input' | 'labels' | 'parent_id' | 'parent_step_id' | 'created_at' | 'updated_at' | 'last_seq'
  | 'idem_key' | 'idem_hash' | 'definition' | 'scope_type' | 'scope_id' | 'started_at' | 'priority' | 'concurrency_key' | 'concurrency_limit'
> &
  BlobColumns;
type RecoverableDbRow = RestorableDbRow & { snapshot: Buffer | null };

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
  /** JSON of the template instance of a `template` definition (migration 8). */
  template: string | null;
}

/** The `status IN (…)` of the counts: every execution status, as SQL literals. */
const COUNTED_STATUSES = `status IN (${Object.values(ExecutionStatus).map((x) => `'${x}'`).join(', ')})`;

/** The `status IN (…)` of the non-terminal statuses (one index seek each). */
const OPEN_STATUSES = `status IN (${Object.values(ExecutionStatus).filter((x) => !TERMINAL_STATUSES.has(x)).map((x) => `'${x}'`).join(', ')})`;

const enc = (v: unknown): Buffer | null => (v === undefined || v === null ? null : codec.encode(v));
const dec = (b: Buffer | null): unknown => (b === null ? null : codec.decode(b));

function toExecution(r: ExecutionDbRow): ExecutionRow {
  return {
    ...toRestorable(r),
    output: dec(r.output),
    error: dec(r.error) as ExecutionRow['error'],
    currentSteps: JSON.parse(r.current_steps) as string[],
    finishedAt: r.finished_at,
    retryAttempt: r.retry_attempt,
    nextDueAt: r.next_due_at ?? null,
  };
}

/** The columns a restore needs: `toExecution` and `toRecoverable` share them. */
function toRestorable(r: RestorableDbRow): RestorableRow {
  return {
    id: r.id,
    tenant: r.tenant,
    workflow: r.workflow,
    version: r.version,
    status: r.status as ExecutionStatus,
    input: dec(r.big_input ?? r.input),
    labels: r.labels === '{}' ? {} : (JSON.parse(r.labels) as Record<string, string>),
    parentId: r.parent_id,
    parentStepId: r.parent_step_id,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    lastSeq: r.last_seq,
    idempotencyKey: r.idem_key,
    requestHash: r.idem_hash,
    definition: dec(r.big_definition ?? r.definition),
    scope: scopeOf(r),
    startedAt: r.started_at,
    priority: r.priority,
    concurrencyKey: r.concurrency_key,
    concurrencyLimit: r.concurrency_limit,
  };
}

const scopeOf = (r: Pick<ExecutionDbRow, 'scope_type' | 'scope_id'>): ExecutionScope | null =>
  r.scope_type === null || r.scope_id === null ? null : { type: r.scope_type, id: r.scope_id };

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
    template: r.template === null ? null : (JSON.parse(r.template) as TemplateInstance),
  };
}

/** The statements of a group commit (prepared once by the committer; no SQL text per commit). */
const INSERT_EVENT = 'INSERT INTO events VALUES (?, ?, ?, ?, ?, ?)';
// Columns by name: migrations add columns, and their order in the table is the order they were applied in.
// `started_at` is null while an execution is queued, then set once, when it starts (a restored one may not know it).
const UPSERT_EXECUTION =
  'INSERT INTO executions (id, tenant, workflow, version, status, input, output, error, current_steps, parent_id, parent_step_id, labels,' +
  ' created_at, started_at, updated_at, finished_at, retry_attempt, last_seq, idem_key, idem_hash, definition, next_due_at, scope_type, scope_id,' +
  ' priority, concurrency_key, concurrency_limit)' +
  ' VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)' +
  ' ON CONFLICT(id) DO UPDATE SET status=excluded.status, output=excluded.output, error=excluded.error, started_at=coalesce(executions.started_at, excluded.started_at),' +
  ' current_steps=excluded.current_steps, labels=excluded.labels, updated_at=excluded.updated_at,' +
  ' finished_at=excluded.finished_at, retry_attempt=excluded.retry_attempt, last_seq=excluded.last_seq, next_due_at=excluded.next_due_at,' +
  // A key is released (24 h after its start, once the execution ended) by writing the row again without it.
  ' idem_key=excluded.idem_key, idem_hash=excluded.idem_hash';
const PUT_SNAPSHOT = 'INSERT OR REPLACE INTO snapshots VALUES (?, ?, ?)';
const PUT_INPUT = 'INSERT OR REPLACE INTO inputs (execution_id, n, seq, end_seq, data) VALUES (?, ?, ?, ?, ?)';
const DROP_INPUTS_BELOW = 'DELETE FROM inputs WHERE execution_id = ? AND n < ?';
const DROP_INPUTS = 'DELETE FROM inputs WHERE execution_id = ?';
const DROP_SNAPSHOT = 'DELETE FROM snapshots WHERE execution_id = ?';
const PUT_POSITION = 'INSERT OR REPLACE INTO journal_positions VALUES (?, ?)';

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
      steps.push({ sql: INSERT_EVENT, rows: batch.events.map((e) => [e.executionId, e.seq, e.type, e.ts, e.stepId, encodeEventData(e)]) });
    }
    if (batch.executions.length > 0) {
      // A large input or definition goes to execution_blobs, once (execution-blobs.ts): only a first row carries them.
      const blobs: unknown[][] = [];
      steps.push({
        sql: UPSERT_EXECUTION,
        rows: batch.executions.map((x) => {
          const [input, definition] = splitBlobs(x.id, enc(x.input), enc(x.definition), blobs);
          return [
            x.id, x.tenant, x.workflow, x.version, x.status, input, enc(x.output), enc(x.error),
            JSON.stringify(x.currentSteps), x.parentId, x.parentStepId, JSON.stringify(x.labels),
            x.createdAt, x.startedAt, x.updatedAt, x.finishedAt, x.retryAttempt, x.lastSeq,
            x.idempotencyKey, x.requestHash, definition, x.nextDueAt ?? null, x.scope?.type ?? null, x.scope?.id ?? null,
            x.priority ?? 0, x.concurrencyKey ?? null, x.concurrencyLimit ?? null,
          ];
        }),
      });
      if (blobs.length > 0) steps.push({ sql: PUT_BLOBS, rows: blobs });
    }
    // Per execution, the inputs its newest snapshot in this batch covers: never replayed again, so never kept.
    const covered = new Map<string, number>();
    if (batch.snapshots.length > 0) {
      steps.push({ sql: PUT_SNAPSHOT, rows: batch.snapshots.map((x) => [x.executionId, x.seq, x.data]) });
      for (const x of batch.snapshots) if (x.inputs !== undefined && x.inputs > 0) covered.set(x.executionId, Math.max(covered.get(x.executionId) ?? 0, x.inputs));
      if (covered.size > 0) steps.push({ sql: DROP_INPUTS_BELOW, rows: [...covered].map(([id, n]) => [id, n]) });
    }
    if (batch.inputs !== undefined && batch.inputs.length > 0) {
      // Several commits merged into one (cluster mode's applier) may hold inputs a later snapshot of the batch covers.
      const rows = covered.size === 0 ? batch.inputs : batch.inputs.filter((x) => x.n >= (covered.get(x.executionId) ?? 0));
      if (rows.length > 0) steps.push({ sql: PUT_INPUT, rows: rows.map((x) => [x.executionId, x.n, x.seq, x.end, x.data]) });
    }
    if (batch.inputsDone !== undefined && batch.inputsDone.length > 0) {
      const done = batch.inputsDone.map((id) => [id]);
      steps.push({ sql: DROP_INPUTS, rows: done }, { sql: DROP_SNAPSHOT, rows: done });
    }
    if (batch.documents !== undefined && batch.documents.length > 0) steps.push(...documentSteps(batch.documents));
    // In order: the last row of a partition (and of the feed's cursor) is the one kept.
    if (batch.positions !== undefined && batch.positions.length > 0) {
      steps.push({ sql: PUT_POSITION, rows: batch.positions.flatMap((at) => (at.feed === true ? [[at.partition, at.seq], [FEED_POSITION, at.seq]] : [[at.partition, at.seq]])) });
    }
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
      await this.committer.write(steps, { waited: batch.waited === true, relaxed: batch.relaxed === true });
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
    const r = await this.reader.get<ExecutionDbRow>(`SELECT e.*, ${BLOB_COLUMNS} FROM ${EXECUTIONS_WITH_BLOBS} WHERE e.id = ?`, [id]);
    return r && toExecution(r);
  }

  async findByIdempotencyKey(tenant: string, key: string): Promise<ExecutionRow | undefined> {
    const r = await this.reader.get<ExecutionDbRow>(`SELECT e.*, ${BLOB_COLUMNS} FROM ${EXECUTIONS_WITH_BLOBS} WHERE e.tenant = ? AND e.idem_key = ?`, [tenant, key]);
    return r && toExecution(r);
  }

  async listExecutions(q: ExecutionQuery): Promise<ExecutionRow[]> {
    const where = executionWhere(q);
    const params = [...where.params, q.limit];
    // Tenant, id range and at most one status: an index range read in order, `limit` rows at most, on this
    // thread. Any other filter may walk the tenant's ids until the page is full: in the worker.
    const ranged = q.workflow === undefined && q.parentId === undefined && q.createdAfter === undefined && q.createdBefore === undefined &&
      (q.status === undefined || q.status.length <= 1) && Object.keys(q.labels ?? {}).length === 0;
    const rows = await (ranged ? this.reader : this.background).all<ExecutionDbRow>(
      `SELECT e.*, ${BLOB_COLUMNS} FROM ${EXECUTIONS_WITH_BLOBS} WHERE ${where.sql} ORDER BY e.id DESC LIMIT ?`,
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

  async listConcurrencyRows(): Promise<ConcurrencyRow[]> {
    // The partial index executions_concurrency covers this read (one seek per open status, no table rows).
    const rows = await this.reader.all<{ id: string; tenant: string; workflow: string; status: string; priority: number; concurrency_key: string; concurrency_limit: number }>(
      `SELECT id, tenant, workflow, status, priority, concurrency_key, concurrency_limit FROM executions INDEXED BY executions_concurrency
        WHERE ${OPEN_STATUSES} AND concurrency_key IS NOT NULL`,
    );
    const out: ConcurrencyRow[] = new Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i] as (typeof rows)[number];
      out[i] = { id: r.id, tenant: r.tenant, workflow: r.workflow, status: r.status as ExecutionStatus, priority: r.priority, concurrencyKey: r.concurrency_key, concurrencyLimit: r.concurrency_limit };
    }
    return out;
  }

  async listRecoverable(): Promise<RecoverableRow[]> {
    // Only what a restore reads: the binding builds a JS object per row and column, and output, error and the
    // step list are re-derived from the snapshot anyway. One statement, so no second read and no Map by id.
    const rows = await this.reader.all<RecoverableDbRow>(`${RECOVERABLE_SELECT} WHERE e.status IN ('pending','running','paused') ORDER BY e.id`);
    // Their inputs in the same order (by execution id, then number): one pass pairs them with their rows.
    const inputs = await this.reader.all<InputDbRow>(
      "SELECT i.execution_id, i.n, i.seq, i.end_seq, i.data FROM inputs i JOIN executions e ON e.id = i.execution_id WHERE e.status IN ('pending','running','paused') ORDER BY i.execution_id, i.n",
    );
    const out: RecoverableRow[] = new Array(rows.length);
    let j = 0;
    for (let i = 0; i < rows.length; i++) {
      const r = toRecoverable(rows[i] as RecoverableDbRow);
      while (j < inputs.length && (inputs[j] as InputDbRow).execution_id < r.id) j++;
      const mine: InputRow[] = [];
      for (; j < inputs.length && (inputs[j] as InputDbRow).execution_id === r.id; j++) mine.push(toInput(inputs[j] as InputDbRow));
      if (mine.length > 0) r.inputs = mine;
      out[i] = r;
    }
    return out;
  }

  async getRecoverable(id: string): Promise<RecoverableRow | undefined> {
    // Row and snapshot in one read: rebuilding a passivated execution waited two reader round trips before.
    const r = await this.reader.get<RecoverableDbRow>(`${RECOVERABLE_SELECT} WHERE e.id = ?`, [id]);
    if (!r) return undefined;
    const row = toRecoverable(r);
    const inputs = await this.reader.all<InputDbRow>('SELECT execution_id, n, seq, end_seq, data FROM inputs WHERE execution_id = ? ORDER BY n', [id]);
    if (inputs.length > 0) row.inputs = inputs.map(toInput);
    return row;
  }

  async stepEventData(executionId: string, uptoSeq: number): Promise<StepEventData> {
    // One range of the primary key (the execution's events are contiguous); in seq order, so the latest of a step wins.
    // `workflow.started` too: a started event may take its input from it (event-refs.ts).
    const rows = await this.reader.all<{ seq: number; type: string; step_id: string; data: Buffer }>(
      "SELECT seq, type, step_id, data FROM events WHERE execution_id = ? AND seq <= ? AND type IN ('workflow.step.completed', 'workflow.step.started', 'workflow.started') ORDER BY seq",
      [executionId, uptoSeq],
    );
    const completed = new Map<string, Uint8Array>();
    const started = new Map<string, Uint8Array>();
    const holders = new Map<number, HolderRow>();
    for (const r of rows) {
      if (r.type === 'workflow.step.started') {
        started.set(r.step_id, mayHoldRef(r.data) ? withRefResolved(executionId, r.seq, r.data, holders) : r.data);
        continue;
      }
      holders.set(r.seq, r);
      if (r.type === 'workflow.step.completed') completed.set(r.step_id, r.data);
    }
    return { completed, started };
  }

  async listEvents(executionId: string, afterSeq: number, limit: number): Promise<EventRecord[]> {
    const rows = await this.reader.all<EventDbRow>(
      'SELECT * FROM events WHERE execution_id = ? AND seq > ? ORDER BY seq LIMIT ?',
      [executionId, afterSeq, limit],
    );
    // A value written once, in the event it came from (event-refs.ts), is put back.
    return resolveRefs(rows.map(toEvent), (seqs) => this.valuesHeldBy(executionId, seqs));
  }

  /** The values the given events of an execution hold for others (event-refs.ts `heldValue`). */
  private async valuesHeldBy(executionId: string, seqs: readonly number[]): Promise<Map<number, unknown>> {
    const rows = await this.reader.all<{ seq: number; type: string; data: Buffer }>(
      `SELECT seq, type, data FROM events WHERE execution_id = ? AND seq IN (${seqs.map(() => '?').join(',')})`,
      [executionId, ...seqs],
    );
    return new Map(rows.map((r) => [r.seq, heldValue(r.type, codec.decode<Record<string, unknown>>(r.data))]));
  }

  async getSnapshot(executionId: string): Promise<SnapshotRow | undefined> {
    const r = await this.reader.get<{ execution_id: string; seq: number; data: Buffer }>(
      'SELECT * FROM snapshots WHERE execution_id = ?',
      [executionId],
    );
    return r && { executionId: r.execution_id, seq: r.seq, data: r.data };
  }

  async putDefinition(d: DefinitionRow): Promise<void> {
    await this.writer.run('INSERT INTO definitions (tenant, name, version, source, document, created_at, retired, template) VALUES (?, ?, ?, ?, ?, ?, ?, ?)', [
      d.tenant, d.name, d.version, d.source, JSON.stringify(d.document), d.createdAt, d.retired ? 1 : 0, d.template ? JSON.stringify(d.template) : null,
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

  async countOpenByTenant(idPrefix: string): Promise<Map<string, number>> {
    const rows = await this.background.all<{ tenant: string; n: number }>(
      `SELECT tenant, count(*) AS n FROM executions WHERE ${OPEN_STATUSES} AND id >= ? AND id < ? GROUP BY tenant`,
      [idPrefix, prefixEnd(idPrefix)],
    );
    return new Map(rows.map((r) => [r.tenant, r.n]));
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

  async journalPositions(): Promise<Map<number, number>> {
    const rows = await this.reader.all<{ partition: number; seq: number }>('SELECT partition, seq FROM journal_positions');
    return new Map(rows.map((r) => [r.partition, r.seq]));
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

/** The columns a restore reads, with the snapshot: `Store.listRecoverable` and `getRecoverable`. */
const RECOVERABLE_SELECT = `SELECT e.id, e.tenant, e.workflow, e.version, e.status, e.input, e.labels, e.parent_id, e.parent_step_id, e.created_at,
    e.updated_at, e.last_seq, e.idem_key, e.idem_hash, e.definition, e.scope_type, e.scope_id, e.started_at, e.priority, e.concurrency_key,
    e.concurrency_limit, ${BLOB_COLUMNS}, s.data AS snapshot
   FROM ${EXECUTIONS_WITH_BLOBS} LEFT JOIN snapshots s ON s.execution_id = e.id`;

function toRecoverable(r: RecoverableDbRow): RecoverableRow {
  return { ...toRestorable(r), snapshot: r.snapshot };
}

interface InputDbRow {
  execution_id: string;
  n: number;
  seq: number;
  end_seq: number;
  data: Buffer;
}

const toInput = (r: InputDbRow): InputRow => ({ executionId: r.execution_id, n: r.n, seq: r.seq, end: r.end_seq, data: r.data });
