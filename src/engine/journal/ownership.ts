/**
 * @module engine/journal/ownership — cluster mode's hand-over of executions (engine-internal): adopt the
 * unfinished executions of partitions this node now owns (a recovery limited to them), drop the live ones
 * of partitions it lost without writing a thing, and tell local listeners of events other nodes committed.
 * The engine never learns what a partition is: the cluster side passes predicates on execution ids.
 */
import { toEventView } from '../../common/event-view.ts';
import { TERMINAL_EVENT_TYPES, type EventRecord } from '../../common/execution.ts';
import { kindOfId } from '../runtime/tasks.ts';
import type { CommitBatch } from '../../store/types.ts';
import type { Supervisor } from '../runtime/supervisor.ts';
import type { PartitionControl } from './journal.ts';
import { recover } from './recovery.ts';

export function partitionControl(sup: Supervisor): PartitionControl {
  return {
    adopt: async (match) => {
      // After the boot recovery (its restores must not meet these), and never a second actor for a live one.
      await sup.recovery;
      const stats = await recover(sup, (id) => match(id) && !sup.live.has(id));
      return stats.executions + (stats.waiting ?? 0);
    },
    drop: (match) => {
      let dropped = 0;
      for (const rec of [...sup.live.values()]) {
        if (!match(rec.id)) continue;
        // Its uncommitted events go with it: the journal refuses them anyway (the partition is not this node's).
        // A command waiting for them must not answer as if they were kept (a start acknowledged, then lost).
        if (rec.lastSeq !== rec.committedSeq) rec.discarded = true;
        sup.queue.forget(rec, rec.id, rec.committedSeq);
        sup.timers.deleteAll(rec.id);
        rec.actor.stop();
        sup.live.delete(rec.id);
        dropped++;
      }
      // Timers of passivated ones stay: when due, their rebuild is refused (not owned) and nothing happens.
      for (const taskId of sup.untaken.keys()) if (match(taskId.slice(0, taskId.indexOf(':')))) sup.untaken.delete(taskId);
      return dropped;
    },
    announce: (batch: CommitBatch) => {
      const byId = new Map(batch.executions.map((r) => [r.id, r]));
      for (const e of batch.events) {
        const row = byId.get(e.executionId);
        if (row === undefined) continue;
        // A tenant's quota counts its unfinished executions on every node: another node's start or end moves them here too.
        const delta = openDelta(e);
        if (delta !== 0 && kindOfId(e.executionId) === 'execution') sup.open.add(row.tenant, delta);
        if (sup.listeners.size === 0) continue;
        const view = toEventView(e, row.workflow, row.tenant);
        for (const l of sup.listeners) l(view);
      }
    },
  };
}

/**
 * How an event moves its tenant's count of unfinished executions (OpenCounts): the first event of an
 * execution (started, or queued) opens it, a terminal event closes it, a retry reopens a finished one.
 */
function openDelta(e: EventRecord): number {
  if (e.seq === 1) return 1;
  if (TERMINAL_EVENT_TYPES.has(e.type)) return -1;
  return e.type === 'workflow.retried' ? 1 : 0;
}
