/**
 * A direct execution's end is "written once in a later batch that is not fsynced" (API.md): the commit
 * queue marks a batch made only of such deferred writes `relaxed`, and the writer commits it with
 * `synchronous=NORMAL`, then goes back to the store's level. Real SQLite files, the real worker writer.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { EventRecord } from '../../src/common/execution.ts';
import { CommitQueue, DEFERRED_LINGER_MS, type Committable } from '../../src/engine/journal/commit-queue.ts';
import { storeJournal } from '../../src/engine/journal/journal.ts';
import { openWorkerDb, type AsyncDb } from '../../src/store/sqlite/db.ts';
import { openSqliteStores } from '../../src/store/sqlite/open-sqlite-stores.ts';
import type { CommitBatch, ExecutionRow, Store } from '../../src/store/types.ts';

let dir = '';
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function tempPath(): Promise<string> {
  dir = await mkdtemp(join(tmpdir(), 'actorflow-relaxed-'));
  return join(dir, 'db.sqlite');
}

describe('relaxed writes on the worker connection', () => {
  it('commit with synchronous=NORMAL and leave the connection at FULL, after a success and after a failure', async () => {
    const db: AsyncDb = await openWorkerDb(await tempPath());
    closers.push(() => db.close());
    await db.exec('PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)');
    await db.write([{ sql: 'INSERT INTO t (k, v) VALUES (?, ?)', rows: [[1, 'a'], [2, 'b']] }], { relaxed: true });
    expect(await db.get<{ synchronous: number }>('PRAGMA synchronous')).toEqual({ synchronous: 2 });
    await expect(db.write([{ sql: 'INSERT INTO t (k, v) VALUES (?, ?)', rows: [[3, 'c'], [1, 'dup']] }], { relaxed: true })).rejects.toThrow(/UNIQUE/);
    expect(await db.get<{ synchronous: number }>('PRAGMA synchronous')).toEqual({ synchronous: 2 });
    // The failed batch left nothing; the relaxed one is there.
    expect(await db.all<{ k: number }>('SELECT k FROM t ORDER BY k')).toEqual([{ k: 1 }, { k: 2 }]);
  });
});

/** What the commit queue commits for: a row that only changes its `lastSeq`. */
class Exec implements Committable {
  stored = false;
  lastSeq = 0;
  constructor(readonly id: string) {}
  toCommitRow(): ExecutionRow {
    const now = Date.now();
    return {
      id: this.id, tenant: 'default', workflow: 'w', version: 1, status: 'completed', input: null, output: null, error: null, currentSteps: [],
      parentId: null, parentStepId: null, labels: {}, createdAt: now, startedAt: now, updatedAt: now, finishedAt: now,
      retryAttempt: 0, lastSeq: this.lastSeq, idempotencyKey: null, requestHash: null, definition: null, nextDueAt: null,
    };
  }
  toSnapshot() {
    return null;
  }
  event(): EventRecord {
    this.lastSeq++;
    return { executionId: this.id, seq: this.lastSeq, type: 'workflow.completed', ts: Date.now(), stepId: null, data: {} };
  }
}

describe('commit queue: deferred writes', () => {
  async function queueOverStore(): Promise<{ queue: CommitQueue<Exec>; batches: CommitBatch[]; store: Store }> {
    const { store } = await openSqliteStores({ path: await tempPath(), sync: 'full' });
    closers.push(() => store.close());
    const journal = storeJournal(store);
    const batches: CommitBatch[] = [];
    const queue = new CommitQueue<Exec>(
      { ...journal, append: (b) => (batches.push(b), journal.append(b)) },
      () => undefined,
      (err) => {
        throw err;
      },
    );
    return { queue, batches, store };
  }

  it('a batch of deferred writes alone lingers, then commits relaxed; it is in the store afterwards', async () => {
    const { queue, batches, store } = await queueOverStore();
    const a = new Exec('ex_deferred_a');
    const t0 = performance.now();
    queue.appendDeferred(a, a.id, [a.event()], []);
    await queue.flushed();
    expect(batches).toHaveLength(1);
    expect(batches[0]?.relaxed).toBe(true);
    expect((await store.getExecution(a.id))?.lastSeq).toBe(1);
    expect((await store.listEvents(a.id, 0, 10)).map((e) => e.type)).toEqual(['workflow.completed']);
    // flushed() asked for it: the waiter does not make the batch durable, and it did not wait for the linger.
    expect(performance.now() - t0).toBeLessThan(DEFERRED_LINGER_MS + 1_000);
  });

  it('rides with the next durable batch, which stays fsynced (not relaxed)', async () => {
    const { queue, batches } = await queueOverStore();
    const a = new Exec('ex_deferred_b');
    const b = new Exec('ex_durable_b');
    queue.appendDeferred(a, a.id, [a.event()], []);
    queue.append(b.event());
    queue.touch(b);
    await queue.flushed();
    expect(batches).toHaveLength(1);
    expect(batches[0]?.relaxed).toBeUndefined();
    expect(batches[0]?.events.map((e) => e.executionId).sort()).toEqual(['ex_deferred_b', 'ex_durable_b']);
  });

  it('without a waiter, a deferred write commits after the linger on its own', async () => {
    const { queue, batches } = await queueOverStore();
    const a = new Exec('ex_deferred_c');
    queue.appendDeferred(a, a.id, [a.event()], []);
    expect(batches).toHaveLength(0);
    const deadline = Date.now() + 5_000;
    while (!a.stored && Date.now() < deadline) await new Promise((r) => setTimeout(r, DEFERRED_LINGER_MS));
    expect(a.stored).toBe(true);
    expect(batches[0]?.relaxed).toBe(true);
  });
});
