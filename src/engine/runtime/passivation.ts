/**
 * @module engine/runtime/passivation — waiting executions leave memory and come back on their next input.
 * `sweep` evicts those idle for `passivateQuietMs` or `passivateMs`, by what will wake them (and the least
 * recently active past `maxLive`); `activate` rebuilds one from its last durable snapshot (one read: row and
 * snapshot; a second one for large step values, which snapshots leave to the journal), at most one rebuild at a
 * time per execution; `readSnapshot` and `restoreFrom` make the live actor of a stored row (recovery uses them too).
 */
import { TERMINAL_STATUSES } from '../../common/execution.ts';
import type { RecoverableRow, RestorableRow } from '../../store/types.ts';
import { ActorflowError, ErrorCode } from '../../common/errors.ts';
import { decodeSnapshot, type RestorableSnapshot, withJournalValues } from '../flow/flow-snapshot.ts';
import { LiveExecution } from './live-execution.ts';
import { readInputs, replay } from './replay.ts';
import type { Supervisor } from './supervisor.ts';

/**
 * The live execution, rebuilt from its last durable snapshot when it was passivated (its timers are
 * re-armed, its in-flight steps are not dispatched again: they are still with their agents).
 * Undefined for an unknown execution, or a finished one unless `finished` allows it (a retry).
 */
export function activate(sup: Supervisor, id: string, finished = false, read?: RecoverableRow): Promise<LiveExecution | undefined> {
  const live = sup.live.get(id);
  if (live) return Promise.resolve(live);
  let p = sup.activating.get(id);
  if (p) return p;
  if (!sup.owns(id)) return Promise.resolve(undefined);
  p = (async () => {
    const row = read ?? (await sup.journal.loadRestorable(id));
    // Cluster mode: the partition may have moved to another node during the read.
    if (!sup.owns(id)) return undefined;
    // A queued execution has no actor to rebuild: it starts from its concurrency queue.
    if (!row || row.status === 'queued' || (TERMINAL_STATUSES.has(row.status) && !finished)) return undefined;
    const again = sup.live.get(id);
    if (again) return again;
    let stored = readSnapshot(sup, row);
    if (stored instanceof Promise) {
      stored = await stored;
      // Read again meanwhile: moved to another node, or rebuilt by another path.
      if (!sup.owns(id)) return undefined;
      const later = sup.live.get(id);
      if (later) return later;
    }
    const rec = sup.restoreFrom(row, stored);
    sup.armTimers(rec);
    return rec;
  })()
    .catch((err: unknown) => {
      countRefusal(sup, err);
      throw err;
    })
    .finally(() => sup.activating.delete(id));
  sup.activating.set(id, p);
  return p;
}

/** Why a stored execution cannot be rebuilt, as opposed to a store that could not be read (retried by the next input). */
const REFUSALS: ReadonlySet<string> = new Set([ErrorCode.replayDiverged, ErrorCode.snapshotFormatUnsupported, ErrorCode.snapshotOutputMissing]);

/** Counts a rebuild refused for what the store holds (`/status`, `/metrics`: operators alert on it). */
export function countRefusal(sup: Supervisor, err: unknown): void {
  if (err instanceof ActorflowError && REFUSALS.has(err.code)) sup.rebuilds.refused++;
}

/**
 * Evicts executions that wait and had no input for `passivateQuietMs` when nothing will wake them soon (they
 * wait for a signal, or for a timer due later than `passivateMs` from now), else for `passivateMs` (a step in
 * flight at an agent, a timer due sooner); and the least recently active ones past `maxLive`. Only what is
 * durable leaves: an execution with uncommitted events, a child execution running, or a rebuild in progress stays.
 *
 * Why two idle times: a rebuild costs a read and an actor (~0.5 ms), which an execution about to get its
 * result or timer would pay for nothing; one that waits for a signal holds ~8 KiB of actor meanwhile, and a burst
 * of them held for a whole second set the server's peak memory (bench/RESULTS.md, "Passivation by what wakes").
 */
export function sweep(sup: Supervisor): number {
  let evicted = 0;
  const now = sup.clock.now();
  const quietSince = now - sup.passivateQuietMs;
  const idleSince = now - sup.passivateMs;
  const soon = now + sup.passivateMs;
  let over = sup.live.size - sup.maxLive;
  // `live` is in order of last activity (touch() moves an execution to the end).
  for (const rec of sup.live.values()) {
    if (rec.lastActiveAt > quietSince && over <= 0) break;
    // First the cheap check: under many steps in flight, every sweep walks past them until they are a second idle.
    if (over <= 0 && rec.lastActiveAt > idleSince && wakesBy(rec, soon)) continue;
    if (!passivable(sup, rec)) continue;
    // Leaving with many inputs since its snapshot: a snapshot first (the next sweep evicts it), so its rebuild replays
    // only a few. Past `maxLive` it leaves at once.
    if (over <= 0 && rec.inputsSinceSnapshot >= PASSIVATION_SNAPSHOT_INPUTS) {
      if (!rec.snapshotDue) {
        rec.snapshotDue = true;
        sup.queue.touch(rec);
      }
      continue;
    }
    rec.actor.stop();
    sup.live.delete(rec.id);
    evicted++;
    over--;
  }
  return evicted;
}

/** An execution leaving memory with at least this many inputs since its snapshot writes one first (DESIGN: snapshots at passivation). */
export const PASSIVATION_SNAPSHOT_INPUTS = 8;

/** Something will give it an input by `time`: a step in flight at an agent (its result), or a durable timer due by then. */
function wakesBy(rec: LiveExecution, time: number): boolean {
  for (const _ in rec.context().inflight) return true;
  const due = rec.nextDue();
  return due !== null && due <= time;
}

/** Only what is durable leaves memory: no uncommitted events, no child running, no rebuild or input pending. */
export function passivable(sup: Supervisor, rec: LiveExecution): boolean {
  if (rec.direct || TERMINAL_STATUSES.has(rec.status) || rec.lastSeq !== rec.committedSeq || rec.inputsDurable !== rec.inputCount || sup.activating.has(rec.id) || sup.awaitingInput.has(rec.id)) return false;
  for (const type of Object.values(rec.context().active)) if (type === 'workflow') return false;
  return true;
}

/**
 * What a stored row is restored from: its snapshot, decoded, with the large values it left to the journal read back
 * (one read of the execution's step events, only when it left some), and the inputs journaled since (replay.ts).
 * Synchronous when there is nothing to read.
 */
export function readSnapshot(sup: Supervisor, row: RecoverableRow): RestorableSnapshot | Promise<RestorableSnapshot> {
  const decoded = row.snapshot ? decodeSnapshot(row.snapshot) : null;
  // No snapshot is only possible for an execution whose inputs are journaled from its START on.
  if (decoded === null && (row.inputs === undefined || row.inputs.length === 0)) throw new Error('no snapshot');
  const position = decoded?.position ?? null;
  const inputs = readInputs(sup, row, position?.inputs ?? 0);
  const encoded = row.snapshot ? [row.snapshot] : [];
  const snapshot = decoded?.snapshot ?? null;
  if (snapshot?.refs === undefined) {
    if (!(inputs instanceof Promise)) return { snapshot, encoded, position, inputs };
    return inputs.then((list) => ({ snapshot, encoded, position, inputs: list }));
  }
  const refs = snapshot.refs;
  return Promise.all([sup.journal.loadStepEvents(row.id, refs.seq), inputs]).then(([events, list]) => {
    withJournalValues(snapshot, events);
    return { snapshot, encoded: [...encoded, ...events.completed.values(), ...events.started.values()], position, inputs: list };
  });
}

/**
 * A live actor from the stored row, its snapshot and the inputs since (readSnapshot), replayed with effects
 * suppressed; nothing is written back unless restoring moved its status.
 */
export function restoreFrom(sup: Supervisor, row: RestorableRow, stored: RestorableSnapshot): LiveExecution {
  const def = sup.definitionOf(row);
  const { snapshot, encoded, position, inputs } = stored;
  if (snapshot !== null) snapshot.context.input = row.input;
  const rec = new LiveExecution({
    id: row.id, tenant: row.tenant, def, input: row.input, labels: row.labels, parentId: row.parentId, parentStepId: row.parentStepId,
    createdAt: row.createdAt, idempotencyKey: row.idempotencyKey, requestHash: row.requestHash, dynamicDoc: row.definition, scope: row.scope ?? null,
    priority: row.priority ?? 0, startedAt: row.startedAt ?? row.createdAt,
    concurrency: row.concurrencyKey == null || row.concurrencyLimit == null ? null : { key: row.concurrencyKey, limit: row.concurrencyLimit },
  });
  rec.snapshotEvery = sup.snapshotEvery(rec);
  rec.committedSeq = row.lastSeq;
  rec.lastActiveAt = sup.clock.now();
  rec.updatedAt = row.updatedAt;
  rec.status = row.status;
  rec.stored = true;
  if (snapshot === null) {
    const first = inputs[0];
    if (first?.start === undefined) throw new ActorflowError(ErrorCode.replayDiverged, `execution ${row.id} has no snapshot and its first journaled input is not its start; it is not restored`);
    rec.actor = sup.startActor(rec, def.machine, { input: { ...first.start, executionId: row.id, input: row.input } });
  } else {
    rec.actor = sup.startActor(rec, def.machine, { snapshot, encoded });
  }
  // A snapshot of format 0-2 covers the last commit; one of format 3 its `seq`, and the inputs after it are replayed.
  rec.lastSeq = position?.seq ?? (snapshot === null ? 0 : row.lastSeq);
  let older: boolean;
  try {
    older = replay(sup, rec, inputs, row.lastSeq);
  } catch (err) {
    rec.actor.stop();
    throw err;
  }
  sup.rebuilds.executions++;
  sup.rebuilds.inputsReplayed += inputs.length;
  const covered = position?.inputs ?? 0;
  const last = inputs[inputs.length - 1];
  rec.restoredInputs(covered, last === undefined ? covered : last.n + 1, inputs.length > 0 || snapshot !== null);
  // A snapshot an older build wrote (format 0-2) says not which seq it covers, inputs of an older format are not checked:
  // the next commit replaces them with a snapshot.
  if (rec.replayable && ((snapshot !== null && position === null) || older)) rec.snapshotDue = true;
  sup.gate.adopt(rec, row);
  sup.live.set(rec.id, rec);
  sup.sync(rec, false);
  return rec;
}
