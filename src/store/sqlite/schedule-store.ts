/** @module store/sqlite/schedule-store — schedules in the journal's SQLite file (shares its writer connection). */
import type { Db } from './db.ts';
import type { CatchUpPolicy, OverlapPolicy, ScheduleRow, ScheduleStore } from '../types.ts';

interface ScheduleDbRow {
  id: string;
  tenant: string;
  workflow: string;
  input: string | null;
  cron: string | null;
  timezone: string | null;
  every_ms: number | null;
  at: number | null;
  enabled: number;
  catch_up: string;
  overlap: string;
  /** Migration 12; 0 for schedules made before it. */
  priority: number;
  next_run_at: number | null;
  last_run_at: number | null;
  last_execution_id: string | null;
  created_at: number;
  updated_at: number;
}

function toRow(r: ScheduleDbRow): ScheduleRow {
  return {
    id: r.id,
    tenant: r.tenant,
    workflow: r.workflow,
    input: r.input === null ? undefined : (JSON.parse(r.input) as unknown),
    cron: r.cron,
    timezone: r.timezone,
    everyMs: r.every_ms,
    at: r.at,
    enabled: r.enabled !== 0,
    catchUp: r.catch_up as CatchUpPolicy,
    overlap: r.overlap as OverlapPolicy,
    priority: r.priority,
    nextRunAt: r.next_run_at,
    lastRunAt: r.last_run_at,
    lastExecutionId: r.last_execution_id,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/** The `ScheduleStore` over an open, migrated database. */
export function createSqliteScheduleStore(db: Db): ScheduleStore {
  return {
    listAll: async () => (await db.all<ScheduleDbRow>('SELECT * FROM schedules ORDER BY id')).map(toRow),
    put: (s) =>
      // Columns by name: migrations add columns (priority, migration 12) after the others.
      db.run(
        'INSERT OR REPLACE INTO schedules (id, tenant, workflow, input, cron, timezone, every_ms, at, enabled, catch_up, overlap, next_run_at, last_run_at,' +
          ' last_execution_id, created_at, updated_at, priority) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
        [
          s.id, s.tenant, s.workflow, s.input === undefined ? null : JSON.stringify(s.input), s.cron, s.timezone, s.everyMs, s.at,
          s.enabled ? 1 : 0, s.catchUp, s.overlap, s.nextRunAt, s.lastRunAt, s.lastExecutionId, s.createdAt, s.updatedAt, s.priority,
        ],
      ),
    delete: (id) => db.run('DELETE FROM schedules WHERE id = ?', [id]),
  };
}
