/** @module engine/flow/flow-context — the serializable context of a compiled flow actor and its machine events. */
import type { StepError } from '../../common/errors.ts';
import type { ExecutionError } from '../../common/execution.ts';
import type { StepType } from '../../common/flow.ts';

export interface StepState {
  status: 'running' | 'waiting' | 'completed' | 'failed' | 'skipped' | 'cancelled';
  /** Attempts (task) or visits (other types), counting across execution retries. */
  attempt: number;
  /** `attempt` at the last execution retry: retries left = maxAttempts - (attempt - base). */
  base: number;
  output?: unknown;
  error?: StepError;
}

export interface InflightTask {
  stepId: string;
  attempt: number;
  agent: string;
  input: unknown;
  timeoutMs: number | null;
  /** Dispatch held while the execution is paused. */
  held: boolean;
}

export interface BufferedSignal {
  name: string;
  payload: unknown;
  reject: boolean;
  reason: string | null;
}

export interface FlowContext {
  executionId: string;
  input: unknown;
  steps: Record<string, StepState>;
  context: Record<string, unknown>;
  /** Durable timers: key → due time (epoch ms). Re-armed by the engine after a restore. */
  timers: Record<string, number>;
  inflight: Record<string, InflightTask>;
  /** Active steps → their type (parallel containers included). */
  active: Record<string, StepType>;
  /** Completed steps that name a compensation, oldest first, each once (what `compensate` undoes). */
  completedOrder: string[];
  /** The last step that completed (the execution's output without an `output` mapping). */
  lastCompleted?: string;
  compQueue: string[];
  signals: BufferedSignal[];
  paused: boolean;
  error: ExecutionError | null;
  output: unknown;
  failedStep: string | null;
  retryAttempt: number;
  /** Time of the last input, so entry actions of eventless transitions have a clock reading. */
  lastAt: number;
  /** The caller's W3C trace context (kept in the snapshot so dispatches after a recovery stay in its trace). */
  traceparent?: string;
  tracestate?: string;
}

export interface FlowInput {
  executionId: string;
  input: unknown;
  at: number;
  traceparent?: string;
  tracestate?: string;
}

/** Inputs to a flow actor. Time arrives in `at`, never from Date.now() inside the machine. */
export type FlowEvent =
  | { type: 'STEP_DONE'; stepId: string; attempt: number; output: unknown; agentId: string | null; durationMs: number | null; costs: unknown[]; at: number }
  | { type: 'STEP_FAILED'; stepId: string; attempt: number; error: StepError; agentId: string | null; durationMs: number | null; costs: unknown[]; at: number }
  | { type: 'TIMER'; key: string; at: number }
  | { type: 'SIGNAL'; name: string; payload: unknown; reject: boolean; reason: string | null; at: number }
  | { type: 'CHILD_DONE'; stepId: string; childId: string; output: unknown; at: number }
  | { type: 'CHILD_FAILED'; stepId: string; childId: string; error: StepError; at: number }
  | { type: 'PAUSE'; at: number }
  | { type: 'RESUME'; at: number }
  | { type: 'CANCEL'; reason: string | null; at: number }
  | { type: 'RETRY'; stepId: string; note: string | null; at: number }
  /** The engine ends the execution (caps such as the history limit, a step budget, an action that threw). */
  | { type: 'ABORT'; code: string; message: string; at: number }
  /** Enters the first step (sent right after the actor starts, so a failure there is an ordinary failed transition). */
  | { type: 'START'; at: number }
  | { type: 'UPDATE'; labels: Record<string, string> | null; context: Record<string, unknown> | null; at: number };

/** Side effects the engine performs for an actor; suppressed nowhere else. */
export interface FlowEffects {
  emit(executionId: string, type: string, stepId: string | null, data: Record<string, unknown>, at: number): void;
  dispatch(executionId: string, task: InflightTask): void;
  abort(executionId: string, stepId: string, attempt: number): void;
  armTimer(executionId: string, key: string, dueAt: number): void;
  clearTimer(executionId: string, key: string): void;
  startChild(executionId: string, stepId: string, workflow: string, version: number | null, input: unknown, at: number): void;
  cancelChild(executionId: string, stepId: string): void;
}

export function initialContext(i: FlowInput): FlowContext {
  return {
    executionId: i.executionId,
    input: i.input,
    steps: {},
    context: {},
    timers: {},
    inflight: {},
    active: {},
    completedOrder: [],
    compQueue: [],
    signals: [],
    paused: false,
    error: null,
    output: null,
    failedStep: null,
    retryAttempt: 0,
    lastAt: i.at,
    ...(i.traceparent === undefined ? {} : { traceparent: i.traceparent }),
    ...(i.tracestate === undefined ? {} : { tracestate: i.tracestate }),
  };
}
