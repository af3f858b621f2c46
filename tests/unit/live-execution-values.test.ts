/**
 * The last journaled value a live execution remembers (a step's output, the execution's input), so that a later step's
 * input or the execution's output that is that very value is journaled as a reference to the event that holds it
 * (EventRecord.inputOf, outputOf, store/sqlite/event-refs.ts): never a reference to the event itself or to one a
 * failed transition dropped.
 */
import { describe, expect, it } from 'vitest';
import { LiveExecution } from '../../src/engine/runtime/live-execution.ts';
import type { LoadedDefinition } from '../../src/engine/definitions/definitions.ts';

const live = () =>
  new LiveExecution({
    id: 'ex_1', tenant: 't', def: {} as LoadedDefinition, input: null, labels: {}, parentId: null, parentStepId: null, createdAt: 0,
    idempotencyKey: null, requestHash: null, dynamicDoc: null,
  });

describe('LiveExecution.valueSeqOf', () => {
  it('names the event of the last value noted for that very value, only for a later event', () => {
    const rec = live();
    const out = { text: 'x' };
    rec.noteValue(out, 5);
    expect(rec.valueSeqOf(out, 6)).toBe(5);
    expect(rec.valueSeqOf({ text: 'x' }, 6)).toBeUndefined();
    expect(rec.valueSeqOf(out, 5)).toBeUndefined();
    expect(rec.valueSeqOf(undefined, 6)).toBeUndefined();
    // Strings are values: an equal string is the same value.
    rec.noteValue('y'.repeat(2000), 7);
    expect(rec.valueSeqOf('y'.repeat(2000), 8)).toBe(7);
    // Numbers, booleans and null are not remembered (never large).
    rec.noteValue(3, 9);
    expect(rec.valueSeqOf('y'.repeat(2000), 10)).toBe(7);
  });

  it('forgets a value whose event a failed transition dropped', () => {
    const rec = live();
    const out = { text: 'x' };
    rec.noteValue(out, 5);
    rec.forgetValuesAfter(5);
    expect(rec.valueSeqOf(out, 6)).toBe(5);
    rec.forgetValuesAfter(4);
    expect(rec.valueSeqOf(out, 6)).toBeUndefined();
  });
});
