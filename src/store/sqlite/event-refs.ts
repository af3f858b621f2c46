/**
 * @module store/sqlite/event-refs — a large value written once when another event of the execution journaled it.
 *
 * A flow journaled the same value twice in three common shapes: a step whose input is the previous step's output
 * (`input: "$.steps.a.output"`: in a's `workflow.step.completed` and in the next `workflow.step.started`), a first
 * step whose input is the execution's (`input: "$.input"`: in `workflow.started` too), and an execution whose output
 * is its last step's (in that step's completion and in `workflow.completed`). The engine marks such an event with
 * the seq of the one that holds the value (`EventRecord.inputOf`, `outputOf`: engine/runtime/supervisor.ts
 * `record`); when the value is 1 KiB or more, its row keeps the marker in place of `input` (`output`), and every
 * read puts the value back from the holder (`listEvents`, `stepEventData`), so readers never see the difference.
 * The marker keys can only be ours: these events' top-level keys are the engine's, never a user's.
 */
import { msgpackCodec as codec } from '../../common/codec.ts';
import { ActorflowError, ErrorCode } from '../../common/errors.ts';
import type { EventRecord } from '../../common/execution.ts';
import { BLOB_MIN_BYTES } from './execution-blobs.ts';

/** The marker key of a reference, by the key whose value it stands for. */
const MARK = { input: 'inputOf', output: 'outputOf' } as const;
type ValueKey = keyof typeof MARK;
const KEYS = Object.keys(MARK) as ValueKey[];
const MARK_BYTES = KEYS.map((key) => Buffer.from(MARK[key], 'utf8'));

/** A reference in stored data: the key whose value it stands for, and the seq of the event that holds the value. */
export interface ValueRef {
  readonly key: ValueKey;
  readonly seq: number;
}

const isLarge = (value: unknown): boolean => (typeof value === 'string' ? value.length >= BLOB_MIN_BYTES : codec.encode(value).length >= BLOB_MIN_BYTES);

/** The bytes of an event's row: its data, or, for a large value another event holds, the data with a marker in its place. */
export function encodeEventData(e: EventRecord): Buffer {
  const ref: ValueRef | undefined = e.inputOf !== undefined ? { key: 'input', seq: e.inputOf } : e.outputOf !== undefined ? { key: 'output', seq: e.outputOf } : undefined;
  if (ref === undefined || !isLarge(e.data[ref.key])) return codec.encode(e.data);
  // The marker takes the value's place, so a read puts the keys back in their order.
  const mark = MARK[ref.key];
  const stored: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e.data)) {
    if (k === ref.key) stored[mark] = ref.seq;
    else stored[k] = v;
  }
  return codec.encode(stored);
}

/** The reference this stored data holds, if it does. */
export function refOf(data: Record<string, unknown>): ValueRef | undefined {
  for (const key of KEYS) {
    const seq = data[MARK[key]];
    if (typeof seq === 'number' && !(key in data)) return { key, seq };
  }
  return undefined;
}

/** Whether these row bytes may hold a reference (a byte search; decoding decides). */
export function mayHoldRef(bytes: Uint8Array): boolean {
  const b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return MARK_BYTES.some((m) => b.indexOf(m) !== -1);
}

/** The value an event holds for others: the execution's input in `workflow.started`, a step's output in its completion. */
export function heldValue(type: string, data: Record<string, unknown>): unknown {
  return type === 'workflow.started' ? data['input'] : data['output'];
}

/** `data` with its reference replaced by `value`, the keys in their order. */
export function withValue(data: Record<string, unknown>, ref: ValueRef, value: unknown): Record<string, unknown> {
  const mark = MARK[ref.key];
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(data)) {
    if (k === mark) out[ref.key] = value;
    else out[k] = v;
  }
  return out;
}

/** A row of an event that may hold a value for others. */
export interface HolderRow {
  readonly type: string;
  readonly data: Uint8Array;
}

/**
 * The bytes of an event's row with its value put back from the event it refers to (`holders`: rows by seq, read
 * before it in the same seq-ordered range); the bytes as they are when they hold no reference.
 */
export function withRefResolved(executionId: string, seq: number, bytes: Buffer, holders: ReadonlyMap<number, HolderRow>): Buffer {
  const data = codec.decode<Record<string, unknown>>(bytes);
  const ref = refOf(data);
  if (ref === undefined) return bytes;
  const holder = holders.get(ref.seq);
  if (holder === undefined) throw missingRef(executionId, seq, ref.seq);
  return codec.encode(withValue(data, ref, heldValue(holder.type, codec.decode<Record<string, unknown>>(holder.data))));
}

const missingRef = (executionId: string, seq: number, ref: number): ActorflowError =>
  new ActorflowError(ErrorCode.snapshotOutputMissing, `event ${seq} of execution ${executionId} takes a value from event ${ref}, which its journal does not hold`);

/**
 * Puts back the values `events` (of one execution) left to other events: from the page itself when the holder is in
 * it, else from `read` (the values held by the given seqs). Returns the events, resolved where needed.
 * @throws ActorflowError `snapshot_output_missing` when the journal does not hold the event referred to (a damaged data directory)
 */
export async function resolveRefs(events: EventRecord[], read: (seqs: readonly number[]) => Promise<Map<number, unknown>>): Promise<EventRecord[]> {
  // One look at each event; a page without references (almost every page) goes back as it is.
  const refs = events.map((e) => refOf(e.data));
  if (refs.every((r) => r === undefined)) return events;
  const inPage = new Map<number, EventRecord>(events.map((e) => [e.seq, e]));
  const missing = refs.flatMap((r) => (r !== undefined && !inPage.has(r.seq) ? [r.seq] : []));
  const fetched = missing.length === 0 ? new Map<number, unknown>() : await read(missing);
  return events.map((e, i) => {
    const ref = refs[i];
    if (ref === undefined) return e;
    const holder = inPage.get(ref.seq);
    if (holder === undefined && !fetched.has(ref.seq)) throw missingRef(e.executionId, e.seq, ref.seq);
    return { ...e, data: withValue(e.data, ref, holder !== undefined ? heldValue(holder.type, holder.data) : fetched.get(ref.seq)) };
  });
}
