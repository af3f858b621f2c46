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
 * than this build knows (a downgrade) is refused with `snapshot_format_unsupported`, never misread;
 * snapshots written before the field existed are format 0, the same layout as 1.
 */
export const SNAPSHOT_FORMAT = 1;

export type StoredSnapshot = Snapshot<unknown> & { context: { input: unknown } };

/** The bytes stored for a persisted snapshot (from persistFlow), without the input (it lives in the executions row). */
export function encodeSnapshot(snap: Snapshot<unknown> & { context: unknown }): Uint8Array {
  return codec.encode({ ...snap, context: { ...(snap.context as object), input: null }, format: SNAPSHOT_FORMAT });
}

/** A stored snapshot back as XState takes it; the caller puts the input back. @throws ActorflowError `snapshot_format_unsupported` */
export function decodeSnapshot(data: Uint8Array): StoredSnapshot {
  const { format = 0, ...snapshot } = codec.decode<StoredSnapshot & { format?: number }>(data);
  if (typeof format !== 'number' || !(format <= SNAPSHOT_FORMAT)) {
    throw new ActorflowError(ErrorCode.snapshotFormatUnsupported, `the snapshot is of format ${String(format)}; this version of actorflow reads formats up to ${SNAPSHOT_FORMAT} (was the data directory written by a newer version?)`);
  }
  return snapshot;
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
 * known, spares the context walk when the marker cannot be in it.
 */
export function restoreFlow(machine: AnyStateMachine, snapshot: Snapshot<unknown>, encoded?: Uint8Array): Actor<AnyStateMachine> {
  const marked = encoded !== undefined && Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength).indexOf(MARK_BYTES) < 0 ? [] : findMarked((snapshot as { context?: unknown }).context);
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
