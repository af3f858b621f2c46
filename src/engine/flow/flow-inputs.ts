/**
 * @module engine/flow/flow-inputs — an input applied to a flow actor, as the journal keeps it for replay
 * (engine/runtime/replay.ts). A START carries the actor's creation input (but the execution's own input, which
 * its executions row holds). A step result whose output is large leaves it out: its `workflow.step.completed`
 * event, committed in the same transaction, holds the same value (snapshot-refs.ts does the same for snapshots).
 */
import { msgpackCodec as codec } from '../../common/codec.ts';
import type { FlowEvent, FlowInput } from './flow-context.ts';
import { REF_MIN_BYTES } from './snapshot-refs.ts';

/** An input as stored. `start`: a START's creation input without `executionId` and `input`; `ref`: the output is in the step's completion event. */
interface StoredInput {
  readonly e: FlowEvent;
  readonly start?: Omit<FlowInput, 'executionId' | 'input'>;
  readonly ref?: 1;
}

/** A decoded input: what to send, and for a START what to create the actor with. */
export interface DecodedInput {
  readonly event: FlowEvent;
  /** A START: the actor's creation input, but `executionId` and `input` (the caller knows them). */
  readonly start?: Omit<FlowInput, 'executionId' | 'input'>;
  /** A step result stored without its output: it is the `output` of the attempt's `workflow.step.completed` event. */
  readonly outputRef: boolean;
}

/** The bytes of `event` as applied; `start` is the creation input of the actor a START entered. */
export function encodeInput(event: FlowEvent, start?: FlowInput): Uint8Array {
  if (start !== undefined) {
    const { executionId: _id, input: _input, ...rest } = start;
    return codec.encode({ e: event, start: rest } satisfies StoredInput);
  }
  const data = codec.encode({ e: event } satisfies StoredInput);
  if (event.type !== 'STEP_DONE' || data.length < REF_MIN_BYTES) return data;
  return codec.encode({ e: { ...event, output: null }, ref: 1 } satisfies StoredInput);
}

export function decodeInput(data: Uint8Array): DecodedInput {
  const s = codec.decode<StoredInput>(data);
  return s.start === undefined ? { event: s.e, outputRef: s.ref === 1 } : { event: s.e, start: s.start, outputRef: false };
}

/** An input to replay: its number, the seq the execution had before it, and what it was (its output put back). */
export interface ReplayInput {
  readonly n: number;
  readonly seq: number;
  /** The execution's seq after it: the events it made end there. */
  readonly end: number;
  readonly event: FlowEvent;
  readonly start?: Omit<FlowInput, 'executionId' | 'input'>;
}
