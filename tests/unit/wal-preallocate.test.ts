/**
 * The WAL filled with zeros at open (store/sqlite/wal-preallocate.ts): the file reaches its size limit before the
 * first commit, and SQLite still reads every committed frame after a crash, zeros behind them.
 */
import { copyFile, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteStores } from '../../src/store/sqlite/open-sqlite-stores.ts';
import { walFileOf } from '../../src/store/sqlite/wal-checkpointer.ts';
import { preallocateWal } from '../../src/store/sqlite/wal-preallocate.ts';

let dir = '';
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const MiB = 1024 * 1024;

describe('preallocateWal', () => {
  it('extends the WAL with zeros, and a copy taken mid-run (a crash image) still holds every committed row', async () => {
    dir = await mkdtemp(join(tmpdir(), 'actorflow-walpre-'));
    const path = join(dir, 'db.sqlite');
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('wal_autocheckpoint = 0');
    db.exec('CREATE TABLE t (k INTEGER PRIMARY KEY, v BLOB NOT NULL)');
    const insert = db.prepare('INSERT INTO t (k, v) VALUES (?, randomblob(3000))');
    for (let k = 1; k <= 10; k++) insert.run(k);
    const before = (await stat(walFileOf(path))).size;

    expect(await preallocateWal(walFileOf(path), 3 * MiB)).toBe(3 * MiB - before);
    expect((await stat(walFileOf(path))).size).toBe(3 * MiB);
    // Commits after it write their frames over the zeros: the file does not grow.
    for (let k = 11; k <= 100; k++) insert.run(k);
    expect((await stat(walFileOf(path))).size).toBe(3 * MiB);

    // No checkpoint ran (wal_autocheckpoint=0): the rows after the first ten exist only as WAL frames before zeros.
    await copyFile(path, join(dir, 'copy.sqlite'));
    await copyFile(walFileOf(path), walFileOf(join(dir, 'copy.sqlite')));
    const copy = new Database(join(dir, 'copy.sqlite'));
    expect(copy.prepare('SELECT count(*) AS n, max(k) AS top FROM t').get()).toEqual({ n: 100, top: 100 });
    expect(copy.pragma('integrity_check', { simple: true })).toBe('ok');
    copy.close();
    db.close();
  });

  it('leaves a file at or past the size alone, and a missing one missing', async () => {
    dir = await mkdtemp(join(tmpdir(), 'actorflow-walpre-'));
    const big = join(dir, 'big-wal');
    await writeFile(big, Buffer.alloc(2 * MiB, 7));
    expect(await preallocateWal(big, MiB)).toBe(0);
    expect((await stat(big)).size).toBe(2 * MiB);
    expect(await preallocateWal(join(dir, 'none-wal'), MiB)).toBe(0);
    await expect(stat(join(dir, 'none-wal'))).rejects.toThrow();
  });

  it('runs when the stores open with walPreallocate, up to the WAL size limit, and the store reopens', async () => {
    dir = await mkdtemp(join(tmpdir(), 'actorflow-walpre-'));
    const path = join(dir, 'actorflow.db');
    const opened = await openSqliteStores({ path, sync: 'full', walPreallocate: true, checkpoints: { sizeLimitBytes: 2 * MiB } });
    expect((await stat(walFileOf(path))).size).toBe(2 * MiB);
    await opened.store.close();
    const again = await openSqliteStores({ path, sync: 'full', walPreallocate: true, checkpoints: { sizeLimitBytes: 2 * MiB } });
    expect((await stat(walFileOf(path))).size).toBe(2 * MiB);
    expect(await again.store.countByStatus('default', 'ex_')).toBeDefined();
    await again.store.close();
  });
});
