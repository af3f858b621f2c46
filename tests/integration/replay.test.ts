/**
 * Snapshots every few dozen inputs, replay in between (issue 12, DESIGN "Recovery = snapshot + replay"): a commit of
 * a flow journals the inputs it applied (step results, retries' timers, a sleep's timer, pause, resume, a label
 * update, a signal) instead of a snapshot, and a restore replays them with effects suppressed. Checked across a
 * real SIGKILL, with no snapshot at all (the default of 64 inputs) and with one every 3 inputs; and a journal whose
 * inputs no longer give its events is refused (`replay_diverged`), never run from a wrong state.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { msgpackCodec as codec } from '../../src/common/codec.ts';
import type { RebuildStats } from '../../src/engine/types.ts';
import { api } from '../support/http.ts';
import { startServerProcess, type ServerProcess } from '../support/process.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { pollUntil, waitForEnd, waitForStatus } from '../support/wait.ts';

const MIX = {
  name: 'mix',
  steps: [
    { id: 'a', type: 'task', agent: 'echo', input: '$.input' },
    // Two failed attempts and their backoff timers, then a result.
    { id: 'r', type: 'task', agent: 'fail', input: { times: 2 }, retry: { maxAttempts: 3, backoff: 'fixed', initialMs: 10 } },
    // Its agent journals a `step.log` event outside the actor: a replay must step over it, and never call the agent again.
    { id: 'l', type: 'task', agent: 'log', input: { message: 'once' } },
    { id: 'n', type: 'sleep', ms: 20 },
    { id: 'w', type: 'wait', signal: 'go' },
    { id: 'b', type: 'task', agent: 'echo', input: { a: '$.steps.a.output', w: '$.steps.w.output' } },
  ],
};

interface Ev {
  seq: number;
  type: string;
  stepId: string | null;
}

/** Rows of the database file read over a second connection (WAL readers see what is committed). */
function query<T>(dataDir: string, sql: string, ...params: unknown[]): T[] {
  const db = new Database(join(dataDir, 'actorflow.db'), { readonly: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

/** Changes the database file over a second connection (the server's writes wait for it, or it for them). */
function tamper<T>(dataDir: string, fn: (db: Database.Database) => T): T {
  const db = new Database(join(dataDir, 'actorflow.db'));
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

/** Until no execution is held in memory (each passivated). */
/** `/status`'s rebuild counters (admin `system`), read from the engine. */
const rebuilt = async (s: TestServer) => ((await s.engine.status()) as unknown as { rebuilt: RebuildStats }).rebuilt;

const allPassivated = (s: TestServer) => pollUntil(async () => ((await s.engine.status()) as unknown as { live: number }).live === 0 || undefined, 'all passivated', 5000);

/** Starts one execution of `workflow` and returns its id once it waits and has left memory. */
async function parked(s: TestServer, workflow: string, input: unknown): Promise<string> {
  const { body } = await api(s.url).post('/executions', { workflow, input });
  const id = body.id as string;
  await waitForStatus(s.engine, id, 'waiting');
  await allPassivated(s);
  return id;
}

describe.each([
  { every: undefined, label: 'no snapshot (the default of 64 inputs): replayed from its start' },
  { every: '3', label: 'a snapshot every 3 inputs: the rest replayed' },
])('replay across SIGKILL, $label', ({ every }) => {
  let dir = '';
  let proc: ServerProcess | undefined;
  afterAll(async () => {
    await proc?.kill();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('rebuilds waiting executions from their journaled inputs: same events, no step run again, then they complete', async () => {
    dir = await mkdtemp(join(tmpdir(), 'actorflow-replay-'));
    const machines = join(dir, 'machines');
    const data = join(dir, 'data');
    await mkdir(machines);
    // No passivation before the kill (it would write a snapshot of its own): what is stored is what the inputs made. After
    // the restart the waiting executions are not rebuilt at boot; their signal rebuilds them.
    const env: Record<string, string> = { ACTORFLOW_PASSIVATE_MS: '600000', ACTORFLOW_PASSIVATE_QUIET_MS: '600000', ...(every ? { ACTORFLOW_SNAPSHOT_EVERY: every } : {}) };
    proc = await startServerProcess({ dataDir: data, machinesDir: machines, sync: 'full', env });
    let http = api(proc.url);
    expect((await http.post('/workflow-definitions', MIX)).status).toBe(201);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { status, body } = await http.post('/executions', { workflow: 'mix', input: { i } });
      expect(status).toBe(201);
      ids.push(body.id as string);
    }
    const view = async (id: string) => (await http.get(`/executions/${id}`)).body;
    for (const id of ids) await pollUntil(async () => ((await view(id)).status === 'waiting' ? true : undefined), `${id} waits`, 10_000);
    // More inputs of other kinds: a pause and a resume, a label update.
    expect((await http.post(`/executions/${ids[0]}/pause`, {})).status).toBe(202);
    expect((await http.post(`/executions/${ids[0]}/resume`, {})).status).toBe(202);
    expect((await http.patch(`/executions/${ids[1]}`, { labels: { team: 'blue' } })).status).toBe(200);
    const events = async (id: string): Promise<Ev[]> => ((await http.get(`/executions/${id}/events`, { query: { limit: 1000 } })).body.items as Ev[]).map(({ seq, type, stepId }) => ({ seq, type, stepId }));
    const before = new Map<string, Ev[]>();
    for (const id of ids) before.set(id, await events(id));
    await proc.kill();
    proc = undefined;

    for (const id of ids) {
      const inputs = query<{ n: number }>(data, 'SELECT n FROM inputs WHERE execution_id = ? ORDER BY n', id).map((r) => r.n);
      const snaps = query<{ data: Buffer }>(data, 'SELECT data FROM snapshots WHERE execution_id = ?', id);
      if (every === undefined) {
        // START, a's result, r's three results and two timers, l's result, n's timer, and more for some.
        expect(snaps).toEqual([]);
        expect(inputs[0]).toBe(0);
        expect(inputs.length).toBeGreaterThanOrEqual(9);
      } else {
        expect(snaps).toHaveLength(1);
        const snap = codec.decode<{ format: number; inputs: number }>(snaps[0]?.data as Buffer);
        expect(snap.format).toBe(3);
        // Only the inputs after it are kept, fewer than 3.
        expect(inputs.every((n) => n >= snap.inputs)).toBe(true);
        expect(inputs.length).toBeLessThan(3);
      }
      expect(inputs).toEqual(inputs.map((_, i) => (inputs[0] ?? 0) + i));
    }

    proc = await startServerProcess({ dataDir: data, machinesDir: machines, sync: 'full', env });
    http = api(proc.url);
    await pollUntil(async () => ((await http.get('/ready')).status === 200 ? true : undefined), 'ready', 20_000);
    expect((await view(ids[1] as string)).labels).toEqual({ team: 'blue' });
    for (const id of ids) expect((await http.post(`/executions/${id}/signals/go`, { payload: { id } })).status).toBe(202);
    for (const [k, id] of ids.entries()) {
      const end = await pollUntil(async () => {
        const v = await view(id);
        return v.status === 'completed' || v.status === 'failed' ? v : undefined;
      }, `${id} ends`, 20_000);
      expect(end.status).toBe('completed');
      expect(end.output).toEqual({ a: { i: k }, w: { id } });
      const after = await events(id);
      // The journal before the kill is unchanged, the rest follows it without a gap.
      expect(after.slice(0, before.get(id)?.length)).toEqual(before.get(id));
      expect(after.map((e) => e.seq)).toEqual(after.map((_, i) => i + 1));
      // Nothing ran twice: one start of a, three attempts of r, one log line.
      const count = (type: string, stepId: string) => after.filter((e) => e.type === type && e.stepId === stepId).length;
      expect(count('workflow.step.started', 'a')).toBe(1);
      expect(count('workflow.step.started', 'r')).toBe(3);
      expect(count('step.log', 'l')).toBe(1);
    }
  });
});

describe('a replay that does not give the journal back', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ passivateMs: 50, passivateQuietMs: 20 });
    expect((await api(server.url).post('/workflow-definitions', MIX)).status).toBe(201);
    // Few inputs (START, a's result): it leaves memory without a snapshot, they are replayed.
    expect((await api(server.url).post('/workflow-definitions', { name: 'brief', steps: [{ id: 'a', type: 'task', agent: 'echo', input: '$.input' }, { id: 'w', type: 'wait', signal: 'go' }] })).status).toBe(201);
  });
  afterAll(async () => server.close());

  it('is refused with replay_diverged and changes nothing', async () => {
    const id = await parked(server, 'brief', { i: 9 });
    // The journal now says a's result made one event more than it does.
    expect(tamper(server.dataDir, (db) => db.prepare('UPDATE inputs SET end_seq = end_seq + 1 WHERE execution_id = ? AND n = 1').run(id).changes)).toBe(1);
    const events = async () => (await api(server.url).get(`/executions/${id}/events`, { query: { limit: 1000 } })).body.items as Ev[];
    const before = await events();
    const refusedBefore = (await rebuilt(server)).refused;
    const res = await api(server.url).post(`/executions/${id}/signals/go`, { payload: {} });
    expect(res.status).toBe(500);
    expect(res.body.code).toBe('replay_diverged');
    expect(await events()).toEqual(before);
    expect((await api(server.url).get(`/executions/${id}`)).body.status).toBe('waiting');
    // Counted, for operators to alert on.
    expect((await rebuilt(server)).refused).toBe(refusedBefore + 1);
    expect((await api(server.url).get('/metrics')).text).toContain(`actorflow_execution_rebuilds{outcome="refused"} ${refusedBefore + 1}`);
  });

  it('replays inputs an older build journaled (another replay format) without their seq checks, then replaces them with a snapshot', async () => {
    expect((await api(server.url).post('/workflow-definitions', { name: 'two-waits', steps: [{ id: 'a', type: 'task', agent: 'echo', input: '$.input' }, { id: 'w1', type: 'wait', signal: 'go' }, { id: 'w2', type: 'wait', signal: 'again' }] })).status).toBe(201);
    const id = await parked(server, 'two-waits', { i: 11 });
    // a's result as a build of replay format 0 journaled it, one event longer than this build makes it.
    const changed = tamper(server.dataDir, (db) => {
      const row = db.prepare('SELECT data FROM inputs WHERE execution_id = ? AND n = 1').get(id) as { data: Buffer };
      const old = { ...codec.decode<Record<string, unknown>>(row.data), f: 0 };
      return db.prepare('UPDATE inputs SET data = ?, end_seq = end_seq + 1 WHERE execution_id = ? AND n = 1').run(codec.encode(old), id).changes;
    });
    expect(changed).toBe(1);
    expect((await api(server.url).post(`/executions/${id}/signals/go`, { payload: { v: 1 } })).status).toBe(202);
    const snap = query<{ data: Buffer }>(server.dataDir, 'SELECT data FROM snapshots WHERE execution_id = ?', id)[0];
    expect(codec.decode<{ format: number }>(snap?.data as Buffer).format).toBe(3);
    expect(query(server.dataDir, 'SELECT n FROM inputs WHERE execution_id = ?', id)).toEqual([]);
    expect((await api(server.url).post(`/executions/${id}/signals/again`, { payload: { v: 2 } })).status).toBe(202);
    const end = await waitForEnd(server.engine, id);
    expect(end.output).toEqual({ v: 2 });
  });

  it('replays an execution that was never tampered with, in the same server', async () => {
    const id = await parked(server, 'mix', { i: 10 });
    expect((await api(server.url).post(`/executions/${id}/signals/go`, { payload: { ok: 1 } })).status).toBe(202);
    const end = await waitForEnd(server.engine, id);
    expect(end.output).toEqual({ a: { i: 10 }, w: { ok: 1 } });
  });
});

describe('passivation', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ passivateMs: 50, passivateQuietMs: 20 });
  });
  afterAll(async () => server.close());

  it('writes a snapshot before an execution with 8 inputs or more since its last one leaves memory, and none for fewer', async () => {
    const echoes = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `e${i}`, type: 'task', agent: 'echo', input: '$.input' }));
    expect((await api(server.url).post('/workflow-definitions', { name: 'long-then-wait', steps: [...echoes(10), { id: 'w', type: 'wait', signal: 'go' }] })).status).toBe(201);
    expect((await api(server.url).post('/workflow-definitions', { name: 'short-then-wait', steps: [...echoes(2), { id: 'w', type: 'wait', signal: 'go' }] })).status).toBe(201);
    const long = (await api(server.url).post('/executions', { workflow: 'long-then-wait', input: { k: 1 } })).body.id as string;
    const short = (await api(server.url).post('/executions', { workflow: 'short-then-wait', input: { k: 2 } })).body.id as string;
    await allPassivated(server);
    // START and 10 results: a snapshot covering all 11, no input rows left.
    const snap = query<{ data: Buffer }>(server.dataDir, 'SELECT data FROM snapshots WHERE execution_id = ?', long)[0];
    expect(codec.decode<{ format: number; inputs?: number }>(snap?.data as Buffer)).toMatchObject({ format: 3, inputs: 11 });
    expect(query(server.dataDir, 'SELECT n FROM inputs WHERE execution_id = ?', long)).toEqual([]);
    // START and 2 results: replayed when it comes back.
    expect(query(server.dataDir, 'SELECT data FROM snapshots WHERE execution_id = ?', short)).toEqual([]);
    expect(query<{ n: number }>(server.dataDir, 'SELECT n FROM inputs WHERE execution_id = ? ORDER BY n', short).map((r) => r.n)).toEqual([0, 1, 2]);
    const before = await rebuilt(server);
    for (const id of [long, short]) expect((await api(server.url).post(`/executions/${id}/signals/go`, { payload: { id } })).status).toBe(202);
    // Two rebuilds: the long one from its snapshot with no input to replay, the short one replaying its 3.
    expect(await rebuilt(server)).toEqual({ executions: before.executions + 2, inputsReplayed: before.inputsReplayed + 3, refused: before.refused });
    expect((await waitForEnd(server.engine, long)).output).toEqual({ id: long });
    expect((await waitForEnd(server.engine, short)).output).toEqual({ id: short });
    // Completed: nothing will restore them, so neither their snapshot nor their inputs stay.
    for (const id of [long, short]) {
      expect(query(server.dataDir, 'SELECT seq FROM snapshots WHERE execution_id = ?', id)).toEqual([]);
      expect(query(server.dataDir, 'SELECT n FROM inputs WHERE execution_id = ?', id)).toEqual([]);
    }
  });
});

describe('a data directory another build wrote', () => {
  const TWICE = { name: 'twice', steps: [{ id: 'a', type: 'task', agent: 'echo', input: '$.input' }, { id: 'w1', type: 'wait', signal: 'go' }, { id: 'w2', type: 'wait', signal: 'again' }] };

  it('rebuilds an execution from a snapshot without a position (format 1) and replaces it with its next commit', async () => {
    const first = await startTestServer({ keepDataDir: true, snapshotEveryInputs: 1 });
    expect((await api(first.url).post('/workflow-definitions', TWICE)).status).toBe(201);
    const { body } = await api(first.url).post('/executions', { workflow: 'twice', input: { i: 7 } });
    const id = body.id as string;
    await waitForStatus(first.engine, id, 'waiting');
    await first.close();
    // What a build before journaled inputs left: a snapshot of format 1 (no inputs, no seq) and no input rows.
    const format = tamper(first.dataDir, (db) => {
      const row = db.prepare('SELECT data FROM snapshots WHERE execution_id = ?').get(id) as { data: Buffer };
      const { inputs: _inputs, seq: _seq, ...legacy } = codec.decode<Record<string, unknown>>(row.data);
      db.prepare('UPDATE snapshots SET data = ? WHERE execution_id = ?').run(codec.encode({ ...legacy, format: 1 }), id);
      db.prepare('DELETE FROM inputs WHERE execution_id = ?').run(id);
      return legacy.format;
    });
    expect(format).toBe(3);
    const second = await startTestServer({ dataDir: first.dataDir });
    try {
      expect((await api(second.url).post(`/executions/${id}/signals/go`, { payload: { v: 1 } })).status).toBe(202);
      // The signal's commit replaced it with one that says where it stands (one input after the old one), and no input row.
      const snap = query<{ data: Buffer }>(first.dataDir, 'SELECT data FROM snapshots WHERE execution_id = ?', id)[0];
      expect(codec.decode<{ format: number; inputs?: number }>(snap?.data as Buffer)).toMatchObject({ format: 3, inputs: 1 });
      expect(query(first.dataDir, 'SELECT n FROM inputs WHERE execution_id = ?', id)).toEqual([]);
      expect((await api(second.url).post(`/executions/${id}/signals/again`, { payload: { v: 2 } })).status).toBe(202);
      const end = await waitForEnd(second.engine, id);
      expect(end.status).toBe('completed');
      expect(end.output).toEqual({ v: 2 });
    } finally {
      await second.close();
      await rm(first.dataDir, { recursive: true, force: true });
    }
  });
  it('refuses at boot an execution whose snapshot it cannot read, counts it, and recovers the others', async () => {
    const first = await startTestServer({ keepDataDir: true });
    // A task in flight at the sleep agent: running, so recovery rebuilds it at boot.
    expect((await api(first.url).post('/workflow-definitions', { name: 'long-task', steps: [{ id: 'a', type: 'task', agent: 'sleep', input: { ms: 600_000 } }] })).status).toBe(201);
    const start = async () => (await api(first.url).post('/executions', { workflow: 'long-task', input: {} })).body.id as string;
    const [bad, good] = [await start(), await start()];
    await first.close();
    // The graceful stop wrote their snapshots; one of them now says a newer build wrote it.
    tamper(first.dataDir, (db) => {
      const row = db.prepare('SELECT data FROM snapshots WHERE execution_id = ?').get(bad) as { data: Buffer };
      return db.prepare('UPDATE snapshots SET data = ? WHERE execution_id = ?').run(codec.encode({ ...codec.decode<Record<string, unknown>>(row.data), format: 99 }), bad).changes;
    });
    const second = await startTestServer({ dataDir: first.dataDir });
    try {
      expect((await rebuilt(second)).refused).toBe(1);
      expect(second.engine.recoveryStats?.()?.executions).toBe(1);
      expect((await api(second.url).get('/metrics')).text).toContain('actorflow_execution_rebuilds{outcome="refused"} 1');
      expect((await api(second.url).get(`/executions/${good}`)).body.status).toBe('running');
      expect((await api(second.url).post(`/executions/${good}/cancel`, {})).status).toBe(202);
      await waitForStatus(second.engine, good, 'cancelled');
    } finally {
      await second.close();
      await rm(first.dataDir, { recursive: true, force: true });
    }
  });

  it('drops the snapshots it kept for completed executions, and only those', async () => {
    const first = await startTestServer({ keepDataDir: true, snapshotEveryInputs: 1 });
    expect((await api(first.url).post('/workflow-definitions', TWICE)).status).toBe(201);
    const start = async (i: number) => (await api(first.url).post('/executions', { workflow: 'twice', input: { i } })).body.id as string;
    const [done, waiting] = [await start(1), await start(2)];
    for (const signal of ['go', 'again']) expect((await api(first.url).post(`/executions/${done}/signals/${signal}`, { payload: {} })).status).toBe(202);
    await waitForEnd(first.engine, done);
    await waitForStatus(first.engine, waiting, 'waiting');
    await first.close();
    // What an older build left: the completed execution's last snapshot, and no record of migration 15.
    tamper(first.dataDir, (db) => {
      const row = db.prepare('SELECT seq, data FROM snapshots WHERE execution_id = ?').get(waiting) as { seq: number; data: Buffer };
      db.prepare('INSERT INTO snapshots VALUES (?, ?, ?)').run(done, row.seq, row.data);
      return db.prepare('DELETE FROM schema_migrations WHERE version = 15').run().changes;
    });
    const second = await startTestServer({ dataDir: first.dataDir });
    try {
      expect(query(first.dataDir, 'SELECT seq FROM snapshots WHERE execution_id = ?', done)).toEqual([]);
      expect(query(first.dataDir, 'SELECT seq FROM snapshots WHERE execution_id = ?', waiting)).toHaveLength(1);
      for (const signal of ['go', 'again']) expect((await api(second.url).post(`/executions/${waiting}/signals/${signal}`, { payload: { signal } })).status).toBe(202);
      expect((await waitForEnd(second.engine, waiting)).output).toEqual({ signal: 'again' });
    } finally {
      await second.close();
      await rm(first.dataDir, { recursive: true, force: true });
    }
  });
});
