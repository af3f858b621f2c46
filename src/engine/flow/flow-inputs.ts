/**
 * @module engine/flow/flow-inputs — an input applied to a flow actor, as the journal keeps it for replay
 * (engine/runtime/replay.ts). A START carries the actor's creation input (but the execution's own input, which
 * its executions row holds). A step result whose output is large leaves it out: its `workflow.step.completed`
 * event, committed in the same transaction, holds the same value (snapshot-refs.ts does the same for snapshots).
 *
 * Each input says which `REPLAY_FORMAT` made its events. A release whose compiled flows journal other events for the
 * same inputs bumps it: inputs an older build journaled are then replayed for their state without the seq checks
 * (their events stay in the history as they were), instead of being refused as a damaged journal.
 */
import { msgpackCodec as codec } from '../../common/codec.ts';
import type { FlowEvent, FlowInput } from './flow-context.ts';
import { REF_MIN_BYTES } from './snapshot-refs.ts';

/** What the events an input made depend on: the compiled flows' transitions (compile-flow.ts, compile/). */
export const REPLAY_FORMAT = 1;

/**
 * An input as stored. `f`: its REPLAY_FORMAT; `start`: a START's creation input without `executionId` and `input`;
 * `ref`: the output is in the step's completion event.
 */
interface StoredInput {
  readonly f: number;
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
  /** The REPLAY_FORMAT of the build that applied it. */
  readonly format: number;
}

/** The bytes of `event` as applied; `start` is the creation input of the actor a START entered. */
export function encodeInput(event: FlowEvent, start?: FlowInput): Uint8Array {
  if (start !== undefined) {
    const { executionId: _id, input: _input, ...rest } = start;
    return codec.encode({ f: REPLAY_FORMAT, e: event, start: rest } satisfies StoredInput);
  }
  const data = codec.encode({ f: REPLAY_FORMAT, e: event } satisfies StoredInput);
  if (event.type !== 'STEP_DONE' || data.length < REF_MIN_BYTES) return data;
  return codec.encode({ f: REPLAY_FORMAT, e: { ...event, output: null }, ref: 1 } satisfies StoredInput);
}

export function decodeInput(data: Uint8Array): DecodedInput {
  const s = codec.decode<StoredInput>(data);
  const format = typeof s.f === 'number' ? s.f : 0;
  return s.start === undefined ? { event: s.e, outputRef: s.ref === 1, format } : { event: s.e, start: s.start, outputRef: false, format };
}

/** An input to replay: its number, the seq the execution had before it, and what it was (its output put back). */
export interface ReplayInput {
  readonly n: number;
  /** Made by a build of this REPLAY_FORMAT: its seqs are checked. */
  readonly format: number;
  readonly seq: number;
  /** The execution's seq after it: the events it made end there. */
  readonly end: number;
  readonly event: FlowEvent;
  readonly start?: Omit<FlowInput, 'executionId' | 'input'>;
}
