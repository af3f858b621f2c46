import { createActor, createMachine } from 'xstate';
import { describe, expect, it } from 'vitest';
import { msgpackCodec as codec } from '../../src/common/codec.ts';
import { ActorflowError } from '../../src/common/errors.ts';
import { decodeSnapshot, encodeSnapshot, OUTPUT_REF_MIN_BYTES, persistFlow, restoreFlow, SNAPSHOT_FORMAT, withOutputs } from '../../src/engine/flow/flow-snapshot.ts';

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
    const back = decodeSnapshot(data);
    expect(back).not.toHaveProperty('format');
    back.context.input = { big: 'y' };
    const restored = restoreFlow(machine, back, [data]).start();
    expect(restored.getSnapshot().value).toBe('b');
    expect(restored.getSnapshot().context).toEqual({ input: { big: 'y' }, n: 1 });
  });

  it('reads snapshots written before the version existed (format 0)', () => {
    const actor = createActor(machine, { input: { input: 1 } }).start();
    const legacy = codec.encode({ ...persistFlow(actor), context: { input: null, n: 1 } });
    expect((decodeSnapshot(legacy) as unknown as { value: string }).value).toBe('a');
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

describe('large step outputs in snapshots', () => {
  const steps = createMachine({
    id: 'f',
    context: ({ input }: { input: { steps: Record<string, unknown> } }) => ({ input: null, steps: input.steps }),
    initial: 'a',
    states: { a: {} },
  });
  const big = 'b'.repeat(OUTPUT_REF_MIN_BYTES);
  const bigObject = { rows: Array.from({ length: 200 }, (_, i) => ({ i, name: `row ${i}` })) };
  const completed = (output: unknown) => ({ status: 'completed', attempt: 1, base: 0, output });

  it('are left to the journal (format 2, with the seq they are read up to) and come back from the completion events', () => {
    const actor = createActor(steps, { input: { steps: { s: completed('small'), l: completed(big), o: completed(bigObject), r: { status: 'running', attempt: 1, base: 0 } } } }).start();
    const data = encodeSnapshot(persistFlow(actor), 7);
    expect(data.length).toBeLessThan(OUTPUT_REF_MIN_BYTES);
    const raw = codec.decode<{ format: number; refs: string[]; refsSeq: number; context: { steps: Record<string, { output?: unknown }> } }>(data);
    expect(raw).toMatchObject({ format: 2, refs: ['l', 'o'], refsSeq: 7 });
    expect(raw.context.steps.s?.output).toBe('small');
    expect(raw.context.steps.l).not.toHaveProperty('output');
    // The live context keeps its outputs: only the stored copy leaves them out.
    expect(((actor.getSnapshot().context as unknown as { steps: Record<string, { output: unknown }> }).steps.l)?.output).toBe(big);

    const back = decodeSnapshot(data);
    const events = new Map([['l', codec.encode({ attempt: 1, output: big })], ['o', codec.encode({ attempt: 1, output: bigObject })], ['s', codec.encode({ attempt: 1, output: 'small' })]]);
    withOutputs(back, events);
    expect(back).not.toHaveProperty('refs');
    expect(back).not.toHaveProperty('refsSeq');
    const restored = restoreFlow(steps, back, [data, ...events.values()]).start();
    expect(restored.getSnapshot().context.steps).toEqual({ s: completed('small'), l: completed(big), o: completed(bigObject), r: { status: 'running', attempt: 1, base: 0 } });
  });

  it('refuses to restore when the journal lacks a completion the snapshot refers to', () => {
    const actor = createActor(steps, { input: { steps: { l: completed(big) } } }).start();
    const back = decodeSnapshot(encodeSnapshot(persistFlow(actor), 3));
    let err: unknown;
    try {
      withOutputs(back, new Map());
    } catch (e) {
      err = e;
    }
    expect((err as ActorflowError).code).toBe('snapshot_output_missing');
  });
});
