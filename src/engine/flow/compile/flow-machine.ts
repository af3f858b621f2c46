/**
 * @module engine/flow/compile/flow-machine — the XState `setup()` every compiled flow is created from: typed
 * context, events and input, named guards, and named actions whose params are fixed at compile time.
 * A compiled machine holds no engine: its actions' effects are given per engine with `provide()`
 * (withEffects), so one machine per definition serves any engine.
 */
import { setup, type ActionFunction } from 'xstate';
import type { FlowContext, FlowEffects, FlowEvent, FlowInput } from '../flow-context.ts';
import { act, OpKit, type Op } from '../flow-ops.ts';
import { flowGuards } from './guards.ts';
import * as run from './run-ops.ts';
import * as step from './step-ops.ts';

const ops = {
  armExecTimeout: run.armExecTimeout,
  pause: run.pause,
  resume: run.resume,
  update: run.update,
  bufferSignal: run.bufferSignal,
  prepareRetry: run.prepareRetry,
  abortRun: run.abortRun,
  finish: run.finish,
  failed: run.failed,
  timedOut: run.timedOut,
  cancelled: run.cancelled,
  markCompensated: run.markCompensated,
  startCompensation: run.startCompensation,
  compensationDone: run.compensationDone,
  compensationFailed: run.compensationFailed,
  stepFailed: step.stepFailed,
  completeWithOutput: step.completeWithOutput,
  completeEmpty: step.completeEmpty,
  enterTask: step.enterTask,
  scheduleRetry: step.scheduleRetry,
  enterWait: step.enterWait,
  acceptSignal: step.acceptSignal,
  rejectSignal: step.rejectSignal,
  consumeSignal: step.consumeSignal,
  enterSleep: step.enterSleep,
  enterStep: step.enterStep,
  pickBranch: step.pickBranch,
  completeParallel: step.completeParallel,
  enterWorkflow: step.enterWorkflow,
};

type Ops = typeof ops;
export type ActionName = keyof Ops;
export type ActionParams<K extends ActionName> = Ops[K] extends Op<infer P> ? P : never;
export type GuardName = keyof typeof flowGuards;
export type GuardParams<K extends GuardName> = Parameters<(typeof flowGuards)[K]>[1];
type FlowActions = { [K in ActionName]: ActionFunction<FlowContext, FlowEvent, FlowEvent, ActionParams<K>, never, never, never, never, never> };

/** The named actions performing `effects`: built once per engine, given to its machines with provide(). */
export function flowActions(effects: FlowEffects): FlowActions {
  const k = new OpKit(effects);
  const out: Record<string, unknown> = {};
  for (const [name, op] of Object.entries(ops)) out[name] = act(k, op as Op<unknown>);
  return out as FlowActions;
}

/** A compiled machine that was not given effects fails its first action loudly instead of doing nothing. */
const unprovided: FlowEffects = new Proxy({} as FlowEffects, {
  get: (_t, name) => () => {
    throw new Error(`flow effect ${String(name)} has no implementation: run compiled machines through withEffects()`);
  },
});

export const flowSetup = setup({
  types: { context: {} as FlowContext, events: {} as FlowEvent, input: {} as FlowInput },
  actions: flowActions(unprovided),
  guards: flowGuards,
});

/** A machine from a config built out of a document (its actions and guards named through does() and when()). */
export function createFlowMachine(config: Parameters<typeof flowSetup.createMachine>[0]) {
  return flowSetup.createMachine(config);
}
/** The machine of a compiled flow (effects not given yet: see withEffects). */
export type FlowMachine = ReturnType<typeof createFlowMachine>;

/** `machine` with `actions` (from flowActions) performing the effects: XState's provide(), once per engine and definition. */
export function withEffects(machine: FlowMachine, actions: FlowActions): FlowMachine {
  return machine.provide({ actions });
}

/** A named action with its params, as a transition or entry lists it. */
export function does<K extends ActionName>(type: K, ...params: ActionParams<K> extends undefined ? [] : [ActionParams<K>]): { type: K; params?: ActionParams<K> } {
  return params.length === 0 ? { type } : { type, params: params[0] as ActionParams<K> };
}

/** A named guard with its params. */
export function when<K extends GuardName>(type: K, ...params: GuardParams<K> extends undefined ? [] : [GuardParams<K>]): { type: K; params?: GuardParams<K> } {
  return params.length === 0 ? { type } : { type, params: params[0] as GuardParams<K> };
}
