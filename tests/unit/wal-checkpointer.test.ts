/**
 * The writer never checkpoints (wal_autocheckpoint=0); the checkpointer's own connection copies the WAL
 * into the database file, and starts the WAL over once it passes its size limit, so sustained writes
 * leave a bounded file.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { EventRecord } from '../../src/common/execution.ts';
import { openDb } from '../../src/store/sqlite/db.ts';
import { openSqliteStores } from '../../src/store/sqlite/open-sqlite-stores.ts';
import type { CommitBatch, ExecutionRow } from '../../src/store/types.ts';
import { type CheckpointResult, startWalCheckpointer, walFileOf } from '../../src/store/sqlite/wal-checkpointer.ts';

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

    const checkpointer = await startWalCheckpointer(path, { intervalMs: 10 });
    await until(async () => (await stat(path)).size > 500 * 1024, 'the database file to receive the WAL pages');
    // The writer goes on while checkpoints run.
    await writer.exec(`BEGIN; INSERT INTO t VALUES ${rows}; COMMIT;`);
    await until(async () => (await stat(path)).size > 1000 * 1024, 'the second batch to be checkpointed');
    await checkpointer.close();
    const count = await writer.get<{ n: number }>('SELECT count(*) AS n FROM t');
    expect(count?.n).toBe(1000);
    await writer.close();
  });

  it('keeps the WAL file bounded under sustained commits through the store', async () => {
    dir = await mkdtemp(join(tmpdir(), 'actorflow-wal-'));
    const path = join(dir, 'db.sqlite');
    const MiB = 1024 * 1024;
    const limit = 1 * MiB;
    const restarts: CheckpointResult[] = [];
    const { store } = await openSqliteStores({
      path,
      sync: 'normal',
      checkpoints: { sizeLimitBytes: limit, pollMs: 20, onCheckpoint: (r) => void (r.mode === 'RESTART' && restarts.push(r)) },
    });
    const wal = walFileOf(path);
    const walSize = (): Promise<number> => stat(wal).then((st) => st.size, () => 0);
    let maxWal = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        maxWal = Math.max(maxWal, await walSize());
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    // A reader going on meanwhile, as the API's would: one read per event-loop turn (reads are synchronous).
    const reader = (async () => {
      while (sampling) {
        await store.countByStatus('t1', 'ex_');
        await new Promise((r) => setImmediate(r));
      }
    })();
    try {
      let n = 0;
      /** One execution: its row, four events and a 2 KiB snapshot (~10 pages of WAL). */
      const batch = (): CommitBatch => {
        const id = `ex_${String(n++).padStart(12, '0')}`;
        const now = Date.now();
        const execution: ExecutionRow = {
          id, tenant: 't1', workflow: 'w', version: 1, status: 'running', input: { n }, output: null, error: null, currentSteps: ['a'],
          parentId: null, parentStepId: null, labels: {}, createdAt: now, startedAt: now, updatedAt: now, finishedAt: null,
          retryAttempt: 0, lastSeq: 4, idempotencyKey: null, requestHash: null, definition: null, nextDueAt: null,
        };
        const events: EventRecord[] = [1, 2, 3, 4].map((seq) => ({ executionId: id, seq, type: 'workflow.step.started', ts: now, stepId: 'a', data: { pad: 'x'.repeat(100) } }));
        return { events, executions: [execution], snapshots: [{ executionId: id, seq: 4, data: randomBytes(2048) }] };
      };
      // 250 commits/s for 4 s: some 10 MiB/s of WAL frames.
      let drops = 0;
      const t0 = performance.now();
      for (let i = 0; i < 1000; i++) {
        await store.commit(batch());
        if (i % 10 === 0 && (await walSize()) <= limit + 64 * 1024) drops++;
        const wait = t0 + (i + 1) * 4 - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      // Frames copied by the RESTARTs alone (less than went through the WAL: the writer also starts over on
      // its own when a PASSIVE caught up): a WAL left alone would be at least this big, past the bound below.
      const written = restarts.filter((r) => r.busy === 0).reduce((sum, r) => sum + r.log * (4096 + 24), 0);
      expect(written).toBeGreaterThan(16 * MiB);
      // The WAL starts over again and again, cut back to the limit by the writer's next commit.
      expect(drops).toBeGreaterThan(5);
      // The poll sees the file past the limit within 20 ms, then PASSIVE passes and a RESTART: a few MiB
      // (up to 2 s of writes when the disk is contended).
      expect(maxWal).toBeLessThan(16 * MiB);
      // Once the writer has started over, its next commit cuts the file back to the limit.
      await until(async () => {
        await store.commit(batch());
        return (await walSize()) <= limit;
      }, 'the WAL file to be cut back to its limit');
      expect((await store.countByStatus('t1', 'ex_'))['running']).toBe(n);
    } finally {
      sampling = false;
      await Promise.all([sampler, reader]);
      await store.close();
    }
  });
});
