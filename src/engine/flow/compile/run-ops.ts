/** @module engine/flow/compile/run-ops — what the named actions of the execution-level and compensation states do. */
import type { FlowContext, FlowEvent } from '../flow-context.ts';
import { resolveValue } from '../expressions.ts';
import { own, replace, scopeOf, type Op } from '../flow-ops.ts';
import { complete, failStep, release, startTask, type FlowPlan } from './step-ops.ts';

type Ev<T extends FlowEvent['type']> = Extract<FlowEvent, { type: T }>;

/** The step reported as the failing one when the execution itself ends (a parallel is never it). */
const activeStep = (d: FlowContext): string | null => Object.keys(d.active).find((id) => d.active[id] !== 'parallel') ?? null;

/** Entering `run`: the execution's own timeout, when it has one. */
export const armExecTimeout: Op<{ readonly timeoutMs: number | null }> = (k, d, _e, fx, at, p) => {
  if (p.timeoutMs) k.armTimer(fx, d, 'exec:flow:0', at + p.timeoutMs);
};

export const pause: Op = (k, d, _e, fx, at) => {
  d.paused = true;
  k.emit(fx, d, 'workflow.paused', null, {}, at);
};

export const resume: Op = (k, d, _e, fx, at) => {
  d.paused = false;
  k.emit(fx, d, 'workflow.resumed', null, {}, at);
  for (const [id, task] of Object.entries(d.inflight)) {
    if (!task.held) continue;
    own(d, 'inflight')[id] = { ...task, held: false };
    release(k, fx, d, id, at);
  }
};

export const update: Op = (k, d, e, fx, at) => {
  const u = e as Ev<'UPDATE'>;
  if (u.context) d.context = { ...d.context, ...u.context };
  k.emit(fx, d, 'workflow.updated', null, { labels: u.labels, context: u.context }, at);
};

/** A signal no step waits for yet is kept for the wait step that will. */
export const bufferSignal: Op = (k, d, e, fx, at) => {
  const s = e as Ev<'SIGNAL'>;
  own(d, 'signals').push({ name: s.name, payload: s.payload, reject: s.reject, reason: s.reason });
  k.emit(fx, d, 'workflow.signal.received', null, { name: s.name, payload: s.payload, reject: s.reject, reason: s.reason, buffered: true }, at);
};

export const prepareRetry: Op = (k, d, e, fx, at) => {
  const r = e as Ev<'RETRY'>;
  d.retryAttempt += 1;
  d.error = null;
  d.failedStep = null;
  replace(d, 'compQueue', []);
  for (const [id, s] of Object.entries(d.steps)) if (s.status === 'failed' || s.status === 'cancelled') own(d, 'steps')[id] = { ...s, base: s.attempt };
  k.emit(fx, d, 'workflow.retried', r.stepId, { stepId: r.stepId, note: r.note, retryAttempt: d.retryAttempt }, at);
};

export const abortRun: Op = (_k, d, e) => {
  const a = e as Ev<'ABORT'>;
  d.error = { code: a.code, message: a.message, stepId: activeStep(d), compensated: false };
  d.failedStep = d.error.stepId;
};

/** `output`: the document's output mapping (undefined: the last completed step's output). */
export const finish: Op<{ readonly output: unknown }> = (k, d, _e, fx, at, p) => {
  k.stopAll(fx, d);
  const last = d.lastCompleted ?? d.completedOrder[d.completedOrder.length - 1];
  d.output = p.output !== undefined ? resolveValue(p.output, scopeOf(d)) : last ? (d.steps[last]?.output ?? null) : null;
  k.emit(fx, d, 'workflow.completed', null, { output: d.output }, at);
};

export const failed: Op = (k, d, _e, fx, at) => {
  k.stopAll(fx, d);
  d.error ??= { code: 'failed', message: 'execution failed', stepId: null, compensated: false };
  k.emit(fx, d, 'workflow.failed', d.error.stepId, { error: d.error }, at);
};

export const timedOut: Op = (k, d, _e, fx, at) => {
  const stepId = activeStep(d);
  k.stopAll(fx, d);
  d.error = { code: 'execution_timeout', message: 'execution timed out', stepId, compensated: false };
  d.failedStep = stepId;
  k.emit(fx, d, 'workflow.timed_out', null, { error: d.error }, at);
};

export const cancelled: Op = (k, d, e, fx, at) => {
  k.stopAll(fx, d);
  k.emit(fx, d, 'workflow.cancelled', null, { reason: e.type === 'CANCEL' ? e.reason : null }, at);
};

// ---- compensation: the queue's head runs until it completes or fails for good ----

/** The compensation at the head of the queue ('' when none). */
export const compHead = (c: FlowContext): string => c.compQueue[0] ?? '';

export const markCompensated: Op = (_k, d) => {
  if (d.error) d.error = { ...d.error, compensated: true };
};

export const startCompensation: Op<{ readonly plan: FlowPlan }> = (k, d, _e, fx, at, p) => {
  const step = p.plan.comps.get(compHead(d));
  if (step) startTask(k, d, fx, at, step);
};

export const compensationDone: Op<{ readonly plan: FlowPlan }> = (k, d, e, fx, at, p) => {
  const id = compHead(d);
  complete(k, d, e, fx, at, id, (e as Ev<'STEP_DONE'>).output, p.plan.compensateOf.has(id));
  own(d, 'compQueue').shift();
};

export const compensationFailed: Op = (k, d, e, fx, at) => {
  failStep(k, d, e, fx, at, compHead(d), 'step_timeout', 'none');
  own(d, 'compQueue').shift();
};
