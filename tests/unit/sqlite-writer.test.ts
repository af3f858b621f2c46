/**
 * The committer runs prepared statements (better-sqlite3, in a worker thread) in one transaction per
 * group commit: a failed commit rolls back everything, commit participants' rows included, and leaves
 * the committer usable; a lock held by another connection is waited for off the event loop.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { EventRecord } from '../../src/shared/execution.ts';
import { openDb } from '../../src/store/sqlite-db.ts';
import { openSqliteStores } from '../../src/store/sqlite-store.ts';
import type { CommitBatch, ExecutionRow, Store } from '../../src/store/types.ts';

let dir = '';
let store: Store | undefined;
afterEach(async () => {
  await store?.close();
  store = undefined;
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function open(): Promise<{ store: Store; path: string }> {
  dir = await mkdtemp(join(tmpdir(), 'actorflow-writer-'));
  const path = join(dir, 'db.sqlite');
  store = (await openSqliteStores({ path, sync: 'normal' })).store;
  return { store, path };
}

function batch(id: string, seqs: readonly number[]): CommitBatch {
  const now = Date.now();
  const execution: ExecutionRow = {
    id, tenant: 't1', workflow: 'w', version: 1, status: 'running', input: { id }, output: null, error: null, currentSteps: ['a'],
    parentId: null, parentStepId: null, labels: { k: "it's" }, createdAt: now, startedAt: now, updatedAt: now, finishedAt: null,
    retryAttempt: 0, lastSeq: seqs.at(-1) ?? 0, idempotencyKey: null, requestHash: null, definition: null, nextDueAt: null,
  };
  const events: EventRecord[] = seqs.map((seq) => ({ executionId: id, seq, type: 'workflow.step.started', ts: now, stepId: 'a', data: { nul: 'a\u0000b', seq } }));
  return { events, executions: [execution], snapshots: [{ executionId: id, seq: seqs.at(-1) ?? 0, data: new Uint8Array([1, 2, 3]) }] };
}

describe('SqliteStore.commit', () => {
  it('rolls a failed batch back whole (participants told), and the next batch commits', async () => {
    const { store } = await open();
    const told: boolean[] = [];
    const path = join(dir, 'db.sqlite');
    const side = await openDb(path);
    side.raw.exec('CREATE TABLE side (execution_id TEXT, seq INTEGER)');
    store.addCommitParticipant({
      prepare: (b) => ({ statement: 'INSERT INTO side VALUES (?, ?)', rows: b.events.map((e) => [e.executionId, e.seq]), settled: (ok) => void told.push(ok) }),
    });
    await store.commit(batch('ex_1', [1, 2]));
    // seq 2 again: the primary key refuses the second row after the first went in.
    await expect(store.commit(batch('ex_1', [3, 2]))).rejects.toThrow(/UNIQUE/);
    expect((await store.listEvents('ex_1', 0, 10)).map((e) => e.seq)).toEqual([1, 2]);
    expect((await store.getExecution('ex_1'))?.lastSeq).toBe(2);
    await store.commit(batch('ex_1', [3]));
    const events = await store.listEvents('ex_1', 0, 10);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(events[0]?.data).toEqual({ nul: 'a\u0000b', seq: 1 });
    expect((await store.getExecution('ex_1'))?.labels).toEqual({ k: "it's" });
    expect(Buffer.from((await store.getSnapshot('ex_1'))?.data ?? [])).toEqual(Buffer.from([1, 2, 3]));
    // The participant's rows committed and rolled back with the batch's.
    expect(told).toEqual([true, false, true]);
    expect(await side.all('SELECT * FROM side ORDER BY seq')).toEqual([1, 2, 3].map((seq) => ({ execution_id: 'ex_1', seq })));
    await side.close();
  });

  it('rolls the batch back when a participant statement fails', async () => {
    const { store } = await open();
    const told: boolean[] = [];
    const off = store.addCommitParticipant({
      prepare: () => ({ statement: 'INSERT INTO no_such_table VALUES (?)', rows: [[1]], settled: (ok) => void told.push(ok) }),
    });
    await expect(store.commit(batch('ex_2', [1]))).rejects.toThrow(/no_such_table/);
    expect(await store.getExecution('ex_2')).toBeUndefined();
    expect(told).toEqual([false]);
    off();
    await store.commit(batch('ex_2', [1]));
    expect((await store.getExecution('ex_2'))?.lastSeq).toBe(1);
  });

  it('waits for a lock held by another connection off the event loop', async () => {
    const { store, path } = await open();
    const other = await openDb(path);
    try {
      other.raw.exec('BEGIN IMMEDIATE');
      let turns = 0;
      const ticker = setInterval(() => turns++, 1);
      let done = false;
      const commit = store.commit(batch('ex_3', [1])).then(() => (done = true));
      await new Promise((r) => setTimeout(r, 60));
      expect(done).toBe(false);
      expect(turns).toBeGreaterThan(10);
      other.raw.exec('COMMIT');
      await commit;
      clearInterval(ticker);
      expect((await store.getExecution('ex_3'))?.lastSeq).toBe(1);
    } finally {
      await other.close();
    }
  });
});
