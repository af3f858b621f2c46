/**
 * Issue 12: a failed commit fails only the requests it carried (503 store_unavailable) and puts
 * their executions back to their last durable state; effects leave only after their commit; two
 * starts with one idempotency key never both create. Failures are real SQLite failures: a trigger
 * installed from another connection aborts the journal's transaction.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Db, openDb as openStoreDb } from '../../src/store/sqlite/db.ts';
import { api } from '../support/http.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { waitForEnd, waitForStatus } from '../support/wait.ts';

/** A connection of the test to the server's database (the store's own binding: one SQLite in the process). */
const openDb = (server: TestServer): Promise<Db> => openStoreDb(join(server.dataDir, 'actorflow.db'));
const run = (db: Db, sql: string, params: unknown[] = []) => db.run(sql, params);
const all = <T>(db: Db, sql: string, params: unknown[] = []) => db.all<T>(sql, params);

async function eventTypes(server: TestServer, id: string): Promise<string[]> {
  const items = (await api(server.url).get(`/executions/${id}/events`, { query: { limit: 1000 } })).body.items as { seq: number; type: string }[];
  expect(items.map((e) => e.seq)).toEqual(items.map((_, i) => i + 1));
  return items.map((e) => e.type);
}

describe('a failed commit', () => {
  let server: TestServer;
  let db: Db;
  beforeAll(async () => {
    server = await startTestServer();
    await api(server.url).post('/workflow-definitions', { name: 'approve', steps: [{ id: 'w', type: 'wait', signal: 'go' }, { id: 'b', type: 'task', agent: 'echo', input: '$.steps.w.output' }] });
    db = await openDb(server);
    await run(db, 'CREATE TABLE fail_events (execution_id TEXT, type TEXT)');
    // Any journal insert matching a row of fail_events aborts the whole transaction, as a full disk would.
    await run(db, `CREATE TRIGGER fail_events BEFORE INSERT ON events
      WHEN EXISTS (SELECT 1 FROM fail_events f WHERE (f.execution_id = NEW.execution_id OR f.execution_id IS NULL) AND (f.type = NEW.type OR f.type IS NULL))
      BEGIN SELECT RAISE(ABORT, 'injected failure'); END`);
  });
  afterAll(async () => {
    await db.close();
    await server.close();
  });

  it('answers 503 store_unavailable to the request it carried, keeps the execution at its durable state, and serves others', async () => {
    const a = (await api(server.url).post('/executions', { workflow: 'approve', input: {} })).body.id as string;
    const b = (await api(server.url).post('/executions', { workflow: 'approve', input: {} })).body.id as string;
    await waitForStatus(server.engine, a, 'waiting');
    await waitForStatus(server.engine, b, 'waiting');
    const before = (await api(server.url).get(`/executions/${a}`)).body;
    await run(db, 'INSERT INTO fail_events VALUES (?, NULL)', [a]);

    const refused = await api(server.url).post(`/executions/${a}/signals/go`, { payload: 'lost' });
    expect(refused.status).toBe(503);
    expect(refused.body.code).toBe('store_unavailable');
    // Another execution is served normally, and the writer keeps working.
    expect((await api(server.url).post(`/executions/${b}/signals/go`, { payload: 'b' })).status).toBe(202);
    expect(await waitForEnd(server.engine, b)).toMatchObject({ status: 'completed', output: 'b' });
    // A is what the journal says: waiting, same seq, no trace of the refused signal.
    const after = (await api(server.url).get(`/executions/${a}`)).body;
    expect(after).toMatchObject({ status: 'waiting', lastSeq: before.lastSeq, currentSteps: ['w'] });
    expect(await eventTypes(server, a)).not.toContain('workflow.signal.received');

    await run(db, 'DELETE FROM fail_events');
    expect((await api(server.url).post(`/executions/${a}/signals/go`, { payload: 'kept' })).status).toBe(202);
    expect(await waitForEnd(server.engine, a)).toMatchObject({ status: 'completed', output: 'kept' });
    expect((await eventTypes(server, a)).filter((t) => t === 'workflow.signal.received')).toHaveLength(1);
  });

  it('answers 503 to a start whose commit failed and keeps no trace of it', async () => {
    const count = async () => (await api(server.url).get('/executions', { query: { limit: 1000 } })).body.items.length as number;
    const n = await count();
    await run(db, "INSERT INTO fail_events VALUES (NULL, 'workflow.started')");
    const refused = await api(server.url).post('/executions', { workflow: 'approve', input: {} });
    expect(refused.status).toBe(503);
    expect(refused.body.code).toBe('store_unavailable');
    expect(await count()).toBe(n);
    await run(db, 'DELETE FROM fail_events');
    const ok = await api(server.url).post('/executions', { workflow: 'approve', input: {} });
    expect(ok.status).toBe(201);
    expect(await count()).toBe(n + 1);
  });
});

describe('idempotency keys', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
    await api(server.url).post('/workflow-definitions', { name: 'one', steps: [{ id: 'a', type: 'task', agent: 'echo' }] });
  });
  afterAll(async () => server.close());

  it('creates once when starts with the same key interleave across the key lookup', async () => {
    // Both calls begin in the same tick: both pass the in-memory check before either reads SQLite.
    const starts = Array.from({ length: 5 }, () => server.engine.start({ tenant: 'default', workflow: 'one', input: { x: 1 }, idempotencyKey: 'same-key', requestHash: 'h1' }));
    const results = await Promise.all(starts);
    expect(new Set(results.map((r) => r.execution.id)).size).toBe(1);
    expect(results.filter((r) => !r.replayed)).toHaveLength(1);
    const other = await server.engine.start({ tenant: 'default', workflow: 'one', input: { x: 1 }, idempotencyKey: 'same-key', requestHash: 'h2' }).catch((e: { code?: string }) => e.code);
    expect(other).toBe('idempotency_key_conflict');
  });
});

describe('effects after their commit', () => {
  let server: TestServer;
  let receiver: Server;
  let db: Db;
  const seen: { token: string; started: number }[] = [];
  beforeAll(async () => {
    server = await startTestServer();
    db = await openDb(server);
    // A slow journal (each step start takes tens of ms to write), so an early dispatch would be caught.
    await run(db, `CREATE TRIGGER slow_starts BEFORE INSERT ON events WHEN NEW.type = 'workflow.step.started'
      AND (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 200000) SELECT count(*) FROM c) < 0
      BEGIN SELECT RAISE(ABORT, 'never'); END`);
    receiver = createServer((req, res) => {
      const token = new URL(req.url ?? '/', 'http://x').searchParams.get('token') ?? '';
      // The agent has the task: its workflow.step.started must already be in the journal (msgpack keeps strings as UTF-8 bytes).
      void all<{ n: number }>(db, "SELECT count(*) AS n FROM events WHERE type = 'workflow.step.started' AND instr(data, CAST(? AS BLOB)) > 0", [token]).then((rows) => {
        seen.push({ token, started: rows[0]?.n ?? 0 });
        res.setHeader('content-type', 'application/json');
        res.end('{"ok":true}');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
  });
  afterAll(async () => {
    await new Promise<void>((r) => receiver.close(() => r()));
    await db.close();
    await server.close();
  });

  it('sends an http step only once its workflow.step.started is durable', async () => {
    const port = (receiver.address() as AddressInfo).port;
    const definition = { name: 'call', steps: [{ id: 'call', type: 'task', agent: 'http', input: { url: '$.input.url', method: 'GET' } }] };
    const ids = await Promise.all(
      Array.from({ length: 10 }, async (_, i) => (await api(server.url).post('/executions', { definition, input: { url: `http://127.0.0.1:${port}/hook?token=tok-${i}-x` } })).body.id as string),
    );
    for (const id of ids) expect((await waitForEnd(server.engine, id)).status).toBe('completed');
    expect(seen).toHaveLength(10);
    for (const s of seen) expect(s, s.token).toMatchObject({ started: 1 });
  });
});
