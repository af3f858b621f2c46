/** The compiled machine alone: deterministic effects, and persist → encode → restore → continue. */
import { createActor, type AnyStateMachine, type Snapshot } from 'xstate';
import { describe, expect, it } from 'vitest';
import { compileFlow, isStepBudgetError } from '../../src/engine/flow/compile-flow.ts';
import { flowActions, withEffects, type FlowMachine } from '../../src/engine/flow/compile/flow-machine.ts';
import type { FlowContext, FlowEffects, InflightTask } from '../../src/engine/flow/flow-context.ts';
import { msgpackCodec } from '../../src/common/codec.ts';
import type { FlowDocument } from '../../src/common/flow.ts';

/** Records the effects an actor asks for. */
function recorder() {
  const events: { type: string; stepId: string | null; data: Record<string, unknown> }[] = [];
  const dispatched: InflightTask[] = [];
  const timers = new Map<string, number>();
  const fx: FlowEffects = {
    emit: (_id, type, stepId, data) => void events.push({ type, stepId, data }),
    dispatch: (_id, t) => void dispatched.push(t),
    abort: () => undefined,
    armTimer: (_id, key, due) => void timers.set(key, due),
    clearTimer: (_id, key) => void timers.delete(key),
    startChild: () => undefined,
    cancelChild: () => undefined,
  };
  return { fx, events, dispatched, timers };
}

/** What an engine does once per definition: the compiled machine given its effects. */
const machineOf = (d: FlowDocument, fx: FlowEffects): FlowMachine => withEffects(compileFlow(d).machine, flowActions(fx));

const doc: FlowDocument = {
  name: 't',
  steps: [
    { id: 'a', type: 'task', agent: 'echo', input: { x: '$.input.x' } },
    { id: 'w', type: 'wait', signal: 'go' },
    { id: 's', type: 'sleep', ms: 1000 },
    { id: 'b', type: 'task', agent: 'echo', input: { a: '$.steps.a.output', w: '$.steps.w.output' } },
  ],
};

describe('compileFlow', () => {
  it('dispatches with resolved input and attempt numbers, using only event time', () => {
    const r = recorder();
    const machine = machineOf(doc, r.fx);
    const actor = createActor(machine, { input: { executionId: 'ex_1', input: { x: 5 }, at: 1000 } }).start();
    actor.send({ type: 'START', at: 1000 });
    expect(r.dispatched).toEqual([{ stepId: 'a', attempt: 1, agent: 'echo', input: { x: 5 }, timeoutMs: null, held: false }]);
    actor.send({ type: 'STEP_DONE', stepId: 'a', attempt: 1, output: 'A', agentId: 'ag', durationMs: 1, costs: [], at: 1010 });
    expect(r.events.map((e) => e.type)).toEqual(['workflow.step.started', 'workflow.step.completed', 'workflow.step.started', 'workflow.waiting']);
    actor.send({ type: 'SIGNAL', name: 'go', payload: { ok: 1 }, reject: false, reason: null, at: 2000 });
    expect([...r.timers.entries()]).toEqual([['sl:s:1', 3000]]);
  });

  it('continues identically after persist → msgpack → restore', () => {
    const r1 = recorder();
    const machine = machineOf(doc, r1.fx);
    const actor = createActor(machine, { input: { executionId: 'ex_2', input: { x: 1 }, at: 0 } }).start();
    actor.send({ type: 'START', at: 0 });
    actor.send({ type: 'STEP_DONE', stepId: 'a', attempt: 1, output: 'A', agentId: null, durationMs: null, costs: [], at: 10 });
    actor.send({ type: 'SIGNAL', name: 'go', payload: 'W', reject: false, reason: null, at: 20 });
    const bytes = msgpackCodec.encode(actor.getPersistedSnapshot());
    actor.stop();

    const r2 = recorder();
    const again: AnyStateMachine = machineOf(doc, r2.fx);
    const restored = createActor(again, { snapshot: msgpackCodec.decode<Snapshot<unknown>>(bytes) }).start();
    expect(r2.events).toEqual([]); // restoring does not re-run entry actions
    const ctx = restored.getSnapshot().context as FlowContext;
    expect(ctx.timers).toEqual({ 'sl:s:1': 1020 });
    restored.send({ type: 'TIMER', key: 'sl:s:1', at: 1020 });
    expect(r2.dispatched).toEqual([{ stepId: 'b', attempt: 1, agent: 'echo', input: { a: 'A', w: 'W' }, timeoutMs: null, held: false }]);
    restored.send({ type: 'STEP_DONE', stepId: 'b', attempt: 1, output: 'B', agentId: null, durationMs: null, costs: [], at: 1030 });
    expect(restored.getSnapshot().status).toBe('done');
    expect((restored.getSnapshot().context as FlowContext).output).toBe('B');
  });

  it('ignores a stale result of an earlier attempt', () => {
    const r = recorder();
    const one: FlowDocument = { name: 'o', steps: [{ id: 'a', type: 'task', agent: 'fail', retry: { maxAttempts: 3, backoff: 'fixed', initialMs: 10 } }] };
    const actor = createActor(machineOf(one, r.fx), { input: { executionId: 'ex_3', input: null, at: 0 } }).start();
    actor.send({ type: 'START', at: 0 });
    actor.send({ type: 'STEP_FAILED', stepId: 'a', attempt: 1, error: { code: 'x', message: 'x' }, agentId: null, durationMs: null, costs: [], at: 5 });
    actor.send({ type: 'TIMER', key: 'bo:a:1', at: 15 });
    actor.send({ type: 'STEP_DONE', stepId: 'a', attempt: 1, output: 'late', agentId: null, durationMs: null, costs: [], at: 16 });
    expect(actor.getSnapshot().status).toBe('active');
    actor.send({ type: 'STEP_DONE', stepId: 'a', attempt: 2, output: 'ok', agentId: null, durationMs: null, costs: [], at: 17 });
    expect(actor.getSnapshot().status).toBe('done');
  });
});

describe('compileFlow: the step budget of one input', () => {
  it('makes XState throw the error the engine recognises when a choice routes to itself', () => {
    const r = recorder();
    // Refused by validation since issue 11; a definition stored before that still compiles.
    const spin: FlowDocument = { name: 'spin', steps: [{ id: 'c', type: 'choice', when: [{ if: { path: '$.input.stop', exists: true }, next: 'e' }], default: 'c' }, { id: 'e', type: 'task', agent: 'echo' }] };
    const actor = createActor(machineOf(spin, r.fx), { input: { executionId: 'ex_4', input: {}, at: 0 } });
    let failure: unknown;
    actor.subscribe({ error: (err) => void (failure = err) });
    actor.start();
    actor.send({ type: 'START', at: 0 });
    expect(actor.getSnapshot().status).toBe('error');
    expect(isStepBudgetError(failure)).toBe(true);
    // XState keeps the state from before the input: still in `boot`, nothing dispatched.
    expect(actor.getPersistedSnapshot()).toMatchObject({ value: 'boot' });
    expect(r.dispatched).toEqual([]);
  });
});

describe('compileFlow: an input never changes the context it started from', () => {
  it('leaves the context of the previous snapshot as it was', () => {
    const r = recorder();
    const actor = createActor(machineOf(doc, r.fx), { input: { executionId: 'ex_c1', input: { x: 1 }, at: 0 } }).start();
    actor.send({ type: 'START', at: 0 });
    const before = actor.getSnapshot().context as FlowContext;
    actor.send({ type: 'STEP_DONE', stepId: 'a', attempt: 1, output: 'A', agentId: null, durationMs: null, costs: [], at: 10 });
    const after = actor.getSnapshot().context as FlowContext;
    expect(after).not.toBe(before);
    expect(after.steps['a']).toMatchObject({ status: 'completed', output: 'A' });
    expect(after.steps['w']).toMatchObject({ status: 'waiting' });
    // Two actions ran (complete a, enter w), on one copy: the context the input started from is untouched.
    expect(before.steps['a']).toMatchObject({ status: 'running' });
    expect(before.steps['w']).toBeUndefined();
    expect(before.lastAt).toBe(0);
  });

  it('keeps the context from before the input when a later action of the input throws', () => {
    const r = recorder();
    const two: FlowDocument = { name: 't2', steps: [{ id: 'a', type: 'task', agent: 'echo' }, { id: 'b', type: 'task', agent: 'echo' }] };
    let calls = 0;
    // The second dispatch throws: after `a` was completed by the input's first action.
    const fx: FlowEffects = { ...r.fx, dispatch: (id, t) => { if (++calls === 2) throw new Error('dispatch failed'); r.fx.dispatch(id, t); } };
    const actor = createActor(machineOf(two, fx), { input: { executionId: 'ex_c2', input: {}, at: 0 } });
    let failure: unknown;
    actor.subscribe({ error: (err) => void (failure = err) });
    actor.start();
    actor.send({ type: 'START', at: 0 });
    actor.send({ type: 'STEP_DONE', stepId: 'a', attempt: 1, output: 'A', agentId: null, durationMs: null, costs: [], at: 10 });
    expect((failure as Error).message).toBe('dispatch failed');
    const kept = actor.getPersistedSnapshot() as Snapshot<unknown> & { value: unknown; context: FlowContext };
    expect(kept.value).toEqual({ run: { st_a: 'attempt' } });
    expect(kept.context.steps['a']).toMatchObject({ status: 'running', attempt: 1 });
    expect(kept.context.steps['b']).toBeUndefined();
    expect(kept.context.lastAt).toBe(0);
  });
});

/**
 * Drives a flow to its end, answering what it asks (tasks, timers, signals, children), and checks after every input
 * that the context of the snapshot before it is unchanged: XState keeps that snapshot when a transition throws, and the
 * flow actions write to a copy of what they change (flow-ops.ts), never to what the previous snapshot holds.
 */
function driveChecked(d: FlowDocument, opts: { failFirst?: Record<string, number>; unanswered?: string[]; controls?: boolean; signalEarly?: boolean; cancelAt?: number } = {}) {
  const r = recorder();
  const children: string[] = [];
  const fx: FlowEffects = { ...r.fx, startChild: (_id, stepId) => void children.push(stepId) };
  const actor = createActor(machineOf(d, fx), { input: { executionId: 'ex_cow', input: { x: 1, flag: true }, at: 0 } }).start();
  const fails = { ...(opts.failFirst ?? {}) };
  let at = 0;
  let inputs = 0;
  const send = (ev: Record<string, unknown>) => {
    const before = actor.getSnapshot().context as FlowContext;
    const copy = structuredClone(before);
    actor.send({ ...ev, at: (at += 10) } as never);
    expect(before).toEqual(copy);
    inputs++;
  };
  send({ type: 'START' });
  if (opts.signalEarly) send({ type: 'SIGNAL', name: 'go', payload: { early: true }, reject: false, reason: null });
  let answered = 0;
  for (let i = 0; i < 200 && actor.getSnapshot().status === 'active'; i++) {
    if (opts.cancelAt === i) {
      send({ type: 'CANCEL', reason: 'enough' });
      break;
    }
    if (opts.controls && i === 1) {
      send({ type: 'PAUSE' });
      send({ type: 'UPDATE', labels: { k: 'v' }, context: { note: 1 } });
      send({ type: 'RESUME' });
      continue;
    }
    const task = r.dispatched[answered];
    if (task) {
      answered++;
      if (opts.unanswered?.includes(task.stepId)) continue;
      const left = fails[task.stepId] ?? 0;
      if (left > 0) {
        fails[task.stepId] = left - 1;
        send({ type: 'STEP_FAILED', stepId: task.stepId, attempt: task.attempt, error: { code: 'boom', message: 'boom', retryable: true }, agentId: null, durationMs: 1, costs: [] });
      } else {
        send({ type: 'STEP_DONE', stepId: task.stepId, attempt: task.attempt, output: { from: task.stepId }, agentId: 'ag', durationMs: 1, costs: [] });
      }
      continue;
    }
    const child = children.shift();
    if (child !== undefined) {
      send({ type: 'CHILD_DONE', stepId: child, childId: 'ex_child', output: { child: true } });
      continue;
    }
    const due = [...r.timers.entries()].sort((p, q) => p[1] - q[1])[0];
    if (due) {
      r.timers.delete(due[0]);
      at = Math.max(at, due[1]);
      send({ type: 'TIMER', key: due[0] });
      continue;
    }
    const active = Object.values((actor.getSnapshot().context as FlowContext).active);
    if (active.includes('wait')) {
      send({ type: 'SIGNAL', name: 'go', payload: { late: true }, reject: false, reason: null });
      continue;
    }
    break;
  }
  return { snapshot: actor.getSnapshot(), events: r.events.map((e) => e.type), inputs };
}

describe('flow actions never change the context of an earlier snapshot', () => {
  const t = (id: string, extra: Record<string, unknown> = {}) => ({ id, type: 'task', agent: 'echo', input: { x: '$.input.x' }, ...extra });

  it('tasks, a wait with a signal sent early and late, a sleep, pause / update / resume', () => {
    const run = driveChecked(doc, { controls: true, signalEarly: true });
    expect(run.snapshot.status).toBe('done');
    expect(run.events).toEqual(expect.arrayContaining(['workflow.paused', 'workflow.updated', 'workflow.resumed', 'workflow.signal.received', 'workflow.completed']));
  });

  it('retries with backoff, a step timeout skipped, a choice and a parallel', () => {
    const d = {
      name: 'cow-retry',
      steps: [
        t('r', { retry: { maxAttempts: 3, initialMs: 10, jitter: false } }),
        t('slow', { timeoutMs: 5, onError: 'skip' }),
        { id: 'c', type: 'choice', when: [{ if: { path: '$.input.flag', equals: true }, next: 'p' }], default: 'z' },
        { id: 'p', type: 'parallel', branches: [[t('p1'), t('p2')], [t('q1')]] },
        t('z'),
      ],
    } as unknown as FlowDocument;
    // `slow` is never answered before its timeout: its task stays unanswered until the timer fires.
    const run = driveChecked(d, { failFirst: { r: 2 }, unanswered: ['slow'] });
    // Two for `r`'s failures, two for `slow`'s timeouts (the default policy retries a timeout) before it is skipped.
    expect(run.events.filter((e) => e === 'workflow.step.retrying')).toHaveLength(4);
    expect(run.events).toContain('workflow.step.failed');
    expect(run.snapshot.status).toBe('done');
  });

  it('a failure that compensates, a child workflow, then a cancel of a waiting execution', () => {
    const comp = {
      name: 'cow-comp',
      steps: [t('a', { compensate: 'undo-a' }), { id: 'kid', type: 'workflow', workflow: 'child' }, t('b', { compensate: 'undo-b' }), t('f')],
      compensations: [t('undo-a'), t('undo-b')],
    } as unknown as FlowDocument;
    const failing = { ...comp, steps: comp.steps.map((s) => (s.id === 'f' ? { ...s, onError: 'compensate', retry: { maxAttempts: 1 } } : s)) } as FlowDocument;
    const run = driveChecked(failing, { failFirst: { f: 1 } });
    const ended = run.snapshot.context as FlowContext;
    expect(ended.error).toMatchObject({ stepId: 'f', compensated: true });
    expect(ended.compQueue).toEqual([]);
    expect(ended.steps['undo-b']).toMatchObject({ status: 'completed' });
    const waiting = { name: 'cow-cancel', steps: [t('a'), { id: 'w', type: 'wait', signal: 'never' }] } as unknown as FlowDocument;
    const cancelled = driveChecked(waiting, { cancelAt: 2 });
    expect(cancelled.events).toContain('workflow.cancelled');
  });
});

describe('compileFlow: one machine per definition, effects given per engine with provide()', () => {
  it('serves two engines with different effects, each receiving only its own', () => {
    const compiled = compileFlow(doc);
    const r1 = recorder();
    const r2 = recorder();
    // What two engines (each its own DefinitionRegistry) do with the same compiled definition.
    const m1 = withEffects(compiled.machine, flowActions(r1.fx));
    const m2 = withEffects(compiled.machine, flowActions(r2.fx));
    const a1 = createActor(m1, { input: { executionId: 'ex_e1', input: { x: 1 }, at: 0 } }).start();
    const a2 = createActor(m2, { input: { executionId: 'ex_e2', input: { x: 2 }, at: 0 } }).start();
    a1.send({ type: 'START', at: 0 });
    a2.send({ type: 'START', at: 0 });
    a2.send({ type: 'STEP_DONE', stepId: 'a', attempt: 1, output: 'A2', agentId: null, durationMs: null, costs: [], at: 5 });
    a1.send({ type: 'STEP_DONE', stepId: 'a', attempt: 1, output: 'A1', agentId: null, durationMs: null, costs: [], at: 7 });
    a2.send({ type: 'SIGNAL', name: 'go', payload: 'W', reject: false, reason: null, at: 9 });

    expect(r1.dispatched).toEqual([{ stepId: 'a', attempt: 1, agent: 'echo', input: { x: 1 }, timeoutMs: null, held: false }]);
    expect(r2.dispatched).toEqual([{ stepId: 'a', attempt: 1, agent: 'echo', input: { x: 2 }, timeoutMs: null, held: false }]);
    expect(r1.events.map((e) => e.type)).toEqual(['workflow.step.started', 'workflow.step.completed', 'workflow.step.started', 'workflow.waiting']);
    expect(r1.events.find((e) => e.type === 'workflow.step.completed')?.data.output).toBe('A1');
    expect(r2.events.find((e) => e.type === 'workflow.step.completed')?.data.output).toBe('A2');
    expect(r2.events.map((e) => e.type)).toContain('workflow.signal.received');
    expect(r1.events.map((e) => e.type)).not.toContain('workflow.signal.received');
    expect([...r1.timers.keys()]).toEqual([]);
    expect([...r2.timers.entries()]).toEqual([['sl:s:1', 1009]]);
    // The compiled machine itself is left as it was: provide() made new machines from it.
    expect(m1).not.toBe(compiled.machine);
    expect(m1.implementations.actions.enterTask).not.toBe(m2.implementations.actions.enterTask);
    expect(m1.config).toBe(compiled.machine.config);
  });

  it('fails its first effect loudly when run without effects', () => {
    const actor = createActor(compileFlow(doc).machine, { input: { executionId: 'ex_none', input: {}, at: 0 } });
    let failure: unknown;
    actor.subscribe({ error: (err) => void (failure = err) });
    actor.start();
    actor.send({ type: 'START', at: 0 });
    expect(actor.getSnapshot().status).toBe('error');
    expect(String(failure)).toMatch(/flow effect \w+ has no implementation/);
  });
});
