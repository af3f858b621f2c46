/**
 * @module client/result — waiting for an execution's result: long polls of `?wait=` (at most 30 s
 * each, the server's limit) until it finished, waits for a signal, or the caller's timeout passed.
 */
import type { ExecutionError, ExecutionView, Page, StepView } from '../common/execution.ts';
import { isTerminalStatus } from './sse.ts';

/** The longest `?wait=` the server accepts in one request. */
export const MAX_WAIT_MS = 30_000;

/** A reply this much before its `?wait=` ran out was answered because the execution settled (timers may fire a little early). */
const EARLY_MARGIN_MS = 5;

/**
 * Where an execution stands when a wait ends (`failed`, `cancelled`, `timed_out` throw ActorflowExecutionError):
 * `completed` with its output; `waiting` for one of `signals` (a `wait` step); `timeout`: the caller's
 * timeout passed while it still runs (not the execution's own `timed_out`).
 */
export type ExecutionResult<O = unknown> =
  | { readonly state: 'completed'; readonly output: O; readonly execution: ExecutionView }
  | { readonly state: 'waiting'; readonly signals: readonly string[]; readonly execution: ExecutionView }
  | { readonly state: 'timeout'; readonly execution: ExecutionView };

const ENDED_CODES = { failed: 'execution_failed', cancelled: 'execution_cancelled', timed_out: 'execution_timed_out' } as const;
type EndedStatus = keyof typeof ENDED_CODES;

/** The execution ended without completing: `code` is `execution_failed`, `execution_cancelled` or `execution_timed_out`. */
export class ActorflowExecutionError extends Error {
  override readonly name = 'ActorflowExecutionError';
  readonly code: (typeof ENDED_CODES)[EndedStatus];
  readonly execution: ExecutionView;
  /** The execution's error (`{ code, message, stepId, compensated }`), null when cancelled without one. */
  readonly error: ExecutionError | null;

  constructor(execution: ExecutionView) {
    const e = execution.error;
    const why = e === null ? '' : `${e.stepId === null ? '' : ` at step ${e.stepId}`}: ${e.message} (${e.code})`;
    super(`execution ${execution.id} ${execution.status.replace('_', ' ')}${why}`);
    this.code = ENDED_CODES[execution.status as EndedStatus];
    this.execution = execution;
    this.error = e;
  }
}

/** The two reads a wait needs. */
export interface ResultReads {
  /** GET /executions/{id}?wait=`waitMs`. */
  get(id: string, waitMs: number): Promise<ExecutionView>;
  steps(id: string, cursor: string | undefined): Promise<Page<StepView>>;
}

/** One reply of a long poll, and whether it came before its wait ran out (the server judged the execution settled). */
export interface Polled {
  readonly view: ExecutionView;
  readonly early: boolean;
}

/** Runs one long-poll request that asked for `waitMs`, timing it. */
export async function timed(waitMs: number, request: () => Promise<ExecutionView>): Promise<Polled> {
  const t0 = performance.now();
  const view = await request();
  return { view, early: performance.now() - t0 < waitMs - EARLY_MARGIN_MS };
}

/** Signals the execution's current `wait` steps are blocked on. */
async function awaitedSignals(reads: ResultReads, view: ExecutionView): Promise<string[]> {
  const current = new Set(view.currentSteps);
  const signals: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await reads.steps(view.id, cursor);
    for (const s of page.items) if (current.has(s.stepId) && s.waitingFor !== null) signals.push(s.waitingFor);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined && signals.length < current.size);
  return signals;
}

/**
 * Polls from `first` (a reply already in hand, e.g. of a start with `?wait=`) or a first GET, until the
 * execution is terminal or blocked on a signal, or `deadline` (a `performance.now()` time) passed.
 * Never throws for the execution's outcome; `outcome()` does.
 */
export async function settle(reads: ResultReads, id: string, deadline: number, first?: Polled): Promise<ExecutionResult | { readonly state: 'ended'; readonly execution: ExecutionView }> {
  const poll = (): Promise<Polled> => {
    const waitMs = Math.min(Math.max(0, Math.ceil(deadline - performance.now())), MAX_WAIT_MS);
    return timed(waitMs, () => reads.get(id, waitMs));
  };
  let p = first ?? (await poll());
  for (;;) {
    const v = p.view;
    if (v.status === 'completed') return { state: 'completed', output: v.output, execution: v };
    if (isTerminalStatus(v.status)) return { state: 'ended', execution: v };
    if (v.status === 'waiting') {
      // `waiting` is also a sleeping execution; only a `wait` step (or the server answering early) means blocked on a signal.
      const signals = await awaitedSignals(reads, v);
      if (signals.length > 0 || p.early) return { state: 'waiting', signals, execution: v };
    }
    if (deadline - performance.now() < 1) return { state: 'timeout', execution: v };
    p = await poll();
  }
}

/** The result of `settle`, with an execution that ended without completing as ActorflowExecutionError. */
export function outcome<O>(s: Awaited<ReturnType<typeof settle>>): ExecutionResult<O> {
  if (s.state === 'ended') throw new ActorflowExecutionError(s.execution);
  return s as ExecutionResult<O>;
}
