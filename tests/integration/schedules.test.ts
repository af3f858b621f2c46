/** Schedules over real HTTP: CRUD, validation errors, tenant isolation and scopes (firing: schedules-timing.test.ts). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Api, createKey, withKey } from '../support/http.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const ADMIN = 'test-admin-key-schedules-0123456789abcdef';
const ECHO_FLOW = { name: 'sched-echo', steps: [{ id: 'a', type: 'task', agent: 'echo', input: {} }] };
const WAIT_FLOW = { name: 'sched-wait', steps: [{ id: 'w', type: 'wait', signal: 'go' }] };


async function register(http: Api): Promise<void> {
  for (const doc of [ECHO_FLOW, WAIT_FLOW]) expect((await http.post('/workflow-definitions', doc)).status).toBe(201);
}

describe('schedules API (auth on)', () => {
  let server: TestServer;
  let admin: Api;
  let acme: Api;
  let reader: Api;

  beforeAll(async () => {
    server = await startTestServer({ adminKey: ADMIN });
    admin = withKey(server.url, ADMIN);
    await register(admin);
    const mk = (scopes: string[], tenant?: string) => createKey(admin, scopes, tenant);
    acme = withKey(server.url, await mk(['write'], 'acme'));
    reader = withKey(server.url, await mk(['read']));
  });

  afterAll(async () => {
    await server?.close();
  });

  it('creates, reads, lists, changes and deletes a schedule', async () => {
    const created = await admin.post('/schedules', { workflow: 'sched-echo', input: { n: 1 }, cron: '*/5 * * * *', timezone: 'Europe/Berlin', overlap: 'allow', catchUp: 'run-once' });
    expect(created.status, created.text).toBe(201);
    const s = created.body;
    expect(s.id).toMatch(/^sc_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(s).toMatchObject({ workflow: 'sched-echo', input: { n: 1 }, cron: '*/5 * * * *', timezone: 'Europe/Berlin', everyMs: null, at: null, enabled: true, catchUp: 'run-once', overlap: 'allow', lastRunAt: null, lastExecutionId: null });
    expect(Date.parse(s.nextRunAt)).toBeGreaterThan(Date.now() - 1000);
    expect((await admin.get(`/schedules/${s.id}`)).body).toEqual(s);
    expect((await reader.get(`/schedules/${s.id}`)).status).toBe(200);

    const second = await admin.post('/schedules', { workflow: 'sched-echo', everyMs: 60_000 });
    expect(second.status).toBe(201);
    expect(second.body).toMatchObject({ catchUp: 'skip', overlap: 'skip', cron: null, timezone: null, everyMs: 60_000 });
    const page1 = await admin.get('/schedules', { query: { limit: 1 } });
    expect(page1.body.items.map((x: { id: string }) => x.id)).toEqual([s.id]);
    expect(page1.body.nextCursor).toBe(s.id);
    const page2 = await admin.get('/schedules', { query: { limit: 1, cursor: page1.body.nextCursor } });
    expect(page2.body).toEqual({ items: [second.body], nextCursor: null });

    const disabled = await admin.patch(`/schedules/${s.id}`, { enabled: false });
    expect(disabled.status).toBe(200);
    expect(disabled.body).toMatchObject({ enabled: false, nextRunAt: null, cron: '*/5 * * * *' });
    const changed = await admin.patch(`/schedules/${s.id}`, { everyMs: 3_600_000, enabled: true, overlap: 'cancel-previous' });
    expect(changed.body).toMatchObject({ enabled: true, cron: null, timezone: null, everyMs: 3_600_000, overlap: 'cancel-previous' });
    expect(changed.body.nextRunAt).not.toBeNull();

    expect((await admin.del(`/schedules/${s.id}`)).status).toBe(204);
    expect((await admin.get(`/schedules/${s.id}`)).status).toBe(404);
    expect((await admin.del(`/schedules/${s.id}`)).body.code).toBe('schedule_not_found');
    expect((await admin.del(`/schedules/${second.body.id}`)).status).toBe(204);
  });

  it('answers 422 with the failing paths', async () => {
    const bad = async (body: unknown, paths: string[]) => {
      const res = await admin.post('/schedules', body);
      expect(res.status, res.text).toBe(422);
      expect(res.body.code).toBe('validation_failed');
      expect(res.body.errors.map((e: { path: string }) => e.path)).toEqual(expect.arrayContaining(paths));
    };
    await bad({ workflow: 'sched-echo' }, ['']);
    await bad({ workflow: 'sched-echo', cron: '* * * * *', everyMs: 60_000 }, ['/everyMs']);
    await bad({ workflow: 'sched-echo', cron: 'every tuesday' }, ['/cron']);
    await bad({ workflow: 'sched-echo', cron: '61 * * * *' }, ['/cron']);
    await bad({ workflow: 'sched-echo', cron: '* * * * *', timezone: 'Mars/Olympus' }, ['/timezone']);
    await bad({ workflow: 'sched-echo', everyMs: 60_000, timezone: 'UTC' }, ['/timezone']);
    await bad({ workflow: 'sched-echo', everyMs: 5 }, ['/everyMs']);
    await bad({ workflow: 'sched-echo', at: 'tomorrow' }, ['/at']);
    await bad({ workflow: 'sched-echo', everyMs: 60_000, catchUp: 'always', overlap: 'queue' }, ['/catchUp', '/overlap']);
    await bad({ everyMs: 60_000 }, ['/workflow']);
    const unknown = await admin.post('/schedules', { workflow: 'nope', everyMs: 60_000 });
    expect(unknown.status).toBe(422);
    expect(unknown.body.code).toBe('definition_not_found');
    expect((await admin.get('/schedules', { query: { limit: 0 } })).status).toBe(422);

    const s = (await admin.post('/schedules', { workflow: 'sched-echo', cron: '0 * * * *' })).body;
    const patchBad = await admin.patch(`/schedules/${s.id}`, { timezone: 'Nowhere/Else' });
    expect(patchBad.status).toBe(422);
    expect(patchBad.body.errors[0].path).toBe('/timezone');
    expect((await admin.patch(`/schedules/${s.id}`, { cron: 'nope' })).body.errors[0].path).toBe('/cron');
    expect((await admin.patch(`/schedules/${s.id}`, { cron: '* * * * *', at: '2030-01-01T00:00:00.000Z' })).status).toBe(422);
    expect((await admin.patch(`/schedules/${s.id}`, {})).status).toBe(422);
    expect((await admin.get('/schedules/sc_bogus')).body.code).toBe('schedule_not_found');
    expect((await admin.del(`/schedules/${s.id}`)).status).toBe(204);
  });

  it("keeps schedules to their tenant (404) and needs write to change them", async () => {
    const s = (await admin.post('/schedules', { workflow: 'sched-echo', everyMs: 3_600_000 })).body;
    expect((await acme.get(`/schedules/${s.id}`)).status).toBe(404);
    expect((await acme.patch(`/schedules/${s.id}`, { enabled: false })).status).toBe(404);
    expect((await acme.del(`/schedules/${s.id}`)).status).toBe(404);
    expect((await acme.get('/schedules')).body).toEqual({ items: [], nextCursor: null });
    expect((await acme.post('/schedules', { workflow: 'sched-echo', everyMs: 60_000 })).body.code).toBe('definition_not_found');
    expect((await reader.post('/schedules', { workflow: 'sched-echo', everyMs: 60_000 })).status).toBe(403);
    expect((await reader.patch(`/schedules/${s.id}`, { enabled: false })).status).toBe(403);
    expect((await reader.del(`/schedules/${s.id}`)).status).toBe(403);
    expect((await admin.get(`/schedules/${s.id}`)).body.enabled).toBe(true);
    expect((await admin.del(`/schedules/${s.id}`)).status).toBe(204);
  });
});
