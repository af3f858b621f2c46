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
import type { StepEventData } from '../../store/types.ts';
import type { ReplayInput } from './flow-inputs.ts';
import { leaveToJournal, putBack, type SnapshotRefs } from './snapshot-refs.ts';

/**
 * Version of the stored snapshot encoding, written into every snapshot. A snapshot of a newer format
 * than this build knows (a downgrade) is refused with `snapshot_format_unsupported`, never misread.
 * Format 0 (no field) and 1 hold every value, as of the execution's last commit; format 2 leaves large step outputs
 * and task inputs to the journal (`refs`, snapshot-refs.ts). Format 3 is a snapshot of a flow whose later inputs are
 * journaled for replay (`inputs`: how many it covers; `seq`: its last event): an older build, which would not
 * replay them, refuses it. A snapshot without refs or inputs is still written as format 1, so an older build reads it.
 */
export const SNAPSHOT_FORMAT = 3;

export type StoredSnapshot = Snapshot<unknown> & {
  context: { input: unknown };
  /** What this snapshot left to the journal (format 2): put back by `withJournalValues` before a restore. */
  refs?: SnapshotRefs;
};

/** Where a format-3 snapshot stands: the inputs it covers and its last event's seq (later inputs are replayed). */
export interface SnapshotPosition {
  readonly inputs: number;
  readonly seq: number;
}

/** What a restore starts from: the decoded snapshot, complete, and the bytes it came from; then the inputs to replay. */
export interface RestorableSnapshot {
  /** Null: none was written yet, the actor is created again by its first input (its START). */
  readonly snapshot: StoredSnapshot | null;
  /** The snapshot's bytes and those of the events its values came from (restoreFlow looks for a marker in them). */
  readonly encoded: readonly Uint8Array[];
  /** The inputs it covers and its last seq; null for a snapshot of format 0-2 (it covers the execution's last commit). */
  readonly position: SnapshotPosition | null;
  /** The inputs applied after it, in order (flow-inputs.ts), their values complete. */
  readonly inputs: readonly ReplayInput[];
}

/**
 * The bytes stored for a persisted snapshot (from persistFlow) taken at event `seq`, without the input (it lives
 * in the executions row) and without the large values the journal holds already (snapshot-refs.ts).
 */
export function encodeSnapshot(snap: Snapshot<unknown> & { context: unknown }, seq: number, inputs?: number): Uint8Array {
  const left = leaveToJournal(snap.context, seq);
  const position = inputs === undefined ? {} : { inputs, seq };
  if (left === null) return codec.encode({ ...snap, context: { ...(snap.context as object), input: null }, format: inputs === undefined ? 1 : SNAPSHOT_FORMAT, ...position });
  return codec.encode({ ...snap, context: { ...(left.context as object), input: null }, format: inputs === undefined ? 2 : SNAPSHOT_FORMAT, refs: left.refs, ...position });
}

/**
 * A stored snapshot back as XState takes it, but for its `refs` (withJournalValues), and where it stands (format 3);
 * the caller puts the input back. @throws ActorflowError `snapshot_format_unsupported`
 */
export function decodeSnapshot(data: Uint8Array): { snapshot: StoredSnapshot; position: SnapshotPosition | null } {
  const { format = 0, inputs, seq, ...snapshot } = codec.decode<StoredSnapshot & { format?: number; inputs?: number; seq?: number }>(data);
  if (typeof format !== 'number' || !(format <= SNAPSHOT_FORMAT)) {
    throw new ActorflowError(ErrorCode.snapshotFormatUnsupported, `the snapshot is of format ${String(format)}; this version of actorflow reads formats up to ${SNAPSHOT_FORMAT} (was the data directory written by a newer version?)`);
  }
  return { snapshot, position: typeof inputs === 'number' && typeof seq === 'number' ? { inputs, seq } : null };
}

/** Puts the values a snapshot left to the journal back, from its step events (`Journal.loadStepEvents`). @throws ActorflowError `snapshot_output_missing` */
export function withJournalValues(snapshot: StoredSnapshot, events: StepEventData): void {
  if (snapshot.refs === undefined) return;
  putBack(snapshot.context, snapshot.refs, events);
  delete snapshot.refs;
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
