/**
 * Bulk operations (issue 17) over real HTTP: every route and error code of /bulk-operations, 2,000 waiting
 * executions cancelled by label with exact counts, dry runs that change nothing, tenants that never see each
 * other's executions or operations, skipped (state) versus failed (other errors), cancel of an operation,
 * progress on the WebSocket firehose, audit entries; and kill -9 in the middle of a signal operation: it
 * resumes after the restart and completes with exact counts, no execution signalled twice.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/cli/commands/common.ts';
import { ActorflowApiError, createClient } from '../../src/client/index.ts';
import type { Engine } from '../../src/engine/types.ts';
import { runCli } from '../support/cli.ts';
import { type Api, api, createKey, withKey } from '../support/http.ts';
import { startServerProcess, type ServerProcess } from '../support/process.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { pollUntil, waitForStatus } from '../support/wait.ts';
import { connectWs, type WsClient } from '../support/ws-client.ts';

const ADMIN = 'test-admin-key-bulk-operations-0123456789';
/** Waits for signal `go`, then echoes its payload. */
const PARK = { name: 'park', steps: [{ id: 'w', type: 'wait', signal: 'go' }, { id: 'after', type: 'task', agent: 'echo', input: '$.steps.w.output' }] };
/** Waits for another signal: a `go` signal to it is `unknown_signal`. */
const OTHER = { name: 'other', steps: [{ id: 'w', type: 'wait', signal: 'stop' }] };
const ONCE = { name: 'once', steps: [{ id: 'a', type: 'task', agent: 'echo', input: { ok: true } }] };

let server: TestServer;
let http: Api;
let acme: Api;
let acmeKey: string;
let reader: Api;
let ws: WsClient;

beforeAll(async () => {
  server = await startTestServer({ adminKey: ADMIN });
  http = withKey(server.url, ADMIN);
  acmeKey = await createKey(http, ['read', 'write'], 'acme');
  acme = withKey(server.url, acmeKey);
  reader = withKey(server.url, await createKey(http, ['read']));
  for (const flow of [PARK, OTHER, ONCE]) expect((await http.post('/workflow-definitions', flow)).status).toBe(201);
  expect((await acme.post('/workflow-definitions', PARK)).status).toBe(201);
  // Bulk events only reach firehose subscriptions that name their types.
  ws = await connectWs(server.url, '/api/v1/ws', { headers: { authorization: `Bearer ${ADMIN}` } });
  ws.send({ op: 'subscribe', id: 'bulk', filter: { types: ['bulk.progress', 'bulk.completed'] } });
  ws.send({ op: 'subscribe', id: 'all', filter: {} });
  await ws.waitFor((f) => f.op === 'ack' && f.id === 'all');
});

afterAll(async () => {
  await ws?.close();
  await server?.close();
});

/** Starts `n` executions in process (setup only; everything under test goes over HTTP), `batch` at a time. */
async function startMany(engine: Engine, tenant: string, workflow: string, n: number, labels: Record<string, string>): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i += 200) {
    const started = await Promise.all(Array.from({ length: Math.min(200, n - i) }, () => engine.start({ tenant, workflow, labels })));
    ids.push(...started.map((s) => s.execution.id));
  }
  return ids;
}

/** Rows of `bulk_operation_items` an operation still has (read beside the server, like any reader of the file). */
function itemCount(dataDir: string, operationId: string): number {
  const db = new Database(join(dataDir, 'actorflow.db'), { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM bulk_operation_items WHERE operation_id = ?').get(operationId) as { n: number }).n;
  } finally {
    db.close();
  }
}

/** Every execution a list query matches (all pages). */
async function listAll(as: Api, query: Record<string, string>): Promise<any[]> {
  const items: any[] = [];
  for (let cursor: string | null = ''; cursor !== null; ) {
    const res = await as.get('/executions', { query: { ...query, limit: 1000, ...(cursor === '' ? {} : { cursor }) } });
    expect(res.status, res.text).toBe(200);
    items.push(...res.body.items);
    cursor = res.body.nextCursor;
  }
  return items;
}

/** Creates an operation (202) and resolves with its final state, announced by `bulk.completed` on `socket` (of the same tenant, subscribed as `bulk`). */
async function runToEnd(as: Api, body: Record<string, unknown>, socket: WsClient = ws): Promise<any> {
  const from = socket.frames.length;
  const res = await as.post('/bulk-operations', body);
  expect(res.status, res.text).toBe(202);
  expect(res.body).toEqual({ id: expect.stringMatching(/^bk_[0-9A-Z]{26}$/), status: 'running', matched: expect.any(Number) });
  const id = res.body.id as string;
  await socket.waitFor((f) => f.sub === 'bulk' && f.event?.type === 'bulk.completed' && f.event.operationId === id, { from, timeoutMs: 30_000, what: `bulk.completed of ${id}` });
  const done = await as.get(`/bulk-operations/${id}`);
  expect(done.status).toBe(200);
  return done.body;
}

describe('bulk operations: routes and errors', () => {
  it('refuses a filter without a criterion (422 filter_required) and invalid bodies (422 with paths)', async () => {
    for (const body of [{ action: 'cancel' }, { action: 'cancel', filter: {} }, { action: 'cancel', filter: { labels: {} } }, { action: 'cancel', filter: {}, dryRun: true }]) {
      const res = await http.post('/bulk-operations', body);
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.body.code).toBe('filter_required');
      expect(res.body.errors).toEqual([{ path: '/filter', message: expect.any(String) }]);
    }
    const cases: [unknown, string][] = [
      [{ action: 'delete', filter: { workflow: 'park' } }, '/action'],
      [{ filter: { workflow: 'park' } }, '/action'],
      [{ action: 'signal', filter: { workflow: 'park' } }, '/signal'],
      [{ action: 'cancel', filter: { workflow: 'park' }, signal: { name: 'go' } }, '/signal'],
      [{ action: 'pause', filter: { workflow: 'park' }, reason: 'why' }, '/reason'],
      [{ action: 'cancel', filter: { status: ['nope'] } }, '/filter/status/0'],
      [{ action: 'cancel', filter: { createdAfter: 'yesterday' } }, '/filter/createdAfter'],
      [{ action: 'cancel', filter: { ids: ['ex_1'] } }, '/filter/ids/0'],
      [{ action: 'cancel', filter: { workflow: 'park', color: 'red' } }, '/filter/color'],
      [{ action: 'signal', filter: { workflow: 'park' }, signal: {} }, '/signal/name'],
    ];
    for (const [body, path] of cases) {
      const res = await http.post('/bulk-operations', body);
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.body.code).toBe('validation_failed');
      expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(path);
    }
    expect((await http.post('/bulk-operations', undefined, { rawBody: '{"action":' })).status).toBe(400);
    expect((await http.post('/bulk-operations', undefined, { rawBody: 'x', headers: { 'content-type': 'text/plain' } })).status).toBe(415);
  });

  it('needs the write scope to act and read to look; unknown operations are 404', async () => {
    const res = await reader.post('/bulk-operations', { action: 'cancel', filter: { workflow: 'park' } });
    expect(res.status).toBe(403);
    expect((await reader.get('/bulk-operations')).status).toBe(200);
    expect((await api(server.url).get('/bulk-operations')).status).toBe(401);
    for (const id of ['bk_01M959M5C3WJSFW78Q5PFZXH7P', 'bk_nope', 'ex_01M959M5C3WJSFW78Q5PFZXH7P']) {
      const got = await http.get(`/bulk-operations/${id}`);
      expect(got.status).toBe(404);
      expect(got.body.code).toBe('bulk_operation_not_found');
      expect((await http.post(`/bulk-operations/${id}/cancel`)).body.code).toBe('bulk_operation_not_found');
    }
    expect((await http.get('/bulk-operations', { query: { limit: 0 } })).status).toBe(422);
  });

  it('replays a create by its idempotency key (200, same id) and refuses the key for another request (409)', async () => {
    const [id] = await startMany(server.engine, 'default', 'park', 1, { idem: 'k1' });
    const body = { action: 'cancel', filter: { labels: { idem: 'k1' } } };
    const first = await http.post('/bulk-operations', body, { headers: { 'idempotency-key': 'bulk-k1' } });
    expect(first.status).toBe(202);
    const again = await http.post('/bulk-operations', body, { headers: { 'idempotency-key': 'bulk-k1' } });
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replay')).toBe('true');
    expect(again.body.id).toBe(first.body.id);
    expect(again.body.matched).toBe(1);
    const other = await http.post('/bulk-operations', { ...body, reason: 'other' }, { headers: { 'idempotency-key': 'bulk-k1' } });
    expect(other.status).toBe(409);
    expect(other.body.code).toBe('idempotency_key_conflict');
    await waitForStatus(server.engine, id as string, 'cancelled');
    // One operation made the one cancel: the replay started nothing.
    const events = await http.get(`/executions/${id}/events`);
    expect(events.body.items.filter((e: { type: string }) => e.type === 'workflow.cancelled')).toHaveLength(1);
  });
});

describe('bulk operations: acting', () => {
  it('cancels 2,000 waiting executions by label with exact counts, after a dry run that changes nothing', async () => {
    await startMany(server.engine, 'default', 'park', 2000, { batch: 'b1' });
    const bystanders = await startMany(server.engine, 'default', 'park', 20, { batch: 'b2' });
    const acmeIds = await startMany(server.engine, 'acme', 'park', 30, { batch: 'b1' });

    const operations = async (): Promise<number> => (await http.get('/bulk-operations', { query: { limit: 1000 } })).body.items.length;
    const before = await operations();
    const dry = await http.post('/bulk-operations', { action: 'cancel', filter: { labels: { batch: 'b1' }, status: ['waiting'] }, dryRun: true });
    expect(dry.status).toBe(200);
    expect(dry.body.matched).toBe(2000);
    expect(dry.body.sample).toHaveLength(20);
    expect(dry.body.sample.every((id: string) => !acmeIds.includes(id))).toBe(true);
    expect((await listAll(http, { 'label.batch': 'b1', status: 'waiting' })).length).toBe(2000);
    expect(await operations()).toBe(before);

    const done = await runToEnd(http, { action: 'cancel', filter: { labels: { batch: 'b1' }, status: ['waiting'] }, reason: 'bulk test' });
    expect(done).toMatchObject({ action: 'cancel', status: 'completed', matched: 2000, succeeded: 2000, failed: 0, skipped: 0, errors: [] });
    expect(done.filter).toEqual({ labels: { batch: 'b1' }, status: ['waiting'] });
    expect(Date.parse(done.finishedAt)).toBeGreaterThanOrEqual(Date.parse(done.createdAt));
    const cancelled = await listAll(http, { 'label.batch': 'b1', status: 'cancelled' });
    expect(cancelled).toHaveLength(2000);
    // Its items leave the database once it ended (its row keeps the counts).
    await pollUntil(async () => (itemCount(server.dataDir, done.id as string) === 0 ? true : undefined), 'the finished operation\'s items deleted');
    const one = await http.get(`/executions/${cancelled[0].id}/events`);
    expect(one.body.items.find((e: { type: string }) => e.type === 'workflow.cancelled').data).toMatchObject({ reason: 'bulk test' });
    // Nobody else was touched: another label, another tenant.
    for (const id of bystanders) expect((await http.get(`/executions/${id}`)).body.status).toBe('waiting');
    expect((await listAll(acme, { 'label.batch': 'b1', status: 'waiting' })).length).toBe(30);

    // Progress went out on the firehose to subscriptions naming the types, never to an unfiltered one.
    const progress = ws.events('bulk').filter((e: any) => e.operationId === (done.id as string));
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(progress.at(-1)).toMatchObject({ type: 'bulk.completed', tenant: 'default', workflow: null, data: { action: 'cancel', status: 'completed', matched: 2000, succeeded: 2000, failed: 0, skipped: 0 } });
    expect(progress[0]).toMatchObject({ type: 'bulk.progress', data: { status: 'running' } });
    expect(ws.events('all').some((e: any) => String(e.type).startsWith('bulk.'))).toBe(false);

    // Audited like every write route.
    await server.flushAudit();
    const audit = await http.get('/audit', { query: { route: '/api/v1/bulk-operations' } });
    expect(audit.body.items.some((a: { targetId: string; status: number }) => a.targetId === done.id && a.status === 202)).toBe(true);
  });

  it('counts executions whose state refuses the action as skipped and other errors as failed (with their codes)', async () => {
    const waiting = await startMany(server.engine, 'default', 'park', 5, { mix: 'm' });
    const finished = await startMany(server.engine, 'default', 'once', 3, { mix: 'm' });
    for (const id of finished) await waitForStatus(server.engine, id, 'completed');
    const [wrong] = await startMany(server.engine, 'default', 'other', 1, { mix: 'm' });
    const done = await runToEnd(http, { action: 'signal', filter: { labels: { mix: 'm' } }, signal: { name: 'go', payload: { ok: 1 } } });
    expect(done).toMatchObject({ status: 'completed', matched: 9, succeeded: 5, skipped: 3, failed: 1, errors: [{ executionId: wrong, code: 'unknown_signal' }] });
    for (const id of waiting) {
      const x = await waitForStatus(server.engine, id, 'completed');
      expect(x.output).toEqual({ ok: 1 });
    }
  });

  it('pauses, resumes and retries by filter, ids included, with the same checks as the single routes', async () => {
    const ids = await startMany(server.engine, 'default', 'park', 4, { pr: 'p' });
    const paused = await runToEnd(http, { action: 'pause', filter: { ids: [...ids, ids[0], 'ex_01M959M5C3WJSFW78Q5PFZXH7P'] } });
    expect(paused).toMatchObject({ matched: 4, succeeded: 4, skipped: 0, failed: 0 });
    for (const id of ids) expect((await http.get(`/executions/${id}`)).body.status).toBe('paused');
    const again = await runToEnd(http, { action: 'pause', filter: { labels: { pr: 'p' } } });
    expect(again).toMatchObject({ matched: 4, succeeded: 0, skipped: 4 });
    const resumed = await runToEnd(http, { action: 'resume', filter: { labels: { pr: 'p' }, workflow: 'park', status: ['paused'] } });
    expect(resumed).toMatchObject({ matched: 4, succeeded: 4 });
    for (const id of ids) expect((await http.get(`/executions/${id}`)).body.status).toBe('waiting');
    // Waiting executions cannot be retried: skipped, not failed.
    expect(await runToEnd(http, { action: 'retry', filter: { labels: { pr: 'p' } }, reason: 'note' })).toMatchObject({ matched: 4, skipped: 4, failed: 0 });
  });

  it('stops an operation on cancel: what was done stays done, the rest is left alone, a second cancel is 409', async () => {
    const ids = await startMany(server.engine, 'default', 'park', 2000, { stop: 's' });
    const from = ws.frames.length;
    const created = await http.post('/bulk-operations', { action: 'signal', filter: { labels: { stop: 's' } }, signal: { name: 'go' } });
    expect(created.status).toBe(202);
    const id = created.body.id as string;
    const cancelled = await http.post(`/bulk-operations/${id}/cancel`);
    expect(cancelled.status).toBe(202);
    expect(cancelled.body).toMatchObject({ id, status: 'cancelled', matched: 2000 });
    expect(cancelled.body.finishedAt).not.toBeNull();
    const end = await ws.waitFor((f) => f.sub === 'bulk' && f.event?.type === 'bulk.completed' && f.event.operationId === id, { from, what: 'bulk.completed' });
    expect(end.event.data.status).toBe('cancelled');
    const final = (await http.get(`/bulk-operations/${id}`)).body;
    expect(final.status).toBe('cancelled');
    expect(final.succeeded).toBeLessThan(2000);
    expect(final).toMatchObject({ failed: 0, skipped: 0 });
    // The executions it did not reach still wait for their signal.
    expect((await listAll(http, { 'label.stop': 's', status: 'waiting' })).length).toBe(2000 - final.succeeded);
    expect(ids).toHaveLength(2000);
    const twice = await http.post(`/bulk-operations/${id}/cancel`);
    expect(twice.status).toBe(409);
    expect(twice.body.code).toBe('bulk_operation_finished');
  });

  it('keeps tenants apart: a filter never matches another tenant\'s executions; another tenant\'s operation is 404', async () => {
    const mine = await startMany(server.engine, 'default', 'park', 3, { cross: 'c' });
    const theirs = await startMany(server.engine, 'acme', 'park', 2, { cross: 'c' });
    const dry = await acme.post('/bulk-operations', { action: 'cancel', filter: { ids: [...mine, ...theirs] }, dryRun: true });
    expect(dry.body.matched).toBe(2);
    expect([...dry.body.sample].sort()).toEqual([...theirs].sort());
    const acmeWs = await connectWs(server.url, '/api/v1/ws/events?types=bulk.completed', { headers: { authorization: `Bearer ${acmeKey}` } });
    acmeWs.send({ op: 'subscribe', id: 'bulk', filter: { types: ['bulk.completed'] } });
    await acmeWs.waitFor((f) => f.op === 'ack' && f.id === 'bulk');
    const done = await runToEnd(acme, { action: 'cancel', filter: { labels: { cross: 'c' } } }, acmeWs);
    await acmeWs.close();
    expect(done).toMatchObject({ matched: 2, succeeded: 2 });
    // Its events went to its own tenant's subscribers only.
    expect(ws.events('bulk').some((e: any) => e.operationId === done.id)).toBe(false);
    for (const id of mine) expect((await http.get(`/executions/${id}`)).body.status).toBe('waiting');
    expect((await http.get(`/bulk-operations/${done.id}`)).status).toBe(404);
    expect((await http.post(`/bulk-operations/${done.id}/cancel`)).status).toBe(404);
    expect((await http.get('/bulk-operations', { query: { limit: 1000 } })).body.items.some((o: { id: string }) => o.id === done.id)).toBe(false);
    const list = await acme.get('/bulk-operations', { query: { limit: 1 } });
    expect(list.body.items).toHaveLength(1);
    expect(list.body.items[0].id).toBe(done.id);
  });

  it('lists operations newest first, paged', async () => {
    const first = await http.get('/bulk-operations', { query: { limit: 2 } });
    expect(first.status).toBe(200);
    expect(first.body.items).toHaveLength(2);
    expect(first.body.nextCursor).toBe(first.body.items[1].id);
    const next = await http.get('/bulk-operations', { query: { limit: 2, cursor: first.body.nextCursor } });
    expect(next.body.items[0].id < first.body.items[1].id).toBe(true);
    expect(first.body.items[0].id > first.body.items[1].id).toBe(true);
  });
});

describe('bulk operations: typed client and CLI', () => {
  it('creates, previews, follows, lists, reads and cancels through the client', async () => {
    const client = createClient({ url: server.url, key: ADMIN });
    const ids = await startMany(server.engine, 'default', 'park', 3, { client: 'c' });
    const req = { action: 'signal', filter: { labels: { client: 'c' } }, signal: { name: 'go', payload: { via: 'client' } } } as const;
    expect(await client.bulkOperations.preview(req)).toEqual({ matched: 3, sample: [...ids].reverse() });
    const accepted = await client.bulkOperations.create(req);
    const seen: number[] = [];
    const done = await client.bulkOperations.wait(accepted.id, { intervalMs: 20, onProgress: (op) => seen.push(op.succeeded) });
    expect(done).toMatchObject({ id: accepted.id, status: 'completed', matched: 3, succeeded: 3 });
    expect(seen.at(-1)).toBe(3);
    expect((await client.bulkOperations.get(accepted.id)).action).toBe('signal');
    expect((await client.bulkOperations.list({ limit: 1 })).items[0]?.id).toBe(accepted.id);
    const err = await client.bulkOperations.cancel(accepted.id).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ActorflowApiError);
    expect((err as ActorflowApiError).code).toBe('bulk_operation_finished');
  });

  it('runs bulk <action> with --dry-run, follows progress as plain lines off a terminal, and bulk list|get|stop', async () => {
    const env = { ...process.env, ACTORFLOW_URL: server.url, ACTORFLOW_KEY: ADMIN, NO_COLOR: '1' };
    const cli = (...args: string[]) => runCli(args, env);
    await startMany(server.engine, 'default', 'park', 4, { cli: 'c' });
    const dry = await cli('bulk', 'cancel', '--label', 'cli=c', '--status', 'waiting', '--dry-run');
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout.split('\n')[0]).toBe('4 executions would get cancel');
    expect((await listAll(http, { 'label.cli': 'c', status: 'waiting' })).length).toBe(4);
    expect((await cli('bulk', 'cancel')).code).toBe(2);

    const run = await cli('bulk', 'cancel', '--label', 'cli=c', '--workflow', 'park', '--reason', 'cli');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/^bk_\w+: cancel of 4 executions$/m);
    expect(run.stderr).toMatch(/^4\/4 \(100%\) succeeded 4 {2}skipped 0 {2}failed 0 {2}completed$/m);
    expect(run.stderr).not.toContain('\r');
    expect(run.stdout).toMatch(/^status: +completed$/m);
    const id = /^(bk_\w+):/m.exec(run.stderr)?.[1] as string;

    const again = await cli('bulk', 'cancel', '--label', 'cli=c', '--json');
    expect(again.code).toBe(ExitCode.ok);
    expect(JSON.parse(again.stdout)).toMatchObject({ matched: 4, skipped: 4, status: 'completed' });
    const listed = await cli('bulk', 'list', '--limit', '2', '--json');
    expect(JSON.parse(listed.stdout).items.map((o: { id: string }) => o.id)).toContain(id);
    const got = await cli('bulk', 'get', id, '--json');
    expect(JSON.parse(got.stdout)).toMatchObject({ id, succeeded: 4, filter: { labels: { cli: 'c' }, workflow: 'park' } });
    expect((await cli('bulk', 'stop', id)).code).toBe(ExitCode.conflict);
    expect((await cli('bulk', 'get', 'bk_01M959M5C3WJSFW78Q5PFZXH7P')).code).toBe(ExitCode.notFound);
    const queued = await cli('bulk', 'signal', 'go', '--id', 'ex_01M959M5C3WJSFW78Q5PFZXH7P', '--payload', '{"a":1}', '--no-wait', '--json');
    expect(queued.code, queued.stderr).toBe(0);
    expect(JSON.parse(queued.stdout)).toMatchObject({ status: 'running', matched: 0 });
  });
});

const PARK_YAML = `
name: park
steps:
  - { id: w, type: wait, signal: go }
  - { id: after, type: task, agent: echo, input: "$.steps.w.output" }
`;

describe('bulk operations: resume', () => {
  it('finds the calls of `started` executions in their journal and makes only the missing ones, each exactly once', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'actorflow-bulk-resume-'));
    try {
      // The state a crash leaves: 1–150 marked and signalled, 151–200 marked but not signalled yet, 201–300 not marked.
      let s = await startTestServer({ dataDir });
      let h = api(s.url);
      expect((await h.post('/workflow-definitions', PARK)).status).toBe(201);
      const ids = await startMany(s.engine, 'default', 'park', 300, { resume: 'r' });
      const payload = { n: 7 };
      const marks: number[] = [];
      for (const [i, id] of ids.entries()) {
        marks.push((await h.get(`/executions/${id}`)).body.lastSeq as number);
        if (i < 150) expect((await h.post(`/executions/${id}/signals/go`, { payload })).status).toBe(202);
      }
      await s.close();
      const opId = 'bk_01M959M5C3WJSFW78Q5PFZXH7P';
      const db = new Database(join(dataDir, 'actorflow.db'));
      db.prepare('INSERT INTO bulk_operations VALUES (?, ?, ?, ?, ?, NULL, ?, ?, 0, 0, 0, ?, 1, ?, NULL, NULL, NULL)').run(
        opId, 'default', 'signal', JSON.stringify({ labels: { resume: 'r' } }), JSON.stringify({ name: 'go', payload }), 'running', 300, '[]', Date.now(),
      );
      const item = db.prepare('INSERT INTO bulk_operation_items (operation_id, seq, execution_id, outcome, mark_seq) VALUES (?, ?, ?, ?, ?)');
      ids.forEach((id, i) => item.run(opId, i + 1, id, i < 200 ? 'started' : null, i < 200 ? marks[i] : null));
      // An operation that ended before the stop, its items not all deleted yet (more than one slice of them).
      const endedId = 'bk_01M959M5C3WJSFW78Q5PFZXH7Q';
      db.prepare('INSERT INTO bulk_operations VALUES (?, ?, ?, ?, ?, NULL, ?, ?, 2500, 0, 0, ?, 2501, ?, ?, NULL, NULL)').run(
        endedId, 'default', 'cancel', JSON.stringify({ labels: { gone: 'g' } }), null, 'completed', 2500, '[]', Date.now(), Date.now(),
      );
      for (let i = 1; i <= 2500; i++) item.run(endedId, i, ids[i % ids.length], 'succeeded', null);
      db.close();

      s = await startTestServer({ dataDir });
      h = api(s.url);
      try {
        const done = await pollUntil(async () => {
          const res = await h.get(`/bulk-operations/${opId}`);
          return res.body.status === 'completed' ? res.body : undefined;
        }, 'the resumed operation completed');
        expect(done).toMatchObject({ matched: 300, succeeded: 300, failed: 0, skipped: 0 });
        // Finished operations keep their row, not their items: the resumed one once it ended, the other at the start.
        await pollUntil(async () => (itemCount(dataDir, opId) === 0 && itemCount(dataDir, 'bk_01M959M5C3WJSFW78Q5PFZXH7Q') === 0 ? true : undefined), 'the items of both finished operations deleted');
        expect((await h.get('/bulk-operations/bk_01M959M5C3WJSFW78Q5PFZXH7Q')).body).toMatchObject({ status: 'completed', matched: 2500, succeeded: 2500 });
        for (const id of ids) {
          const events = (await h.get(`/executions/${id}/events`)).body.items as { type: string; data: { payload?: unknown } }[];
          const signals = events.filter((e) => e.type === 'workflow.signal.received');
          expect(signals, id).toHaveLength(1);
          expect(signals[0]?.data.payload).toEqual(payload);
        }
      } finally {
        await s.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('bulk operations: kill -9', () => {
  let root = '';
  let proc: ServerProcess | undefined;
  afterAll(async () => {
    await proc?.kill();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('resumes a signal operation after SIGKILL and completes it with exact counts, no execution signalled twice', async () => {
    root = await mkdtemp(join(tmpdir(), 'actorflow-bulk-crash-'));
    const machines = join(root, 'machines');
    const data = join(root, 'data');
    await mkdir(machines);
    await writeFile(join(machines, 'park.yaml'), PARK_YAML);
    proc = await startServerProcess({ dataDir: data, machinesDir: machines, sync: 'full' });
    const N = 1500;
    let h = api(proc.url);
    const ids: string[] = [];
    for (let i = 0; i < N; i += 50) {
      const started = await Promise.all(Array.from({ length: 50 }, () => h.post('/executions', { workflow: 'park', labels: { crash: 'k' } })));
      for (const s of started) ids.push(s.body.id);
    }
    const live = await connectWs(proc.url, '/api/v1/ws/events?types=bulk.progress');
    const created = await h.post('/bulk-operations', { action: 'signal', filter: { labels: { crash: 'k' } }, signal: { name: 'go', payload: { n: 1 } } });
    expect(created.status).toBe(202);
    expect(created.body.matched).toBe(N);
    const id = created.body.id as string;
    // The first batch is durable: kill in the middle of the run.
    const progress = await live.waitEvent('events', (e: any) => e.operationId === id && e.data.succeeded >= 100, 30_000);
    await proc.kill();
    await live.close();
    expect((progress as any).data.succeeded).toBeLessThan(N);

    proc = await startServerProcess({ dataDir: data, machinesDir: machines, sync: 'full' });
    h = api(proc.url);
    const done = await pollUntil(async () => {
      const res = await h.get(`/bulk-operations/${id}`);
      return res.body.status === 'completed' ? res.body : undefined;
    }, 'the operation completed after the restart', 60_000);
    expect(done).toMatchObject({ matched: N, succeeded: N, failed: 0, skipped: 0, errors: [] });
    // Exactly one signal each: none lost, none sent again by the resume.
    const counts = new Map<number, number>();
    for (let i = 0; i < ids.length; i += 25) {
      const pages = await Promise.all(ids.slice(i, i + 25).map((x) => h.get(`/executions/${x}/events`, { query: { limit: 1000 } })));
      for (const p of pages) {
        const n = p.body.items.filter((e: { type: string }) => e.type === 'workflow.signal.received').length;
        counts.set(n, (counts.get(n) ?? 0) + 1);
      }
    }
    expect(Object.fromEntries(counts)).toEqual({ 1: N });
    expect(await proc.stop()).toBe(0);
  }, 120_000);
});
