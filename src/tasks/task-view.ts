/** @module tasks/task-view — a standalone task as the API shows it (docs/api/tasks.md), derived from its execution and attempts. */
import { TASK_NAME_PREFIX } from '../engine/runtime/tasks.ts';
import type { AttemptView, ExecutionStatus, ExecutionView } from '../common/execution.ts';
import { DEFAULT_RETRY, type RetryPolicy } from '../common/flow.ts';
import type { StepAttempts } from '../store/types.ts';

export const TaskStatus = {
  /** Not taken by an agent yet: queued (no agent of that kind free) or waiting for a retry's backoff. */
  pending: 'pending',
  /** An agent took the current attempt. */
  running: 'running',
  completed: 'completed',
  /** Retries spent, a non-retryable error, or the step timed out on its last attempt. */
  failed: 'failed',
  cancelled: 'cancelled',
} as const;
export type TaskStatus = (typeof TaskStatus)[keyof typeof TaskStatus];

export const TASK_STATUSES: readonly TaskStatus[] = Object.values(TaskStatus);

export interface TaskView {
  id: string;
  agent: string;
  status: TaskStatus;
  input: unknown;
  output: unknown;
  /** Why it failed or was cancelled; null otherwise. */
  error: { code: string; message: string } | null;
  /** Attempts started so far (the attempt history is GET /tasks/{id}/attempts). */
  attempts: number;
  /** The effective retry policy (DEFAULT_RETRY filled in). */
  retry: Required<RetryPolicy>;
  timeoutMs: number | null;
  createdAt: string;
  updatedAt: string;
  /** When it ended (completed, failed or cancelled); null while open. */
  completedAt: string | null;
}

/** The execution input of a task: the task as it was asked (engine/runtime/tasks.ts). */
export interface TaskInput {
  readonly input: unknown;
  readonly retry: RetryPolicy | null;
  readonly timeoutMs: number | null;
}

/** Execution statuses behind each task status (the store filters on these; pending/running split later). */
export const EXECUTION_STATUSES_OF: Readonly<Record<TaskStatus, readonly ExecutionStatus[]>> = {
  pending: ['pending', 'running', 'waiting', 'paused'],
  running: ['pending', 'running', 'waiting', 'paused'],
  completed: ['completed'],
  failed: ['failed', 'timed_out'],
  cancelled: ['cancelled'],
};

function statusOf(x: ExecutionView, attempts: StepAttempts): TaskStatus {
  switch (x.status) {
    case 'completed':
      return 'completed';
    case 'cancelled':
      return 'cancelled';
    case 'failed':
    case 'timed_out':
      return 'failed';
    case 'pending':
    // Tasks have no concurrency limit: never queued, listed here for the exhaustive switch.
    case 'queued':
    case 'running':
    case 'waiting':
    case 'paused':
      return attempts.taken ? 'running' : 'pending';
    default:
      return x.status satisfies never;
  }
}

/** No attempt yet: the step has not started. */
export const NO_ATTEMPTS: StepAttempts = { count: 0, taken: false };

/** The summary of a task's attempt history (in attempt order), as a list derives it from the store. */
export function summarizeAttempts(attempts: readonly AttemptView[]): StepAttempts {
  const last = attempts[attempts.length - 1];
  return { count: attempts.length, taken: last?.status === 'running' && last.agentId !== null };
}

const CANCELLED = { code: 'cancelled', message: 'the task was cancelled' } as const;

/** The task view of a task's execution and the summary of its attempts (no history needed: lists build pages of these). */
export function toTaskView(x: ExecutionView, attempts: StepAttempts): TaskView {
  const asked = (x.input ?? {}) as Partial<TaskInput>;
  return {
    id: x.id,
    agent: x.workflow.startsWith(TASK_NAME_PREFIX) ? x.workflow.slice(TASK_NAME_PREFIX.length) : x.workflow,
    status: statusOf(x, attempts),
    input: asked.input ?? null,
    output: x.status === 'completed' ? x.output : null,
    error: x.error !== null ? { code: x.error.code, message: x.error.message } : x.status === 'cancelled' ? CANCELLED : null,
    attempts: attempts.count,
    retry: { ...DEFAULT_RETRY, ...(asked.retry ?? {}) },
    timeoutMs: asked.timeoutMs ?? null,
    createdAt: x.createdAt,
    updatedAt: x.updatedAt,
    completedAt: x.finishedAt,
  };
}
