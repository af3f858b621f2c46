/** @module engine/flow/flow-ops — context updates and effects shared by the generated state nodes. */
import { assign } from 'xstate';
import type { StepError } from '../../common/errors.ts';
import { DEFAULT_RETRY, type RetryPolicy } from '../../common/flow.ts';
import type { Scope } from './expressions.ts';
import type { FlowContext, FlowEffects, FlowEvent } from './flow-context.ts';

/** Deferred side effects of one action, run in order once every op of the action succeeded. */
export type Fx = (() => void)[];
/**
 * The body of a named flow action: mutates `d` (a private copy of the context) and queues effects
 * through `k`. `p` are the action's params, fixed when the machine is compiled (step, ids, policy).
 */
export type Op<P = undefined> = (k: OpKit, d: FlowContext, e: FlowEvent, fx: Fx, at: number, p: P) => void;

/** The context the actions of the input being applied copied, and that input: see act(). */
let freshContext: FlowContext | null = null;
let freshEvent: unknown = null;

/** The collections of a context that actions change: an input copies one only when it first writes to it (`own`). */
type Collection = 'steps' | 'timers' | 'inflight' | 'active' | 'completedOrder' | 'compQueue' | 'signals';
const BIT: Readonly<Record<Collection, number>> = { steps: 1, timers: 2, inflight: 4, active: 8, completedOrder: 16, compQueue: 32, signals: 64 };
/** The collections of `freshContext` that are its own already (copied or replaced by this input). */
let owned = 0;

/**
 * `d[k]`, safe to change: the copy of the input's context shares its collections with the snapshot before the
 * input until an action writes to one, which copies it first. Copying all seven on every input was ~3% of the
 * server's main thread (bench/RESULTS.md, "twelfth session"); most inputs change two or three.
 */
export function own<K extends Collection>(d: FlowContext, k: K): FlowContext[K] {
  const mine = d === freshContext;
  if (mine && (owned & BIT[k]) !== 0) return d[k];
  const v = d[k];
  d[k] = (Array.isArray(v) ? v.slice() : { ...v }) as FlowContext[K];
  if (mine) owned |= BIT[k];
  return d[k];
}

/** Replaces a collection of `d` with a new value of its own (no copy of the old one). */
export function replace<K extends Collection>(d: FlowContext, k: K, v: FlowContext[K]): void {
  d[k] = v;
  if (d === freshContext) owned |= BIT[k];
}

/**
 * Removes `key` from a record of `d`. A new record without it rather than `delete`: V8 turns an object that lost a
 * property into a slow dictionary, and these records are copied again by later inputs.
 */
export function drop(d: FlowContext, k: 'timers' | 'inflight' | 'active', key: string): void {
  const cur = d[k] as Record<string, unknown>;
  if (!Object.hasOwn(cur, key)) return;
  const next: Record<string, unknown> = {};
  for (const x of Object.keys(cur)) if (x !== key) next[x] = cur[x];
  replace(d, k, next as FlowContext[typeof k]);
}

/**
 * One named XState action performing `op` with the effects of `k`.
 *
 * Not an `assign`: XState resolves an assign by rebuilding the whole machine snapshot (state value,
 * configuration set, adjacency map, tags) although an action never changes the configuration; this
 * action returns the snapshot with its new context and nothing else recomputed. It is XState's own
 * protocol for built-in actions (an action with `resolve` returns the next snapshot), which `assign`
 * itself follows. The allocation of a 3-step flow's actor fell from 104 to 80 KB (bench/RESULTS.md, "eleventh session").
 *
 * The context is copied once per input (shallowly; a collection when an action first writes to it, see
 * `own`), by the first action the input runs, and later actions of the same input change that copy: the
 * snapshot from before the input stays untouched, which is what XState keeps when a transition throws
 * (supervisor.ts send). An input is its event object; an event raised inside the input (a parallel's done
 * event) starts a copy of its own.
 *
 * The effects run after the op succeeded, so an op that throws leaves none of its own behind; XState
 * executes custom actions at once while the actor is running anyway, so the order is unchanged.
 */
export function act<P>(k: OpKit, op: Op<P>): FlowAction<P> {
  const resolve = (_scope: unknown, snapshot: FlowSnapshot, args: { event: FlowEvent }, p: P): [FlowSnapshot, undefined, undefined] => {
    const e = args.event;
    const same = snapshot.context === freshContext && e === freshEvent;
    // A new input: a shallow copy, its collections shared with the snapshot until an action writes to one (own()).
    const d = same ? snapshot.context : { ...snapshot.context };
    if (!same) {
      freshContext = d;
      freshEvent = e;
      owned = 0;
    }
    const at = typeof (e as { at?: unknown }).at === 'number' ? e.at : d.lastAt;
    d.lastAt = at;
    const fx: Fx = [];
    op(k, d, e, fx, at, p);
    for (const f of fx) f();
    // Always a new snapshot object: XState stops taking eventless transitions once a microstep returns the same one.
    return [{ ...snapshot, context: d }, undefined, undefined];
  };
  // XState calls a built-in action's resolve with the snapshot so far; the function itself is never called.
  return Object.assign(function flowOp(): void {}, { type: 'actorflow.op', resolve }) as unknown as FlowAction<P>;
}

/** The part of a machine snapshot an action reads: XState passes its whole snapshot, copied here with the new context. */
interface FlowSnapshot {
  readonly context: FlowContext;
}

/** A named flow action, as XState's `setup()` takes it (the same type as an `assign` over the flow's context). */
export type FlowAction<P> = ReturnType<typeof assign<FlowContext, FlowEvent, P, FlowEvent, never>>;

export function scopeOf(c: FlowContext): Scope {
  return { input: c.input, steps: c.steps, context: c.context };
}

/** One engine's effects, as flow actions queue them (given to the machines with provide(), flow-machine.ts). */
export class OpKit {
  constructor(private readonly fx: FlowEffects) {}

  emit(fx: Fx, d: FlowContext, type: string, stepId: string | null, data: Record<string, unknown>, at: number): void {
    const id = d.executionId;
    fx.push(() => this.fx.emit(id, type, stepId, data, at));
  }

  armTimer(fx: Fx, d: FlowContext, key: string, dueAt: number): void {
    own(d, 'timers')[key] = dueAt;
    const id = d.executionId;
    fx.push(() => this.fx.armTimer(id, key, dueAt));
  }

  clearTimer(fx: Fx, d: FlowContext, key: string): void {
    if (!Object.hasOwn(d.timers, key)) return;
    drop(d, 'timers', key);
    const id = d.executionId;
    fx.push(() => this.fx.clearTimer(id, key));
  }

  /** Timer keys are `<kind>:<stepId>:<visit>`; clears every timer of one step. */
  clearStepTimers(fx: Fx, d: FlowContext, stepId: string): void {
    for (const key of Object.keys(d.timers)) if (key.split(':')[1] === stepId) this.clearTimer(fx, d, key);
  }

  dispatch(fx: Fx, d: FlowContext, stepId: string): void {
    const task = d.inflight[stepId];
    if (!task || task.held) return;
    const id = d.executionId;
    fx.push(() => this.fx.dispatch(id, task));
  }

  abortStep(fx: Fx, d: FlowContext, stepId: string): void {
    const task = d.inflight[stepId];
    if (!task) return;
    drop(d, 'inflight', stepId);
    const id = d.executionId;
    fx.push(() => this.fx.abort(id, stepId, task.attempt));
  }

  startChild(fx: Fx, d: FlowContext, stepId: string, workflow: string, version: number | null, input: unknown, at: number): void {
    const id = d.executionId;
    fx.push(() => this.fx.startChild(id, stepId, workflow, version, input, at));
  }

  cancelChild(fx: Fx, d: FlowContext, stepId: string): void {
    const id = d.executionId;
    fx.push(() => this.fx.cancelChild(id, stepId));
  }

  /** Ends every active step: aborts tasks, cancels children, clears all timers. */
  stopAll(fx: Fx, d: FlowContext): void {
    for (const [stepId, type] of Object.entries(d.active)) {
      const s = d.steps[stepId];
      if (s && (s.status === 'running' || s.status === 'waiting')) own(d, 'steps')[stepId] = { ...s, status: 'cancelled' };
      if (type === 'workflow') this.cancelChild(fx, d, stepId);
    }
    for (const stepId of Object.keys(d.inflight)) this.abortStep(fx, d, stepId);
    for (const key of Object.keys(d.timers)) this.clearTimer(fx, d, key);
    replace(d, 'active', {});
  }
}

/** The failure carried by an event that ends an attempt. */
export function errorOf(e: FlowEvent, timeoutCode: string): StepError {
  switch (e.type) {
    case 'STEP_FAILED':
    case 'CHILD_FAILED':
      return e.error;
    case 'SIGNAL':
      return { code: 'signal_rejected', message: e.reason ?? 'signal rejected', retryable: false };
    case 'TIMER':
      return { code: timeoutCode, message: timeoutCode === 'wait_timeout' ? 'no signal before the timeout' : 'step timed out', retryable: true };
    default:
      return { code: 'failed', message: 'step failed', retryable: false };
  }
}

export function retryPolicy(p: RetryPolicy | undefined): Required<RetryPolicy> {
  return { ...DEFAULT_RETRY, ...p };
}

/** Delay before attempt n+1, after n failed attempts since the last execution retry. */
export function backoffMs(p: Required<RetryPolicy>, failures: number, executionId: string): number {
  const base = p.backoff === 'fixed' ? p.initialMs : p.initialMs * p.factor ** Math.max(0, failures - 1);
  const capped = Math.min(base, p.maxMs);
  if (!p.jitter) return Math.round(capped);
  // Deterministic jitter (a hash of id and attempt) keeps replays identical.
  let h = failures;
  for (let i = 0; i < executionId.length; i++) h = (h * 31 + executionId.charCodeAt(i)) >>> 0;
  return Math.round(capped * (0.5 + (h % 1000) / 2000));
}
