/**
 * @module bulk/prune — a finished operation's items leave the database: nothing reads them once it ended
 * (its counts and first errors are on its row), and an operation of 100,000 executions left 100,000 rows.
 * In slices, one transaction each between event-loop turns: one large DELETE would hold the writer, and
 * every journal commit behind it, for the whole of it.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { BulkStore } from '../store/types.ts';

/** Items deleted per transaction. */
export const PRUNE_SLICE = 1_000;

/** Deletes items 1…`matched` of operation `id`, slice by slice, until done or `stopped()` (a restart finishes it). */
export async function pruneItems(store: BulkStore, id: string, matched: number, stopped: () => boolean): Promise<void> {
  for (let from = 1; from <= matched && !stopped(); from += PRUNE_SLICE) {
    await store.pruneItems(id, from, PRUNE_SLICE);
    await nextTurn();
  }
}
