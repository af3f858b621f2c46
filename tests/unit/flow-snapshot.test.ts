import { createActor, createMachine } from 'xstate';
import { describe, expect, it } from 'vitest';
import { msgpackCodec as codec } from '../../src/common/codec.ts';
import { ActorflowError } from '../../src/common/errors.ts';
import { decodeSnapshot, encodeSnapshot, persistFlow, restoreFlow, SNAPSHOT_FORMAT } from '../../src/engine/flow/flow-snapshot.ts';

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
    const data = encodeSnapshot(persistFlow(actor));
    expect(codec.decode<{ format: number; context: { input: unknown } }>(data)).toMatchObject({ format: SNAPSHOT_FORMAT, context: { input: null, n: 1 } });
    const back = decodeSnapshot(data);
    expect(back).not.toHaveProperty('format');
    back.context.input = { big: 'y' };
    const restored = restoreFlow(machine, back, data).start();
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
