/**
 * The last journaled step output a live execution remembers, so that a later step's input that is that very value is
 * journaled as a reference to its completion (EventRecord.inputOf, store/sqlite/event-refs.ts): never a reference
 * to the event itself or to one a failed transition dropped.
 */
import { describe, expect, it } from 'vitest';
import { LiveExecution } from '../../src/engine/runtime/live-execution.ts';
import type { LoadedDefinition } from '../../src/engine/definitions/definitions.ts';

const live = () =>
  new LiveExecution({
    id: 'ex_1', tenant: 't', def: {} as LoadedDefinition, input: null, labels: {}, parentId: null, parentStepId: null, createdAt: 0,
    idempotencyKey: null, requestHash: null, dynamicDoc: null,
  });

describe('LiveExecution.outputSeqOf', () => {
  it('names the completion of the last output for that very value, only for a later event', () => {
    const rec = live();
    const out = { text: 'x' };
    rec.noteOutput(out, 5);
    expect(rec.outputSeqOf(out, 6)).toBe(5);
    expect(rec.outputSeqOf({ text: 'x' }, 6)).toBeUndefined();
    expect(rec.outputSeqOf(out, 5)).toBeUndefined();
    expect(rec.outputSeqOf(undefined, 6)).toBeUndefined();
    // Strings are values: an equal string is the same value.
    rec.noteOutput('y'.repeat(2000), 7);
    expect(rec.outputSeqOf('y'.repeat(2000), 8)).toBe(7);
    // Numbers, booleans and null are not remembered (never large).
    rec.noteOutput(3, 9);
    expect(rec.outputSeqOf('y'.repeat(2000), 10)).toBe(7);
  });

  it('forgets an output whose completion a failed transition dropped', () => {
    const rec = live();
    const out = { text: 'x' };
    rec.noteOutput(out, 5);
    rec.forgetOutputsAfter(5);
    expect(rec.outputSeqOf(out, 6)).toBe(5);
    rec.forgetOutputsAfter(4);
    expect(rec.outputSeqOf(out, 6)).toBeUndefined();
  });
});
