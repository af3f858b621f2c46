/**
 * @module store/sqlite/wal-preallocate — the WAL file filled with zeros up to its size limit when the database opens.
 *
 * With synchronous=FULL every commit ends in an fsync of the WAL. While the file grows, that fsync also commits the
 * filesystem's metadata for the blocks just allocated; once the writer starts the WAL over (wal-checkpointer.ts,
 * at 64 MiB), it overwrites blocks that exist and the fsync writes data only. On this ext4 disk a 37 KiB append plus
 * fsync took 0.23–0.32 ms, an overwrite 0.17–0.21 ms, and a fresh server's lone starts paid the difference for
 * their first ~2,000 commits (bench/RESULTS.md, session of 2026-12-07). PostgreSQL's `wal_init_zero` does the same for
 * its WAL segments. Holes (ftruncate) or `fallocate` do not help: writing into them converts extents, which is
 * metadata again.
 *
 * SQLite reads a WAL frame by frame and stops at the first frame whose salt or checksum does not match; a frame of
 * zeros never does, so the zeros past the last frame are as harmless as the stale frames a restarted WAL leaves.
 * It must run while no other connection writes: the writer would be appending where the zeros go.
 */
import { open, stat } from 'node:fs/promises';

const CHUNK = 1 << 20;

/** Extends the file at `walPath` with zeros to `bytes` (nothing if it is that large already, or missing); returns the bytes added. */
export async function preallocateWal(walPath: string, bytes: number): Promise<number> {
  const size = await stat(walPath).then((s) => s.size, () => -1);
  if (size < 0 || size >= bytes) return 0;
  const file = await open(walPath, 'r+');
  try {
    const zeros = Buffer.alloc(Math.min(CHUNK, bytes - size));
    for (let at = size; at < bytes; at += zeros.length) await file.write(zeros, 0, Math.min(zeros.length, bytes - at), at);
    // The blocks must be allocated on disk before the first commit's fsync, or that fsync would pay for all of them.
    await file.datasync();
  } finally {
    await file.close();
  }
  return bytes - size;
}
