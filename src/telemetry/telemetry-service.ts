/**
 * @module telemetry/telemetry-service — execution and step statistics of a tenant, computed on
 * request from the journal (no counters on the engine's hot path: a start or an event costs nothing more).
 */
import type { TelemetryStore, TimeWindow } from '../store/types.ts';
import { ascending, percentile } from './percentiles.ts';
import { seriesOf } from './series.ts';
import type { StepStats, TelemetrySeries, TelemetrySummary, WorkflowStats, WorkflowSummary } from './types.ts';

export interface TelemetryService {
  /** Workflow executions (not standalone tasks) of `tenant` created in `window`: counts, durations, costs, per workflow. */
  summary(tenant: string, window: TimeWindow): Promise<TelemetrySummary>;
  /** Per-step runs, success rate, retries, recoveries and durations of `workflow`'s executions created in `window`. */
  workflowStats(tenant: string, workflow: string, window: TimeWindow): Promise<WorkflowStats>;
  /** Starts and ends of the executions created in `window`, in `buckets` equal buckets (series.ts). */
  series(tenant: string, window: TimeWindow, buckets: number): Promise<TelemetrySeries>;
}

/** USD sums of many small floats: rounded to nano-dollars so 0.1 + 0.2 reads 0.3. */
const usd = (x: number): number => Math.round(x * 1e9) / 1e9;

const isFailed = (status: string): boolean => status === 'failed' || status === 'timed_out';

interface WorkflowAcc {
  started: number;
  completed: number;
  failed: number;
  durations: number[];
}

/** The service over a telemetry store. */
export function createTelemetryService(store: TelemetryStore): TelemetryService {
  return {
    async summary(tenant, window) {
      const [rows, costs] = await Promise.all([store.executions(tenant, window), store.costs(tenant, window)]);
      const byWorkflow = new Map<string, WorkflowAcc>();
      const totals = { started: 0, completed: 0, failed: 0, cancelled: 0 };
      const durations: number[] = [];
      for (const r of rows) {
        let acc = byWorkflow.get(r.workflow);
        if (!acc) byWorkflow.set(r.workflow, (acc = { started: 0, completed: 0, failed: 0, durations: [] }));
        acc.started += 1;
        totals.started += 1;
        if (r.status === 'completed') (acc.completed += 1), (totals.completed += 1);
        else if (isFailed(r.status)) (acc.failed += 1), (totals.failed += 1);
        else if (r.status === 'cancelled') totals.cancelled += 1;
        if (r.finishedAt !== null) {
          const ms = Math.max(0, r.finishedAt - r.createdAt);
          acc.durations.push(ms);
          durations.push(ms);
        }
      }
      const costOf = new Map(costs.map((c) => [c.workflow, c]));
      const workflows: WorkflowSummary[] = [...byWorkflow.keys()].sort().map((workflow) => {
        const acc = byWorkflow.get(workflow) as WorkflowAcc;
        const sorted = ascending(acc.durations);
        const c = costOf.get(workflow);
        return {
          workflow,
          started: acc.started,
          completed: acc.completed,
          failed: acc.failed,
          p50Ms: percentile(sorted, 50),
          p95Ms: percentile(sorted, 95),
          tokens: c?.tokens ?? 0,
          usd: usd(c?.usd ?? 0),
        };
      });
      const all = ascending(durations);
      return {
        from: new Date(window.from).toISOString(),
        to: new Date(window.to).toISOString(),
        executions: totals,
        durationMs: { p50: percentile(all, 50), p95: percentile(all, 95) },
        cost: { tokens: costs.reduce((s, c) => s + c.tokens, 0), usd: usd(costs.reduce((s, c) => s + c.usd, 0)) },
        workflows,
      };
    },

    async series(tenant, window, buckets) {
      return seriesOf(await store.executions(tenant, window), window, buckets);
    },

    async workflowStats(tenant, workflow, window) {
      const events = await store.stepEvents(tenant, workflow, window);
      interface StepAcc {
        runs: number;
        completed: number;
        retries: number;
        recoveries: { skip: number; fallback: number; compensate: number };
        durations: number[];
      }
      const steps = new Map<string, StepAcc>();
      // Start of the open run of each (execution, step): a run spans its attempts up to its outcome.
      const open = new Map<string, number>();
      for (const e of events) {
        let acc = steps.get(e.stepId);
        if (!acc) steps.set(e.stepId, (acc = { runs: 0, completed: 0, retries: 0, recoveries: { skip: 0, fallback: 0, compensate: 0 }, durations: [] }));
        const key = `${e.executionId}\u0000${e.stepId}`;
        switch (e.type) {
          case 'workflow.step.started':
            if (!open.has(key)) open.set(key, e.ts);
            break;
          case 'workflow.step.retrying':
            acc.retries += 1;
            break;
          case 'workflow.step.completed':
          case 'workflow.step.failed': {
            acc.runs += 1;
            if (e.type === 'workflow.step.completed') acc.completed += 1;
            else if (e.recovery === 'skip' || e.recovery === 'fallback' || e.recovery === 'compensate') acc.recoveries[e.recovery] += 1;
            const started = open.get(key);
            if (started !== undefined) acc.durations.push(Math.max(0, e.ts - started));
            open.delete(key);
            break;
          }
          default:
            e.type satisfies never;
        }
      }
      const out: StepStats[] = [...steps].map(([stepId, acc]) => {
        const sorted = ascending(acc.durations);
        return {
          stepId,
          runs: acc.runs,
          successRate: acc.runs === 0 ? 0 : acc.completed / acc.runs,
          retries: acc.retries,
          recoveries: acc.recoveries,
          p50Ms: percentile(sorted, 50),
          p95Ms: percentile(sorted, 95),
          p99Ms: percentile(sorted, 99),
        };
      });
      return { workflow, from: new Date(window.from).toISOString(), to: new Date(window.to).toISOString(), steps: out };
    },
  };
}
