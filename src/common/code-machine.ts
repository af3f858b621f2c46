/**
 * @module common/code-machine — what XState-native workflows (`actorflow/machine`) and the engine that
 * hosts them share: the `task(kind)` actor logic, and the input's time and execution id that make
 * `now()` and `random()` deterministic inside a machine's actions.
 *
 * A task actor does nothing by itself: the engine sees it start among the machine's children, records
 * the step, sends it to an agent, and answers it with one of the two events below. Recognised by the
 * string marker in `config` (not by identity): the user's module may load another copy of this file.
 */
import type { PromiseActorLogic, PromiseSnapshot } from 'xstate';
import type { StepError } from './errors.ts';
import type { RetryPolicy } from './flow.ts';

export const TASK_DONE = 'actorflow.task.done';
export const TASK_FAILED = 'actorflow.task.failed';

export interface TaskOptions {
  /** An attempt that has not answered after this long fails (`step_timeout`, retryable). */
  readonly timeoutMs?: number;
  /** Retries of retryable failures before `onError` (the flow documents' defaults: 3 attempts, exponential backoff). */
  readonly retry?: RetryPolicy;
}

export interface TaskConfig {
  readonly actorflowTask: true;
  readonly kind: string;
  readonly options: TaskOptions;
}

/** `onError`'s `event.error` of a task. */
export type TaskError = StepError;

/**
 * Actor logic for `invoke`: its input goes to an agent of `kind`; `onDone` gets the agent's output as
 * `event.output`, `onError` the step error (`{ code, message, retryable }`) once retries are spent.
 * @example
 * const order = setup({ actors: { charge: task<{ receipt: string }>('charge') } }).createMachine({
 *   initial: 'charging',
 *   states: { charging: { invoke: { id: 'charge', src: 'charge', input: ({ context }) => context, onDone: 'done' } }, done: { type: 'final' } },
 * });
 */
export function task<TOutput = unknown, TInput = unknown>(kind: string, options: TaskOptions = {}): PromiseActorLogic<TOutput, TInput> {
  const config: TaskConfig = { actorflowTask: true, kind, options };
  return {
    config,
    transition(snapshot, event) {
      if (snapshot.status !== 'active') return snapshot;
      if (event.type === TASK_DONE) return { ...snapshot, status: 'done', output: event.output as TOutput };
      if (event.type === TASK_FAILED) return { ...snapshot, status: 'error', error: event.error };
      return snapshot;
    },
    getInitialSnapshot: (_scope, input) => ({ status: 'active', output: undefined, error: undefined, input }),
    getPersistedSnapshot: (snapshot) => snapshot,
    restoreSnapshot: (snapshot) => snapshot as PromiseSnapshot<TOutput, TInput>,
  };
}

/** The task settings of an actor logic made by task(), or undefined. */
export function taskConfigOf(logic: unknown): TaskConfig | undefined {
  const config = (logic as { config?: unknown } | null | undefined)?.config as Partial<TaskConfig> | undefined;
  return config?.actorflowTask === true && typeof config.kind === 'string' ? (config as TaskConfig) : undefined;
}

/** Set by the engine while a machine handles one input: the input's time and its execution. */
let current: { at: number; executionId: string } | null = null;

/** Runs `fn` as the handling of one input (the engine's side of now() and random()). */
export function withInput<T>(at: number, executionId: string, fn: () => T): T {
  const prev = current;
  current = { at, executionId };
  try {
    return fn();
  } finally {
    current = prev;
  }
}

/**
 * The time of the input the machine is handling (epoch ms): use it instead of `Date.now()`, which would
 * differ between the first run and a replay. Outside the engine (a unit test of the machine) it is the clock.
 */
export function now(): number {
  return current?.at ?? Date.now();
}

/** The id of the execution the machine runs as ('' outside the engine). */
export function executionId(): string {
  return current?.executionId ?? '';
}

/** A number in [0, 1) that depends only on the execution and `key`: use it instead of `Math.random()`. */
export function random(key: string): number {
  const s = `${executionId()}\u0000${key}`;
  // FNV-1a, then a final avalanche: cheap, stable across processes and versions.
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return (h >>> 0) / 2 ** 32;
}
