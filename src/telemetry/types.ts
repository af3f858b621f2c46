/** @module telemetry/types — the answers of `/telemetry/summary` and `/telemetry/workflows/{name}/stats` (docs/api/operations.md, "Telemetry"). */

/** Per-workflow row of the summary. */
export interface WorkflowSummary {
  readonly workflow: string;
  readonly started: number;
  readonly completed: number;
  /** `failed` and `timed_out` executions. */
  readonly failed: number;
  /** Duration percentiles (created → finished) of its finished executions; null when none finished. */
  readonly p50Ms: number | null;
  readonly p95Ms: number | null;
  readonly tokens: number;
  readonly usd: number;
}

/** `GET /telemetry/summary`: workflow executions (no standalone tasks) created in `[from, to)` of the caller's tenant. */
export interface TelemetrySummary {
  readonly from: string;
  readonly to: string;
  readonly executions: { readonly started: number; readonly completed: number; readonly failed: number; readonly cancelled: number };
  readonly durationMs: { readonly p50: number | null; readonly p95: number | null };
  readonly cost: { readonly tokens: number; readonly usd: number };
  readonly workflows: readonly WorkflowSummary[];
}

/** One step of a workflow, over the runs that reached an outcome. */
export interface StepStats {
  readonly stepId: string;
  /** Step runs with an outcome (completed or failed for good); retried attempts are one run. */
  readonly runs: number;
  /** Completed runs / runs, a fraction 0..1. */
  readonly successRate: number;
  /** `workflow.step.retrying` events: attempts that failed and were tried again. */
  readonly retries: number;
  /** Failed runs the flow recovered from, by `onError` strategy. */
  readonly recoveries: { readonly skip: number; readonly fallback: number; readonly compensate: number };
  /** Run durations (first attempt's start → outcome, backoff included); null without runs. */
  readonly p50Ms: number | null;
  readonly p95Ms: number | null;
  readonly p99Ms: number | null;
}

/** `GET /telemetry/workflows/{name}/stats`. */
export interface WorkflowStats {
  readonly workflow: string;
  readonly from: string;
  readonly to: string;
  readonly steps: readonly StepStats[];
}


/** One bucket of `GET /telemetry/series`, starting at `at`. */
export interface TelemetryBucket {
  readonly at: string;
  /** Executions created in the bucket. */
  readonly started: number;
  /** Executions of the window that ended in the bucket, by how. */
  readonly completed: number;
  /** `failed` and `timed_out`. */
  readonly failed: number;
  readonly cancelled: number;
}

/** `GET /telemetry/series`: the window's executions over time, in equal buckets of `bucketMs`. */
export interface TelemetrySeries {
  readonly from: string;
  readonly to: string;
  readonly bucketMs: number;
  readonly buckets: readonly TelemetryBucket[];
}
