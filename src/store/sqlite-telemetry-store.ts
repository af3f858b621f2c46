/**
 * @module store/sqlite-telemetry-store — read-only aggregate queries over `executions` and `events`
 * for the telemetry endpoints. Runs on the reader connection: it never takes the writer's lock, so
 * the engine's group commits are not delayed by a dashboard.
 */
import { msgpackCodec as codec } from '../shared/codec.ts';
import type { Db } from './sqlite-db.ts';

/** A half-open window of execution creation times, `[from, to)`, in epoch ms. */
export interface TimeWindow {
  readonly from: number;
  readonly to: number;
}

/** One execution created in a window: what the summary counts and times. */
export interface TelemetryExecutionRow {
  readonly workflow: string;
  readonly status: string;
  readonly createdAt: number;
  readonly finishedAt: number | null;
}

/** Token and USD totals of one workflow's step outcomes. */
export interface WorkflowCostRow {
  readonly workflow: string;
  readonly tokens: number;
  readonly usd: number;
}

/** The step lifecycle events of one workflow's executions, in `seq` order per execution. */
export interface StepEventRow {
  readonly executionId: string;
  readonly type: 'workflow.step.started' | 'workflow.step.completed' | 'workflow.step.failed' | 'workflow.step.retrying';
  readonly ts: number;
  readonly stepId: string;
  /** `recovery` of a `workflow.step.failed` (`fail`, `skip`, `fallback`, `compensate`); null otherwise. */
  readonly recovery: string | null;
}

/**
 * Aggregates for `/telemetry/*`, scoped by tenant; every query starts from the
 * `executions (tenant, created_at)` index (migration 6) and reaches `events` by its primary key.
 */
export interface TelemetryStore {
  /** Executions of `tenant` created in `window`. */
  executions(tenant: string, window: TimeWindow): Promise<TelemetryExecutionRow[]>;
  /** Costs reported on step outcomes of those executions, summed per workflow. */
  costs(tenant: string, window: TimeWindow): Promise<WorkflowCostRow[]>;
  /** Step lifecycle events of `workflow`'s executions created in `window`. */
  stepEvents(tenant: string, workflow: string, window: TimeWindow): Promise<StepEventRow[]>;
}

const OUTCOME_TYPES = "('workflow.step.completed','workflow.step.failed')";
/**
 * msgpack of the key `costs` followed by an empty array. The engine writes `costs` as the last key of
 * an outcome (compile-flow.ts `...extra`), so a blob ending with these bytes reported no cost and is
 * not worth fetching and decoding (most built-in steps). Any other blob is decoded, so a change of key
 * order costs speed, never correctness.
 */
const NO_COSTS_SUFFIX = "X'a5636f73747390'";
const STEP_TYPES = "('workflow.step.started','workflow.step.completed','workflow.step.failed','workflow.step.retrying')";

/** Costs as agents report them (history.ts reads the same field). */
interface CostEntry {
  readonly tokens?: unknown;
  readonly usd?: unknown;
}

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/** Walks the rows of a query one at a time (a summary over many executions never holds every event blob at once). */
function each<T>(db: Db, sql: string, params: unknown[], visit: (row: T) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    let failed: unknown;
    db.raw.each(
      sql,
      params,
      (err, row) => {
        if (err) failed ??= err;
        else if (failed === undefined) {
          try {
            visit(row as T);
          } catch (e) {
            failed = e;
          }
        }
      },
      (err) => (err ? reject(err) : failed !== undefined ? reject(failed) : resolve()),
    );
  });
}

/** The telemetry queries over an open (reader) connection of the journal database. */
export function createSqliteTelemetryStore(reader: Db): TelemetryStore {
  return {
    async executions(tenant, window) {
      const rows = await reader.all<{ workflow: string; status: string; created_at: number; finished_at: number | null }>(
        'SELECT workflow, status, created_at, finished_at FROM executions WHERE tenant = ? AND created_at >= ? AND created_at < ?',
        [tenant, window.from, window.to],
      );
      return rows.map((r) => ({ workflow: r.workflow, status: r.status, createdAt: r.created_at, finishedAt: r.finished_at }));
    },

    async costs(tenant, window) {
      const sums = new Map<string, { tokens: number; usd: number }>();
      // Costs ride on step outcomes only (history.ts addCosts); the blob is decoded here, row by row.
      await each<{ workflow: string; data: Buffer }>(
        reader,
        `SELECT x.workflow AS workflow, e.data AS data
           FROM executions x JOIN events e ON e.execution_id = x.id
          WHERE x.tenant = ? AND x.created_at >= ? AND x.created_at < ? AND e.type IN ${OUTCOME_TYPES}
            AND substr(e.data, -7) <> ${NO_COSTS_SUFFIX}`,
        [tenant, window.from, window.to],
        (r) => {
          const list = (codec.decode<{ costs?: unknown }>(r.data) ?? {}).costs;
          if (!Array.isArray(list) || list.length === 0) return;
          let acc = sums.get(r.workflow);
          if (!acc) sums.set(r.workflow, (acc = { tokens: 0, usd: 0 }));
          for (const c of list as CostEntry[]) {
            acc.tokens += num(c?.tokens);
            acc.usd += num(c?.usd);
          }
        },
      );
      return [...sums].map(([workflow, s]) => ({ workflow, ...s }));
    },

    async stepEvents(tenant, workflow, window) {
      const out: StepEventRow[] = [];
      // Only a failure's blob is read (for `recovery`); the other rows need type, ts and step only.
      await each<{ execution_id: string; type: StepEventRow['type']; ts: number; step_id: string | null; data: Buffer | null }>(
        reader,
        `SELECT e.execution_id, e.type, e.ts, e.step_id, CASE WHEN e.type = 'workflow.step.failed' THEN e.data END AS data
           FROM executions x JOIN events e ON e.execution_id = x.id
          WHERE x.tenant = ? AND x.workflow = ? AND x.created_at >= ? AND x.created_at < ? AND e.type IN ${STEP_TYPES}
          ORDER BY x.created_at, x.rowid, e.seq`, // the index's own order: no sort step
        [tenant, workflow, window.from, window.to],
        (r) => {
          if (r.step_id === null) return;
          let recovery: string | null = null;
          if (r.data !== null) {
            const d = codec.decode<{ recovery?: unknown }>(r.data);
            recovery = typeof d?.recovery === 'string' ? d.recovery : 'fail';
          }
          out.push({ executionId: r.execution_id, type: r.type, ts: r.ts, stepId: r.step_id, recovery });
        },
      );
      return out;
    },
  };
}
