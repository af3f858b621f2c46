/**
 * @module store/sqlite/telemetry-store — read-only aggregate queries over `executions` and `events`
 * for the telemetry endpoints. Runs on a read-only connection of its own: it never takes the writer's
 * lock, and it walks rows in slices of `SLICE_MS` between event-loop turns (better-sqlite3 is
 * synchronous), so a summary over many executions never holds up the engine's group commits for long.
 */
import { msgpackCodec as codec } from '../../common/codec.ts';
import { ulidTime } from '../../common/ids.ts';
import type { Db } from './db.ts';
import type { StepEventRow, TelemetryExecutionRow, TelemetryStore, TimeWindow } from '../types.ts';

/** The events that carry an attempt's `costs`: outcomes and retried attempts (history.ts addCosts). */
const COST_TYPES = "('workflow.step.completed','workflow.step.failed','workflow.step.retrying')";
/**
 * msgpack of the key `costs` followed by an empty array. The engine writes `costs` as the last key of
 * these events (compile-flow.ts `...extra`), so a blob ending with these bytes reported no cost and is
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

/** Flow execution ids (engine/runtime/tasks.ts ID_PREFIX); tasks are `tk_…`. */
const EX = 'ex_';

/**
 * The window as a range of execution ids: `ex_` + ULID, whose time prefix is the creation ms
 * (created_at is the ms the id was made with), so `[ex_ + ulidTime(from), ex_ + ulidTime(to))` holds
 * exactly the executions created in `[from, to)` and no `tk_` task. A range of the existing
 * `(tenant, id)` index: no index on created_at to update on every start.
 */
const ID_RANGE = 'x.tenant = ? AND x.id >= ? AND x.id < ?';
function idRange(tenant: string, w: TimeWindow): [string, string, string] {
  // created_at is an integer ms: c >= from iff c >= ceil(from) (same for to).
  return [tenant, EX + ulidTime(Math.ceil(w.from)), EX + ulidTime(Math.ceil(w.to))];
}

/**
 * The queries, each with the parameters of `idRange` first (the stats query adds the workflow).
 * Exported for the test that checks their plans (index range + primary key, no scan, no sort).
 */
export const TELEMETRY_SQL = {
  executions: `SELECT x.workflow AS workflow, x.status AS status, x.created_at AS created_at, x.finished_at AS finished_at
      FROM executions x WHERE ${ID_RANGE}`,
  // Costs ride on step outcomes and retries (history.ts addCosts); the blob is decoded row by row.
  costs: `SELECT x.workflow AS workflow, e.data AS data
      FROM executions x JOIN events e ON e.execution_id = x.id
     WHERE ${ID_RANGE} AND e.type IN ${COST_TYPES} AND substr(e.data, -7) <> ${NO_COSTS_SUFFIX}`,
  // Only a failure's blob is read (for `recovery`); the other rows need type, ts and step only.
  // The index's then the primary key's own order, no sort step (without x.rowid the planner sorts by seq).
  stepEvents: `SELECT e.execution_id, e.type, e.ts, e.step_id, CASE WHEN e.type = 'workflow.step.failed' THEN e.data END AS data
      FROM executions x JOIN events e ON e.execution_id = x.id
     WHERE ${ID_RANGE} AND x.workflow = ? AND e.type IN ${STEP_TYPES}
     ORDER BY x.id, x.rowid, e.seq`,
} as const;

/** The longest a query walks rows before it lets the event loop turn. */
export const SLICE_MS = 5;
const ROWS_PER_CLOCK_CHECK = 256;

/**
 * Walks the rows of a query one at a time (a summary over many executions never holds every event
 * blob at once), in slices of `SLICE_MS`. The statement stays open across the slices, so the
 * queries of one connection go one after the other (`queue`).
 */
function each<T>(db: Db, queue: { tail: Promise<unknown> }, sql: string, params: unknown[], visit: (row: T) => void): Promise<void> {
  const walk = async (): Promise<void> => {
    const rows = db.statement(sql).iterate(params) as IterableIterator<T>;
    try {
      for (;;) {
        const until = performance.now() + SLICE_MS;
        for (let n = 1; ; n++) {
          const next = rows.next();
          if (next.done === true) return;
          visit(next.value);
          if (n % ROWS_PER_CLOCK_CHECK === 0 && performance.now() >= until) break;
        }
        await new Promise<void>((r) => setImmediate(r));
      }
    } finally {
      rows.return?.();
    }
  };
  const done = queue.tail.then(walk, walk);
  queue.tail = done.catch(() => undefined);
  return done;
}

/** The telemetry queries over an open read-only connection of the journal database, used by nothing else. */
export function createSqliteTelemetryStore(reader: Db): TelemetryStore {
  const queue = { tail: Promise.resolve() as Promise<unknown> };
  return {
    async executions(tenant, window) {
      const out: TelemetryExecutionRow[] = [];
      await each<{ workflow: string; status: string; created_at: number; finished_at: number | null }>(
        reader,
        queue,
        TELEMETRY_SQL.executions,
        idRange(tenant, window),
        (r) => void out.push({ workflow: r.workflow, status: r.status, createdAt: r.created_at, finishedAt: r.finished_at }),
      );
      return out;
    },

    async costs(tenant, window) {
      const sums = new Map<string, { tokens: number; usd: number }>();
      await each<{ workflow: string; data: Buffer }>(
        reader,
        queue,
        TELEMETRY_SQL.costs,
        idRange(tenant, window),
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
      await each<{ execution_id: string; type: StepEventRow['type']; ts: number; step_id: string | null; data: Buffer | null }>(
        reader,
        queue,
        TELEMETRY_SQL.stepEvents,
        [...idRange(tenant, window), workflow],
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
