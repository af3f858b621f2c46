/** @module engine/flow/compile-flow — a validated flow document → an XState v5 machine (named actions and guards, no effects). */
import { LIMITS, type ChoiceStep, type FlowDocument, type OnError, type ParallelStep, type SleepStep, type Step, type TaskStep, type WaitStep, type WorkflowStep } from '../../common/flow.ts';
import { createFlowMachine, does, when, type FlowMachine } from './compile/flow-machine.ts';
import type { FlowPlan, Recovery, StepFailedParams } from './compile/step-ops.ts';
import { initialContext, type FlowInput } from './flow-context.ts';
import { retryPolicy } from './flow-ops.ts';

/** Where a step sits: its list, position and enclosing parallel branch. */
interface StepInfo {
  readonly step: Step;
  readonly list: readonly Step[];
  readonly index: number;
  readonly branchEnd: string | null;
}

export interface CompiledFlow {
  readonly doc: FlowDocument;
  /** Holds no effects: an engine runs it through withEffects (compile/flow-machine.ts). */
  readonly machine: FlowMachine;
  /** Signal names that some `wait` step listens for. */
  readonly signals: ReadonlySet<string>;
  /** Every step id (compensations excluded) → its type. */
  readonly stepTypes: ReadonlyMap<string, Step['type']>;
}

type Cfg = Record<string, unknown>;

const sid = (id: string) => `st_${id}`;
const ref = (id: string) => `#st_${id}`;

/** XState's error when one input ran past `options.maxIterations` microsteps (checked by tests/unit/compile-flow.test.ts). */
export function isStepBudgetError(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith('Infinite loop detected');
}

/** Compiles one definition into a machine any engine can run once it provided its effects. */
export function compileFlow(doc: FlowDocument): CompiledFlow {
  return new Compiler(doc).compile();
}

class Compiler {
  private readonly infos = new Map<string, StepInfo>();
  private readonly comps = new Map<string, TaskStep>();
  private readonly compensateOf = new Map<string, string>();
  private readonly plan: FlowPlan = { comps: this.comps, compensateOf: this.compensateOf };
  private readonly signals = new Set<string>();

  constructor(private readonly doc: FlowDocument) {}

  compile(): CompiledFlow {
    this.index(this.doc.steps, null);
    for (const c of this.doc.compensations ?? []) this.comps.set(c.id, c);
    const first = this.doc.steps[0];
    const running = {
      CANCEL: { target: '#flow.cancelled' },
      TIMER: { guard: when('execTimer'), target: '#flow.timed_out' },
      PAUSE: { guard: when('notPaused'), actions: does('pause') },
      RESUME: { guard: when('paused'), actions: does('resume') },
      UPDATE: { actions: does('update') },
      SIGNAL: { actions: does('bufferSignal') },
      ABORT: { target: '#flow.failed', actions: does('abortRun') },
    };
    const retryFrom = {
      RETRY: [...this.infos.keys()].map((id) => ({ guard: when('retryOf', { stepId: id }), target: ref(id), actions: does('prepareRetry') })),
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
        boot: { on: { START: { target: 'run' }, ABORT: { target: '#flow.failed', actions: does('abortRun') } } },
        run: { entry: does('armExecTimeout', { timeoutMs: this.doc.timeoutMs ?? null }), initial: first ? sid(first.id) : undefined, on: running, states: this.listStates(this.doc.steps) },
        compensating: { initial: 'pick', on: running, states: this.compensationStates() },
        completed: { type: 'final', entry: does('finish', { output: this.doc.output }) },
        failed: { entry: does('failed'), on: { ...retryFrom, ABORT: { target: '#flow.failed', reenter: true, actions: does('abortRun') } } },
        timed_out: { entry: does('timedOut'), on: { ...retryFrom, ABORT: { target: '#flow.failed', actions: does('abortRun') } } },
        cancelled: { type: 'final', entry: does('cancelled') },
      },
    };
    const stepTypes = new Map<string, Step['type']>();
    for (const [id, info] of this.infos) stepTypes.set(id, info.step.type);
    return { doc: this.doc, machine: createFlowMachine(config as never), signals: this.signals, stepTypes };
  }

  private index(list: readonly Step[], branchEnd: string | null): void {
    list.forEach((step, index) => {
      this.infos.set(step.id, { step, list, index, branchEnd });
      const compensate = (step as { compensate?: string }).compensate;
      if (compensate !== undefined) this.compensateOf.set(step.id, compensate);
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

  private afterId(id: string): string | null {
    const t = this.after(id);
    return t.startsWith('#st_') ? t.slice(4) : null;
  }

  private completion(id: string) {
    return { stepId: id, compensable: this.compensateOf.has(id) };
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

  /** A step that failed for good, per its `onError`: where it goes and the params of `stepFailed`. */
  private failure(step: Step & { onError?: OnError }, timeoutCode: string, cancelChild = false): { target: string; params: StepFailedParams } {
    const mode = step.onError ?? 'fail';
    const recovery: Recovery = typeof mode === 'object' ? 'fallback' : mode;
    const target = mode === 'skip' ? this.after(step.id) : typeof mode === 'object' ? ref(mode.fallback) : mode === 'compensate' ? '#flow.compensating' : '#flow.failed';
    const params: StepFailedParams = { stepId: step.id, timeoutCode, recovery, plan: this.plan, ...(cancelChild ? { cancelChild } : {}) };
    return { target, params };
  }

  private onError(step: Step & { onError?: OnError }, timeoutCode: string, cancelChild = false): Cfg {
    const f = this.failure(step, timeoutCode, cancelChild);
    return { target: f.target, actions: does('stepFailed', f.params) };
  }

  // ---- step types ----

  private taskState(step: TaskStep): Cfg {
    const id = step.id;
    const retryable = { stepId: id, maxAttempts: retryPolicy(step.retry).maxAttempts, timeoutCode: 'step_timeout' };
    const retry = does('scheduleRetry', { stepId: id, policy: retryPolicy(step.retry), timeoutCode: 'step_timeout' });
    return {
      id: sid(id),
      initial: 'attempt',
      states: {
        attempt: {
          entry: does('enterTask', { step }),
          on: {
            STEP_DONE: { guard: when('result', { stepId: id }), target: this.after(id), actions: does('completeWithOutput', this.completion(id)) },
            STEP_FAILED: [
              { guard: when('retryableResult', retryable), target: 'backoff', actions: retry },
              { guard: when('result', { stepId: id }), ...this.onError(step, 'step_timeout') },
            ],
            TIMER: [
              { guard: when('retryableTimer', { ...retryable, kind: 'to' }), target: 'backoff', actions: retry },
              { guard: when('timer', { kind: 'to', stepId: id }), ...this.onError(step, 'step_timeout') },
            ],
          },
        },
        backoff: { on: { TIMER: { guard: when('timer', { kind: 'bo', stepId: id }), target: 'attempt' } } },
      },
    };
  }

  private waitState(step: WaitStep): Cfg {
    const id = step.id;
    const rejected = this.failure(step, 'wait_timeout');
    const consume = does('consumeSignal', { signal: step.signal, completion: this.completion(id), rejected: rejected.params });
    return {
      id: sid(id),
      entry: does('enterWait', { step }),
      always: [
        { guard: when('bufferedSignal', { signal: step.signal, reject: false }), target: this.after(id), actions: consume },
        { guard: when('bufferedSignal', { signal: step.signal, reject: true }), target: rejected.target, actions: consume },
      ],
      on: {
        SIGNAL: [
          { guard: when('signal', { signal: step.signal, reject: false }), target: this.after(id), actions: does('acceptSignal', this.completion(id)) },
          { guard: when('signal', { signal: step.signal, reject: true }), target: rejected.target, actions: does('rejectSignal', rejected.params) },
        ],
        TIMER: { guard: when('timer', { kind: 'wt', stepId: id }), ...this.onError(step, 'wait_timeout') },
      },
    };
  }

  private sleepState(step: SleepStep): Cfg {
    const id = step.id;
    return {
      id: sid(id),
      entry: does('enterSleep', { step }),
      on: { TIMER: { guard: when('timer', { kind: 'sl', stepId: id }), target: this.after(id), actions: does('completeEmpty', this.completion(id)) } },
    };
  }

  private choiceState(step: ChoiceStep): Cfg {
    const id = step.id;
    const pick = (next: string | null) => does('pickBranch', { ...this.completion(id), next });
    return {
      id: sid(id),
      entry: does('enterStep', { step, extra: {} }),
      always: [
        ...step.when.map((w) => ({ guard: when('condition', { if: w.if }), target: ref(w.next), actions: pick(w.next) })),
        step.default !== undefined ? { target: ref(step.default), actions: pick(step.default) } : { target: this.after(id), actions: pick(this.afterId(id)) },
      ],
    };
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
    const lasts = step.branches.flatMap((branch) => (branch.length > 0 ? [(branch[branch.length - 1] as Step).id] : []));
    return {
      id: sid(id),
      type: 'parallel',
      entry: does('enterStep', { step, extra: { branches: step.branches.length } }),
      states: regions,
      onDone: { target: this.after(id), actions: does('completeParallel', { ...this.completion(id), lasts }) },
    };
  }

  private workflowState(step: WorkflowStep): Cfg {
    const id = step.id;
    return {
      id: sid(id),
      entry: does('enterWorkflow', { step }),
      on: {
        CHILD_DONE: { guard: when('child', { type: 'CHILD_DONE', stepId: id }), target: this.after(id), actions: does('completeWithOutput', this.completion(id)) },
        CHILD_FAILED: { guard: when('child', { type: 'CHILD_FAILED', stepId: id }), ...this.onError(step, 'step_timeout') },
        TIMER: { guard: when('timer', { kind: 'wf', stepId: id }), ...this.onError(step, 'step_timeout', true) },
      },
    };
  }

  // ---- compensation: pick the queue's head, run it, shift it, until the queue is empty ----

  private compensationStates(): Cfg {
    return {
      pick: {
        always: [{ guard: when('compensationsDone'), target: '#flow.failed', actions: does('markCompensated') }, { target: 'exec' }],
      },
      exec: {
        entry: does('startCompensation', { plan: this.plan }),
        on: {
          STEP_DONE: { guard: when('compensationResult'), target: 'pick', actions: does('compensationDone', { plan: this.plan }) },
          STEP_FAILED: [
            { guard: when('retryableCompensation', { plan: this.plan }), target: 'exec', reenter: true },
            { guard: when('compensationResult'), target: 'pick', actions: does('compensationFailed') },
          ],
        },
      },
    };
  }
}
