/** @module engine/flow/compile/guards — the named guards of compiled flows (pure: context, event and params only). */
import type { Condition } from '../../../common/flow.ts';
import { evaluateCondition } from '../expressions.ts';
import type { FlowContext, FlowEvent } from '../flow-context.ts';
import { errorOf, retryPolicy, scopeOf } from '../flow-ops.ts';
import { compHead } from './run-ops.ts';
import type { FlowPlan } from './step-ops.ts';

type Args = { context: FlowContext; event: FlowEvent };
/** Retry limit of a task (its policy's maxAttempts); `timeoutCode` is the failure a timer stands for. */
type Retryable = { readonly stepId: string; readonly maxAttempts: number; readonly timeoutCode: string };

/** The result of the step's current attempt (a stale one of an earlier attempt is ignored). */
function isResult({ context, event }: Args, stepId: string): boolean {
  return (event.type === 'STEP_DONE' || event.type === 'STEP_FAILED') && event.stepId === stepId && event.attempt === context.steps[stepId]?.attempt;
}

/** Timer keys are `<kind>:<stepId>:<attempt>`; a timer cleared since it was armed does not count. */
function isTimer({ context, event }: Args, kind: string, stepId: string): boolean {
  return event.type === 'TIMER' && event.key === `${kind}:${stepId}:${context.steps[stepId]?.attempt ?? 0}` && event.key in context.timers;
}

function canRetry({ context, event }: Args, stepId: string, maxAttempts: number, timeoutCode: string): boolean {
  const s = context.steps[stepId];
  if (!s) return false;
  return errorOf(event, timeoutCode).retryable !== false && s.attempt - s.base < maxAttempts;
}

export const flowGuards = {
  execTimer: ({ context, event }: Args) => event.type === 'TIMER' && event.key === 'exec:flow:0' && event.key in context.timers,
  notPaused: ({ context }: Args) => !context.paused,
  paused: ({ context }: Args) => context.paused,
  retryOf: ({ event }: Args, p: { readonly stepId: string }) => event.type === 'RETRY' && event.stepId === p.stepId,
  result: (a: Args, p: { readonly stepId: string }) => isResult(a, p.stepId),
  retryableResult: (a: Args, p: Retryable) => isResult(a, p.stepId) && canRetry(a, p.stepId, p.maxAttempts, p.timeoutCode),
  timer: (a: Args, p: { readonly kind: string; readonly stepId: string }) => isTimer(a, p.kind, p.stepId),
  retryableTimer: (a: Args, p: Retryable & { readonly kind: string }) => isTimer(a, p.kind, p.stepId) && canRetry(a, p.stepId, p.maxAttempts, p.timeoutCode),
  /** A signal for the step arrived while it was not waiting yet. */
  bufferedSignal: ({ context }: Args, p: { readonly signal: string; readonly reject: boolean }) => context.signals.find((s) => s.name === p.signal)?.reject === p.reject,
  signal: ({ event }: Args, p: { readonly signal: string; readonly reject: boolean }) => event.type === 'SIGNAL' && event.name === p.signal && event.reject === p.reject,
  condition: ({ context }: Args, p: { readonly if: Condition }) => evaluateCondition(p.if, scopeOf(context)),
  child: ({ event }: Args, p: { readonly type: 'CHILD_DONE' | 'CHILD_FAILED'; readonly stepId: string }) => event.type === p.type && event.stepId === p.stepId,
  compensationsDone: ({ context }: Args) => context.compQueue.length === 0,
  compensationResult: (a: Args) => isResult(a, compHead(a.context)),
  retryableCompensation: (a: Args, p: { readonly plan: FlowPlan }) => {
    if (!isResult(a, compHead(a.context))) return false;
    const step = p.plan.comps.get(compHead(a.context));
    return step !== undefined && canRetry(a, step.id, retryPolicy(step.retry).maxAttempts, 'step_timeout');
  },
};
