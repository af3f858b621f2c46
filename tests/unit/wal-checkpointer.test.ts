/** The writer never checkpoints (wal_autocheckpoint=0); the checkpointer's own connection copies the WAL into the database file. */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDb } from '../../src/store/sqlite-db.ts';
import { startWalCheckpointer } from '../../src/store/wal-checkpointer.ts';

let dir = '';
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Resolves once `probe` is true; re-checked every few ms up to a deadline. */
async function until(probe: () => Promise<boolean>, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('startWalCheckpointer', () => {
  it('moves committed pages from the WAL into the database file while the writer keeps writing', async () => {
    dir = await mkdtemp(join(tmpdir(), 'actorflow-wal-'));
    const path = join(dir, 'db.sqlite');
    const writer = await openDb(path);
    await writer.exec('PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA wal_autocheckpoint=0; CREATE TABLE t (v BLOB);');
    const rows = Array.from({ length: 500 }, () => "(randomblob(1024))").join(',');
    await writer.exec(`BEGIN; INSERT INTO t VALUES ${rows}; COMMIT;`);
    const before = (await stat(path)).size;
    expect((await stat(`${path}-wal`)).size).toBeGreaterThan(500 * 1024);
    expect(before).toBeLessThan(64 * 1024); // nothing checkpointed by the writer

    const checkpointer = await startWalCheckpointer(path, 10);
    await until(async () => (await stat(path)).size > 500 * 1024, 'the database file to receive the WAL pages');
    // The writer goes on while checkpoints run.
    await writer.exec(`BEGIN; INSERT INTO t VALUES ${rows}; COMMIT;`);
    await until(async () => (await stat(path)).size > 1000 * 1024, 'the second batch to be checkpointed');
    await checkpointer.close();
    const count = await writer.get<{ n: number }>('SELECT count(*) AS n FROM t');
    expect(count?.n).toBe(1000);
    await writer.close();
  });
});
