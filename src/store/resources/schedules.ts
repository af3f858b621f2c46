/** @module store/resources/schedules — the rows and the store interface of schedules (re-exported by store/types.ts). */

/** What a schedule does when its run falls due during downtime. */
export type CatchUpPolicy = 'skip' | 'run-once';
/** What a schedule does when its previous run is still open. */
export type OverlapPolicy = 'skip' | 'allow' | 'cancel-previous';

/** One schedule (times as epoch ms). Exactly one of `cron`, `everyMs`, `at` is set. */
export interface ScheduleRow {
  id: string;
  tenant: string;
  workflow: string;
  input: unknown;
  cron: string | null;
  timezone: string | null;
  everyMs: number | null;
  at: number | null;
  enabled: boolean;
  catchUp: CatchUpPolicy;
  overlap: OverlapPolicy;
  /** The `priority` of its runs (−10..10). */
  priority: number;
  /** Null when disabled or when a one-time schedule has run. */
  nextRunAt: number | null;
  lastRunAt: number | null;
  lastExecutionId: string | null;
  createdAt: number;
  updatedAt: number;
}

/** Schedules in the journal's SQLite file. */
export interface ScheduleStore {
  /** Every schedule of every tenant (the scheduler keeps them in memory). */
  listAll(): Promise<ScheduleRow[]>;
  /** Inserts or replaces the whole row. */
  put(row: ScheduleRow): Promise<void>;
  delete(id: string): Promise<void>;
}
