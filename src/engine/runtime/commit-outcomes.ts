/**
 * @module engine/runtime/commit-outcomes — what a group commit's outcome does to the executions in it. Committed:
 * their events are announced (listeners, the bus), their committed seq moves, a finished one frees its concurrency
 * slot and leaves memory. Failed: each goes back to its last durable state, so memory is never ahead of the journal.
 */
import { TERMINAL_STATUSES, type EventRecord } from '../../common/execution.ts';
import { toEventView } from '../../common/event-view.ts';
import type { ExecutionRow } from '../../store/types.ts';
import { QueuedExecution } from '../concurrency/queued-execution.ts';
import { LiveExecution } from './live-execution.ts';
import { OpenCounts } from './open-counts.ts';
import type { Supervisor } from './supervisor.ts';
import { kindOfId } from './tasks.ts';

/**
 * A commit succeeded: its executions' committed seqs move, finished ones leave memory, and its events go to listeners
 * and the bus (`announce`): on the in-process bus once the callers waiting on the commit have had their answers.
 */
export function commitSucceeded(sup: Supervisor, events: EventRecord[], execs: (LiveExecution | QueuedExecution)[], rows: ExecutionRow[]): void {
  // Every event's execution is in the batch (emit touches it), with the row as committed. On a bus that carries
  // events (NATS) they are announced at once, as before: their publishes then share the socket write of the commit's
  // dispatches; deferred, they took writes of their own (a 3-step flow over NATS, 1 agent: 3.16 → 3.58 ms p50,
  // bench/RESULTS.md).
  if (sup.bus.state() !== 'embedded') announce(sup, events, execs, rows);
  else if (sup.listeners.size > 0) process.nextTick(announce, sup, events, execs, rows);
  // A finished execution leaves memory once its final state is durable (reads then go to the store).
  execs.forEach((rec, i) => {
    if (rec instanceof QueuedExecution) return sup.gate.committed(rec);
    const row = rows[i] as ExecutionRow;
    rec.committedSeq = Math.max(rec.committedSeq, row.lastSeq);
    rec.inputsCommitted();
    // Its slot frees once the end is durable, and only while it is still ended (a retry may have reopened it since).
    if (rec.slot !== null && TERMINAL_STATUSES.has(row.status) && TERMINAL_STATUSES.has(rec.status)) sup.gate.free(rec);
    if (!TERMINAL_STATUSES.has(row.status) || rec.lastSeq !== row.lastSeq || sup.live.get(rec.id) !== rec) return;
    sup.timers.deleteAll(rec.id);
    rec.actor.stop();
    sup.live.delete(rec.id);
  });
}

/**
 * A commit's events to listeners (streams, metrics) and the bus. On the in-process bus, run by `process.nextTick`
 * from the commit's completion: after the microtasks it released, so the requests that waited on the commit write
 * their answers first (a lone start's 201 no longer waits for its events to be encoded and fanned out), and before
 * any I/O or later commit, so events still go out in commit order.
 */
function announce(sup: Supervisor, events: EventRecord[], execs: (LiveExecution | QueuedExecution)[], rows: ExecutionRow[]): void {
  const byId = new Map(rows.map((r) => [r.id, r]));
  const direct = new Set<string>();
  for (const x of execs) if (x instanceof LiveExecution && x.direct) direct.add(x.id);
  for (const e of events) {
    const row = byId.get(e.executionId);
    if (!row || direct.has(e.executionId)) continue;
    const view = toEventView(e, row.workflow, row.tenant);
    for (const l of sup.listeners) l(view);
    sup.bus.publishEvent(view);
  }
}

/**
 * A commit failed: its executions are ahead of the journal. Each goes back to its last durable
 * state (rebuilt from the store when it had one; a start that never committed is gone), its later
 * pending events are dropped, and its in-flight steps are dispatched again (at least once).
 */
export function commitFailed(sup: Supervisor, err: unknown, execs: (LiveExecution | QueuedExecution)[]): void {
  sup.log.error('journal commit failed', { err: String((err as { cause?: unknown }).cause ?? err), executions: execs.length });
  for (const rec of execs) {
    if (rec instanceof QueuedExecution) {
      sup.gate.failed(rec);
      continue;
    }
    if (rec.discarded) continue;
    rec.discarded = true;
    sup.queue.forget(rec, rec.id, rec.committedSeq);
    sup.timers.deleteAll(rec.id);
    rec.actor.stop();
    if (sup.live.get(rec.id) === rec) sup.live.delete(rec.id);
    // Uncounted as it is in memory; counted again as the store has it once rebuilt (or never, a start that did not commit).
    const counted = kindOfId(rec.id) === 'execution';
    if (counted && OpenCounts.counts(rec.status)) sup.open.add(rec.tenant, -1);
    // Started from a concurrency queue and still queued in the journal: back into the queue (open again, no slot).
    if (rec.queuedSeq > 0 && rec.committedSeq === rec.queuedSeq) {
      sup.gate.backToQueue(rec);
      if (counted) sup.open.add(rec.tenant, 1);
      continue;
    }
    // A start that never committed gives its slot back; a rebuilt execution holds the one it had (gate.adopt), unless it is finished.
    if (!rec.stored) {
      sup.gate.free(rec);
      continue;
    }
    sup.activate(rec.id).then(
      (again) => {
        if (!again) return sup.gate.free(rec);
        if (counted) sup.open.add(again.tenant, 1);
        sup.rearm(again);
      },
      (e: unknown) => {
        sup.gate.free(rec);
        sup.log.error('could not restore an execution after a failed commit', { executionId: rec.id, err: String(e) });
      },
    );
  }
}
