/** @module flow — the flow document format (docs/flows.md). */

export interface RetryPolicy {
  readonly maxAttempts?: number;
  readonly backoff?: 'exponential' | 'fixed';
  readonly initialMs?: number;
  readonly factor?: number;
  readonly maxMs?: number;
  readonly jitter?: boolean;
}

export type OnError = 'fail' | 'skip' | 'compensate' | { readonly fallback: string };

/** A choice condition: a path compared with a value, or a combination. */
export type Condition =
  | {
      readonly path: string;
      readonly equals?: unknown;
      readonly notEquals?: unknown;
      readonly exists?: boolean;
      readonly gt?: number;
      readonly gte?: number;
      readonly lt?: number;
      readonly lte?: number;
      readonly in?: readonly unknown[];
    }
  | { readonly all: readonly Condition[] }
  | { readonly any: readonly Condition[] }
  | { readonly not: Condition };

interface StepBase {
  readonly id: string;
  readonly next?: string;
  readonly end?: boolean;
}

export interface TaskStep extends StepBase {
  readonly type: 'task';
  readonly agent: string;
  readonly input?: unknown;
  /** JSON Schema (draft-07) the agent's output must match; else the step fails with `output_invalid`, not retried. */
  readonly outputSchema?: Record<string, unknown>;
  readonly retry?: RetryPolicy;
  readonly timeoutMs?: number;
  readonly onError?: OnError;
  readonly compensate?: string;
}

export interface WaitStep extends StepBase {
  readonly type: 'wait';
  readonly signal: string;
  readonly questions?: readonly unknown[];
  readonly timeoutMs?: number;
  readonly onError?: OnError;
  readonly compensate?: string;
}

export interface SleepStep extends StepBase {
  readonly type: 'sleep';
  readonly ms?: number;
  readonly until?: string;
}

export interface ChoiceStep extends StepBase {
  readonly type: 'choice';
  readonly when: readonly { readonly if: Condition; readonly next: string }[];
  readonly default?: string;
}

export interface ParallelStep extends StepBase {
  readonly type: 'parallel';
  readonly branches: readonly (readonly Step[])[];
  readonly onError?: OnError;
  readonly compensate?: string;
}

export interface WorkflowStep extends StepBase {
  readonly type: 'workflow';
  readonly workflow: string;
  readonly version?: number;
  readonly input?: unknown;
  readonly timeoutMs?: number;
  readonly onError?: OnError;
  readonly compensate?: string;
}

export type Step = TaskStep | WaitStep | SleepStep | ChoiceStep | ParallelStep | WorkflowStep;
export type StepType = Step['type'];

/** `journal`: every transition durable before it is acknowledged; `none`: a direct execution, written once when it ends (lost on a crash before). */
export type Durability = 'journal' | 'none';

/** A direct execution refuses `wait` steps and sleeps longer than this (it is short by construction). */
export const DIRECT_MAX_SLEEP_MS = 60_000;

/**
 * At most `limit` executions of the workflow (per distinct value of `key`, a path into the start's
 * input) run at once; starts past it are `queued` and start in priority, then creation, order.
 */
export interface ConcurrencyLimit {
  readonly limit: number;
  /** A path into the input, e.g. `$.input.customerId`: one limit per distinct value (compared as JSON text). */
  readonly key?: string;
}

/** Start priorities: −10..10, higher first in a concurrency queue. */
export const PRIORITY = { min: -10, max: 10, default: 0 } as const;

export interface FlowDocument {
  readonly name: string;
  readonly version?: number;
  readonly description?: string;
  readonly inputSchema?: Record<string, unknown>;
  readonly timeoutMs?: number;
  readonly output?: unknown;
  /** Default of the starts' `durability`: `none` runs direct executions (no file I/O while they run). @default 'journal' */
  readonly durability?: Durability;
  /** How many of its executions may run at once (docs/flows.md, "Concurrency limits"). */
  readonly concurrency?: ConcurrencyLimit;
  readonly steps: readonly Step[];
  readonly compensations?: readonly TaskStep[];
}

export const DEFAULT_RETRY: Required<RetryPolicy> = {
  maxAttempts: 3,
  backoff: 'exponential',
  initialMs: 200,
  factor: 2,
  maxMs: 30_000,
  jitter: false,
};

/** Caps stated in the README. */
export const LIMITS = {
  maxStepsPerDefinition: 1000,
  maxEventsPerExecution: 50_000,
  maxPayloadBytes: 1_048_576,
  maxBufferedSignals: 100,
  /**
   * Parallel branches in one definition, nested ones included. XState visits every region of an
   * active parallel state on every event and enters one in quadratic time, so a parallel's cost grows
   * with branches squared: 100 keeps the widest execution near 0.2 s of CPU in all (bench/RESULTS.md,
   * "wide parallel"). Wider fan-out: child workflows in the branches.
   */
  maxParallelBranches: 100,
  /** Levels of child workflows (`workflow` steps) under one execution; a deeper start fails the step with `workflow_depth_exceeded`. */
  maxWorkflowDepth: 32,
  /** Steps one input (a start, a result, a signal, a timer) may advance an execution before it fails with `step_budget_exceeded`. */
  maxStepsPerInput: 10_000,
} as const;
