/**
 * @module store/wal-checkpointer — moves WAL checkpoints off the commit path.
 * With SQLite's automatic checkpoints, the commit that crosses the threshold copies the whole WAL
 * into the database file (and fsyncs it) before its acks can go out: a latency spike every few
 * hundred commits. Here the writer never checkpoints; a connection of its own runs PASSIVE
 * checkpoints on a timer, on another libuv thread, while the writer keeps appending to the WAL.
 */
import { type Db, openDb } from './sqlite-db.ts';

export interface WalCheckpointer {
  /** Stops the timer, waits for a running checkpoint, runs a last one and closes the connection. */
  close(): Promise<void>;
}

/** How often a PASSIVE checkpoint runs. @default 1000 ms */
export const CHECKPOINT_INTERVAL_MS = 1000;

/** Opens the checkpointing connection of the database at `path` (the writer must have set `wal_autocheckpoint=0`). */
export async function startWalCheckpointer(path: string, intervalMs = CHECKPOINT_INTERVAL_MS): Promise<WalCheckpointer> {
  const db: Db = await openDb(path);
  await db.exec('PRAGMA busy_timeout=5000;');
  let running: Promise<void> | undefined;
  const checkpoint = (): Promise<void> =>
    (running ??= db
      .exec('PRAGMA wal_checkpoint(PASSIVE);')
      // A busy database or a reader in the way is fine: the next tick copies what is left.
      .catch(() => undefined)
      .finally(() => (running = undefined)));
  const timer = setInterval(() => void checkpoint(), intervalMs);
  timer.unref();
  return {
    close: async () => {
      clearInterval(timer);
      await running;
      await checkpoint();
      await db.close();
    },
  };
}
