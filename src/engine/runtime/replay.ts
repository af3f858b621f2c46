/**
 * @module engine/runtime/replay — an execution rebuilt from its last snapshot and the inputs journaled since
 * (DESIGN: "Recovery = snapshot + replay"). A flow writes a snapshot only every `SNAPSHOT_EVERY_INPUTS` inputs, before
 * it leaves memory with a few inputs since its last (passivation.ts), and at shutdown, not with every commit: each commit
 * appends its inputs instead, a few dozen bytes where a snapshot re-encoded the whole context. Replaying sends those inputs again with every effect suppressed (nothing is
 * journaled, dispatched, armed or started again: the supervisor's effects check `replaying`); the events they make
 * are only counted, and must land on the seqs the journal gave them, else the restore is refused (`replay_diverged`).
 */
import { ActorflowError, ErrorCode } from '../../common/errors.ts';
import type { InputRow, RecoverableRow } from '../../store/types.ts';
import { decodeInput, REPLAY_FORMAT, type ReplayInput } from '../flow/flow-inputs.ts';
import type { LiveExecution } from './live-execution.ts';
import type { Supervisor } from './supervisor.ts';

/** A replayable execution writes a snapshot once this many inputs were applied since its last one (`ACTORFLOW_SNAPSHOT_EVERY`). */
export const SNAPSHOT_EVERY_INPUTS = 64;

/**
 * The inputs of `row` numbered from `from`, decoded; a step result stored without its large output gets it back
 * from the attempt's `workflow.step.completed` event (one read of the events after it). Synchronous without such.
 */
export function readInputs(sup: Supervisor, row: RecoverableRow, from: number): ReplayInput[] | Promise<ReplayInput[]> {
  const rows = (row.inputs ?? []).filter((r) => r.n >= from);
  const out: ReplayInput[] = [];
  let refs: { at: number; row: InputRow }[] | undefined;
  for (const r of rows) {
    const d = decodeInput(r.data);
    if (d.outputRef) (refs ??= []).push({ at: out.length, row: r });
    const input = { n: r.n, seq: r.seq, end: r.end, event: d.event, format: d.format };
    out.push(d.start === undefined ? input : { ...input, start: d.start });
  }
  if (refs === undefined) return out;
  return Promise.all(
    refs.map(async ({ at, row: r }) => {
      const input = out[at] as ReplayInput;
      const e = input.event as Extract<ReplayInput['event'], { type: 'STEP_DONE' }>;
      const events = await sup.journal.readSince(row.id, r.seq, 100);
      const done = events.find((x) => x.type === 'workflow.step.completed' && x.stepId === e.stepId && (x.data as { attempt?: unknown }).attempt === e.attempt);
      // Its completion is among the events that very input made. None: the result was stale when it came (another attempt's), and its output never mattered.
      out[at] = { ...input, event: { ...e, output: done === undefined ? null : ((done.data as { output?: unknown }).output ?? null) } };
    }),
  ).then(() => out);
}

/**
 * Applies `inputs` to the actor of `rec` (restored from its snapshot, or created for its START) with effects
 * suppressed; `rec.lastSeq` starts at the snapshot's seq and ends at `lastSeq`, the row's. True when some were
 * journaled by an older REPLAY_FORMAT (the caller writes a snapshot with the next commit, so they are not replayed again).
 * @throws ActorflowError `replay_diverged`
 */
export function replay(sup: Supervisor, rec: LiveExecution, inputs: readonly ReplayInput[], lastSeq: number): boolean {
  const diverged = (what: string) => new ActorflowError(ErrorCode.replayDiverged, `replaying execution ${rec.id}: ${what}; it is not restored`);
  sup.replaying = rec;
  let older = false;
  try {
    for (const input of inputs) {
      // Journaled by a build whose flows make other events: its state is replayed, its seqs cannot be checked.
      const checked = input.format === REPLAY_FORMAT;
      older ||= !checked;
      if (checked && rec.lastSeq > input.seq) throw diverged(`the inputs before ${input.n} made events past seq ${input.seq}`);
      // Events the supervisor journaled outside the actor (an agent's log, a document saved) sit between inputs.
      rec.lastSeq = input.seq;
      rec.actor.send(input.event);
      const snap = rec.actor.getSnapshot() as { status: string; error?: unknown };
      if (snap.status === 'error') throw diverged(`input ${input.n} (${input.event.type}) failed: ${String(snap.error)}`);
      if (checked && rec.lastSeq !== input.end) throw diverged(`input ${input.n} (${input.event.type}) made events up to seq ${rec.lastSeq}, the journal's end at ${input.end}`);
    }
  } finally {
    sup.replaying = null;
  }
  if (!older && rec.lastSeq > lastSeq) throw diverged(`the inputs made events up to seq ${rec.lastSeq}, the journal ends at ${lastSeq}`);
  if (older) sup.log.warn('replayed inputs journaled by an older version', { executionId: rec.id, inputs: inputs.length });
  rec.lastSeq = lastSeq;
  return older;
}
