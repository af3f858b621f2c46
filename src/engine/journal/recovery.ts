/**
 * @module engine/journal/recovery — after a restart: executions that were pending, running or paused are
 * rebuilt from their snapshots (their timers re-armed, their in-flight steps dispatched again with the
 * same attempt numbers); waiting ones stay in the store with only their earliest timer armed.
 */
import type { RecoverableRow } from '../../store/types.ts';
import type { LiveExecution } from '../runtime/live-execution.ts';
import { countRefusal } from '../runtime/passivation.ts';
import { RECOVERED_TIMER, type Supervisor } from '../runtime/supervisor.ts';
import type { RecoveryStats } from '../types.ts';

/** `match`: only these executions (cluster mode: the partitions this node owns); all without it. */
export async function recover(sup: Supervisor, match?: (executionId: string) => boolean): Promise<RecoveryStats> {
  const began = performance.now();
  // Rows and snapshots in one read: one read per row waited a thread-pool round trip each (~0.4 ms, 40 s for 100,000).
  const all = await sup.store.listRecoverable();
  const rows = match === undefined ? all : all.filter((r) => match(r.id));
  const recs: LiveExecution[] = [];
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i] as RecoverableRow;
    try {
      // Only a snapshot that left large values to the journal waits for a read (of its execution's step events).
      const stored = sup.readSnapshot(row);
      recs.push(sup.restoreFrom(row, stored instanceof Promise ? await stored : stored));
    } catch (err) {
      countRefusal(sup, err);
      sup.log.error('could not recover execution', { executionId: row.id, err: String(err) });
    }
    rows[i] = undefined as unknown as RecoverableRow; // its input and labels now belong to the live execution
    // Yield now and then: /health, /ready and /metrics answer during a long recovery.
    if (i % 2000 === 1999) await new Promise<void>((r) => setImmediate(r));
  }
  // Waiting executions stay in the store: their earliest timer rebuilds them when it is due.
  const waiting = (await sup.store.listWaiting()).filter((w) => match === undefined || match(w.id));
  for (const w of waiting) {
    if (w.nextDueAt !== null) sup.timers.set(w.id, RECOVERED_TIMER, w.nextDueAt);
    if (w.parentId && w.parentStepId) sup.live.get(w.parentId)?.children.set(w.parentStepId, w.id);
  }
  for (const rec of recs) {
    if (rec.parentId && rec.parentStepId) sup.live.get(rec.parentId)?.children.set(rec.parentStepId, rec.id);
  }
  for (const rec of recs) sup.rearm(rec);
  const stats = { durationMs: performance.now() - began, executions: recs.length, waiting: waiting.length };
  if (recs.length > 0) sup.log.info('recovered executions', { count: recs.length, waiting: waiting.length, durationMs: Math.round(stats.durationMs) });
  return stats;
}
