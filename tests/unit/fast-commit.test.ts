/**
 * A small commit someone waits on that finds the writer thread idle runs on the main thread's connection
 * (committed by the time `write` returns); one nobody waits on, a large one, one behind a write in flight, one that
 * meets a lock, or one soon after a slow main-thread commit goes to the worker; a failing one is rolled back whole
 * on either path.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDb, openWorkerDb, type AsyncDb, type Db, type WriteStep } from '../../src/store/sqlite/db.ts';
import { type FastCommitTiming, withFastCommits } from '../../src/store/sqlite/fast-commit.ts';

const INSERT = 'INSERT INTO t (k, v) VALUES (?, ?)';
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function open(maxRows = 4, timing: FastCommitTiming = {}): Promise<{ main: Db; worker: AsyncDb; committer: AsyncDb; path: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'actorflow-fast-commit-'));
  const path = join(dir, 'db.sqlite');
  const main = await openDb(path);
  await main.exec('PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER)');
  const worker = await openWorkerDb(path);
  await worker.exec('PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000');
  cleanup.push(async () => {
    await worker.close();
    await main.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { main, worker, committer: withFastCommits(worker, main, maxRows, timing), path };
}

const WAITED = { waited: true } as const;
const rows = (prefix: string, n: number): WriteStep[] => [{ sql: INSERT, rows: Array.from({ length: n }, (_, i) => [`${prefix}${i}`, i]) }];
/**
 * Whether `write`'s promise is settled after two microtask turns: a main-thread commit returns a settled
 * promise; a worker's answer comes as a message, a macrotask later (whatever the worker's speed).
 */
async function settledAtOnce(p: Promise<void>): Promise<boolean> {
  let settled = false;
  void p.then(() => (settled = true));
  await Promise.resolve();
  await Promise.resolve();
  return settled;
}
const count = (main: Db, prefix: string): number => (main.raw.prepare('SELECT count(*) AS n FROM t WHERE k LIKE ?').get(`${prefix}%`) as { n: number }).n;

describe('fast commits', () => {
  it('commits a small batch on the main thread when the worker is idle, before write() returns', async () => {
    const { main, committer } = await open();
    const done = committer.write(rows('a', 3), WAITED);
    expect(count(main, 'a')).toBe(3);
    expect(await settledAtOnce(done)).toBe(true);
  });

  it('sends a commit nobody waits on to the worker (a background write would only delay the next request)', async () => {
    const { main, committer } = await open();
    const done = committer.write(rows('n', 1));
    expect(await settledAtOnce(done)).toBe(false);
    await done;
    expect(count(main, 'n')).toBe(1);
  });

  it('sends a batch over the row limit to the worker', async () => {
    const { main, committer } = await open(4);
    const done = committer.write(rows('b', 5), WAITED);
    expect(await settledAtOnce(done)).toBe(false);
    await done;
    expect(count(main, 'b')).toBe(5);
  });

  it('sends a small batch to the worker while a worker write is in flight, and keeps their order', async () => {
    const { main, committer } = await open(4);
    const big = committer.write(rows('c', 50), WAITED);
    const small = committer.write(rows('d', 1), WAITED);
    expect(await settledAtOnce(small)).toBe(false);
    await Promise.all([big, small]);
    expect([count(main, 'c'), count(main, 'd')]).toEqual([50, 1]);
  });

  it('waits in the worker, off the event loop, for a lock another connection holds', async () => {
    const { main, committer, path } = await open();
    const other = await openDb(path);
    other.raw.exec('BEGIN IMMEDIATE');
    const done = committer.write(rows('e', 1), WAITED);
    // The main thread is free while the lock is held: a timer runs, and the row is not there yet.
    await new Promise((r) => setTimeout(r, 50));
    expect(count(main, 'e')).toBe(0);
    other.raw.exec('COMMIT');
    await done;
    expect(count(main, 'e')).toBe(1);
    await other.close();
  });

  it('sends commits to the worker for a while once slow main-thread commits repeat (a slow disk holds the loop a few times)', async () => {
    // Every main-thread commit counts as slow here; the pause is long enough not to end during the test.
    const { main, committer } = await open(4, { slowMs: -1, pauseMs: 60_000 });
    // A lone slow commit is an outlier: the next ones stay on the main thread, until three in a row say the disk is slow.
    for (const k of ['s', 'u', 'v']) expect(await settledAtOnce(committer.write(rows(k, 1), WAITED))).toBe(true);
    const next = committer.write(rows('t', 1), WAITED);
    expect(await settledAtOnce(next)).toBe(false);
    await next;
    expect(['s', 'u', 'v', 't'].map((k) => count(main, k))).toEqual([1, 1, 1, 1]);
  });

  it('pauses after every slow commit with slowShare 0', async () => {
    const { committer } = await open(4, { slowMs: -1, slowShare: 0, pauseMs: 60_000 });
    expect(await settledAtOnce(committer.write(rows('w', 1), WAITED))).toBe(true);
    const next = committer.write(rows('x', 1), WAITED);
    expect(await settledAtOnce(next)).toBe(false);
    await next;
  });

  it('rolls a failing batch back whole and stays usable', async () => {
    const { main, committer } = await open();
    await committer.write(rows('f', 1), WAITED);
    // f0 again after g0: the primary key refuses it, and g0 must not stay.
    await expect(committer.write([{ sql: INSERT, rows: [['g0', 1], ['f0', 2]] }], WAITED)).rejects.toThrow(/UNIQUE/);
    expect(count(main, 'g')).toBe(0);
    expect(main.raw.inTransaction).toBe(false);
    await committer.write(rows('h', 2), WAITED);
    expect(count(main, 'h')).toBe(2);
  });
});
