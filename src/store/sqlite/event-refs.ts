/**
 * @module store/sqlite/event-refs — a step's large input written once when it is the previous step's output.
 *
 * A flow that passes a result on (`input: "$.steps.a.output"`) journaled the value twice: in a's
 * `workflow.step.completed` and in the next step's `workflow.step.started`. The engine marks such a started event
 * (`EventRecord.inputOf`: the seq of the completion that holds the value, engine/runtime/supervisor.ts `record`);
 * when the input is 1 KiB or more, its row keeps `inputOf` in place of `input`, and every read puts the value back
 * from that completion (`listEvents`, `stepEventData`), so readers never see the difference. The marker key can
 * only be ours: a started event's top-level keys are the engine's, never a user's.
 */
import { msgpackCodec as codec } from '../../common/codec.ts';
import { ActorflowError, ErrorCode } from '../../common/errors.ts';
import type { EventRecord } from '../../common/execution.ts';
import { BLOB_MIN_BYTES } from './execution-blobs.ts';

const MARK = 'inputOf';
const MARK_BYTES = Buffer.from(MARK, 'utf8');

/** The bytes of an event's row: its data, or, for a large input another event holds, the data with `inputOf` in its place. */
export function encodeEventData(e: EventRecord): Buffer {
  if (e.inputOf === undefined) return codec.encode(e.data);
  const input = e.data['input'];
  const large = typeof input === 'string' ? input.length >= BLOB_MIN_BYTES : codec.encode(input).length >= BLOB_MIN_BYTES;
  if (!large) return codec.encode(e.data);
  // The reference takes the input's place, so a read puts the keys back in their order.
  const stored: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e.data)) {
    if (k === 'input') stored[MARK] = e.inputOf;
    else stored[k] = v;
  }
  return codec.encode(stored);
}

/** The seq whose output this stored data left out, if it did. */
export function inputRefOf(data: Record<string, unknown>): number | undefined {
  const ref = data[MARK];
  return typeof ref === 'number' && !('input' in data) ? ref : undefined;
}

/** Whether these row bytes may hold a reference (a byte search; decoding decides). */
export function mayHoldRef(bytes: Uint8Array): boolean {
  const b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return b.indexOf(MARK_BYTES) !== -1;
}

/** `data` with its reference replaced by `input`, the keys in their order. */
export function withInput(data: Record<string, unknown>, input: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(data)) {
    if (k === MARK) out['input'] = input;
    else out[k] = v;
  }
  return out;
}

/**
 * The bytes of a started event's row with its input put back from the completion it refers to (`completions`: the
 * completions' rows by seq, read before it in the same seq-ordered range); the bytes as they are when they hold none.
 */
export function withRefResolved(executionId: string, seq: number, bytes: Buffer, completions: ReadonlyMap<number, Uint8Array>): Buffer {
  const data = codec.decode<Record<string, unknown>>(bytes);
  const ref = inputRefOf(data);
  if (ref === undefined) return bytes;
  const holder = completions.get(ref);
  if (holder === undefined) throw missingRef(executionId, seq, ref);
  return codec.encode(withInput(data, codec.decode<{ output?: unknown }>(holder).output));
}

const missingRef = (executionId: string, seq: number, ref: number): ActorflowError =>
  new ActorflowError(ErrorCode.snapshotOutputMissing, `event ${seq} of execution ${executionId} takes its input from event ${ref}, which its journal does not hold`);

/**
 * Puts back the inputs `events` (of one execution) left to other events: from the page itself when the completion
 * is in it, else from `read` (the outputs of the given seqs). Returns the events, resolved where needed.
 * @throws ActorflowError `snapshot_output_missing` when the journal does not hold the completion (a damaged data directory)
 */
export async function resolveInputRefs(events: EventRecord[], read: (seqs: readonly number[]) => Promise<Map<number, unknown>>): Promise<EventRecord[]> {
  // One look at each event; a page without references (almost every page) goes back as it is.
  const refs = events.map((e) => inputRefOf(e.data));
  if (refs.every((r) => r === undefined)) return events;
  const inPage = new Map<number, EventRecord>(events.map((e) => [e.seq, e]));
  const missing = refs.filter((r): r is number => r !== undefined && !inPage.has(r));
  const fetched = missing.length === 0 ? new Map<number, unknown>() : await read(missing);
  return events.map((e, i) => {
    const ref = refs[i];
    if (ref === undefined) return e;
    const holder = inPage.get(ref);
    if (holder === undefined && !fetched.has(ref)) throw missingRef(e.executionId, e.seq, ref);
    return { ...e, data: withInput(e.data, holder !== undefined ? holder.data['output'] : fetched.get(ref)) };
  });
}
