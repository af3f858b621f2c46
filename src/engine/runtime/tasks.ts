/**
 * @module engine/runtime/tasks — standalone tasks as the engine sees them: a task is an execution of a
 * generated one-step flow document (one `task` step on the task's agent, with its retry and
 * timeout), with a `tk_` id instead of `ex_`. The id prefix is the kind marker: execution
 * lookups and lists never see a task, task lookups never see an execution.
 */
import type { FlowDocument, RetryPolicy, TaskStep } from '../../common/flow.ts';
import { ulid } from '../../common/ids.ts';

/** What an execution row is: a flow execution (`ex_…`) or a standalone task (`tk_…`). */
export type ExecutionKind = 'execution' | 'task';

export type TaskId = string & { readonly __brand: 'TaskId' };

/** Id prefix of each kind; the store filters lists and counts by it (ids sort by prefix first). */
export const ID_PREFIX: Readonly<Record<ExecutionKind, string>> = { execution: 'ex_', task: 'tk_' };

/** The id of the one step of a task's flow document. */
export const TASK_STEP_ID = 'task';

/** Name of a task's flow document: `task.<agent>` (the executions row's `workflow`, filtered on by `?agent=`). */
export const TASK_NAME_PREFIX = 'task.';

/** Idempotency keys of tasks live in their own namespace (the same key may start an execution too). */
export const TASK_KEY_PREFIX = '\u0000task\u0000';

/** Agent kinds a task may name: they become part of a flow name (NAME_PATTERN) and of NATS subjects. */
export const TASK_AGENT_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,122}$';

const TASK_ID = /^tk_[0-9A-HJKMNP-TV-Z]{26}$/;

export function newTaskId(now: number = Date.now()): TaskId {
  return `tk_${ulid(now)}` as TaskId;
}

/** Returns the id when it has the `tk_` + ULID shape, else undefined. */
export function parseTaskId(raw: string): TaskId | undefined {
  return TASK_ID.test(raw) ? (raw as TaskId) : undefined;
}

export function kindOfId(id: string): ExecutionKind {
  return id.startsWith(ID_PREFIX.task) ? 'task' : 'execution';
}

/** What a client asks for: one step on `agent`, with the flow step's retry policy and timeout. */
export interface TaskSpec {
  readonly agent: string;
  readonly retry?: RetryPolicy | undefined;
  readonly timeoutMs?: number | undefined;
}

/**
 * The one-step flow document a task runs. The execution's input is `{ input, retry, timeoutMs }`
 * (the task as asked, so reads need no document); the step gets `$.input.input`, a path, so a task
 * input that looks like a path stays data.
 */
export function taskDocument(spec: TaskSpec): FlowDocument {
  const step: TaskStep = {
    id: TASK_STEP_ID,
    type: 'task',
    agent: spec.agent,
    input: '$.input.input',
    ...(spec.retry === undefined ? {} : { retry: spec.retry }),
    ...(spec.timeoutMs === undefined ? {} : { timeoutMs: spec.timeoutMs }),
  };
  return { name: `${TASK_NAME_PREFIX}${spec.agent}`, steps: [step] };
}
