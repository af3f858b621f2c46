/**
 * The committer runs prepared statements (better-sqlite3, in a worker thread) in one transaction per
 * group commit: a failed commit rolls back everything, commit participants' rows included, and leaves
 * the committer usable; a lock held by another connection is waited for off the event loop.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { msgpackCodec } from '../../src/common/codec.ts';
import type { EventRecord } from '../../src/common/execution.ts';
import { openDb } from '../../src/store/sqlite/db.ts';
import { openSqliteStores } from '../../src/store/sqlite/open-sqlite-stores.ts';
import type { CommitBatch, DeliveryRow, ExecutionRow, InputRow, Store } from '../../src/store/types.ts';

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

function delivery(id: string): DeliveryRow {
  const now = Date.now();
  return {
    id, webhookId: 'wh_1', tenant: 't1', eventId: id, eventType: 'workflow.step.started', body: '{}', status: 'pending', attempts: 0,
    lastStatusCode: null, lastError: null, nextAttemptAt: now, createdAt: now, deliveredAt: null,
  };
}

describe('SqliteStore.commit', () => {
  it('rolls a failed batch back whole (participants told), and the next batch commits', async () => {
    const { store } = await open();
    const told: boolean[] = [];
    const path = join(dir, 'db.sqlite');
    const side = await openDb(path);
    store.addCommitParticipant({
      prepare: (b) => ({ write: { kind: 'webhook-deliveries', rows: b.events.map((e) => delivery(`${e.executionId}-${e.seq}`)) }, settled: (ok) => void told.push(ok) }),
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
    // What a passivated execution is rebuilt from: row and snapshot in one read.
    const restorable = await store.getRecoverable('ex_1');
    expect(restorable).toMatchObject({ id: 'ex_1', lastSeq: 3, labels: { k: "it's" } });
    expect(Buffer.from(restorable?.snapshot ?? [])).toEqual(Buffer.from([1, 2, 3]));
    expect(await store.getRecoverable('ex_none')).toBeUndefined();
    // The participant's rows committed and rolled back with the batch's.
    expect(told).toEqual([true, false, true]);
    expect(await side.all('SELECT id, status FROM webhook_deliveries ORDER BY id')).toEqual([1, 2, 3].map((seq) => ({ id: `ex_1-${seq}`, status: 'pending' })));
    await side.close();
  });

  it('rolls the batch back when a participant write fails', async () => {
    const { store, path } = await open();
    const told: boolean[] = [];
    // The participant's table gone: its write fails inside the batch's transaction.
    const side = await openDb(path);
    side.raw.exec('DROP TABLE webhook_deliveries');
    await side.close();
    const off = store.addCommitParticipant({
      prepare: () => ({ write: { kind: 'webhook-deliveries', rows: [delivery('d1')] }, settled: (ok) => void told.push(ok) }),
    });
    await expect(store.commit(batch('ex_2', [1]))).rejects.toThrow(/no such table: webhook_deliveries/);
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

  it('keeps small commits cheap after a large value was encoded (rows cross to the writer packed, not cloned)', async () => {
    const { store } = await open();
    const commits = async (from: number): Promise<number> => {
      const t0 = performance.now();
      for (let i = from; i < from + 40; i++) await store.commit(batch(`ex_${i}`, [1, 2, 3]));
      return performance.now() - t0;
    };
    // The quickest of 5 rounds: a round that other work on the machine slowed down says nothing, while a clone
    // of the pack buffer would slow every round after the large value (a loaded CI run once took 100 ms for one).
    const quickest = async (from: number): Promise<number> => {
      let best = Infinity;
      for (let r = 0; r < 5; r++) best = Math.min(best, await commits(from + r * 40));
      return best;
    };
    await commits(0);
    const before = await quickest(100);
    // The codec's Buffers are views into msgpackr's reused pack buffer, which now stays 20+ MB large:
    // cloning it per commit took milliseconds each (~100 ms for these 40).
    msgpackCodec.encode({ big: 'x'.repeat(16 * 1024 * 1024) });
    const after = await quickest(1000);
    expect(after).toBeLessThan(before * 4 + 40);
    const ev = await store.listEvents('ex_1039', 0, 10);
    expect(ev.map((e) => e.data)).toEqual([1, 2, 3].map((seq) => ({ nul: 'a\u0000b', seq })));
  });

  it("reads each step's latest completion and start up to a seq (the values a snapshot left to the journal)", async () => {
    const { store } = await open();
    const b = batch('ex_refs', [1]);
    const now = Date.now();
    const completed = (seq: number, stepId: string, output: unknown): EventRecord => ({ executionId: 'ex_refs', seq, type: 'workflow.step.completed', ts: now, stepId, data: { attempt: 1, output } });
    // Step a completes three times (a loop), b once; seq 6 is after the snapshot the read is for.
    const events = [...b.events, completed(2, 'a', 'first'), completed(3, 'b', 'only'), completed(4, 'a', 'second'), { ...completed(5, 'a', 'x'), type: 'workflow.step.started' as const }, completed(6, 'a', 'after')];
    await store.commit({ ...b, events });
    const got = await store.stepEventData('ex_refs', 5);
    expect([...got.completed.keys()].sort()).toEqual(['a', 'b']);
    expect(msgpackCodec.decode<{ output: unknown }>(got.completed.get('a') as Uint8Array).output).toBe('second');
    expect(msgpackCodec.decode<{ output: unknown }>(got.completed.get('b') as Uint8Array).output).toBe('only');
    // The latest start up to seq 5 (batch() starts step a at seq 1; seq 5 starts it again).
    expect(msgpackCodec.decode<{ output: unknown }>(got.started.get('a') as Uint8Array).output).toBe('x');
    expect((await store.stepEventData('ex_refs', 1)).completed.size).toBe(0);
  });

  it('writes a large input or definition once, out of the executions row, and reads it back on every path', async () => {
    const { store, path } = await open();
    const big = { text: 'x'.repeat(4096) };
    const doc = { name: 'inline', steps: [{ id: 'a', type: 'task', agent: 'echo', note: 'y'.repeat(2048) }] };
    const first = batch('ex_big', [1]);
    const row = { ...(first.executions[0] as ExecutionRow), input: big, definition: doc, idempotencyKey: 'k1', requestHash: 'h' };
    await store.commit({ ...first, executions: [row], snapshots: [] });
    const small = batch('ex_small', [1]);
    await store.commit({ ...small, snapshots: [] });
    const side = await openDb(path);
    try {
      const cols = async (id: string) => side.get<{ input: Buffer | null; definition: Buffer | null; big_input: Buffer | null }>(
        'SELECT e.input, e.definition, b.big_input FROM executions e LEFT JOIN execution_blobs b ON b.execution_id = e.id WHERE e.id = ?', [id]);
      // The large values left the row; the small input stayed in it, with no blob row.
      expect(await cols('ex_big')).toMatchObject({ input: null, definition: null });
      expect(msgpackCodec.decode((await cols('ex_big'))?.big_input as Buffer)).toEqual(big);
      expect(await cols('ex_small')).toMatchObject({ big_input: null });
      expect(msgpackCodec.decode((await cols('ex_small'))?.input as Buffer)).toEqual({ id: 'ex_small' });
      // A later commit's row carries neither (LiveExecution.toCommitRow): both stay.
      await store.commit({ events: [], executions: [{ ...row, input: null, definition: null, status: 'waiting', lastSeq: 1 }], snapshots: [] });
      expect((await store.getExecution('ex_big'))).toMatchObject({ status: 'waiting', input: big, definition: doc });
      expect((await store.findByIdempotencyKey('t1', 'k1'))?.input).toEqual(big);
      expect((await store.listExecutions({ tenant: 't1', limit: 10 })).map((r) => [r.id, r.input])).toEqual([['ex_small', { id: 'ex_small' }], ['ex_big', big]]);
      await store.commit({ events: [], executions: [{ ...row, input: null, definition: null, status: 'running', lastSeq: 1 }], snapshots: [] });
      expect((await store.getRecoverable('ex_big'))).toMatchObject({ input: big, definition: doc });
      expect((await store.listRecoverable()).find((r) => r.id === 'ex_big')?.input).toEqual(big);
    } finally {
      await side.close();
    }
  });

  it('writes a large step input once when it is an earlier output (inputOf), a small one inline, and refuses a reference to nothing', async () => {
    const { store, path } = await open();
    const big = { text: 'z'.repeat(4096) };
    const now = Date.now();
    const ev = (seq: number, type: EventRecord['type'], stepId: string, data: Record<string, unknown>, inputOf?: number): EventRecord =>
      inputOf === undefined ? { executionId: 'ex_ref', seq, type, ts: now, stepId, data } : { executionId: 'ex_ref', seq, type, ts: now, stepId, data, inputOf };
    const { events: _e, ...b0 } = batch('ex_ref', [1]);
    const events = [
      ev(1, 'workflow.step.completed', 'a', { attempt: 1, output: big }),
      ev(2, 'workflow.step.started', 'b', { type: 'task', attempt: 1, agent: 'echo', input: big }, 1),
      ev(3, 'workflow.step.completed', 'b', { attempt: 1, output: { small: 1 } }),
      ev(4, 'workflow.step.started', 'c', { type: 'task', attempt: 1, agent: 'echo', input: { small: 1 } }, 3),
    ];
    await store.commit({ ...b0, events, snapshots: [] });
    const side = await openDb(path);
    try {
      const length = async (seq: number) => (await side.get<{ n: number }>('SELECT length(data) AS n FROM events WHERE execution_id = ? AND seq = ?', ['ex_ref', seq]))?.n ?? 0;
      expect(await length(2)).toBeLessThan(100);
      expect(msgpackCodec.decode<{ input?: unknown }>((await side.get<{ data: Buffer }>('SELECT data FROM events WHERE execution_id = ? AND seq = 4', ['ex_ref']))?.data as Buffer).input).toEqual({ small: 1 });
      // Read back whole, with the keys in their order, whether the completion is in the page or not.
      for (const after of [0, 1]) {
        const got = (await store.listEvents('ex_ref', after, 10)).find((e) => e.seq === 2);
        expect(Object.keys(got?.data ?? {})).toEqual(['type', 'attempt', 'agent', 'input']);
        expect(got?.data['input']).toEqual(big);
      }
      expect(msgpackCodec.decode<{ input?: unknown }>((await store.stepEventData('ex_ref', 4)).started.get('b') as Uint8Array).input).toEqual(big);
      // A damaged journal: the completion it refers to is gone.
      await side.run('DELETE FROM events WHERE execution_id = ? AND seq = 1', ['ex_ref']);
      await expect(store.listEvents('ex_ref', 0, 10)).rejects.toMatchObject({ code: 'snapshot_output_missing' });
      await expect(store.stepEventData('ex_ref', 4)).rejects.toMatchObject({ code: 'snapshot_output_missing' });
    } finally {
      await side.close();
    }
  });

  it("writes the execution's large input once when the first step takes it, and its output once when it is the last step's (inputOf, outputOf)", async () => {
    const { store, path } = await open();
    const input = { text: 'i'.repeat(4096) };
    const output = { text: 'o'.repeat(4096) };
    const now = Date.now();
    const ev = (seq: number, type: EventRecord['type'], stepId: string | null, data: Record<string, unknown>, ref?: { inputOf?: number; outputOf?: number }): EventRecord =>
      ({ executionId: 'ex_vals', seq, type, ts: now, stepId, data, ...ref });
    const { events: _e, ...b0 } = batch('ex_vals', [1]);
    const events = [
      ev(1, 'workflow.started', null, { input, version: 1, labels: {} }),
      ev(2, 'workflow.step.started', 'a', { type: 'task', attempt: 1, agent: 'echo', input }, { inputOf: 1 }),
      ev(3, 'workflow.step.completed', 'a', { attempt: 1, output }),
      ev(4, 'workflow.completed', null, { output }, { outputOf: 3 }),
    ];
    await store.commit({ ...b0, events, snapshots: [] });
    const side = await openDb(path);
    try {
      const length = async (seq: number) => (await side.get<{ n: number }>('SELECT length(data) AS n FROM events WHERE execution_id = ? AND seq = ?', ['ex_vals', seq]))?.n ?? 0;
      expect(await length(1)).toBeGreaterThan(4096);
      expect(await length(2)).toBeLessThan(100);
      expect(await length(3)).toBeGreaterThan(4096);
      expect(await length(4)).toBeLessThan(100);
      // Read back whole, keys in their order, whether the holder is in the page or not.
      for (const after of [0, 1, 3]) {
        const page = await store.listEvents('ex_vals', after, 10);
        const started = page.find((e) => e.seq === 2);
        if (started) {
          expect(Object.keys(started.data)).toEqual(['type', 'attempt', 'agent', 'input']);
          expect(started.data['input']).toEqual(input);
        }
        const completed = page.find((e) => e.seq === 4);
        expect(completed?.data).toEqual({ output });
      }
      expect(msgpackCodec.decode<{ input?: unknown }>((await store.stepEventData('ex_vals', 3)).started.get('a') as Uint8Array).input).toEqual(input);
      // A damaged journal: the workflow.started it takes the input from is gone.
      await side.run('DELETE FROM events WHERE execution_id = ? AND seq = 1', ['ex_vals']);
      await expect(store.listEvents('ex_vals', 0, 10)).rejects.toMatchObject({ code: 'snapshot_output_missing' });
      await expect(store.stepEventData('ex_vals', 3)).rejects.toMatchObject({ code: 'snapshot_output_missing' });
    } finally {
      await side.close();
    }
  });

  it('keeps the inputs after the latest snapshot (also within one merged batch), and neither inputs nor snapshot once the execution is done', async () => {
    const { store } = await open();
    const input = (n: number): InputRow => ({ executionId: 'ex_in', n, seq: n, end: n + 1, data: new Uint8Array([n]) });
    const { snapshots: _none, ...b } = batch('ex_in', [1]);
    await store.commit({ ...b, snapshots: [], inputs: [input(0), input(1), input(2)] });
    expect((await store.getRecoverable('ex_in'))?.inputs?.map((i) => [i.n, i.seq, i.end])).toEqual([[0, 0, 1], [1, 1, 2], [2, 2, 3]]);
    // Two commits merged (cluster mode's applier): inputs 3 and 4, then a snapshot covering 5 inputs and input 5.
    await store.commit({ ...b, events: [], snapshots: [{ executionId: 'ex_in', seq: 5, data: new Uint8Array([9]), inputs: 5 }], inputs: [input(3), input(4), input(5)] });
    const got = await store.getRecoverable('ex_in');
    expect(got?.inputs?.map((i) => i.n)).toEqual([5]);
    expect(got?.snapshot).toEqual(Buffer.from([9]));
    expect((await store.listRecoverable()).find((r) => r.id === 'ex_in')?.inputs?.map((i) => i.n)).toEqual([5]);
    await store.commit({ ...b, events: [], snapshots: [], inputsDone: ['ex_in'] });
    // Ended for good: neither its inputs nor its snapshot stay.
    expect((await store.getRecoverable('ex_in'))?.inputs).toBeUndefined();
    expect(await store.getSnapshot('ex_in')).toBeUndefined();
  });
});
