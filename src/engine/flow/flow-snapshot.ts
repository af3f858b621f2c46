/**
 * @module engine/flow/flow-snapshot — persisting and restoring a flow actor with its context passed through
 * untouched. XState walks a persisted context and turns every object shaped like an actor reference
 * (`sessionId` + `send` + `ref`) into `{ xstate$$type: 1, id }`, and on restore turns every object
 * with `xstate$$type: 1` into a child actor: a step output or signal payload of that shape would come
 * back changed. Flow actors hold no actor references, so their context never needs either walk.
 */
import { createActor, type Actor, type AnyStateMachine, type Snapshot } from 'xstate';
import { msgpackCodec as codec } from '../../common/codec.ts';
import { ActorflowError, ErrorCode } from '../../common/errors.ts';

/**
 * Version of the stored snapshot encoding, written into every snapshot. A snapshot of a newer format
 * than this build knows (a downgrade) is refused with `snapshot_format_unsupported`, never misread.
 * Format 0 (no field) and 1 hold every step output; format 2 leaves large ones to the journal (`refs`).
 * A snapshot without large outputs is still written as format 1, so an older build reads it.
 */
export const SNAPSHOT_FORMAT = 2;

/**
 * A step output at least this large (bytes of MessagePack; a string: its length) is not copied into the
 * snapshot: it is in the step's `workflow.step.completed` event already, which a restore reads back.
 * Without this every commit of an execution re-encoded and rewrote all its earlier outputs (issue 12).
 */
export const OUTPUT_REF_MIN_BYTES = 1024;

export type StoredSnapshot = Snapshot<unknown> & {
  context: { input: unknown; steps?: Record<string, { output?: unknown }> };
  /** Steps whose output is the one of their latest `workflow.step.completed` event up to `refsSeq` (format 2). */
  refs?: string[];
  refsSeq?: number;
};

/** What a restore starts from: the decoded snapshot, with its step outputs back, and the bytes it came from. */
export interface RestorableSnapshot {
  readonly snapshot: StoredSnapshot;
  /** The snapshot's bytes and those of the events its outputs came from (restoreFlow looks for a marker in them). */
  readonly encoded: readonly Uint8Array[];
}

/** Whether a step's output goes to the journal only; computed once per step state (a completion makes a new one). */
const largeOutputs = new WeakMap<object, boolean>();
function isLarge(state: { output?: unknown }): boolean {
  const v = state.output;
  if (typeof v === 'string') return v.length >= OUTPUT_REF_MIN_BYTES;
  if (v === null || typeof v !== 'object') return false;
  let large = largeOutputs.get(state);
  if (large === undefined) largeOutputs.set(state, (large = codec.encode(v).length >= OUTPUT_REF_MIN_BYTES));
  return large;
}

/**
 * The bytes stored for a persisted snapshot (from persistFlow) taken at event `seq`, without the input (it lives
 * in the executions row) and without large step outputs (their events hold them: `refs`).
 */
export function encodeSnapshot(snap: Snapshot<unknown> & { context: unknown }, seq: number): Uint8Array {
  const context = snap.context as { steps?: Record<string, { output?: unknown }> };
  let refs: string[] | undefined;
  const steps = context.steps;
  if (steps !== undefined) for (const id in steps) if (isLarge(steps[id] as { output?: unknown })) (refs ??= []).push(id);
  if (refs === undefined) return codec.encode({ ...snap, context: { ...context, input: null }, format: 1 });
  const kept: Record<string, unknown> = { ...steps };
  for (const id of refs) {
    const { output: _inJournal, ...rest } = steps?.[id] as { output?: unknown };
    kept[id] = rest;
  }
  return codec.encode({ ...snap, context: { ...context, input: null, steps: kept }, format: SNAPSHOT_FORMAT, refs, refsSeq: seq });
}

/** A stored snapshot back as XState takes it, but for its `refs` outputs (withOutputs); the caller puts the input back. @throws ActorflowError `snapshot_format_unsupported` */
export function decodeSnapshot(data: Uint8Array): StoredSnapshot {
  const { format = 0, ...snapshot } = codec.decode<StoredSnapshot & { format?: number }>(data);
  if (typeof format !== 'number' || !(format <= SNAPSHOT_FORMAT)) {
    throw new ActorflowError(ErrorCode.snapshotFormatUnsupported, `the snapshot is of format ${String(format)}; this version of actorflow reads formats up to ${SNAPSHOT_FORMAT} (was the data directory written by a newer version?)`);
  }
  return snapshot;
}

/**
 * Puts the outputs a snapshot left to the journal back into its steps: `events` maps a step id to the data of its
 * latest `workflow.step.completed` event up to `refsSeq`. @throws ActorflowError `snapshot_output_missing`
 */
export function withOutputs(snapshot: StoredSnapshot, events: ReadonlyMap<string, Uint8Array>): void {
  const steps = snapshot.context.steps ?? {};
  for (const id of snapshot.refs ?? []) {
    const data = events.get(id);
    const step = steps[id];
    if (data === undefined || step === undefined) {
      throw new ActorflowError(ErrorCode.snapshotOutputMissing, `the journal holds no completion of step ${id} for this snapshot of execution ${String((snapshot.context as { executionId?: unknown }).executionId)}`);
    }
    step.output = codec.decode<{ output?: unknown }>(data).output ?? null;
  }
  delete snapshot.refs;
  delete snapshot.refsSeq;
}

const MARK = 'xstate$$type';
const MARK_BYTES = Buffer.from(MARK);

/** The persisted snapshot of `actor`, with its context as it is (not walked for actor references). */
export function persistFlow(actor: Actor<AnyStateMachine>): Snapshot<unknown> & { context: unknown } {
  const snap = actor.getSnapshot() as { context: unknown };
  const persisted = actor.logic.getPersistedSnapshot({ ...snap, context: {} } as never) as Snapshot<unknown>;
  return { ...persisted, context: snap.context };
}

/**
 * An actor restored from `snapshot` (from persistFlow). `encoded`, the bytes it was decoded from when
 * known (with those of the events its outputs came from), spares the context walk when the marker cannot be in them.
 */
export function restoreFlow(machine: AnyStateMachine, snapshot: Snapshot<unknown>, encoded?: readonly Uint8Array[]): Actor<AnyStateMachine> {
  const unmarked = encoded !== undefined && encoded.every((b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).indexOf(MARK_BYTES) < 0);
  const marked = unmarked ? [] : findMarked((snapshot as { context?: unknown }).context);
  // Hidden from XState's revive for the restore, put back right after.
  const saved = marked.map((o) => o[MARK]);
  for (const o of marked) o[MARK] = undefined;
  try {
    return createActor(machine, { snapshot });
  } finally {
    marked.forEach((o, i) => (o[MARK] = saved[i]));
  }
}

function findMarked(root: unknown): Record<string, unknown>[] {
  const found: Record<string, unknown>[] = [];
  const seen = new Set<object>();
  const walk = (v: unknown): void => {
    if (v === null || typeof v !== 'object' || seen.has(v)) return;
    seen.add(v);
    const o = v as Record<string, unknown>;
    if (Object.hasOwn(o, MARK)) found.push(o);
    for (const k in o) if (Object.hasOwn(o, k)) walk(o[k]);
  };
  walk(root);
  return found;
}
