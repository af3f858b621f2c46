/** Schedules on a manual clock (the engine keeps real time): cron minutes, intervals, one-time runs, enable/disable, overlap, catch-up across a restart. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Api, api } from '../support/http.ts';
import { ManualClock } from '../support/manual-clock.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const ECHO_FLOW = { name: 'sched-echo', steps: [{ id: 'a', type: 'task', agent: 'echo', input: {} }] };
const WAIT_FLOW = { name: 'sched-wait', steps: [{ id: 'w', type: 'wait', signal: 'go' }] };
const OPEN = ['pending', 'running', 'waiting', 'paused'];

/** Runs of a schedule (executions labelled `schedule=<id>`), oldest first. */
async function runsOf(server: TestServer, id: string, status?: string[]) {
  const page = await server.engine.list('default', { labels: { schedule: id }, ...(status === undefined ? {} : { status: status as never }) }, { limit: 1000 });
  return [...page.items].sort((a, b) => (a.id < b.id ? -1 : 1));
}

async function register(http: Api): Promise<void> {
  for (const doc of [ECHO_FLOW, WAIT_FLOW]) expect((await http.post('/workflow-definitions', doc)).status).toBe(201);
}

describe('schedules on a manual clock', () => {
  const clock = new ManualClock('2026-03-02T10:02:00.000Z');
  let server: TestServer;
  let http: Api;
  /** Moves the scheduler's time; every fire's work (and its re-armed timer) lands before the next. */
  const tick = (ms: number) => clock.advance(ms, () => server.schedulerIdle());
  const to = (at: string) => clock.advanceTo(at, () => server.schedulerIdle());
  const create = async (body: Record<string, unknown>) => {
    const res = await http.post('/schedules', body);
    expect(res.status, res.text).toBe(201);
    return res.body as { id: string; nextRunAt: string | null };
  };
  const get = async (id: string) => (await http.get(`/schedules/${id}`)).body;

  beforeAll(async () => {
    server = await startTestServer({ clock });
    http = api(server.url);
    await register(http);
    await server.schedulerIdle();
  });

  afterAll(async () => {
    await server?.close();
  });

  it('fires a cron schedule at the right minutes, in its time zone', async () => {
    const s = await create({ workflow: 'sched-echo', cron: '*/5 * * * *', overlap: 'allow' });
    const ny = await create({ workflow: 'sched-echo', cron: '0 9 * * *', timezone: 'America/New_York', enabled: false });
    expect(s.nextRunAt).toBe('2026-03-02T10:05:00.000Z');
    expect((await http.patch(`/schedules/${ny.id}`, { enabled: true })).body.nextRunAt).toBe('2026-03-02T14:00:00.000Z');
    await to('2026-03-02T10:04:59.999Z');
    expect(await runsOf(server, s.id)).toHaveLength(0);
    await tick(1);
    const first = await runsOf(server, s.id);
    expect(first).toHaveLength(1);
    expect(first[0]?.workflow).toBe('sched-echo');
    expect(first[0]?.labels).toMatchObject({ schedule: s.id });
    expect(await get(s.id)).toMatchObject({ lastRunAt: '2026-03-02T10:05:00.000Z', nextRunAt: '2026-03-02T10:10:00.000Z', lastExecutionId: first[0]?.id });
    await to('2026-03-02T10:14:00.000Z');
    expect(await runsOf(server, s.id)).toHaveLength(2);
    expect(await get(s.id)).toMatchObject({ lastRunAt: '2026-03-02T10:10:00.000Z', nextRunAt: '2026-03-02T10:15:00.000Z' });
    expect(await runsOf(server, ny.id)).toHaveLength(0);
    for (const id of [s.id, ny.id]) expect((await http.del(`/schedules/${id}`)).status).toBe(204);
  });

  it('fires a fixed interval, a one-time run, and nothing while disabled', async () => {
    const every = await create({ workflow: 'sched-echo', everyMs: 60_000, overlap: 'allow' });
    const start = clock.now();
    expect(every.nextRunAt).toBe(new Date(start + 60_000).toISOString());
    const once = await create({ workflow: 'sched-echo', at: new Date(start + 90_000).toISOString() });
    await tick(150_000);
    expect(await runsOf(server, every.id)).toHaveLength(2);
    expect(await runsOf(server, once.id)).toHaveLength(1);
    expect(await get(once.id)).toMatchObject({ enabled: false, nextRunAt: null, lastRunAt: new Date(start + 90_000).toISOString() });

    const off = await http.patch(`/schedules/${every.id}`, { enabled: false });
    expect(off.body).toMatchObject({ enabled: false, nextRunAt: null });
    await tick(300_000);
    expect(await runsOf(server, every.id)).toHaveLength(2);
    const on = await http.patch(`/schedules/${every.id}`, { enabled: true });
    expect(on.body.nextRunAt).toBe(new Date(clock.now() + 60_000).toISOString());
    await tick(60_000);
    expect(await runsOf(server, every.id)).toHaveLength(3);
    for (const id of [every.id, once.id]) expect((await http.del(`/schedules/${id}`)).status).toBe(204);
    await tick(600_000);
    expect(await runsOf(server, every.id)).toHaveLength(3);
  });

  it('applies the overlap policies to runs still open', async () => {
    const skip = await create({ workflow: 'sched-wait', everyMs: 60_000, overlap: 'skip' });
    const allow = await create({ workflow: 'sched-wait', everyMs: 60_000, overlap: 'allow' });
    const cancel = await create({ workflow: 'sched-wait', everyMs: 60_000, overlap: 'cancel-previous' });
    await tick(60_000);
    for (const s of [skip, allow, cancel]) expect(await runsOf(server, s.id, OPEN)).toHaveLength(1);
    const firstCancel = (await runsOf(server, cancel.id))[0];
    await tick(60_000);
    expect(await runsOf(server, skip.id)).toHaveLength(1);
    expect(await runsOf(server, allow.id, OPEN)).toHaveLength(2);
    const cancelRuns = await runsOf(server, cancel.id);
    expect(cancelRuns).toHaveLength(2);
    expect(cancelRuns.find((x) => x.id === firstCancel?.id)?.status).toBe('cancelled');
    expect(await runsOf(server, cancel.id, OPEN)).toHaveLength(1);
    // Once the open run ends, `skip` runs again.
    const open = (await runsOf(server, skip.id, OPEN))[0];
    expect((await http.post(`/executions/${open?.id}/cancel`, {})).status).toBe(202);
    await tick(60_000);
    expect(await runsOf(server, skip.id)).toHaveLength(2);
    for (const s of [skip, allow, cancel]) expect((await http.del(`/schedules/${s.id}`)).status).toBe(204);
  });
});

describe('schedules across a restart', () => {
  let dataDir: string;
  const clock = new ManualClock('2026-03-02T08:00:00.000Z');

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'actorflow-sched-'));
  });

  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('follows each schedule\'s catch-up policy for runs due while the server was down', async () => {
    const first = await startTestServer({ dataDir, clock });
    const http = api(first.url);
    await register(http);
    const mk = async (body: Record<string, unknown>) => (await http.post('/schedules', { workflow: 'sched-echo', overlap: 'allow', ...body })).body.id as string;
    const skip = await mk({ cron: '*/10 * * * *', catchUp: 'skip' });
    const once = await mk({ cron: '*/10 * * * *', catchUp: 'run-once' });
    const atSkip = await mk({ at: '2026-03-02T08:05:00.000Z', catchUp: 'skip' });
    const atOnce = await mk({ at: '2026-03-02T08:05:00.000Z', catchUp: 'run-once' });
    await first.close();
    expect(clock.pending).toBe(0);

    // Down from 08:00 to 08:47: 08:05 (one-time) and 08:10…08:40 (cron) pass unseen.
    await clock.advanceTo('2026-03-02T08:47:00.000Z');
    const second = await startTestServer({ dataDir, clock });
    try {
      await second.schedulerIdle();
      const get = async (id: string) => (await api(second.url).get(`/schedules/${id}`)).body;
      expect(await runsOf(second, skip)).toHaveLength(0);
      expect(await get(skip)).toMatchObject({ lastRunAt: null, nextRunAt: '2026-03-02T08:50:00.000Z', enabled: true });
      expect(await runsOf(second, once)).toHaveLength(1);
      expect(await get(once)).toMatchObject({ lastRunAt: '2026-03-02T08:47:00.000Z', nextRunAt: '2026-03-02T08:50:00.000Z' });
      expect(await runsOf(second, atSkip)).toHaveLength(0);
      expect(await get(atSkip)).toMatchObject({ enabled: false, nextRunAt: null, lastRunAt: null });
      expect(await runsOf(second, atOnce)).toHaveLength(1);
      expect(await get(atOnce)).toMatchObject({ enabled: false, nextRunAt: null, lastRunAt: '2026-03-02T08:47:00.000Z' });
      // Back to normal firing after the catch-up.
      await clock.advance(3 * 60_000, () => second.schedulerIdle());
      expect(await runsOf(second, skip)).toHaveLength(1);
      expect(await runsOf(second, once)).toHaveLength(2);
    } finally {
      await second.close();
    }
  });
});
