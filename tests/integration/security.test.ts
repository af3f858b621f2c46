/** Security: API keys, JWTs, scopes on every route, tenant isolation (REST, SSE, WebSocket), rate limits, CORS, audit. */
import { stat, readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../../src/api/routes.ts';
import { fullPath, routeAuth, type RouteSpec } from '../../src/api/routing/route-spec.ts';
import { type Api, api, ensureTenant, request, withKey } from '../support/http.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { openSse } from '../support/sse-client.ts';
import { pollUntil, waitForStatus } from '../support/wait.ts';
import { connectWs } from '../support/ws-client.ts';

const ADMIN = 'test-admin-key-0123456789abcdef';
const SECRET = 'jwt-secret-for-tests-0123456789abcdef!';
const AUDIENCE = 'actorflow-tests';
const ISSUER = 'https://issuer.test';

let server: TestServer;
const keys = { read: '', write: '', acmeWrite: '', acmeAdmin: '' };
const ids = { ex: '' };
const as = (key: string): Api => withKey(server.url, key);


async function newKey(scopes: string[], tenant?: string, rateLimit?: { rps: number; burst: number }): Promise<{ id: string; key: string }> {
  if (tenant) await ensureTenant(as(ADMIN), tenant);
  const res = await as(ADMIN).post('/api-keys', { name: `k-${scopes.join('-')}-${tenant ?? 'default'}`, scopes, ...(tenant ? { tenant } : {}), ...(rateLimit ? { rateLimit } : {}) });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  expect(res.body.id).toMatch(/^key_/);
  return { id: res.body.id, key: res.body.key };
}

const jwt = (claims: Record<string, unknown>, o: { secret?: string; exp?: string | number; aud?: string; iss?: string; nbf?: string | number } = {}) =>
  new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt()
    .setIssuer(o.iss ?? ISSUER)
    .setAudience(o.aud ?? AUDIENCE)
    .setExpirationTime(o.exp ?? '5m')
    .setNotBefore(o.nbf ?? 0)
    .setSubject('user-1')
    .sign(new TextEncoder().encode(o.secret ?? SECRET));

/** A concrete path for a route template, with ids of the given tenant's resources. */
function pathOf(spec: RouteSpec, p: { id: string; name: string; stepId?: string }): string {
  return fullPath(spec)
    .replace('{id}', spec.path.startsWith('/api-keys') ? 'key_01ARZ3NDEKTSV4RRFFQ69G5FAV' : spec.path.startsWith('/agents') ? 'ag_nobody' : p.id)
    .replace('{name}', p.name)
    .replace('{stepId}', p.stepId ?? 'a');
}

beforeAll(async () => {
  server = await startTestServer({ adminKey: ADMIN, jwt: { secret: SECRET, audience: AUDIENCE, issuer: ISSUER }, corsOrigins: ['https://app.example'] });
  keys.read = (await newKey(['read'])).key;
  keys.write = (await newKey(['write'])).key;
  keys.acmeWrite = (await newKey(['write'], 'acme')).key;
  keys.acmeAdmin = (await newKey(['admin'], 'acme')).key;
  const doc = { name: 'sec-flow', steps: [{ id: 'a', type: 'task', agent: 'echo', input: {} }, { id: 'w', type: 'wait', signal: 'go' }] };
  expect((await as(keys.write).post('/workflow-definitions', doc)).status).toBe(201);
  const started = await as(keys.write).post('/executions', { workflow: 'sec-flow', input: {} });
  expect(started.status).toBe(201);
  ids.ex = started.body.id;
  await waitForStatus(server.engine, ids.ex, 'waiting');
});

afterAll(async () => {
  await server?.close();
});

describe('credentials', () => {
  it('accepts an API key as bearer and as x-api-key, and a JWT; refuses none, unknown and malformed', async () => {
    const base = api(server.url);
    expect((await base.get('/executions')).status).toBe(401);
    expect((await base.get('/executions')).headers.get('www-authenticate')).toContain('Bearer');
    expect((await base.get('/executions', { headers: { authorization: `Bearer ${keys.read}` } })).status).toBe(200);
    expect((await base.get('/executions', { headers: { 'x-api-key': keys.read as string } })).status).toBe(200);
    expect((await base.get('/executions', { headers: { authorization: 'Bearer afk_nope' } })).status).toBe(401);
    expect((await base.get('/executions', { headers: { authorization: `Basic ${keys.read}` } })).status).toBe(401);
    const res = await base.get('/executions', { headers: { authorization: `Bearer ${await jwt({ tenant: 'default', scope: 'read' })}` } });
    expect(res.status).toBe(200);
    expect(res.body.items.map((x: { id: string }) => x.id)).toContain(ids.ex);
  });

  it('refuses expired, not-yet-valid, wrongly signed, wrong-audience and wrong-issuer JWTs, and JWTs without tenant or scope', async () => {
    const bad = [
      await jwt({ tenant: 'default', scope: 'read' }, { exp: Math.floor(Date.now() / 1000) - 60 }),
      await jwt({ tenant: 'default', scope: 'read' }, { nbf: Math.floor(Date.now() / 1000) + 600 }),
      await jwt({ tenant: 'default', scope: 'read' }, { secret: 'another-secret-another-secret-1234' }),
      await jwt({ tenant: 'default', scope: 'read' }, { aud: 'someone-else' }),
      await jwt({ tenant: 'default', scope: 'read' }, { iss: 'https://evil.test' }),
      await jwt({ scope: 'read' }),
      await jwt({ tenant: 'default' }),
    ];
    for (const token of bad) {
      const res = await api(server.url).get('/executions', { headers: { authorization: `Bearer ${token}` } });
      expect(res.status, res.text).toBe(401);
      expect(res.body.code).toBe('unauthorized');
      expect(res.text).not.toContain(SECRET);
    }
  });

  it('scopes a JWT to its tenant claim', async () => {
    const token = await jwt({ tenant: 'acme', scope: ['read', 'write'] });
    expect((await as(token).get(`/executions/${ids.ex}`)).status).toBe(404);
    expect((await as(token).post('/workflow-definitions', { name: 'jwt-flow', steps: [{ id: 'a', type: 'task', agent: 'echo' }] })).status).toBe(201);
    expect((await as(keys.acmeWrite).get('/workflow-definitions/jwt-flow')).status).toBe(200);
    expect((await as(keys.write).get('/workflow-definitions/jwt-flow')).status).toBe(404);
  });

  it('stops accepting a revoked key at once; lists keys without secrets', async () => {
    const k = await newKey(['read']);
    expect((await as(k.key).get('/executions')).status).toBe(200);
    const list = await as(ADMIN).get('/api-keys');
    expect(list.status).toBe(200);
    expect(list.text).not.toContain(k.key);
    expect(list.text).not.toContain('hash');
    expect(list.body.items.some((x: { id: string; lastUsedAt: string | null }) => x.id === k.id && x.lastUsedAt !== null)).toBe(true);
    expect((await as(ADMIN).del(`/api-keys/${k.id}`)).status).toBe(204);
    expect((await as(k.key).get('/executions')).status).toBe(401);
    expect((await as(ADMIN).del(`/api-keys/${k.id}`)).status).toBe(404);
  });

  it('generates an admin key on first boot into <data dir>/admin.key (0600) and keeps it across restarts', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'actorflow-boot-'));
    try {
      const first = await startTestServer({ dataDir: dir, noAuth: false });
      const file = join(dir, 'admin.key');
      const key = (await readFile(file, 'utf8')).trim();
      expect(((await stat(file)).mode & 0o777).toString(8)).toBe('600');
      expect(key).toMatch(/^afk_[A-Za-z0-9_-]{43}$/);
      const auth = { headers: { authorization: `Bearer ${key}` } };
      expect((await api(first.url).get('/api-keys', auth)).status).toBe(200);
      expect((await api(first.url).get('/api-keys')).status).toBe(401);
      await first.close();
      const second = await startTestServer({ dataDir: dir, noAuth: false });
      expect((await api(second.url).get('/api-keys', auth)).body.items).toHaveLength(1);
      await second.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('scopes', () => {
  it('answers 401 without a credential, 403 with too small a scope, and neither with enough, on every route', async () => {
    const p = { id: ids.ex as string, name: 'sec-flow' };
    // A stream of a live execution never ends: an unknown id answers 404 once admitted.
    const unknown = { id: 'ex_01ARZ3NDEKTSV4RRFFQ69G5FAV', name: 'sec-flow' };
    const send = (spec: RouteSpec, key: string | undefined) =>
      request(server.url, spec.method.toUpperCase() as 'GET', pathOf(spec, spec.produces === 'event-stream' ? unknown : p), spec.method === 'get' || spec.method === 'delete' ? undefined : { bogus: true }, {
        headers: key === undefined ? {} : { 'x-api-key': key },
      });
    for (const spec of ROUTES as readonly RouteSpec[]) {
      const needed = routeAuth(spec);
      if (needed === 'none') {
        expect((await send(spec, undefined)).status, spec.id).not.toBe(401);
        continue;
      }
      expect((await send(spec, undefined)).status, spec.id).toBe(401);
      const read = await send(spec, keys.read);
      if (needed === 'read') expect([401, 403], spec.id).not.toContain(read.status);
      else expect(read.status, spec.id).toBe(403);
      const write = await send(spec, keys.write);
      if (needed === 'admin') expect(write.status, spec.id).toBe(403);
      else expect([401, 403], spec.id).not.toContain(write.status);
      expect([401, 403], spec.id).not.toContain((await send(spec, ADMIN)).status);
    }
  });

  it('keeps /health, /ready (both forms) public, and WebSockets need a credential (header or ?token=)', async () => {
    for (const path of ['/health', '/ready', '/api/v1/health', '/api/v1/ready']) expect((await request(server.url, 'GET', path)).status).toBe(200);
    await expect(connectWs(server.url, '/api/v1/ws')).rejects.toThrow(/401/);
    await expect(connectWs(server.url, `/api/v1/ws?token=afk_wrong`)).rejects.toThrow(/401/);
    const ws = await connectWs(server.url, `/api/v1/ws?token=${keys.read}`);
    await ws.close();
    const ws2 = await connectWs(server.url, '/api/v1/ws', { headers: { 'x-api-key': keys.read as string } });
    await ws2.close();
  });

  it('lets only admins of tenant default create keys for another tenant', async () => {
    expect((await as(keys.acmeAdmin).post('/api-keys', { name: 'x', scopes: ['read'], tenant: 'default' })).status).toBe(403);
    const own = await as(keys.acmeAdmin).post('/api-keys', { name: 'x', scopes: ['read'] });
    expect(own.body.tenant).toBe('acme');
    const listed = await as(keys.acmeAdmin).get('/api-keys');
    expect(listed.body.items.every((k: { tenant: string }) => k.tenant === 'acme')).toBe(true);
  });
});

describe('tenant isolation', () => {
  it("answers 404 for another tenant's execution and definition on every route", async () => {
    const other = as(keys.acmeWrite);
    const p = { id: ids.ex as string, name: 'sec-flow' };
    for (const spec of ROUTES as readonly RouteSpec[]) {
      if (!spec.path.includes('{id}') && !spec.path.includes('{name}')) continue;
      if (spec.path.startsWith('/agents') || spec.path.startsWith('/api-keys')) continue;
      const body = spec.method === 'post' ? {} : spec.method === 'patch' ? { labels: { x: 'y' } } : undefined;
      const res = await other.request(spec.method.toUpperCase() as 'GET', pathOf(spec, p).slice('/api/v1'.length), body);
      expect(res.status, `${spec.id}: ${res.text}`).toBe(404);
    }
    const start = await other.post('/executions', { workflow: 'sec-flow' });
    expect(start.status).toBe(422);
    expect(start.body.code).toBe('definition_not_found');
    expect((await other.get('/executions')).body.items).toEqual([]);
    expect((await other.get('/workflow-definitions', { query: { name: 'sec' } })).body.items).toEqual([]);
    // Unchanged for its owner.
    expect((await as(keys.write).get(`/executions/${ids.ex}`)).body.status).toBe('waiting');
  });

  it("validates a flow document against the caller's own definitions (a child workflow of another tenant is unknown)", async () => {
    const parent = (child: string) => ({ name: 'sec-parent', steps: [{ id: 'c', type: 'workflow', workflow: child }] });
    // sec-flow belongs to tenant default: valid there, unknown for acme.
    expect((await as(keys.write).post('/workflow-definitions/validate', parent('sec-flow'))).status).toBe(200);
    const refused = await as(keys.acmeWrite).post('/workflow-definitions/validate', parent('sec-flow'));
    expect(refused.status, refused.text).toBe(422);
    expect(JSON.stringify(refused.body.errors)).toContain('sec-flow');
    // And acme's own definition is known to acme (before, validation always looked in tenant default).
    expect((await as(keys.acmeWrite).post('/workflow-definitions', { name: 'acme-only', steps: [{ id: 'a', type: 'task', agent: 'echo' }] })).status).toBe(201);
    const own = await as(keys.acmeWrite).post('/workflow-definitions/validate', parent('acme-only'));
    expect(own.status, own.text).toBe(200);
  });

  it("scopes /status to the caller's tenant, every count present; only admins of default get the system figures", async () => {
    const zeros = { pending: 0, queued: 0, running: 0, waiting: 0, paused: 0, completed: 0, failed: 0, cancelled: 0, timed_out: 0 };
    const acmeRead = (await newKey(['read'], 'acme')).key;
    const sum = (o: Record<string, number>): number => Object.values(o).reduce((a, b) => a + b, 0);
    const acmeStatus = async () => {
      const res = await as(acmeRead).get('/status');
      expect(res.status, res.text).toBe(200);
      expect(res.body).not.toHaveProperty('system');
      expect(res.body).toMatchObject({ stalled: 0, agents: { online: expect.any(Number), busy: expect.any(Number), offline: expect.any(Number) }, bus: 'embedded', store: 'ok' });
      return res.body as { executions: Record<string, number>; tasks: Record<string, number> };
    };
    // Tenant default has at least the waiting sec-flow execution; acme sees none of it, yet every count.
    const before = await acmeStatus();
    expect(Object.keys(before.executions)).toEqual(Object.keys(zeros));
    expect(Object.keys(before.tasks)).toEqual(Object.keys(zeros));
    const acmeOwn = (await as(acmeRead).get('/executions', { query: { limit: 1000 } })).body.items as unknown[];
    expect(sum(before.executions)).toBe(acmeOwn.length);
    if (acmeOwn.length === 0) expect(before.executions).toEqual(zeros);

    const doc = { name: 'acme-status-flow', steps: [{ id: 'w', type: 'wait', signal: 'go' }] };
    expect((await as(keys.acmeWrite).post('/workflow-definitions', doc)).status).toBe(201);
    const started = await as(keys.acmeWrite).post('/executions', { workflow: 'acme-status-flow' });
    expect(started.status).toBe(201);
    // waitForStatus reads as tenant default: polled over HTTP as acme instead.
    await pollUntil(async () => ((await as(acmeRead).get(`/executions/${started.body.id}`)).body.status === 'waiting' ? true : undefined), 'the acme execution to wait');
    const after = await acmeStatus();
    expect(after.executions).toEqual({ ...before.executions, waiting: (before.executions['waiting'] ?? 0) + 1 });

    // A read key of tenant default: its own counts, no system figures.
    const own = await as(keys.read).get('/status');
    expect(own.body).not.toHaveProperty('system');
    expect(own.body.executions.waiting).toBeGreaterThanOrEqual(1);
    // An admin of another tenant gets no system figures either.
    expect((await as(keys.acmeAdmin).get('/status')).body).not.toHaveProperty('system');
    // An admin of tenant default: its own counts, and every tenant's under `system`.
    const admin = await as(ADMIN).get('/status');
    expect(admin.status).toBe(200);
    expect(admin.body.executions).toEqual(own.body.executions);
    const system = admin.body.system;
    expect(Object.keys(system.executions)).toEqual(Object.keys(zeros));
    expect(system.executions.waiting).toBeGreaterThanOrEqual(admin.body.executions.waiting + after.executions['waiting']);
    expect(system).toMatchObject({ stalled: expect.any(Number), live: expect.any(Number), journal: { commits: expect.any(Number), rows: expect.any(Number), lastMs: expect.any(Number) } });
    // Waiting executions may already have left memory (passivation): in memory or passivated, both are counted.
    expect(system.live + system.passivated).toBeGreaterThanOrEqual(2);
    expect(system.journal.commits).toBeGreaterThan(0);
    expect((await as(keys.acmeWrite).post(`/executions/${started.body.id}/cancel`, {})).status).toBe(202);
  });

  it("refuses another tenant's streams: SSE and WebSocket shortcut 404, subscribe errors, firehose sees nothing", async () => {
    const sse = await openSse(`${server.url}/api/v1/executions/${ids.ex}/stream?token=${keys.acmeWrite}`);
    expect(sse.status).toBe(404);
    sse.close();
    const own = await openSse(`${server.url}/api/v1/executions/${ids.ex}/stream?token=${keys.read}`);
    expect(own.status).toBe(200);
    own.close();
    await expect(connectWs(server.url, `/api/v1/ws/executions/${ids.ex}?token=${keys.acmeWrite}`)).rejects.toThrow(/404/);
    const ws = await connectWs(server.url, `/api/v1/ws?token=${keys.acmeWrite}`);
    const fh = await connectWs(server.url, `/api/v1/ws/events?token=${keys.acmeWrite}`);
    const mine = await connectWs(server.url, `/api/v1/ws/events?token=${keys.read}`);
    try {
      ws.send({ op: 'subscribe', id: 's1', executionId: ids.ex });
      const err = await ws.waitFor((f) => f.op === 'error' && f.id === 's1');
      expect(err.code).toBe('execution_not_found');
      ws.send({ op: 'subscribe', id: 'f1', filter: { workflow: 'sec-flow' } });
      await ws.waitFor((f) => f.op === 'ack' && f.id === 'f1');
      // A change in tenant default: its own firehose sees it, acme's never does.
      expect((await as(keys.write).patch(`/executions/${ids.ex}`, { labels: { touched: '1' } })).status).toBe(200);
      await mine.waitEvent('events', (e) => e.type === 'workflow.updated' && e.executionId === ids.ex);
      ws.send({ op: 'ping' });
      await ws.waitFor((f) => f.op === 'pong');
      fh.send({ op: 'ping' });
      await fh.waitFor((f) => f.op === 'pong');
      expect(ws.frames.filter((f) => f.op === 'event')).toEqual([]);
      expect(fh.frames.filter((f) => f.op === 'event')).toEqual([]);
    } finally {
      await ws.close();
      await fh.close();
      await mine.close();
    }
  });
});

describe('limits, CORS and audit', () => {
  it('rate-limits a key past its burst with 429 and the ratelimit headers', async () => {
    const k = await newKey(['read'], undefined, { rps: 1, burst: 20 });
    const results = await Promise.all(Array.from({ length: 60 }, () => as(k.key).get('/executions', { query: { limit: 1 } })));
    const limited = results.filter((r) => r.status === 429);
    expect(results.filter((r) => r.status === 200).length).toBeLessThanOrEqual(21);
    expect(limited.length).toBeGreaterThanOrEqual(39);
    const r = limited[0];
    expect(r?.body.code).toBe('rate_limited');
    expect(Number(r?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(r?.headers.get('ratelimit-limit')).toBe('20');
    expect(r?.headers.get('ratelimit-remaining')).toBe('0');
    expect(r?.headers.get('ratelimit-reset')).not.toBeNull();
    // Other credentials are not affected.
    expect((await as(keys.read).get('/executions')).status).toBe(200);
  });

  it('answers CORS preflights and adds CORS headers for allowed origins only', async () => {
    const ok = await request(server.url, 'OPTIONS', '/api/v1/executions', undefined, { headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' } });
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(ok.headers.get('access-control-allow-headers')).toContain('authorization');
    const no = await request(server.url, 'OPTIONS', '/api/v1/executions', undefined, { headers: { origin: 'https://evil.example' } });
    expect(no.headers.get('access-control-allow-origin')).toBeNull();
    const get = await as(keys.read).get('/executions', { headers: { origin: 'https://app.example' } });
    expect(get.headers.get('access-control-allow-origin')).toBe('https://app.example');
  });

  it('records every write in the audit log, filterable by key and route, admins only', async () => {
    const k = await newKey(['write']);
    const doc = { name: 'audited', steps: [{ id: 'a', type: 'task', agent: 'echo' }] };
    const created = await as(k.key).post('/workflow-definitions', doc, { headers: { 'x-request-id': 'req-audit-1' } });
    expect(created.status).toBe(201);
    const ex = await as(k.key).post('/executions', { workflow: 'audited' });
    expect((await as(k.key).post('/executions', { workflow: 'nope' })).status).toBe(422);
    expect((await as(k.key).get('/audit')).status).toBe(403);
    const res = await as(ADMIN).get('/audit', { query: { keyId: k.id } });
    expect(res.status).toBe(200);
    const items = res.body.items as { keyId: string; route: string; status: number; targetId: string | null; requestId: string; method: string; tenant: string; at: string }[];
    expect(items.map((i) => [i.method, i.route, i.status])).toEqual([
      ['POST', '/api/v1/executions', 422],
      ['POST', '/api/v1/executions', 201],
      ['POST', '/api/v1/workflow-definitions', 201],
    ]);
    expect(items[1]?.targetId).toBe(ex.body.id);
    expect(items[2]).toMatchObject({ targetId: 'audited', requestId: 'req-audit-1', tenant: 'default', keyId: k.id });
    const byRoute = await as(ADMIN).get('/audit', { query: { route: '/api/v1/workflow-definitions', keyId: k.id, limit: 1 } });
    expect(byRoute.body.items).toHaveLength(1);
    const future = await as(ADMIN).get('/audit', { query: { from: new Date(Date.now() + 60_000).toISOString() } });
    expect(future.body.items).toEqual([]);
    // Keys created through the API are audited by id, never with the secret.
    const all = await as(ADMIN).get('/audit', { query: { route: '/api/v1/api-keys', limit: 1000 } });
    expect(all.body.items.length).toBeGreaterThan(0);
    expect(all.text).not.toContain('afk_');
  });
});
