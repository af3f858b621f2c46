import { createActor, createMachine } from 'xstate';
import { describe, expect, it } from 'vitest';
import { msgpackCodec as codec } from '../../src/common/codec.ts';
import { ActorflowError } from '../../src/common/errors.ts';
import { decodeSnapshot, encodeSnapshot, persistFlow, restoreFlow, SNAPSHOT_FORMAT, withJournalValues } from '../../src/engine/flow/flow-snapshot.ts';
import { REF_MIN_BYTES } from '../../src/engine/flow/snapshot-refs.ts';

const machine = createMachine({
  id: 'm',
  context: ({ input }: { input: { input: unknown } }) => ({ input: input.input, n: 1 }),
  initial: 'a',
  states: { a: { on: { GO: 'b' } }, b: {} },
});

describe('stored snapshots', () => {
  it('carry their format version and come back without it, the input left out', () => {
    const actor = createActor(machine, { input: { input: { big: 'x'.repeat(100) } } }).start();
    actor.send({ type: 'GO' });
    const data = encodeSnapshot(persistFlow(actor), 2);
    // Nothing left to the journal: format 1, which a build before format 2 reads too.
    expect(codec.decode<{ format: number; context: { input: unknown } }>(data)).toMatchObject({ format: 1, context: { input: null, n: 1 } });
    const { snapshot: back, position } = decodeSnapshot(data);
    expect(back).not.toHaveProperty('format');
    expect(position).toBeNull();
    back.context.input = { big: 'y' };
    const restored = restoreFlow(machine, back, [data]).start();
    expect(restored.getSnapshot().value).toBe('b');
    expect(restored.getSnapshot().context).toEqual({ input: { big: 'y' }, n: 1 });
  });

  it('reads snapshots written before the version existed (format 0)', () => {
    const actor = createActor(machine, { input: { input: 1 } }).start();
    const legacy = codec.encode({ ...persistFlow(actor), context: { input: null, n: 1 } });
    expect((decodeSnapshot(legacy).snapshot as unknown as { value: string }).value).toBe('a');
  });

  it('refuses a snapshot of a newer format with a typed error instead of misreading it', () => {
    const actor = createActor(machine, { input: { input: 1 } }).start();
    const future = codec.encode({ ...persistFlow(actor), format: SNAPSHOT_FORMAT + 1 });
    let err: unknown;
    try {
      decodeSnapshot(future);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ActorflowError);
    expect((err as ActorflowError).code).toBe('snapshot_format_unsupported');
    expect((err as Error).message).toContain(`up to ${SNAPSHOT_FORMAT}`);
  });
});

describe('large values in snapshots', () => {
  const flow = createMachine({
    id: 'f',
    context: ({ input }: { input: { steps: Record<string, unknown>; inflight?: Record<string, unknown> } }) => ({ input: null, executionId: 'ex_1', steps: input.steps, inflight: input.inflight ?? {} }),
    initial: 'a',
    states: { a: {} },
  });
  const big = 'b'.repeat(REF_MIN_BYTES);
  const bigObject = { rows: Array.from({ length: 200 }, (_, i) => ({ i, name: `row ${i}` })) };
  const completed = (output: unknown) => ({ status: 'completed', attempt: 1, base: 0, output });
  const task = (input: unknown, held = false) => ({ stepId: 't', attempt: 2, agent: 'echo', input, timeoutMs: null, held });
  type Raw = { format: number; refs: { outputs?: string[]; inputs?: string[]; seq: number }; context: { steps: Record<string, { output?: unknown }>; inflight: Record<string, { input?: unknown }> } };

  it('leaves large outputs and in-flight inputs to the journal (format 2) and gets them back from the step events', () => {
    const inflight = { t: task(bigObject) };
    const actor = createActor(flow, { input: { steps: { s: completed('small'), l: completed(big), o: completed(bigObject), t: { status: 'running', attempt: 2, base: 0 } }, inflight } }).start();
    const data = encodeSnapshot(persistFlow(actor), 7);
    expect(data.length).toBeLessThan(REF_MIN_BYTES);
    const raw = codec.decode<Raw>(data);
    expect(raw).toMatchObject({ format: 2, refs: { outputs: ['l', 'o'], inputs: ['t'], seq: 7 } });
    expect(raw.context.steps.s?.output).toBe('small');
    expect(raw.context.steps.l).not.toHaveProperty('output');
    expect(raw.context.inflight.t).not.toHaveProperty('input');
    // The live context keeps its values: only the stored copy leaves them out.
    const live = actor.getSnapshot().context as unknown as Raw['context'];
    expect(live.steps.l?.output).toBe(big);
    expect(live.inflight.t?.input).toBe(bigObject);

    const back = decodeSnapshot(data).snapshot;
    const completedEvents = new Map([['l', codec.encode({ attempt: 1, output: big })], ['o', codec.encode({ attempt: 1, output: bigObject })], ['s', codec.encode({ attempt: 1, output: 'small' })]]);
    const startedEvents = new Map([['t', codec.encode({ type: 'task', attempt: 2, agent: 'echo', input: bigObject })]]);
    withJournalValues(back, { completed: completedEvents, started: startedEvents });
    expect(back).not.toHaveProperty('refs');
    const restored = restoreFlow(flow, back, [data, ...completedEvents.values(), ...startedEvents.values()]).start();
    const ctx = restored.getSnapshot().context as unknown as Raw['context'];
    expect(ctx.steps).toEqual({ s: completed('small'), l: completed(big), o: completed(bigObject), t: { status: 'running', attempt: 2, base: 0 } });
    expect(ctx.inflight).toEqual(inflight);
  });

  it('keeps the input of a held task (a paused execution has not started it) and writes format 1 when it leaves nothing out', () => {
    const actor = createActor(flow, { input: { steps: { s: completed('small') }, inflight: { t: task(big, true) } } }).start();
    const raw = codec.decode<Raw>(encodeSnapshot(persistFlow(actor), 4));
    expect(raw.format).toBe(1);
    expect(raw).not.toHaveProperty('refs');
    expect(raw.context.inflight.t?.input).toBe(big);
  });

  it('refuses to restore when the journal lacks a value the snapshot refers to, or has another attempt', () => {
    const code = (fn: () => void): unknown => {
      try {
        fn();
      } catch (e) {
        return (e as ActorflowError).code;
      }
      return undefined;
    };
    const a = createActor(flow, { input: { steps: { l: completed(big) } } }).start();
    const outputs = decodeSnapshot(encodeSnapshot(persistFlow(a), 3)).snapshot;
    expect(code(() => withJournalValues(outputs, { completed: new Map(), started: new Map() }))).toBe('snapshot_output_missing');
    const b = createActor(flow, { input: { steps: {}, inflight: { t: task(big) } } }).start();
    const inputs = decodeSnapshot(encodeSnapshot(persistFlow(b), 3)).snapshot;
    const earlier = new Map([['t', codec.encode({ type: 'task', attempt: 1, input: 'attempt 1' })]]);
    expect(code(() => withJournalValues(inputs, { completed: new Map(), started: earlier }))).toBe('snapshot_output_missing');
  });
});
