/**
 * @module store/sqlite/wal-checkpointer — moves WAL checkpoints off the commit path and keeps the WAL bounded.
 * With SQLite's automatic checkpoints, the commit that crosses the threshold copies the whole WAL
 * into the database file (and fsyncs it) before its acks can go out: a latency spike every few
 * hundred commits. Here the writer never checkpoints; a connection of its own runs PASSIVE
 * checkpoints on a timer, in a worker thread, while the writer keeps appending to the WAL.
 *
 * PASSIVE alone lets the WAL grow without bound under sustained writes: the writer starts the WAL
 * over only if, as it begins a transaction, every frame has been copied, and by then it has always
 * appended more. So once the file passes `sizeLimitBytes` (one stat per poll), PASSIVE passes run
 * until one is quick, then a RESTART, which holds the writer off only while it copies the little
 * appended meanwhile and waits for readers (at most `busyMs`). The writer's next transaction then
 * writes from the file's start, and its commit cuts the file back to the writer's
 * `journal_size_limit` (the same size). RESTART rather than TRUNCATE: an emptied file has to grow
 * again block by block, and cutting a large file to 0 under the writer lock took longer.
 */
import { stat } from 'node:fs/promises';
import { type AsyncDb, openWorkerDb } from './db.ts';

/** What one checkpoint did: SQLite's result row of `PRAGMA wal_checkpoint`, and the WAL file size before it. */
export interface CheckpointResult {
  readonly mode: 'PASSIVE' | 'RESTART';
  /** 1 when it could not finish (the writer or a reader was in the way). */
  readonly busy: number;
  /** Frames in the WAL, and how many of them are now in the database file (-1 both: not in WAL mode). */
  readonly log: number;
  readonly checkpointed: number;
  readonly walBytes: number;
  readonly ms: number;
}

export interface WalCheckpointerOptions {
  /** How often a PASSIVE checkpoint runs while the WAL is small. @default 1000 ms */
  readonly intervalMs?: number;
  /** How often the WAL file's size is looked at (one stat). @default 100 ms */
  readonly pollMs?: number;
  /**
   * Past this WAL file size the WAL is started over (PASSIVE passes, then a RESTART); also the
   * writer's `journal_size_limit` (open-sqlite-stores.ts), what a started-over file is cut back to. @default 64 MiB
   */
  readonly sizeLimitBytes?: number;
  /**
   * busy_timeout of the checkpointing connection: the longest a RESTART waits for the writer's open
   * transaction, then for readers (holding the writer off meanwhile); it gives up and the next
   * poll tries again. PASSIVE never waits. @default 20 ms
   */
  readonly busyMs?: number;
  /** Told every checkpoint (tests, diagnostics). */
  readonly onCheckpoint?: (r: CheckpointResult) => void;
}

export interface WalCheckpointer {
  /** Stops the timer, waits for a running checkpoint, runs a last one and closes the connection. */
  close(): Promise<void>;
}

/** How often a PASSIVE checkpoint runs. @default 1000 ms */
export const CHECKPOINT_INTERVAL_MS = 1000;
export const WAL_POLL_MS = 100;
/**
 * A commit writes whole pages (a start or a step: 5-10 of them, ~30 KB), so at 1,000 commits/s a 4 MiB
 * limit started the WAL over several times a second, and each RESTART held the commits behind it off:
 * signal → dispatch p99 6.9-7.4 ms with 4 MiB against 5.5-5.9 ms with 64 MiB (bench/RESULTS.md, eighth session).
 */
export const WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024;
export const CHECKPOINT_BUSY_MS = 20;

/** The WAL size past which checkpoints start the WAL over; the writer's `journal_size_limit`. */
export const walSizeLimit = (opts: WalCheckpointerOptions | undefined): number => opts?.sizeLimitBytes ?? WAL_SIZE_LIMIT_BYTES;
/** A PASSIVE pass this quick left little behind it for the RESTART to copy with the writer held off. */
const QUICK_PASS_MS = 20;
/** PASSIVE passes before a RESTART at most, each copying what the writer appended during the previous one. */
const MAX_PASSES = 4;

/** The write-ahead log of the database at `path`. */
export const walFileOf = (path: string): string => `${path}-wal`;

const fileSize = (file: string): Promise<number> => stat(file).then((s) => s.size, () => 0);

/** Opens the checkpointing connection of the database at `path` (the writer must have set `wal_autocheckpoint=0`). */
export async function startWalCheckpointer(path: string, opts: WalCheckpointerOptions = {}): Promise<WalCheckpointer> {
  const intervalMs = opts.intervalMs ?? CHECKPOINT_INTERVAL_MS;
  const limit = walSizeLimit(opts);
  const wal = walFileOf(path);
  // In a worker thread: a checkpoint copies pages and may wait `busyMs`, never on the event loop.
  const db: AsyncDb = await openWorkerDb(path);
  await db.exec(`PRAGMA busy_timeout=${Math.max(0, Math.floor(opts.busyMs ?? CHECKPOINT_BUSY_MS))};`);

  /** The file size right after the last RESTART: until the writer commits again (and cuts the file back), nothing is left to do. */
  let restarted: number | undefined;
  /** After a RESTART that gave up: the WAL size from which the next one is tried (sooner only after `intervalMs`). */
  let retryAbove = 0;
  let lastPassive = Date.now();

  const run = async (mode: CheckpointResult['mode'], walBytes: number): Promise<CheckpointResult> => {
    const t0 = performance.now();
    const row = await db.get<{ busy: number; log: number; checkpointed: number }>(`PRAGMA wal_checkpoint(${mode});`);
    const r = { mode, busy: row?.busy ?? 1, log: row?.log ?? 0, checkpointed: row?.checkpointed ?? 0, walBytes, ms: performance.now() - t0 };
    opts.onCheckpoint?.(r);
    return r;
  };
  /**
   * PASSIVE passes (the writer goes on) until one is quick (little was appended meanwhile), then a
   * RESTART: it holds the writer off only while it copies that little (and what readers kept the
   * passes from copying) and waits for readers (at most `busyMs`); the writer's next transaction
   * starts the WAL over, and its commit cuts the file back to `journal_size_limit`.
   */
  const bound = async (): Promise<void> => {
    for (let pass = 1; ; pass++) {
      const p = await run('PASSIVE', await fileSize(wal));
      // -1/-1: not in WAL mode.
      if (p.log < 0) return;
      if (p.ms <= QUICK_PASS_MS || pass >= MAX_PASSES) break;
    }
    const size = await fileSize(wal);
    const r = await run('RESTART', size);
    restarted = r.busy === 0 ? size : undefined;
    // A long read (or a long write) in the way held the writer off `busyMs` for nothing: the next try
    // waits for another `limit` of WAL or `intervalMs`, whichever comes first.
    retryAbove = r.busy === 0 ? 0 : size + limit;
  };
  const tick = async (): Promise<void> => {
    const size = await fileSize(wal);
    const due = Date.now() - lastPassive >= intervalMs;
    // The writer cuts the file back to `limit` when it starts over, so a file past it holds more than that.
    const over = size > limit && size !== restarted && (size >= retryAbove || due);
    if (!over && !due) return;
    lastPassive = Date.now();
    if (over) return bound();
    await run('PASSIVE', size);
  };

  let running: Promise<void> | undefined;
  const checkpoint = (): Promise<void> =>
    (running ??= tick()
      // A busy database or a reader in the way is fine: the next poll copies what is left.
      .catch(() => undefined)
      .finally(() => (running = undefined)));
  const timer = setInterval(() => void checkpoint(), Math.min(opts.pollMs ?? WAL_POLL_MS, intervalMs));
  timer.unref();
  return {
    close: async () => {
      clearInterval(timer);
      await running;
      await run('PASSIVE', await fileSize(wal)).catch(() => undefined);
      await db.close();
    },
  };
}
