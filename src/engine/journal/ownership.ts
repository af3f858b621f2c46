/**
 * @module engine/journal/ownership — cluster mode's hand-over of executions (engine-internal): adopt the
 * unfinished executions of partitions this node now owns (a recovery limited to them), drop the live ones
 * of partitions it lost without writing a thing, and tell local listeners of events other nodes committed.
 * The engine never learns what a partition is: the cluster side passes predicates on execution ids.
 */
import { toEventView } from '../../common/event-view.ts';
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
      if (sup.listeners.size === 0) return;
      const byId = new Map(batch.executions.map((r) => [r.id, r]));
      for (const e of batch.events) {
        const row = byId.get(e.executionId);
        if (row === undefined) continue;
        const view = toEventView(e, row.workflow, row.tenant);
        for (const l of sup.listeners) l(view);
      }
    },
  };
}
