/** @module store/resources/telemetry — the rows and the store interface of telemetry reads of the journal (re-exported by store/types.ts). */

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
 * Aggregates for `/telemetry/*`, scoped by tenant, over flow executions only (standalone tasks are
 * not counted).
 */
export interface TelemetryStore {
  /** Executions of `tenant` created in `window`. */
  executions(tenant: string, window: TimeWindow): Promise<TelemetryExecutionRow[]>;
  /** Costs reported on the step attempts (outcomes and retries) of those executions, summed per workflow. */
  costs(tenant: string, window: TimeWindow): Promise<WorkflowCostRow[]>;
  /** Step lifecycle events of `workflow`'s executions created in `window`. */
  stepEvents(tenant: string, workflow: string, window: TimeWindow): Promise<StepEventRow[]>;
}
