/** @module engine/compile-flow — a validated flow document → an XState v5 machine. */
import { createMachine, type AnyStateMachine } from 'xstate';
import { LIMITS, type ChoiceStep, type FlowDocument, type OnError, type ParallelStep, type SleepStep, type Step, type TaskStep, type WaitStep, type WorkflowStep } from '../shared/flow.ts';
import { evaluateCondition, resolveValue } from './expressions.ts';
import { initialContext, type FlowContext, type FlowEffects, type FlowEvent, type FlowInput } from './flow-context.ts';
import { act, backoffMs, errorOf, OpKit, retryPolicy, scopeOf, type Fx, type Op } from './flow-ops.ts';

/** Where a step sits: its list, position and enclosing parallel branch. */
interface StepInfo {
  readonly step: Step;
  readonly list: readonly Step[];
  readonly index: number;
  readonly branchEnd: string | null;
}

export interface CompiledFlow {
  readonly doc: FlowDocument;
  readonly machine: AnyStateMachine;
  /** Signal names that some `wait` step listens for. */
  readonly signals: ReadonlySet<string>;
  /** Every step id (compensations excluded) → its type. */
  readonly stepTypes: ReadonlyMap<string, Step['type']>;
}

type Cfg = Record<string, unknown>;
type Ev<T extends FlowEvent['type']> = Extract<FlowEvent, { type: T }>;
type GuardArgs = { context: FlowContext; event: FlowEvent };

const sid = (id: string) => `st_${id}`;
const ref = (id: string) => `#st_${id}`;

/** XState's error when one input ran past `options.maxIterations` microsteps (checked by tests/unit/compile-flow.test.ts). */
export function isStepBudgetError(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith('Infinite loop detected');
}

/** Compiles one definition; `fx` performs the actor's side effects (dispatch, timers, events). */
export function compileFlow(doc: FlowDocument, fx: FlowEffects): CompiledFlow {
  return new Compiler(doc, fx).compile();
}

class Compiler {
  private readonly k: OpKit;
  private readonly infos = new Map<string, StepInfo>();
  private readonly comps = new Map<string, TaskStep>();
  private readonly signals = new Set<string>();

  constructor(
    private readonly doc: FlowDocument,
    fx: FlowEffects,
  ) {
    this.k = new OpKit(fx);
  }

  compile(): CompiledFlow {
    this.index(this.doc.steps, null);
    for (const c of this.doc.compensations ?? []) this.comps.set(c.id, c);
    const first = this.doc.steps[0];
    const k = this.k;
    const timeoutMs = this.doc.timeoutMs;
    const armExec: Op = (d, _e, fx, at) => {
      if (timeoutMs) k.armTimer(fx, d, 'exec:flow:0', at + timeoutMs);
    };
    const running = {
      CANCEL: { target: '#flow.cancelled' },
      TIMER: { guard: ({ context, event }: GuardArgs) => event.type === 'TIMER' && event.key === 'exec:flow:0' && event.key in context.timers, target: '#flow.timed_out' },
      PAUSE: { guard: ({ context }: GuardArgs) => !context.paused, actions: act(this.pause) },
      RESUME: { guard: ({ context }: GuardArgs) => context.paused, actions: act(this.resume) },
      UPDATE: { actions: act(this.update) },
      SIGNAL: { actions: act(this.bufferSignal) },
      ABORT: { target: '#flow.failed', actions: act(this.abortRun) },
    };
    const retryFrom = {
      RETRY: [...this.infos.keys()].map((id) => ({
        guard: ({ event }: GuardArgs) => event.type === 'RETRY' && event.stepId === id,
        target: ref(id),
        actions: act(this.prepareRetry),
      })),
    };
    const config: Cfg = {
      id: 'flow',
      // The step budget of one input: XState throws past this many microsteps (one per step moved
      // on), the transition is undone and the engine fails the execution (isStepBudgetError).
      options: { maxIterations: LIMITS.maxStepsPerInput },
      context: ({ input }: { input: FlowInput }) => initialContext(input),
      // The first step is entered by START, not by the initial state: XState computes an initial
      // configuration holding a parallel with one ancestor walk per leaf (cubic in the branches), and
      // a failure while entering it is then an ordinary failed transition the engine can recover from.
      initial: 'boot',
      states: {
        boot: { on: { START: { target: 'run' }, ABORT: { target: '#flow.failed', actions: act(this.abortRun) } } },
        run: { entry: act(armExec), initial: first ? sid(first.id) : undefined, on: running, states: this.listStates(this.doc.steps) },
        compensating: { initial: 'pick', on: running, states: this.compensationStates() },
        completed: { type: 'final', entry: act(this.finish) },
        failed: { entry: act(this.failed), on: { ...retryFrom, ABORT: { target: '#flow.failed', reenter: true, actions: act(this.abortRun) } } },
        timed_out: { entry: act(this.timedOut), on: { ...retryFrom, ABORT: { target: '#flow.failed', actions: act(this.abortRun) } } },
        cancelled: { type: 'final', entry: act(this.cancelled) },
      },
    };
    const stepTypes = new Map<string, Step['type']>();
    for (const [id, info] of this.infos) stepTypes.set(id, info.step.type);
    return { doc: this.doc, machine: createMachine(config as never) as unknown as AnyStateMachine, signals: this.signals, stepTypes };
  }

  private index(list: readonly Step[], branchEnd: string | null): void {
    list.forEach((step, index) => {
      this.infos.set(step.id, { step, list, index, branchEnd });
      if (step.type === 'wait') this.signals.add(step.signal);
      if (step.type === 'parallel') step.branches.forEach((b, i) => this.index(b, `#pe_${step.id}_${i}`));
    });
  }

  private info(id: string): StepInfo {
    const i = this.infos.get(id);
    if (!i) throw new Error(`unknown step ${id}`);
    return i;
  }

  /** Where control goes after a step finishes normally. */
  private after(id: string): string {
    const { step, list, index, branchEnd } = this.info(id);
    if (step.end) return branchEnd ?? '#flow.completed';
    if (step.next) return ref(step.next);
    const following = list[index + 1];
    return following ? ref(following.id) : (branchEnd ?? '#flow.completed');
  }

  private listStates(list: readonly Step[]): Cfg {
    const states: Cfg = {};
    for (const step of list) states[sid(step.id)] = this.stepState(step);
    return states;
  }

  private stepState(step: Step): Cfg {
    switch (step.type) {
      case 'task':
        return this.taskState(step);
      case 'wait':
        return this.waitState(step);
      case 'sleep':
        return this.sleepState(step);
      case 'choice':
        return this.choiceState(step);
      case 'parallel':
        return this.parallelState(step);
      case 'workflow':
        return this.workflowState(step);
      default:
        return step satisfies never;
    }
  }

  // ---- guards ----

  private isResult = (id: string) => ({ context, event }: GuardArgs) =>
    (event.type === 'STEP_DONE' || event.type === 'STEP_FAILED') && event.stepId === id && event.attempt === context.steps[id]?.attempt;

  private isTimer = (kind: string, id: string) => ({ context, event }: GuardArgs) =>
    event.type === 'TIMER' && event.key === `${kind}:${id}:${context.steps[id]?.attempt ?? 0}` && event.key in context.timers;

  private canRetry = (step: TaskStep, timeoutCode: string) => ({ context, event }: GuardArgs) => {
    const s = context.steps[step.id];
    if (!s) return false;
    return errorOf(event, timeoutCode).retryable !== false && s.attempt - s.base < retryPolicy(step.retry).maxAttempts;
  };

  // ---- common ops ----

  /** Marks a step started (attempt + 1) and emits `workflow.step.started`. */
  private begin(step: Step, status: 'running' | 'waiting', data: (d: FlowContext) => Record<string, unknown>): Op {
    return (d, _e, fx, at) => {
      const prev = d.steps[step.id];
      const attempt = (prev?.attempt ?? 0) + 1;
      d.steps[step.id] = { status, attempt, base: prev?.base ?? 0 };
      d.active[step.id] = step.type;
      this.k.emit(fx, d, 'workflow.step.started', step.id, { type: step.type, attempt, ...data(d) }, at);
    };
  }

  /** Completes a step with an output and emits `workflow.step.completed`. */
  private complete(id: string, output: (d: FlowContext, e: FlowEvent) => unknown): Op {
    return (d, e, fx, at) => {
      const s = d.steps[id];
      const out = output(d, e);
      delete d.inflight[id];
      delete d.active[id];
      this.k.clearStepTimers(fx, d, id);
      d.steps[id] = { status: 'completed', attempt: s?.attempt ?? 1, base: s?.base ?? 0, output: out };
      d.lastCompleted = id;
      // Only what a compensation can undo, once each: a loop must not grow the context without bound.
      if ((this.infos.get(id)?.step as { compensate?: string } | undefined)?.compensate !== undefined) {
        const at = d.completedOrder.indexOf(id);
        if (at >= 0) d.completedOrder.splice(at, 1);
        d.completedOrder.push(id);
      }
      const extra = e.type === 'STEP_DONE' && e.stepId === id ? { agentId: e.agentId, durationMs: e.durationMs, costs: e.costs } : {};
      this.k.emit(fx, d, 'workflow.step.completed', id, { attempt: s?.attempt ?? 1, output: out, ...extra }, at);
    };
  }

  /** Records a step failure; `recovery` says what onError does next. */
  private failStep(id: string, timeoutCode: string, recovery: string): Op {
    return (d, e, fx, at) => {
      const s = d.steps[id];
      const error = errorOf(e, timeoutCode);
      if (e.type === 'TIMER' && d.inflight[id]) this.k.abortStep(fx, d, id);
      delete d.inflight[id];
      delete d.active[id];
      this.k.clearStepTimers(fx, d, id);
      d.steps[id] = { status: recovery === 'skip' ? 'skipped' : 'failed', attempt: s?.attempt ?? 1, base: s?.base ?? 0, error };
      const extra = e.type === 'STEP_FAILED' ? { agentId: e.agentId, durationMs: e.durationMs, costs: e.costs } : {};
      this.k.emit(fx, d, 'workflow.step.failed', id, { attempt: s?.attempt ?? 1, error, recovery, ...extra }, at);
    };
  }

  /** The transition taken when a step has failed for good, per its `onError`: a target and its ops. */
  private onErrorOps(step: Step & { onError?: OnError; compensate?: string }, timeoutCode: string): { target: string; ops: Op[] } {
    const mode = step.onError ?? 'fail';
    if (mode === 'skip') return { target: this.after(step.id), ops: [this.failStep(step.id, timeoutCode, 'skip')] };
    if (typeof mode === 'object') return { target: ref(mode.fallback), ops: [this.failStep(step.id, timeoutCode, 'fallback')] };
    const markFailed: Op = (d) => {
      const err = d.steps[step.id]?.error;
      d.error = { code: err?.code ?? 'failed', message: err?.message ?? 'step failed', stepId: step.id, compensated: false };
      d.failedStep = step.id;
      if (mode === 'compensate') {
        d.compQueue = d.completedOrder
          .slice()
          .reverse()
          .map((id) => (this.infos.get(id)?.step as { compensate?: string } | undefined)?.compensate)
          .filter((c): c is string => typeof c === 'string' && this.comps.has(c));
      }
    };
    return { target: mode === 'compensate' ? '#flow.compensating' : '#flow.failed', ops: [this.failStep(step.id, timeoutCode, mode), markFailed] };
  }

  private onError(step: Step & { onError?: OnError }, timeoutCode: string, ...before: Op[]): Cfg {
    const t = this.onErrorOps(step, timeoutCode);
    return { target: t.target, actions: act(...before, ...t.ops) };
  }

  // ---- step types ----

  private startTask(step: TaskStep): Op {
    return (d, _e, fx, at) => {
      const prev = d.steps[step.id];
      const attempt = (prev?.attempt ?? 0) + 1;
      d.steps[step.id] = { status: 'running', attempt, base: prev?.base ?? 0 };
      d.active[step.id] = step.type;
      const input = resolveValue(step.input ?? null, scopeOf(d));
      d.inflight[step.id] = { stepId: step.id, attempt, agent: step.agent, input, timeoutMs: step.timeoutMs ?? null, held: d.paused };
      // Paused: the attempt is due but neither reported, dispatched nor timed until the resume.
      if (!d.paused) this.release(fx, d, step.id, at);
    };
  }

  /** A task attempt starts for real: reported (`workflow.step.started`), dispatched, its timeout armed. */
  private release(fx: Fx, d: FlowContext, id: string, at: number): void {
    const t = d.inflight[id];
    if (!t) return;
    this.k.emit(fx, d, 'workflow.step.started', id, { type: 'task', attempt: t.attempt, agent: t.agent, input: t.input }, at);
    this.k.dispatch(fx, d, id);
    if (t.timeoutMs) this.k.armTimer(fx, d, `to:${id}:${t.attempt}`, at + t.timeoutMs);
  }

  private scheduleRetry(step: TaskStep, timeoutCode: string): Op {
    const policy = retryPolicy(step.retry);
    return (d, e, fx, at) => {
      const s = d.steps[step.id];
      if (!s) return;
      const error = errorOf(e, timeoutCode);
      if (e.type === 'TIMER') this.k.abortStep(fx, d, step.id);
      delete d.inflight[step.id];
      this.k.clearStepTimers(fx, d, step.id);
      const delayMs = backoffMs(policy, s.attempt - s.base, d.executionId);
      d.steps[step.id] = { ...s, error };
      this.k.armTimer(fx, d, `bo:${step.id}:${s.attempt}`, at + delayMs);
      // The failed attempt's costs were spent all the same: they ride on this event (history.ts addCosts).
      const extra = e.type === 'STEP_FAILED' ? { agentId: e.agentId, durationMs: e.durationMs, costs: e.costs } : {};
      this.k.emit(fx, d, 'workflow.step.retrying', step.id, { attempt: s.attempt, error, delayMs, ...extra }, at);
    };
  }

  private taskState(step: TaskStep): Cfg {
    const id = step.id;
    const done = { guard: this.isResult(id), target: this.after(id), actions: act(this.complete(id, (_d, e) => (e as Ev<'STEP_DONE'>).output)) };
    return {
      id: sid(id),
      initial: 'attempt',
      states: {
        attempt: {
          entry: act(this.startTask(step)),
          on: {
            STEP_DONE: done,
            STEP_FAILED: [
              { guard: (a: GuardArgs) => this.isResult(id)(a) && this.canRetry(step, 'step_timeout')(a), target: 'backoff', actions: act(this.scheduleRetry(step, 'step_timeout')) },
              { guard: this.isResult(id), ...this.onError(step, 'step_timeout') },
            ],
            TIMER: [
              { guard: (a: GuardArgs) => this.isTimer('to', id)(a) && this.canRetry(step, 'step_timeout')(a), target: 'backoff', actions: act(this.scheduleRetry(step, 'step_timeout')) },
              { guard: this.isTimer('to', id), ...this.onError(step, 'step_timeout') },
            ],
          },
        },
        backoff: { on: { TIMER: { guard: this.isTimer('bo', id), target: 'attempt' } } },
      },
    };
  }

  private waitState(step: WaitStep): Cfg {
    const id = step.id;
    const begin = this.begin(step, 'waiting', () => ({ signal: step.signal }));
    const enter: Op = (d, e, fx, at) => {
      begin(d, e, fx, at);
      this.k.emit(fx, d, 'workflow.waiting', id, { signal: step.signal, questions: step.questions ?? [] }, at);
      if (step.timeoutMs) this.k.armTimer(fx, d, `wt:${id}:${d.steps[id]?.attempt ?? 1}`, at + step.timeoutMs);
    };
    const rejected = this.onErrorOps(step, 'wait_timeout');
    const buffered = (reject: boolean) => ({ context }: GuardArgs) => context.signals.find((s) => s.name === step.signal)?.reject === reject;
    // A buffered signal is consumed by turning it into the event the step would have received.
    const consume: Op = (d, _e, fx, at) => {
      const i = d.signals.findIndex((s) => s.name === step.signal);
      const sig = d.signals[i];
      d.signals.splice(i, 1);
      if (!sig) return;
      const ev: FlowEvent = { type: 'SIGNAL', name: sig.name, payload: sig.payload, reject: sig.reject, reason: sig.reason, at };
      if (sig.reject) for (const op of rejected.ops) op(d, ev, fx, at);
      else this.complete(id, () => sig.payload)(d, ev, fx, at);
    };
    const received: Op = (d, e, fx, at) => {
      const s = e as Ev<'SIGNAL'>;
      this.k.emit(fx, d, 'workflow.signal.received', id, { name: s.name, payload: s.payload, reject: s.reject, reason: s.reason }, at);
    };
    const isSignal = (reject: boolean) => ({ event }: GuardArgs) => event.type === 'SIGNAL' && event.name === step.signal && event.reject === reject;
    return {
      id: sid(id),
      entry: act(enter),
      always: [
        { guard: buffered(false), target: this.after(id), actions: act(consume) },
        { guard: buffered(true), target: rejected.target, actions: act(consume) },
      ],
      on: {
        SIGNAL: [
          { guard: isSignal(false), target: this.after(id), actions: act(received, this.complete(id, (_d, e) => (e as Ev<'SIGNAL'>).payload)) },
          { guard: isSignal(true), target: rejected.target, actions: act(received, ...rejected.ops) },
        ],
        TIMER: { guard: this.isTimer('wt', id), ...this.onError(step, 'wait_timeout') },
      },
    };
  }

  private sleepState(step: SleepStep): Cfg {
    const id = step.id;
    const due = (d: FlowContext, at: number): number => {
      if (step.ms !== undefined) return at + step.ms;
      const until = resolveValue(step.until ?? null, scopeOf(d));
      const t = typeof until === 'string' ? Date.parse(until) : typeof until === 'number' ? until : NaN;
      return Number.isFinite(t) ? t : at;
    };
    const enter: Op = (d, e, fx, at) => {
      const dueAt = due(d, at);
      this.begin(step, 'waiting', () => ({ until: new Date(dueAt).toISOString() }))(d, e, fx, at);
      this.k.armTimer(fx, d, `sl:${id}:${d.steps[id]?.attempt ?? 1}`, dueAt);
    };
    return {
      id: sid(id),
      entry: act(enter),
      on: { TIMER: { guard: this.isTimer('sl', id), target: this.after(id), actions: act(this.complete(id, () => null)) } },
    };
  }

  private choiceState(step: ChoiceStep): Cfg {
    const id = step.id;
    const pick = (next: string | null) => act(this.complete(id, () => ({ next })));
    return {
      id: sid(id),
      entry: act(this.begin(step, 'running', () => ({}))),
      always: [
        ...step.when.map((w) => ({ guard: ({ context }: GuardArgs) => evaluateCondition(w.if, scopeOf(context)), target: ref(w.next), actions: pick(w.next) })),
        step.default !== undefined
          ? { target: ref(step.default), actions: pick(step.default) }
          : { target: this.after(id), actions: pick(this.afterId(id)) },
      ],
    };
  }

  private afterId(id: string): string | null {
    const t = this.after(id);
    return t.startsWith('#st_') ? t.slice(4) : null;
  }

  private parallelState(step: ParallelStep): Cfg {
    const id = step.id;
    const regions: Cfg = {};
    step.branches.forEach((branch, i) => {
      const first = branch[0];
      regions[`b${i}`] = {
        initial: first ? sid(first.id) : `pe_${id}_${i}`,
        states: { ...this.listStates(branch), [`pe_${id}_${i}`]: { id: `pe_${id}_${i}`, type: 'final' } },
      };
    });
    const output = (d: FlowContext) => {
      const out: Record<string, unknown> = {};
      for (const branch of step.branches) {
        const last = branch[branch.length - 1];
        if (last) out[last.id] = d.steps[last.id]?.output ?? null;
      }
      return out;
    };
    return {
      id: sid(id),
      type: 'parallel',
      entry: act(this.begin(step, 'running', () => ({ branches: step.branches.length }))),
      states: regions,
      onDone: { target: this.after(id), actions: act(this.complete(id, output)) },
    };
  }

  private workflowState(step: WorkflowStep): Cfg {
    const id = step.id;
    const enter: Op = (d, e, fx, at) => {
      const input = resolveValue(step.input ?? null, scopeOf(d));
      this.begin(step, 'running', () => ({ workflow: step.workflow }))(d, e, fx, at);
      this.k.startChild(fx, d, id, step.workflow, step.version ?? null, input, at);
      if (step.timeoutMs) this.k.armTimer(fx, d, `wf:${id}:${d.steps[id]?.attempt ?? 1}`, at + step.timeoutMs);
    };
    const isChild = (t: string) => ({ event }: GuardArgs) => event.type === t && (event as Ev<'CHILD_DONE'>).stepId === id;
    const cancelChild: Op = (d, _e, fx) => this.k.cancelChild(fx, d, id);
    return {
      id: sid(id),
      entry: act(enter),
      on: {
        CHILD_DONE: { guard: isChild('CHILD_DONE'), target: this.after(id), actions: act(this.complete(id, (_d, e) => (e as Ev<'CHILD_DONE'>).output)) },
        CHILD_FAILED: { guard: isChild('CHILD_FAILED'), ...this.onError(step, 'step_timeout') },
        TIMER: { guard: this.isTimer('wf', id), ...this.onError(step, 'step_timeout', cancelChild) },
      },
    };
  }

  // ---- compensation ----

  private compensationStates(): Cfg {
    const head = (c: FlowContext) => c.compQueue[0] ?? '';
    const comp = (c: FlowContext): TaskStep | undefined => this.comps.get(head(c));
    const start: Op = (d, e, fx, at) => {
      const step = comp(d);
      if (step) this.startTask(step)(d, e, fx, at);
    };
    const isHead = (a: GuardArgs) => this.isResult(head(a.context))(a);
    const canRetry = (a: GuardArgs) => {
      const step = comp(a.context);
      return step !== undefined && this.canRetry(step, 'step_timeout')(a);
    };
    const shift: Op = (d) => void d.compQueue.shift();
    const done: Op = (d, e, fx, at) => this.complete(head(d), (_d, ev) => (ev as Ev<'STEP_DONE'>).output)(d, e, fx, at);
    const failed: Op = (d, e, fx, at) => this.failStep(head(d), 'step_timeout', 'none')(d, e, fx, at);
    const markCompensated: Op = (d) => {
      if (d.error) d.error = { ...d.error, compensated: true };
    };
    return {
      pick: {
        always: [
          { guard: ({ context }: GuardArgs) => context.compQueue.length === 0, target: '#flow.failed', actions: act(markCompensated) },
          { target: 'exec' },
        ],
      },
      exec: {
        entry: act(start),
        on: {
          STEP_DONE: { guard: isHead, target: 'pick', actions: act(done, shift) },
          STEP_FAILED: [
            { guard: (a: GuardArgs) => isHead(a) && canRetry(a), target: 'exec', reenter: true },
            { guard: isHead, target: 'pick', actions: act(failed, shift) },
          ],
        },
      },
    };
  }

  // ---- execution-level ops ----

  private pause: Op = (d, _e, fx, at) => {
    d.paused = true;
    this.k.emit(fx, d, 'workflow.paused', null, {}, at);
  };

  private resume: Op = (d, _e, fx, at) => {
    d.paused = false;
    this.k.emit(fx, d, 'workflow.resumed', null, {}, at);
    for (const [id, task] of Object.entries(d.inflight)) {
      if (!task.held) continue;
      d.inflight[id] = { ...task, held: false };
      this.release(fx, d, id, at);
    }
  };

  private update: Op = (d, e, fx, at) => {
    const u = e as Ev<'UPDATE'>;
    if (u.context) d.context = { ...d.context, ...u.context };
    this.k.emit(fx, d, 'workflow.updated', null, { labels: u.labels, context: u.context }, at);
  };

  private bufferSignal: Op = (d, e, fx, at) => {
    const s = e as Ev<'SIGNAL'>;
    d.signals.push({ name: s.name, payload: s.payload, reject: s.reject, reason: s.reason });
    this.k.emit(fx, d, 'workflow.signal.received', null, { name: s.name, payload: s.payload, reject: s.reject, reason: s.reason, buffered: true }, at);
  };

  private prepareRetry: Op = (d, e, fx, at) => {
    const r = e as Ev<'RETRY'>;
    d.retryAttempt += 1;
    d.error = null;
    d.failedStep = null;
    d.compQueue = [];
    for (const [id, s] of Object.entries(d.steps)) if (s.status === 'failed' || s.status === 'cancelled') d.steps[id] = { ...s, base: s.attempt };
    this.k.emit(fx, d, 'workflow.retried', r.stepId, { stepId: r.stepId, note: r.note, retryAttempt: d.retryAttempt }, at);
  };

  private abortRun: Op = (d, e) => {
    const a = e as Ev<'ABORT'>;
    d.error = { code: a.code, message: a.message, stepId: Object.keys(d.active).find((id) => d.active[id] !== 'parallel') ?? null, compensated: false };
    d.failedStep = d.error.stepId;
  };

  private finish: Op = (d, _e, fx, at) => {
    this.k.stopAll(fx, d);
    const last = d.lastCompleted ?? d.completedOrder[d.completedOrder.length - 1];
    d.output = this.doc.output !== undefined ? resolveValue(this.doc.output, scopeOf(d)) : last ? (d.steps[last]?.output ?? null) : null;
    this.k.emit(fx, d, 'workflow.completed', null, { output: d.output }, at);
  };

  private failed: Op = (d, _e, fx, at) => {
    this.k.stopAll(fx, d);
    d.error ??= { code: 'failed', message: 'execution failed', stepId: null, compensated: false };
    this.k.emit(fx, d, 'workflow.failed', d.error.stepId, { error: d.error }, at);
  };

  private timedOut: Op = (d, _e, fx, at) => {
    const stepId = Object.keys(d.active).find((id) => d.active[id] !== 'parallel') ?? null;
    this.k.stopAll(fx, d);
    d.error = { code: 'execution_timeout', message: 'execution timed out', stepId, compensated: false };
    d.failedStep = stepId;
    this.k.emit(fx, d, 'workflow.timed_out', null, { error: d.error }, at);
  };

  private cancelled: Op = (d, e, fx, at) => {
    this.k.stopAll(fx, d);
    this.k.emit(fx, d, 'workflow.cancelled', null, { reason: e.type === 'CANCEL' ? e.reason : null }, at);
  };
}
