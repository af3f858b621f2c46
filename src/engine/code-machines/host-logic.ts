/**
 * @module engine/code-machines/host-logic — runs a user's XState machine (`machines` export) as an
 * execution. The supervisor sees the same actor it sees for a flow document: a `FlowContext` and the
 * `FlowEvent` inputs. Inside, this logic holds the user's actor and translates:
 *
 * - a `task(kind)` child that starts is a task step: `workflow.step.started`, a dispatch released after
 *   its commit, a timeout timer; the agent's result is sent back to the child (`onDone` / `onError`),
 *   after the retries of its policy;
 * - a delayed event of the machine (`after`, a delayed `raise`) is a durable timer: XState's scheduler
 *   is replaced, so no Node timer is set and the event is kept in the context until it is due;
 * - a signal is the event `{ type: name, ...payload }`.
 *
 * The user's actor is persisted (`getPersistedSnapshot`) into the context after every input, so a
 * passivated or recovered execution is rebuilt from it; no input is replayed.
 */
import { createActor, type Actor, type ActorLogic, type AnyActorRef, type AnyStateMachine, type EventObject, type Snapshot } from 'xstate';
import { TASK_DONE, TASK_FAILED, taskConfigOf, withInput, type TaskConfig } from '../../common/code-machine.ts';
import type { StepError } from '../../common/errors.ts';
import { cancelled, failed, pause, resume, update } from '../flow/compile/run-ops.ts';
import { complete, failStep, release, scheduleRetry } from '../flow/compile/step-ops.ts';
import { initialContext, type FlowContext, type FlowEffects, type FlowEvent, type FlowInput } from '../flow/flow-context.ts';
import { errorOf, OpKit, retryPolicy, type Fx } from '../flow/flow-ops.ts';

export interface HostContext extends FlowContext {
  /** The user's actor as persisted after the last input; null before the start and once finished. */
  machine: Snapshot<unknown> | null;
  /** Durable delayed events of the machine: timer key (`dl:<id>`) → the event. */
  delays: Record<string, EventObject>;
}

type HostValue = 'run' | 'completed' | 'failed' | 'cancelled' | 'timed_out';

/** `value` is read by LiveExecution.sync like a flow machine's top state. */
export type HostSnapshot = Snapshot<unknown> & { value: HostValue; context: HostContext };

export type HostLogic = ActorLogic<HostSnapshot, FlowEvent, FlowInput>;

const TIMEOUT = 'step_timeout';

/** What lives only in memory beside one host actor: the user's actor and its task children. */
interface Runtime {
  inner: Actor<AnyStateMachine>;
  tasks: Map<string, { ref: AnyActorRef; cfg: TaskConfig }>;
  /** The input being handled: where scheduler calls write. Null outside an input (a restore). */
  turn: { d: HostContext; fx: Fx; at: number } | null;
}

function copy(c: HostContext): HostContext {
  return { ...c, steps: { ...c.steps }, timers: { ...c.timers }, inflight: { ...c.inflight }, active: { ...c.active }, delays: { ...c.delays } };
}

/** Leaf state paths of a state value (`a.b`), the "current steps" of a waiting machine. */
function leaves(value: unknown, prefix = ''): string[] {
  if (typeof value === 'string') return [prefix + value];
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => (v && typeof v === 'object' && Object.keys(v).length === 0 ? [prefix + k] : leaves(v, `${prefix}${k}.`)));
}

/** The host logic of one user machine, with one engine's effects. */
export function hostLogic(machine: AnyStateMachine, effects: FlowEffects): HostLogic {
  const k = new OpKit(effects);
  const runtimes = new WeakMap<AnyActorRef, Runtime>();

  const boot = (d: HostContext): Runtime => {
    const inner = d.machine ? createActor(machine, { snapshot: d.machine }) : createActor(machine, { input: d.input });
    const rt: Runtime = { inner, tasks: new Map(), turn: null };
    // Delayed events become durable timers; nothing is scheduled on the process's clock.
    const cancel = (id: string): void => {
      const t = rt.turn;
      if (!t) return;
      delete t.d.delays[`dl:${id}`];
      k.clearTimer(t.fx, t.d, `dl:${id}`);
    };
    inner.system.scheduler = {
      schedule(source, target, event, delay, id) {
        const t = rt.turn;
        if (!t) return;
        if (source !== inner || target !== inner) throw new Error('only the machine\'s own delayed events are durable (after, raise with a delay): a delayed sendTo another actor is not supported');
        const key = `dl:${id ?? event.type}`;
        t.d.delays[key] = event;
        k.armTimer(t.fx, t.d, key, t.at + delay);
      },
      cancel: (_source, id) => cancel(id),
      cancelAll: (ref) => {
        if (ref !== inner || !rt.turn) return;
        for (const key of Object.keys(rt.turn.d.delays)) cancel(key.slice(3));
      },
    };
    // An action that throws puts the user's actor in error (handled in settle); XState must not rethrow it later.
    inner.subscribe({ error: () => undefined });
    return rt;
  };

  /** Starts (or after a backoff, restarts) the attempt of a task child. */
  const startAttempt = (d: HostContext, fx: Fx, at: number, id: string, cfg: TaskConfig, input: unknown): void => {
    const prev = d.steps[id];
    const attempt = (prev?.attempt ?? 0) + 1;
    d.steps[id] = { status: 'running', attempt, base: prev?.base ?? 0 };
    d.active[id] = 'task';
    d.inflight[id] = { stepId: id, attempt, agent: cfg.kind, input: input ?? null, timeoutMs: cfg.options.timeoutMs ?? null, held: d.paused };
    if (!d.paused) release(k, fx, d, id, at);
  };

  /** A result, a timeout or a failure of the current attempt of a task. */
  const attemptFailed = (rt: Runtime, d: HostContext, e: FlowEvent, fx: Fx, at: number, id: string): void => {
    const task = rt.tasks.get(id);
    const s = d.steps[id];
    if (!task || !s) return;
    const policy = retryPolicy(task.cfg.options.retry);
    if (errorOf(e, TIMEOUT).retryable !== false && s.attempt - s.base < policy.maxAttempts) {
      return scheduleRetry(k, d, e, fx, at, { stepId: id, policy, timeoutCode: TIMEOUT });
    }
    failStep(k, d, e, fx, at, id, TIMEOUT, 'none');
    const error: StepError = d.steps[id]?.error ?? errorOf(e, TIMEOUT);
    rt.tasks.delete(id);
    task.ref.send({ type: TASK_FAILED, error });
  };

  /** One input; returns the top state after it. */
  const handle = (rt: Runtime, d: HostContext, e: FlowEvent, fx: Fx, at: number, value: HostValue): HostValue => {
    switch (e.type) {
      case 'START':
        rt.inner.start();
        return value;
      case 'STEP_DONE': {
        const task = rt.tasks.get(e.stepId);
        if (!task || d.inflight[e.stepId]?.attempt !== e.attempt) return value;
        complete(k, d, e, fx, at, e.stepId, e.output, false);
        rt.tasks.delete(e.stepId);
        task.ref.send({ type: TASK_DONE, output: e.output });
        return value;
      }
      case 'STEP_FAILED':
        if (d.inflight[e.stepId]?.attempt === e.attempt) attemptFailed(rt, d, e, fx, at, e.stepId);
        return value;
      case 'TIMER': {
        const [kind, id = '', n] = e.key.split(':');
        if (kind === 'dl') {
          const event = d.delays[e.key];
          if (!event) return value;
          delete d.delays[e.key];
          k.clearTimer(fx, d, e.key);
          rt.inner.send(event);
        } else if (kind === 'to' && d.inflight[id]?.attempt === Number(n)) {
          attemptFailed(rt, d, e, fx, at, id);
        } else if (kind === 'bo' && d.steps[id]?.attempt === Number(n)) {
          const task = rt.tasks.get(id);
          k.clearTimer(fx, d, e.key);
          if (task) startAttempt(d, fx, at, id, task.cfg, (task.ref.getSnapshot() as { input?: unknown }).input);
        }
        return value;
      }
      case 'SIGNAL': {
        k.emit(fx, d, 'workflow.signal.received', null, { name: e.name, payload: e.payload, reject: e.reject, reason: e.reason, buffered: false }, at);
        const body = e.reject ? { rejected: true, reason: e.reason } : e.payload !== null && typeof e.payload === 'object' && !Array.isArray(e.payload) ? e.payload : e.payload === null ? {} : { payload: e.payload };
        rt.inner.send({ ...body, type: e.name });
        return value;
      }
      case 'CANCEL':
        cancelled(k, d, e, fx, at, undefined);
        return 'cancelled';
      case 'ABORT':
        d.error = { code: e.code, message: e.message, stepId: null, compensated: false };
        failed(k, d, e, fx, at, undefined);
        return 'failed';
      case 'PAUSE':
        if (!d.paused) pause(k, d, e, fx, at, undefined);
        return value;
      case 'RESUME':
        if (d.paused) resume(k, d, e, fx, at, undefined);
        return value;
      case 'UPDATE':
        update(k, d, e, fx, at, undefined);
        return value;
      default:
        // RETRY and child-workflow events do not reach a machine (it declares no failed step, no workflow step).
        return value;
    }
  };

  /** After an input: tasks that started or went away, the end of the machine, what it waits for. */
  const settle = (rt: Runtime, d: HostContext, fx: Fx, at: number, value: HostValue, wasWaiting: boolean): HostValue => {
    if (value !== 'run') return value;
    const snap = rt.inner.getSnapshot() as { status: string; value: unknown; output?: unknown; error?: unknown; children: Record<string, AnyActorRef | undefined> };
    for (const [id, task] of rt.tasks) {
      if (snap.children[id] === task.ref) continue;
      // The machine left the state that invoked it: the attempt is cancelled.
      rt.tasks.delete(id);
      const s = d.steps[id];
      k.abortStep(fx, d, id);
      k.clearStepTimers(fx, d, id);
      if (s && s.status === 'running') d.steps[id] = { ...s, status: 'cancelled' };
      delete d.active[id];
    }
    for (const [id, ref] of Object.entries(snap.children)) {
      if (!ref || rt.tasks.get(id)?.ref === ref) continue;
      const cfg = taskConfigOf((ref as unknown as { logic?: unknown }).logic);
      if (!cfg || (ref.getSnapshot() as { status: string }).status !== 'active') continue;
      rt.tasks.set(id, { ref, cfg });
      startAttempt(d, fx, at, id, cfg, (ref.getSnapshot() as { input?: unknown }).input);
    }
    if (snap.status === 'done') {
      k.stopAll(fx, d);
      d.output = snap.output ?? null;
      k.emit(fx, d, 'workflow.completed', null, { output: d.output }, at);
      return 'completed';
    }
    if (snap.status === 'error') {
      const err = snap.error as Partial<StepError> | Error | undefined;
      const code = err && !(err instanceof Error) && typeof err.code === 'string' ? err.code : 'machine_failed';
      const message = err instanceof Error ? `a machine action failed: ${err.message}` : typeof err?.message === 'string' ? err.message : 'the machine failed';
      d.error = { code, message, stepId: null, compensated: false };
      failed(k, d, { type: 'ABORT', code, message, at }, fx, at, undefined);
      return 'failed';
    }
    if (rt.tasks.size === 0) {
      // Nothing in flight: the machine waits (for a signal or its own delayed event); its states are what it is at.
      d.active = {};
      for (const leaf of leaves(snap.value)) d.active[leaf] = 'wait';
      if (!wasWaiting) k.emit(fx, d, 'workflow.waiting', null, { states: Object.keys(d.active) }, at);
    } else {
      for (const id of Object.keys(d.active)) if (d.active[id] === 'wait') delete d.active[id];
    }
    return 'run';
  };

  const adopt = (self: AnyActorRef, d: HostContext): Runtime => {
    const rt = boot(d);
    runtimes.set(self, rt);
    if (d.machine) {
      rt.inner.start();
      for (const [id, ref] of Object.entries((rt.inner.getSnapshot() as { children: Record<string, AnyActorRef | undefined> }).children)) {
        const cfg = ref && taskConfigOf((ref as unknown as { logic?: unknown }).logic);
        if (ref && cfg) rt.tasks.set(id, { ref, cfg });
      }
    }
    return rt;
  };

  return {
    config: { actorflowHost: true },
    getInitialSnapshot: (_scope, input) => ({
      status: 'active',
      value: 'run',
      context: { ...initialContext(input), machine: null, delays: {} },
      output: undefined,
      error: undefined,
    }),
    transition(snapshot, event, scope) {
      if (snapshot.status !== 'active' || snapshot.value !== 'run') return snapshot;
      const d = copy(snapshot.context);
      const at = typeof (event as { at?: unknown }).at === 'number' ? event.at : d.lastAt;
      d.lastAt = at;
      const fx: Fx = [];
      const wasWaiting = event.type !== 'START' && Object.keys(d.active).length > 0 && Object.values(d.active).every((t) => t === 'wait');
      const rt = runtimes.get(scope.self) ?? adopt(scope.self, d);
      rt.turn = { d, fx, at };
      let value: HostValue;
      try {
        value = withInput(at, d.executionId, () => settle(rt, d, fx, at, handle(rt, d, event, fx, at, 'run'), wasWaiting));
        d.machine = value === 'run' ? (rt.inner.getPersistedSnapshot() as Snapshot<unknown>) : null;
      } finally {
        rt.turn = null;
      }
      if (value !== 'run') {
        runtimes.delete(scope.self);
        d.delays = {};
      }
      for (const f of fx) f();
      return value === 'run' ? { status: 'active', value, context: d, output: undefined, error: undefined } : { status: 'done', value, context: d, output: value === 'completed' ? d.output : null, error: undefined };
    },
    start(snapshot, scope) {
      // A restored execution: the user's actor comes back from its persisted snapshot (no entry action runs again).
      if (snapshot.value === 'run' && snapshot.context.machine && !runtimes.has(scope.self)) adopt(scope.self, snapshot.context);
    },
    getPersistedSnapshot: (snapshot) => ({ ...snapshot }),
    restoreSnapshot: (persisted) => persisted as unknown as HostSnapshot,
  };
}
