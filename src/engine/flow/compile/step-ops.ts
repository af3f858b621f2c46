/** @module engine/flow/compile/step-ops — what the named actions of the step states do (params fixed at compile time). */
import type { RetryPolicy, SleepStep, Step, TaskStep, WaitStep, WorkflowStep } from '../../../common/flow.ts';
import { resolveValue } from '../expressions.ts';
import type { FlowContext, FlowEvent } from '../flow-context.ts';
import { backoffMs, drop, errorOf, own, replace, scopeOf, type Fx, type Op, type OpKit } from '../flow-ops.ts';

/** What the failure and compensation actions of one definition need to know about it. */
export interface FlowPlan {
  /** Compensation tasks by id. */
  readonly comps: ReadonlyMap<string, TaskStep>;
  /** Step id → the compensation it names (steps with `compensate` only). */
  readonly compensateOf: ReadonlyMap<string, string>;
}

/** How a step that failed for good goes on (its `onError`, a fallback counts as one mode). */
export type Recovery = 'fail' | 'skip' | 'compensate' | 'fallback';

export interface StepFailedParams {
  readonly stepId: string;
  readonly timeoutCode: string;
  readonly recovery: Recovery;
  readonly plan: FlowPlan;
  /** A child workflow that timed out is cancelled first. */
  readonly cancelChild?: boolean;
}

/** Whether a completion is remembered for compensation (the step names a compensation). */
export interface Completion {
  readonly stepId: string;
  readonly compensable: boolean;
}

// ---- helpers shared by the ops ----

/** Marks a step started (attempt + 1) and emits `workflow.step.started` with `extra` after type and attempt. */
function begin(k: OpKit, d: FlowContext, fx: Fx, at: number, step: Step, status: 'running' | 'waiting', extra: Record<string, unknown>): number {
  const prev = d.steps[step.id];
  const attempt = (prev?.attempt ?? 0) + 1;
  own(d, 'steps')[step.id] = { status, attempt, base: prev?.base ?? 0 };
  own(d, 'active')[step.id] = step.type;
  k.emit(fx, d, 'workflow.step.started', step.id, { type: step.type, attempt, ...extra }, at);
  return attempt;
}

/** Completes a step with an output and emits `workflow.step.completed`. */
export function complete(k: OpKit, d: FlowContext, e: FlowEvent, fx: Fx, at: number, id: string, out: unknown, compensable: boolean): void {
  const s = d.steps[id];
  drop(d, 'inflight', id);
  drop(d, 'active', id);
  k.clearStepTimers(fx, d, id);
  own(d, 'steps')[id] = { status: 'completed', attempt: s?.attempt ?? 1, base: s?.base ?? 0, output: out };
  d.lastCompleted = id;
  // Only what a compensation can undo, once each: a loop must not grow the context without bound.
  if (compensable) {
    const order = own(d, 'completedOrder');
    const i = order.indexOf(id);
    if (i >= 0) order.splice(i, 1);
    order.push(id);
  }
  const extra = e.type === 'STEP_DONE' && e.stepId === id ? { agentId: e.agentId, durationMs: e.durationMs, costs: e.costs } : {};
  k.emit(fx, d, 'workflow.step.completed', id, { attempt: s?.attempt ?? 1, output: out, ...extra }, at);
}

/** Records a step failure; `recovery` says what onError does next (`none` for a compensation). */
export function failStep(k: OpKit, d: FlowContext, e: FlowEvent, fx: Fx, at: number, id: string, timeoutCode: string, recovery: Recovery | 'none'): void {
  const s = d.steps[id];
  const error = errorOf(e, timeoutCode);
  if (e.type === 'TIMER' && d.inflight[id]) k.abortStep(fx, d, id);
  drop(d, 'inflight', id);
  drop(d, 'active', id);
  k.clearStepTimers(fx, d, id);
  own(d, 'steps')[id] = { status: recovery === 'skip' ? 'skipped' : 'failed', attempt: s?.attempt ?? 1, base: s?.base ?? 0, error };
  const extra = e.type === 'STEP_FAILED' ? { agentId: e.agentId, durationMs: e.durationMs, costs: e.costs } : {};
  k.emit(fx, d, 'workflow.step.failed', id, { attempt: s?.attempt ?? 1, error, recovery, ...extra }, at);
}

/** A task attempt starts for real: reported (`workflow.step.started`), dispatched, its timeout armed. */
export function release(k: OpKit, fx: Fx, d: FlowContext, id: string, at: number): void {
  const t = d.inflight[id];
  if (!t) return;
  k.emit(fx, d, 'workflow.step.started', id, { type: 'task', attempt: t.attempt, agent: t.agent, input: t.input }, at);
  k.dispatch(fx, d, id);
  if (t.timeoutMs) k.armTimer(fx, d, `to:${id}:${t.attempt}`, at + t.timeoutMs);
}

/** A task attempt is due: dispatched at once, or held while the execution is paused. */
export function startTask(k: OpKit, d: FlowContext, fx: Fx, at: number, step: TaskStep): void {
  const prev = d.steps[step.id];
  const attempt = (prev?.attempt ?? 0) + 1;
  own(d, 'steps')[step.id] = { status: 'running', attempt, base: prev?.base ?? 0 };
  own(d, 'active')[step.id] = step.type;
  const input = resolveValue(step.input ?? null, scopeOf(d));
  own(d, 'inflight')[step.id] = { stepId: step.id, attempt, agent: step.agent, input, timeoutMs: step.timeoutMs ?? null, held: d.paused };
  // Paused: the attempt is due but neither reported, dispatched nor timed until the resume.
  if (!d.paused) release(k, fx, d, step.id, at);
}

// ---- the ops (named actions, flow-machine.ts) ----

/** A step failed for good: recorded, then per its `onError` (the transition's target does the rest). */
export const stepFailed: Op<StepFailedParams> = (k, d, e, fx, at, p) => {
  const id = p.stepId;
  if (p.cancelChild) k.cancelChild(fx, d, id);
  failStep(k, d, e, fx, at, id, p.timeoutCode, p.recovery);
  if (p.recovery !== 'fail' && p.recovery !== 'compensate') return;
  const err = d.steps[id]?.error;
  d.error = { code: err?.code ?? 'failed', message: err?.message ?? 'step failed', stepId: id, compensated: false };
  d.failedStep = id;
  if (p.recovery === 'compensate') {
    replace(d, 'compQueue', d.completedOrder
      .slice()
      .reverse()
      .map((done) => p.plan.compensateOf.get(done))
      .filter((c): c is string => typeof c === 'string' && p.plan.comps.has(c)));
  }
};

/** A step completes with the output of the event (a task's or a child's result). */
export const completeWithOutput: Op<Completion> = (k, d, e, fx, at, p) => complete(k, d, e, fx, at, p.stepId, (e as { output?: unknown }).output, p.compensable);

/** A step completes without output (a sleep). */
export const completeEmpty: Op<Completion> = (k, d, e, fx, at, p) => complete(k, d, e, fx, at, p.stepId, null, p.compensable);

export const enterTask: Op<{ readonly step: TaskStep }> = (k, d, _e, fx, at, p) => startTask(k, d, fx, at, p.step);

export const scheduleRetry: Op<{ readonly stepId: string; readonly policy: Required<RetryPolicy>; readonly timeoutCode: string }> = (k, d, e, fx, at, p) => {
  const id = p.stepId;
  const s = d.steps[id];
  if (!s) return;
  const error = errorOf(e, p.timeoutCode);
  if (e.type === 'TIMER') k.abortStep(fx, d, id);
  drop(d, 'inflight', id);
  k.clearStepTimers(fx, d, id);
  const delayMs = backoffMs(p.policy, s.attempt - s.base, d.executionId);
  own(d, 'steps')[id] = { ...s, error };
  k.armTimer(fx, d, `bo:${id}:${s.attempt}`, at + delayMs);
  // The failed attempt's costs were spent all the same: they ride on this event (history.ts addCosts).
  const extra = e.type === 'STEP_FAILED' ? { agentId: e.agentId, durationMs: e.durationMs, costs: e.costs } : {};
  k.emit(fx, d, 'workflow.step.retrying', id, { attempt: s.attempt, error, delayMs, ...extra }, at);
};

export const enterWait: Op<{ readonly step: WaitStep }> = (k, d, _e, fx, at, { step }) => {
  const id = step.id;
  const attempt = begin(k, d, fx, at, step, 'waiting', { signal: step.signal });
  k.emit(fx, d, 'workflow.waiting', id, { signal: step.signal, questions: step.questions ?? [] }, at);
  if (step.timeoutMs) k.armTimer(fx, d, `wt:${id}:${attempt}`, at + step.timeoutMs);
};

function signalReceived(k: OpKit, d: FlowContext, e: FlowEvent, fx: Fx, at: number, id: string): void {
  const s = e as Extract<FlowEvent, { type: 'SIGNAL' }>;
  k.emit(fx, d, 'workflow.signal.received', id, { name: s.name, payload: s.payload, reject: s.reject, reason: s.reason }, at);
}

/** The awaited signal arrived: its payload is the step's output. */
export const acceptSignal: Op<Completion> = (k, d, e, fx, at, p) => {
  signalReceived(k, d, e, fx, at, p.stepId);
  complete(k, d, e, fx, at, p.stepId, (e as Extract<FlowEvent, { type: 'SIGNAL' }>).payload, p.compensable);
};

/** The awaited signal arrived rejected: the step fails. */
export const rejectSignal: Op<StepFailedParams> = (k, d, e, fx, at, p) => {
  signalReceived(k, d, e, fx, at, p.stepId);
  stepFailed(k, d, e, fx, at, p);
};

/** A signal buffered before the step is consumed by turning it into the event the step would have received. */
export const consumeSignal: Op<{ readonly signal: string; readonly completion: Completion; readonly rejected: StepFailedParams }> = (k, d, _e, fx, at, p) => {
  const i = d.signals.findIndex((s) => s.name === p.signal);
  const sig = d.signals[i];
  // Its guard saw the signal buffered; should it not be, nothing is taken (a splice at -1 would drop the last one).
  if (!sig) return;
  own(d, 'signals').splice(i, 1);
  const ev: FlowEvent = { type: 'SIGNAL', name: sig.name, payload: sig.payload, reject: sig.reject, reason: sig.reason, at };
  if (sig.reject) stepFailed(k, d, ev, fx, at, p.rejected);
  else complete(k, d, ev, fx, at, p.completion.stepId, sig.payload, p.completion.compensable);
};

export const enterSleep: Op<{ readonly step: SleepStep }> = (k, d, _e, fx, at, { step }) => {
  let dueAt = at;
  if (step.ms !== undefined) dueAt = at + step.ms;
  else {
    const until = resolveValue(step.until ?? null, scopeOf(d));
    const t = typeof until === 'string' ? Date.parse(until) : typeof until === 'number' ? until : NaN;
    if (Number.isFinite(t)) dueAt = t;
  }
  const attempt = begin(k, d, fx, at, step, 'waiting', { until: new Date(dueAt).toISOString() });
  k.armTimer(fx, d, `sl:${step.id}:${attempt}`, dueAt);
};

/** A choice or parallel step starts (`extra`: what its started event carries besides type and attempt). */
export const enterStep: Op<{ readonly step: Step; readonly extra: Record<string, unknown> }> = (k, d, _e, fx, at, p) => void begin(k, d, fx, at, p.step, 'running', p.extra);

/** A choice completes with the step it picked (null: the end of the flow or branch). */
export const pickBranch: Op<Completion & { readonly next: string | null }> = (k, d, e, fx, at, p) => complete(k, d, e, fx, at, p.stepId, { next: p.next }, p.compensable);

/** A parallel step completes with the output of the last step of each branch. */
export const completeParallel: Op<Completion & { readonly lasts: readonly string[] }> = (k, d, e, fx, at, p) => {
  const out: Record<string, unknown> = {};
  for (const last of p.lasts) out[last] = d.steps[last]?.output ?? null;
  complete(k, d, e, fx, at, p.stepId, out, p.compensable);
};

export const enterWorkflow: Op<{ readonly step: WorkflowStep }> = (k, d, _e, fx, at, { step }) => {
  const input = resolveValue(step.input ?? null, scopeOf(d));
  const attempt = begin(k, d, fx, at, step, 'running', { workflow: step.workflow });
  k.startChild(fx, d, step.id, step.workflow, step.version ?? null, input, at);
  if (step.timeoutMs) k.armTimer(fx, d, `wf:${step.id}:${attempt}`, at + step.timeoutMs);
};
