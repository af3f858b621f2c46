/**
 * Tenants (issue 16): the routes and their error codes over real HTTP, `maxRunning` (429 `tenant_limit`
 * with `retry-after`, per tenant, freed by an end, exact under concurrent starts, kept across a restart),
 * `rps` over all of a tenant's keys, keys refused for unknown tenants, isolation, and the migration
 * that gives every tenant already named by the data its row.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActorflowApiError, createClient } from '../../src/client/index.ts';
import { type Api, api, withKey } from '../support/http.ts';
import { ManualClock } from '../support/manual-clock.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const ADMIN = 'tenants-admin-key-0123456789abcdef';
/** Stays open until signalled: a non-terminal execution for as long as the test wants. */
const PARKED = { name: 'parked', steps: [{ id: 'w', type: 'wait', signal: 'go' }] };
/** Fails at once; a retry runs the step again and completes (the `fail` agent fails attempt 1 only). */
const FLAKY = { name: 'flaky', steps: [{ id: 'f', type: 'task', agent: 'fail', input: { times: 1, retryable: false } }] };

let server: TestServer;
let admin: Api;

async function key(scopes: string[], tenant?: string): Promise<string> {
  const res = await admin.post('/api-keys', { name: `k-${scopes.join('-')}-${tenant ?? 'default'}`, scopes, ...(tenant === undefined ? {} : { tenant }) });
  expect(res.status, res.text).toBe(201);
  return res.body.key as string;
}

async function createTenant(body: Record<string, unknown>): Promise<void> {
  const res = await admin.post('/tenants', body);
  expect(res.status, res.text).toBe(201);
}

beforeAll(async () => {
  server = await startTestServer({ adminKey: ADMIN, keepDataDir: true });
  admin = withKey(server.url, ADMIN);
});

afterAll(async () => {
  await server?.close();
  // Restarts reuse the data directory, so the helper does not remove it.
  if (server !== undefined) await rm(server.dataDir, { recursive: true, force: true });
});

describe('tenant routes', () => {
  it('has tenant default from the start, with its usage', async () => {
    const list = await admin.get('/tenants');
    expect(list.status).toBe(200);
    expect(list.body.items.map((t: { slug: string }) => t.slug)).toContain('default');
    const one = await admin.get('/tenants/default');
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ slug: 'default', limits: { maxRunning: null, rps: null }, usage: { running: 0, waiting: 0, executions: 0 } });
    expect(typeof one.body.usage.definitions).toBe('number');
  });

  it('creates a tenant (201), then refuses the same slug (409 tenant_exists)', async () => {
    const res = await admin.post('/tenants', { slug: 'acme', name: 'Acme Corp', limits: { maxRunning: 10 } });
    expect(res.status, res.text).toBe(201);
    expect(res.body).toMatchObject({ slug: 'acme', name: 'Acme Corp', limits: { maxRunning: 10, rps: null } });
    expect(Date.parse(res.body.createdAt)).toBeGreaterThan(0);
    const again = await admin.post('/tenants', { slug: 'acme', name: 'Another' });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('tenant_exists');
    expect((await admin.get('/tenants/acme')).body.name).toBe('Acme Corp');
  });

  it('refuses a bad slug or bad limits with 422 and the failing path', async () => {
    for (const slug of ['A', 'Acme', 'a', '-acme', 'acme_co', 'a.b', 'x'.repeat(64), '', 7]) {
      const res = await admin.post('/tenants', { slug, name: 'n' });
      expect(res.status, `slug ${JSON.stringify(slug)}`).toBe(422);
      expect(res.body.errors.map((e: { path: string }) => e.path)).toContain('/slug');
    }
    expect((await admin.post('/tenants', { slug: 'x'.repeat(63), name: 'n' })).status).toBe(201);
    const cases: [Record<string, unknown>, string][] = [
      [{ slug: 'neg', name: 'n', limits: { maxRunning: -1 } }, '/limits/maxRunning'],
      [{ slug: 'frac', name: 'n', limits: { maxRunning: 1.5 } }, '/limits/maxRunning'],
      [{ slug: 'zero-rps', name: 'n', limits: { rps: 0 } }, '/limits/rps'],
      [{ slug: 'other', name: 'n', limits: { burst: 3 } }, '/limits/burst'],
      [{ slug: 'noname' }, '/name'],
      [{ slug: 'empty-name', name: '' }, '/name'],
    ];
    for (const [body, path] of cases) {
      const res = await admin.post('/tenants', body);
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.body.code).toBe('validation_failed');
      expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(path);
    }
    // Nothing of them was created.
    for (const slug of ['neg', 'frac', 'zero-rps', 'other', 'noname', 'empty-name']) expect((await admin.get(`/tenants/${slug}`)).status).toBe(404);
  });

  it('answers 404 tenant_not_found for an unknown slug', async () => {
    for (const path of ['/tenants/nobody', '/tenants/No%20Such.Tenant', `/tenants/${'y'.repeat(120)}`]) {
      const res = await admin.get(path);
      expect(res.status, path).toBe(404);
      expect(res.body.code).toBe('tenant_not_found');
    }
    const patch = await admin.patch('/tenants/nobody', { name: 'x' });
    expect(patch.status).toBe(404);
    expect(patch.body.code).toBe('tenant_not_found');
  });

  it('changes name and limits with PATCH: a limit set to null is removed, an absent one kept', async () => {
    await createTenant({ slug: 'patchy', name: 'Patchy', limits: { maxRunning: 5, rps: 100 } });
    const renamed = await admin.patch('/tenants/patchy', { name: 'Patchy Ltd' });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ slug: 'patchy', name: 'Patchy Ltd', limits: { maxRunning: 5, rps: 100 } });
    const limited = await admin.patch('/tenants/patchy', { limits: { rps: null, maxRunning: 7 } });
    expect(limited.body).toMatchObject({ name: 'Patchy Ltd', limits: { maxRunning: 7, rps: null } });
    expect(Date.parse(limited.body.updatedAt)).toBeGreaterThanOrEqual(Date.parse(limited.body.createdAt));
    expect((await admin.get('/tenants/patchy')).body).toMatchObject({ name: 'Patchy Ltd', limits: { maxRunning: 7, rps: null } });
    for (const body of [{}, { slug: 'other' }, { limits: { maxRunning: 'many' } }]) {
      const res = await admin.patch('/tenants/patchy', body);
      expect(res.status, JSON.stringify(body)).toBe(422);
    }
  });

  it('pages the list like every list', async () => {
    for (const slug of ['page-a', 'page-b', 'page-c']) await createTenant({ slug, name: slug });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { status: number; body: { items: { slug: string }[]; nextCursor: string | null } } = await admin.get('/tenants', { query: { limit: 2, ...(cursor === null ? {} : { cursor }) } });
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.items.map((t) => t.slug));
      cursor = res.body.nextCursor;
    } while (cursor !== null);
    expect(seen).toEqual([...seen].sort());
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(expect.arrayContaining(['default', 'acme', 'page-a', 'page-b', 'page-c']));
    for (const limit of [0, 1001, 'abc']) expect((await admin.get('/tenants', { query: { limit } })).status).toBe(422);
  });

  it('is for admins of tenant default only: 403 for another tenant\'s admin and for smaller scopes, 401 without a credential', async () => {
    const acmeAdmin = withKey(server.url, await key(['admin'], 'acme'));
    const write = withKey(server.url, await key(['write']));
    const read = withKey(server.url, await key(['read']));
    for (const client of [acmeAdmin, write, read]) {
      const answers = [
        await client.get('/tenants'),
        await client.get('/tenants/acme'),
        await client.post('/tenants', { slug: 'sneaky', name: 'n' }),
        await client.patch('/tenants/acme', { limits: { maxRunning: null } }),
      ];
      expect(answers.map((r) => r.status)).toEqual([403, 403, 403, 403]);
      expect(answers.every((r) => r.body.code === 'forbidden')).toBe(true);
    }
    expect((await api(server.url).get('/tenants')).status).toBe(401);
    expect((await admin.get('/tenants/sneaky')).status).toBe(404);
    expect((await admin.get('/tenants/acme')).body.limits.maxRunning).toBe(10);
  });

  it('refuses keys for an unknown tenant (422 tenant_not_found) and accepts them once it exists', async () => {
    const res = await admin.post('/api-keys', { name: 'k', scopes: ['read'], tenant: 'ghost' });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('tenant_not_found');
    expect(res.body.errors).toEqual([{ path: '/tenant', message: 'unknown tenant' }]);
    expect((await admin.get('/api-keys', { query: { limit: 1000 } })).body.items.some((k: { tenant: string }) => k.tenant === 'ghost')).toBe(false);
    await createTenant({ slug: 'ghost', name: 'Ghost' });
    const ok = await admin.post('/api-keys', { name: 'k', scopes: ['read'], tenant: 'ghost' });
    expect(ok.status).toBe(201);
    expect(ok.body.tenant).toBe('ghost');
    expect((await withKey(server.url, ok.body.key).get('/executions')).status).toBe(200);
  });

  it('audits tenant changes like other admin calls', async () => {
    await server.flushAudit();
    const res = await admin.get('/audit', { query: { route: '/api/v1/tenants' } });
    expect(res.status).toBe(200);
    expect(res.body.items.find((e: { targetId: string; status: number }) => e.targetId === 'acme' && e.status === 201)).toMatchObject({ method: 'POST', tenant: 'default' });
    const patched = await admin.get('/audit', { query: { route: '/api/v1/tenants/{slug}' } });
    expect(patched.body.items.find((e: { targetId: string; status: number }) => e.targetId === 'patchy' && e.status === 200)).toMatchObject({ method: 'PATCH' });
  });
});

describe('limits.maxRunning', () => {
  let capped: Api;
  let free: Api;
  const open: string[] = [];

  beforeAll(async () => {
    await createTenant({ slug: 'capped', name: 'Capped', limits: { maxRunning: 2 } });
    await createTenant({ slug: 'free', name: 'Free' });
    capped = withKey(server.url, await key(['write'], 'capped'));
    free = withKey(server.url, await key(['write'], 'free'));
    for (const client of [capped, free]) {
      for (const doc of [PARKED, FLAKY]) expect((await client.post('/workflow-definitions', doc)).status).toBe(201);
    }
  });

  it("refuses the start past the tenant's limit with 429 tenant_limit and retry-after, while another tenant starts freely", async () => {
    for (let i = 0; i < 2; i++) {
      const res = await capped.post('/executions', { workflow: 'parked' }, { headers: { 'idempotency-key': `capped-${i}` } });
      expect(res.status, res.text).toBe(201);
      open.push(res.body.id);
    }
    // An idempotent replay answers the execution it started, at the limit too.
    const replay = await capped.post('/executions', { workflow: 'parked' }, { headers: { 'idempotency-key': 'capped-0' } });
    expect([replay.status, replay.body.id, replay.headers.get('idempotent-replay')]).toEqual([200, open[0], 'true']);
    const refused = await capped.post('/executions', { workflow: 'parked' });
    expect(refused.status).toBe(429);
    expect(refused.body.code).toBe('tenant_limit');
    expect(refused.contentType).toContain('application/problem+json');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // Inbound hooks start executions too.
    const hook = await capped.post('/hooks/parked', { any: 'input' });
    expect(hook.status).toBe(429);
    expect(hook.body.code).toBe('tenant_limit');
    expect((await capped.get('/executions')).body.items).toHaveLength(2);

    for (let i = 0; i < 4; i++) expect((await free.post('/executions', { workflow: 'parked' })).status).toBe(201);
    const usage = (await admin.get('/tenants/capped')).body.usage;
    expect(usage).toMatchObject({ running: 2, waiting: 2, executions: 2, definitions: 2 });
    expect((await admin.get('/tenants/free')).body.usage).toMatchObject({ running: 4, waiting: 4, executions: 4 });
  });

  it('starts again once one of its executions is cancelled, and again once one completes', async () => {
    expect((await capped.post(`/executions/${open[0]}/cancel`, {})).status).toBe(202);
    const afterCancel = await capped.post('/executions', { workflow: 'parked' });
    expect(afterCancel.status, afterCancel.text).toBe(201);
    expect((await capped.post('/executions', { workflow: 'parked' })).status).toBe(429);

    expect((await capped.post(`/executions/${open[1]}/signals/go`, { payload: {} })).status).toBe(202);
    expect((await capped.get(`/executions/${open[1]}`)).body.status).toBe('completed');
    const afterComplete = await capped.post('/executions', { workflow: 'parked' });
    expect(afterComplete.status, afterComplete.text).toBe(201);
    expect((await capped.post('/executions', { workflow: 'parked' })).status).toBe(429);
    open.splice(0, 2, afterCancel.body.id, afterComplete.body.id);
    expect((await admin.get('/tenants/capped')).body.usage).toMatchObject({ running: 2, waiting: 2, executions: 4 });
  });

  it('counts a failed execution out and a retried one back in', async () => {
    expect((await capped.post(`/executions/${open[0]}/cancel`, {})).status).toBe(202);
    const failed = await capped.post('/executions?wait=5000', { workflow: 'flaky' });
    expect(failed.status).toBe(201);
    expect(failed.body.status).toBe('failed');
    expect((await admin.get('/tenants/capped')).body.usage.running).toBe(1);
    const parked = await capped.post('/executions', { workflow: 'parked' });
    expect(parked.status).toBe(201);
    // A retry is not a start (never refused) but its execution is open again until it ends.
    expect((await capped.post(`/executions/${failed.body.id}/retry`, {})).status).toBe(202);
    const ended = await capped.get(`/executions/${failed.body.id}`, { query: { wait: 5000 } });
    expect(ended.body.status).toBe('completed');
    expect((await admin.get('/tenants/capped')).body.usage.running).toBe(2);
    open.splice(0, 1, parked.body.id);
  });

  it('lets exactly the free slots through when starts race', async () => {
    expect((await admin.patch('/tenants/capped', { limits: { maxRunning: 5 } })).status).toBe(200);
    const answers = await Promise.all(Array.from({ length: 8 }, () => capped.post('/executions', { workflow: 'parked' })));
    const statuses = answers.map((r) => r.status).sort();
    expect(statuses).toEqual([201, 201, 201, 429, 429, 429, 429, 429]);
    expect((await admin.get('/tenants/capped')).body.usage.running).toBe(5);
    // Lifting the limit lets starts through at once.
    expect((await admin.patch('/tenants/capped', { limits: { maxRunning: null } })).status).toBe(200);
    expect((await capped.post('/executions', { workflow: 'parked' })).status).toBe(201);
    expect((await admin.patch('/tenants/capped', { limits: { maxRunning: 6 } })).status).toBe(200);
    expect((await capped.post('/executions', { workflow: 'parked' })).status).toBe(429);
  });

  it("keeps tenants apart: another tenant's execution is a 404", async () => {
    const res = await free.get(`/executions/${open[1]}`);
    expect(res.status).toBe(404);
    expect((await free.post(`/executions/${open[1]}/cancel`, {})).status).toBe(404);
    expect((await capped.get(`/executions/${open[1]}`)).status).toBe(200);
  });
});

describe('limits.maxRunning and schedules', () => {
  it('skips the runs of a schedule while its tenant is at the limit, and runs again once a slot is free', async () => {
    const clock = new ManualClock('2026-03-02T10:00:00.000Z');
    const local = await startTestServer({ clock });
    try {
      const http = api(local.url);
      const tick = () => clock.advance(60_000, () => local.schedulerIdle());
      expect((await http.post('/workflow-definitions', PARKED)).status).toBe(201);
      expect((await http.patch('/tenants/default', { limits: { maxRunning: 1 } })).status).toBe(200);
      const s = (await http.post('/schedules', { workflow: 'parked', everyMs: 60_000, overlap: 'allow' })).body as { id: string };
      const runs = async () => (await http.get('/executions', { query: { 'label.schedule': s.id } })).body.items as { id: string }[];
      await tick();
      const [first] = await runs();
      expect(first).toBeDefined();
      await tick();
      expect(await runs()).toHaveLength(1);
      expect((await http.get(`/schedules/${s.id}`)).body.lastExecutionId).toBe(first?.id);
      expect((await http.post(`/executions/${first?.id}/cancel`, {})).status).toBe(202);
      await tick();
      expect(await runs()).toHaveLength(2);
    } finally {
      await local.close();
    }
  });
});

describe('limits.rps', () => {
  it("caps the tenant's requests over all its keys, not other tenants'", async () => {
    await createTenant({ slug: 'chatty', name: 'Chatty', limits: { rps: 1 } });
    const first = withKey(server.url, await key(['read'], 'chatty'));
    const second = withKey(server.url, await key(['read'], 'chatty'));
    const other = withKey(server.url, await key(['read'], 'acme'));
    expect((await first.get('/executions')).status).toBe(200);
    // The second key has not been used: only the tenant's bucket can refuse it.
    const refused = await second.get('/executions');
    expect(refused.status).toBe(429);
    expect(refused.body.code).toBe('rate_limited');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(refused.headers.get('ratelimit-remaining')).toBe('0');
    expect((await first.get('/executions')).status).toBe(429);
    for (let i = 0; i < 5; i++) expect((await other.get('/executions')).status).toBe(200);
    // The operators lift it: the same keys pass again.
    expect((await admin.patch('/tenants/chatty', { limits: { rps: null } })).status).toBe(200);
    for (let i = 0; i < 5; i++) expect((await second.get('/executions')).status).toBe(200);
  });
});

describe('typed client', () => {
  it('has a method for each route, and problems as ActorflowApiError', async () => {
    const client = createClient({ url: server.url, key: ADMIN });
    const created = await client.tenants.create({ slug: 'typed', name: 'Typed', limits: { maxRunning: 3 } });
    expect(created).toMatchObject({ slug: 'typed', limits: { maxRunning: 3, rps: null } });
    expect((await client.tenants.update('typed', { limits: { rps: 20 } })).limits).toEqual({ maxRunning: 3, rps: 20 });
    const one = await client.tenants.get('typed');
    expect(one.usage).toEqual({ running: 0, waiting: 0, executions: 0, definitions: 0 });
    const page = await client.tenants.list({ limit: 1000 });
    expect(page.items.map((t) => t.slug)).toContain('typed');
    const err = await client.tenants.create({ slug: 'typed', name: 'again' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ActorflowApiError);
    expect([(err as ActorflowApiError).status, (err as ActorflowApiError).code]).toEqual([409, 'tenant_exists']);
  });
});

describe('across a restart', () => {
  it('keeps tenants and limits, counts open executions from the store, and gives tenants named only by old data a row', async () => {
    const readKey = await key(['read']);
    const { id: execId } = (await admin.post('/executions', { definition: PARKED })).body as { id: string };
    const dataDir = server.dataDir;
    await server.close();
    // As a database of before tenants existed: no tenants table, a key and an execution of tenants never created.
    const db = new Database(join(dataDir, 'actorflow.db'));
    db.exec("DROP TABLE tenants; DELETE FROM schema_migrations WHERE version = 10;");
    db.prepare('UPDATE api_keys SET tenant = ? WHERE id = (SELECT id FROM api_keys WHERE name = ? ORDER BY id DESC LIMIT 1)').run('Legacy.Co', 'k-read-default');
    db.prepare('UPDATE executions SET tenant = ? WHERE id = ?').run('old-runs', execId);
    db.close();

    server = await startTestServer({ adminKey: ADMIN, dataDir });
    admin = withKey(server.url, ADMIN);
    const legacy = await admin.get('/tenants/Legacy.Co');
    expect(legacy.status, legacy.text).toBe(200);
    expect(legacy.body).toMatchObject({ slug: 'Legacy.Co', limits: { maxRunning: null, rps: null } });
    expect((await withKey(server.url, readKey).get('/executions')).status).toBe(200);
    expect((await admin.post('/api-keys', { name: 'again', scopes: ['read'], tenant: 'Legacy.Co' })).status).toBe(201);
    expect((await admin.get('/tenants/old-runs')).body.usage).toMatchObject({ running: 1, waiting: 1, executions: 1 });
    // Tenants created through the API were re-created by the migration from their keys and data, without their limits.
    expect((await admin.get('/tenants/capped')).status).toBe(200);
  });

  it('seeds the open count from the store, so a tenant at its limit stays there', async () => {
    await createTenant({ slug: 'seeded', name: 'Seeded', limits: { maxRunning: 1 } });
    const seeded = withKey(server.url, await key(['write'], 'seeded'));
    expect((await seeded.post('/executions', { definition: PARKED })).status).toBe(201);
    expect((await seeded.post('/executions', { definition: PARKED })).status).toBe(429);
    const dataDir = server.dataDir;
    await server.close();
    server = await startTestServer({ adminKey: ADMIN, dataDir });
    admin = withKey(server.url, ADMIN);
    const again = withKey(server.url, await key(['write'], 'seeded'));
    expect((await admin.get('/tenants/seeded')).body).toMatchObject({ limits: { maxRunning: 1 }, usage: { running: 1 } });
    const res = await again.post('/executions', { definition: PARKED });
    expect(res.status).toBe(429);
    expect(res.body.code).toBe('tenant_limit');
  });
});
