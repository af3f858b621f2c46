/** Webhooks over real HTTP with a real local receiver: signatures, event filters, retries with backoff, dead letters, history, restart, SSRF guard, tenants, inbound hooks. */
import { createHmac } from 'node:crypto';
import { type IncomingHttpHeaders, type Server, type ServerResponse, createServer } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WEBHOOK_WILDCARDS, eventMatcher } from '../../src/webhooks/event-patterns.ts';
import { sendDelivery } from '../../src/webhooks/send-delivery.ts';
import { verifySignature } from '../../src/webhooks/signature.ts';
import { DEFAULT_WEBHOOK_CONCURRENCY_PER_WEBHOOK as PER_WEBHOOK, MAX_WEBHOOK_RETRY_MS, WEBHOOK_MAX_ATTEMPTS, retryDelayMs } from '../../src/webhooks/types.ts';
import { type Api, api, createKey, withKey } from '../support/http.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { waitForEnd } from '../support/wait.ts';
import { arrivals, closeReceiver } from '../support/arrivals.ts';

const ADMIN = 'test-admin-key-webhooks-0123456789abcdef';
const SECRET = 'whsec-test-secret-0123456789';
const ECHO_FLOW = { name: 'wh-echo', steps: [{ id: 'a', type: 'task', agent: 'echo', input: { name: '$.input.name' } }] };
const RETRY_MS = 25;


interface Received {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly at: number;
}

/** Answer of the receiver to the n-th request (from 1) on a path: a status, or hold it open. */
type Responder = (nth: number) => number | 'hang';

/** A real HTTP receiver on 127.0.0.1: records every request, answers per path. */
async function startReceiver() {
  const received: Received[] = [];
  const responders = new Map<string, Responder>();
  const waits = arrivals();
  const held: ServerResponse[] = [];
  /** Held requests the client gave up on, per path. */
  const abandoned = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: Received = { path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() };
      received.push(r);
      const nth = received.filter((x) => x.path === r.path).length;
      const answer = responders.get(r.path)?.(nth) ?? 200;
      if (answer === 'hang') {
        held.push(res);
        res.on('close', () => void abandoned.set(r.path, (abandoned.get(r.path) ?? 0) + 1));
      }
      else res.writeHead(answer, { 'content-type': 'text/plain' }).end('ok');
      waits.arrived();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const on = (path: string) => received.filter((r) => r.path === path);
  return {
    url: `http://127.0.0.1:${port}`,
    respond: (path: string, fn: Responder) => void responders.set(path, fn),
    on,
    abandoned: (path: string) => abandoned.get(path) ?? 0,
    /** Resolves once `path` got at least `n` requests. */
    waitFor: (path: string, n: number, timeoutMs = 15_000): Promise<Received[]> =>
      waits.waitFor(() => on(path), n, `requests on ${path}`, timeoutMs),
    close: () => closeReceiver(server, held),
  };
}

type Receiver = Awaited<ReturnType<typeof startReceiver>>;

/** Re-evaluates `probe` until it returns a value (a condition on server state), or fails after `timeoutMs`. */
async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 15));
  }
}

interface DeliveryView {
  id: string;
  webhookId: string;
  eventId: string;
  eventType: string;
  status: string;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  nextAttemptAt: string | null;
  createdAt: string;
  deliveredAt: string | null;
}

const deliveriesOf = async (http: Api, id: string): Promise<DeliveryView[]> => {
  const res = await http.get(`/webhooks/${id}/deliveries`, { query: { limit: 1000 } });
  expect(res.status, res.text).toBe(200);
  return res.body.items as DeliveryView[];
};

/** The deliveries once every one of them satisfies `done` (and there are `count`). */
const settled = (http: Api, id: string, count: number, done: (d: DeliveryView) => boolean = (d) => d.status === 'delivered') =>
  eventually(async () => {
    const items = await deliveriesOf(http, id);
    return items.length === count && items.every(done) ? items : undefined;
  });

describe('outbound webhooks (private receivers allowed)', () => {
  let server: TestServer;
  let rx: Receiver;
  let admin: Api;
  let acme: Api;
  let reader: Api;

  /** `secret: null` leaves it to the server. */
  const createHook = async (http: Api, path: string, events: string[], secret: string | null = SECRET) => {
    const res = await http.post('/webhooks', { url: `${rx.url}${path}`, events, ...(secret === null ? {} : { secret }) });
    expect(res.status, res.text).toBe(201);
    return res.body as { id: string; url: string; events: string[]; secretHint: string; createdAt: string; secret?: string };
  };
  const run = async (input: unknown = { name: 'ada' }) => {
    const res = await admin.post('/executions', { workflow: ECHO_FLOW.name, input });
    expect(res.status, res.text).toBe(201);
    return waitForEnd(server.engine, res.body.id as string);
  };

  beforeAll(async () => {
    rx = await startReceiver();
    server = await startTestServer({ adminKey: ADMIN, webhookAllowPrivate: true, webhookRetryMs: RETRY_MS });
    admin = withKey(server.url, ADMIN);
    expect((await admin.post('/workflow-definitions', ECHO_FLOW)).status).toBe(201);
    const mk = (scopes: string[], tenant?: string) => createKey(admin, scopes, tenant);
    acme = withKey(server.url, await mk(['write'], 'acme'));
    reader = withKey(server.url, await mk(['read']));
  });

  afterAll(async () => {
    await server?.close();
    await rx?.close();
  });

  it('signs each delivery and sends only the subscribed event types, of its own tenant only', async () => {
    const done = await createHook(admin, '/done', ['workflow.completed']);
    const steps = await createHook(admin, '/steps', ['workflow.step.*']);
    const theirs = await createHook(acme, '/acme', ['*']);
    expect(done).toMatchObject({ id: expect.stringMatching(/^wh_[0-9A-Z]{26}$/), url: `${rx.url}/done`, events: ['workflow.completed'], secretHint: `…${SECRET.slice(-4)}` });
    expect(done).not.toHaveProperty('secret');

    const ex = await run();
    expect(ex.status).toBe('completed');
    const [got] = await rx.waitFor('/done', 1);
    const ds = await settled(admin, done.id, 1);
    const stepDs = await settled(admin, steps.id, 2);

    // Headers, body and signature of the one completed-event delivery.
    expect(got?.headers['content-type']).toBe('application/json');
    expect(got?.headers['x-actorflow-event']).toBe('workflow.completed');
    expect(got?.headers['x-actorflow-delivery']).toBe(ds[0]?.id);
    const body = got?.body ?? '';
    const event = JSON.parse(body) as { id: string; type: string; executionId: string; tenant: string; seq: number };
    expect(event).toMatchObject({ type: 'workflow.completed', executionId: ex.id, tenant: 'default' });
    const sig = String(got?.headers['x-actorflow-signature']);
    const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(sig);
    expect(m, sig).not.toBeNull();
    const t = Number(m?.[1]);
    expect(Math.abs(t - Date.now() / 1000)).toBeLessThan(60);
    expect(m?.[2]).toBe(createHmac('sha256', SECRET).update(`${t}.${body}`).digest('hex'));
    expect(verifySignature(sig, body, SECRET)).toBe(true);
    expect(verifySignature(sig, body, 'another-secret-0123456789')).toBe(false);
    expect(verifySignature(sig, body.replace('completed', 'failed'), SECRET)).toBe(false);
    expect(verifySignature(sig, body, SECRET, t + 3600)).toBe(false); // outside the replay window

    expect(ds[0]).toMatchObject({ eventId: event.id, eventType: 'workflow.completed', status: 'delivered', attempts: 1, lastStatusCode: 200, lastError: null, nextAttemptAt: null });
    expect(Date.parse(ds[0]?.deliveredAt ?? '')).toBeGreaterThanOrEqual(Date.parse(ds[0]?.createdAt ?? ''));
    // Only the subscribed types reached each URL.
    expect(rx.on('/done').map((r) => r.headers['x-actorflow-event'])).toEqual(['workflow.completed']);
    expect(rx.on('/steps').map((r) => r.headers['x-actorflow-event']).sort()).toEqual(['workflow.step.completed', 'workflow.step.started']);
    expect(stepDs.map((d) => d.eventType).sort()).toEqual(['workflow.step.completed', 'workflow.step.started']);
    // Tenant acme's catch-all webhook saw nothing of tenant default.
    expect(rx.on('/acme')).toEqual([]);
    expect(await deliveriesOf(acme, theirs.id)).toEqual([]);
    for (const [http, id] of [[admin, done.id], [admin, steps.id], [acme, theirs.id]] as const) expect((await http.del(`/webhooks/${id}`)).status).toBe(204);
  });

  it('retries 500s with doubling gaps until a 2xx, counting attempts', async () => {
    rx.respond('/flaky', (n) => (n <= 3 ? 500 : 204));
    const hook = await createHook(admin, '/flaky', ['workflow.completed']);
    await run();
    const [d] = await settled(admin, hook.id, 1);
    expect(d).toMatchObject({ status: 'delivered', attempts: 4, lastStatusCode: 204, lastError: null });
    const reqs = rx.on('/flaky');
    expect(reqs).toHaveLength(4);
    expect(new Set(reqs.map((r) => r.headers['x-actorflow-delivery']))).toEqual(new Set([d?.id]));
    expect(new Set(reqs.map((r) => r.body)).size).toBe(1);
    const gaps = reqs.slice(1).map((r, i) => r.at - (reqs[i]?.at ?? 0));
    // 25, 50, 100 ms at least (timers never fire early; 2 ms for clock rounding).
    gaps.forEach((g, i) => expect(g, `gap ${i}: ${gaps.join(',')}`).toBeGreaterThanOrEqual(RETRY_MS * 2 ** i - 2));
    expect((await admin.del(`/webhooks/${hook.id}`)).status).toBe(204);
  });

  it('marks a delivery dead after 8 failed tries and pages the history', async () => {
    rx.respond('/down', () => 500);
    const hook = await createHook(admin, '/down', ['workflow.completed', 'workflow.started']);
    await run();
    const ds = await settled(admin, hook.id, 2, (d) => d.status === 'dead');
    for (const d of ds) expect(d).toMatchObject({ status: 'dead', attempts: 8, lastStatusCode: 500, lastError: 'HTTP 500', nextAttemptAt: null, deliveredAt: null });
    expect(rx.on('/down')).toHaveLength(16);
    // Newest first, `limit`/`cursor` pages.
    const first = await admin.get(`/webhooks/${hook.id}/deliveries`, { query: { limit: 1 } });
    expect(first.body.items).toHaveLength(1);
    expect(first.body.items[0].eventType).toBe('workflow.completed');
    expect(first.body.nextCursor).toBe(first.body.items[0].id);
    const second = await admin.get(`/webhooks/${hook.id}/deliveries`, { query: { limit: 1, cursor: first.body.nextCursor } });
    expect(second.body.items.map((d: DeliveryView) => d.eventType)).toEqual(['workflow.started']);
    expect(second.body.nextCursor).toBeNull();
    expect((await admin.del(`/webhooks/${hook.id}`)).status).toBe(204);
  });

  it('caps requests in flight per webhook, so a stuck receiver does not hold up the others', async () => {
    rx.respond('/stuck', () => 'hang');
    const stuck = await createHook(admin, '/stuck', ['workflow.*']);
    await Promise.all([run(), run(), run(), run()]);
    // Many events (4 per run) are due to /stuck; only the per-webhook cap of them are held open…
    await rx.waitFor('/stuck', PER_WEBHOOK);
    const fast = await createHook(admin, '/fast', ['workflow.completed']);
    await run();
    // …while another webhook's delivery still goes through at once.
    expect(await settled(admin, fast.id, 1)).toMatchObject([{ status: 'delivered', attempts: 1 }]);
    expect(rx.on('/stuck')).toHaveLength(PER_WEBHOOK);
    const open = await deliveriesOf(admin, stuck.id);
    expect(open.length).toBeGreaterThan(PER_WEBHOOK);
    expect(open.every((d) => d.status === 'pending' && d.attempts === 0)).toBe(true);
    // Deleting it aborts its requests in flight.
    for (const id of [stuck.id, fast.id]) expect((await admin.del(`/webhooks/${id}`)).status).toBe(204);
    await eventually(async () => (rx.abandoned('/stuck') === PER_WEBHOOK ? true : undefined));
  });

  it('keeps connections alive: 200 deliveries to one receiver use at most the per-webhook cap of them; deleting the webhook closes them', async () => {
    // A receiver of its own, counting the connections it accepts and those still open.
    let accepted = 0;
    const open = new Set<Socket>();
    const got: string[] = [];
    const own = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        got.push(String(req.headers['x-actorflow-delivery']));
        res.writeHead(204).end();
      });
    }).on('connection', (socket) => {
      accepted++;
      open.add(socket);
      socket.on('close', () => open.delete(socket));
    });
    await new Promise<void>((resolve) => own.listen(0, '127.0.0.1', resolve));
    try {
      const res = await admin.post('/webhooks', { url: `http://127.0.0.1:${(own.address() as { port: number }).port}/kept`, events: ['workflow.*'], secret: SECRET });
      expect(res.status, res.text).toBe(201);
      const hook = res.body as { id: string };
      // 4 events per run (started, step started, step completed, completed): 50 runs, 200 deliveries.
      for (let i = 0; i < 5; i++) await Promise.all(Array.from({ length: 10 }, () => run()));
      const ds = await settled(admin, hook.id, 200);
      expect(ds).toHaveLength(200);
      expect(new Set(got).size).toBe(200);
      expect(accepted, `connections accepted for 200 deliveries`).toBeLessThanOrEqual(PER_WEBHOOK);
      expect(open.size).toBeGreaterThan(0);
      // Deleting the webhook destroys its agent: the receiver sees every connection close (well before the 4 s idle timeout).
      expect((await admin.del(`/webhooks/${hook.id}`)).status).toBe(204);
      await eventually(async () => (open.size === 0 ? true : undefined), 2_000);
    } finally {
      own.closeAllConnections();
      await new Promise<void>((resolve) => own.close(() => resolve()));
    }
  });

  it('lists, reads, deletes; validates input; keeps webhooks to their tenant and needs write', async () => {
    const a = await createHook(admin, '/crud-a', ['workflow.*']);
    const b = await createHook(admin, '/crud-b', ['*'], null);
    expect(b.secret).toMatch(/^whsec_/);
    expect(b.secretHint).toBe(`…${b.secret?.slice(-4)}`);
    const got = await admin.get(`/webhooks/${b.id}`);
    expect(got.status).toBe(200);
    expect(got.body).not.toHaveProperty('secret');
    const list = await admin.get('/webhooks', { query: { limit: 1 } });
    expect(list.body.items.map((w: { id: string }) => w.id)).toEqual([a.id]);
    const rest = await admin.get('/webhooks', { query: { limit: 1, cursor: list.body.nextCursor } });
    expect(rest.body).toMatchObject({ items: [{ id: b.id }], nextCursor: null });

    // Another tenant: 404 everywhere, an empty list; a read key cannot change anything.
    for (const path of [`/webhooks/${a.id}`, `/webhooks/${a.id}/deliveries`]) expect((await acme.get(path)).status).toBe(404);
    const theirs = await acme.del(`/webhooks/${a.id}`);
    expect(theirs.status).toBe(404);
    expect(theirs.body.code).toBe('webhook_not_found');
    expect((await acme.get('/webhooks')).body).toEqual({ items: [], nextCursor: null });
    expect((await reader.post('/webhooks', { url: `${rx.url}/x`, events: ['*'] })).status).toBe(403);
    expect((await reader.del(`/webhooks/${a.id}`)).status).toBe(403);
    expect((await reader.get(`/webhooks/${a.id}`)).status).toBe(200);

    const bad = await admin.post('/webhooks', { url: 42, events: ['workflow.nope', 'workflow.completed'], secret: 'short' });
    expect(bad.status).toBe(422);
    expect(bad.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['/events/0', '/secret', '/url']);
    expect((await admin.post('/webhooks', { url: `${rx.url}/x`, events: [] })).body.errors[0].path).toBe('/events');
    expect((await admin.post('/webhooks', { url: `${rx.url}/x` })).status).toBe(422);
    expect((await admin.get('/webhooks/wh_nope')).body.code).toBe('webhook_not_found');

    expect((await admin.del(`/webhooks/${a.id}`)).status).toBe(204);
    expect((await admin.get(`/webhooks/${a.id}`)).status).toBe(404);
    expect((await admin.get(`/webhooks/${a.id}/deliveries`)).status).toBe(404);
    expect((await admin.del(`/webhooks/${b.id}`)).status).toBe(204);
    expect((await admin.get('/webhooks')).body.items).toEqual([]);
  });
});

describe('inbound hooks: POST /hooks/{workflow}', () => {
  let server: TestServer;
  let admin: Api;
  let acme: Api;
  let reader: Api;

  beforeAll(async () => {
    server = await startTestServer({ adminKey: ADMIN });
    admin = withKey(server.url, ADMIN);
    expect((await admin.post('/workflow-definitions', ECHO_FLOW)).status).toBe(201);
    const mk = (scopes: string[], tenant?: string) => createKey(admin, scopes, tenant);
    acme = withKey(server.url, await mk(['write'], 'acme'));
    reader = withKey(server.url, await mk(['read']));
  });

  afterAll(async () => {
    await server?.close();
  });

  it('starts the workflow with the body as input, labelled trigger=hook, and it completes', async () => {
    const res = await admin.post(`/hooks/${ECHO_FLOW.name}`, { name: 'grace' });
    expect(res.status, res.text).toBe(201);
    expect(res.body).toMatchObject({ id: expect.stringMatching(/^ex_/), workflow: ECHO_FLOW.name, input: { name: 'grace' }, labels: { trigger: 'hook' } });
    const done = await waitForEnd(server.engine, res.body.id as string);
    expect(done.status).toBe('completed');
    const steps = await admin.get(`/executions/${res.body.id}/steps`);
    expect(steps.body.items[0].output).toMatchObject({ name: 'grace' });
    const empty = await admin.post(`/hooks/${ECHO_FLOW.name}`, undefined);
    expect(empty.status).toBe(201);
    expect(empty.body.input).toEqual({});
    const labelled = await admin.get('/executions', { query: { 'label.trigger': 'hook' } });
    expect(labelled.body.items.map((x: { id: string }) => x.id).sort()).toEqual([res.body.id, empty.body.id].sort());
  });

  it('honours idempotency-key: same body replays (200), another body conflicts (409)', async () => {
    const h = { headers: { 'idempotency-key': 'hook-key-1' } };
    const first = await admin.post(`/hooks/${ECHO_FLOW.name}`, { name: 'x' }, h);
    expect(first.status).toBe(201);
    const again = await admin.post(`/hooks/${ECHO_FLOW.name}`, { name: 'x' }, h);
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replay')).toBe('true');
    expect(again.body.id).toBe(first.body.id);
    const other = await admin.post(`/hooks/${ECHO_FLOW.name}`, { name: 'y' }, h);
    expect(other.status).toBe(409);
    expect(other.body.code).toBe('idempotency_key_conflict');
    const long = await admin.post(`/hooks/${ECHO_FLOW.name}`, {}, { headers: { 'idempotency-key': 'k'.repeat(256) } });
    expect(long.status).toBe(422);
    expect(long.body.errors[0].path).toBe('/headers/idempotency-key');
  });

  it('answers 404 for an unknown (or another tenant’s) workflow, 400 for bad JSON, 403 without write', async () => {
    const before = (await admin.get('/executions', { query: { limit: 1000 } })).body.items.length;
    const unknown = await admin.post('/hooks/no-such-flow', {});
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('definition_not_found');
    const theirs = await acme.post(`/hooks/${ECHO_FLOW.name}`, {});
    expect(theirs.status).toBe(404);
    expect(theirs.body.code).toBe('definition_not_found');
    const badJson = await admin.post(`/hooks/${ECHO_FLOW.name}`, undefined, { rawBody: '{"name":' });
    expect(badJson.status).toBe(400);
    expect(badJson.body.code).toBe('invalid_json');
    expect((await admin.post(`/hooks/${ECHO_FLOW.name}`, undefined, { rawBody: 'name=x', headers: { 'content-type': 'text/plain' } })).status).toBe(415);
    expect((await reader.post(`/hooks/${ECHO_FLOW.name}`, {})).status).toBe(403);
    expect((await api(server.url).post(`/hooks/${ECHO_FLOW.name}`, {})).status).toBe(401);
    expect((await admin.get('/executions', { query: { limit: 1000 } })).body.items).toHaveLength(before);
  });
});

describe('SSRF guard (private receivers not allowed)', () => {
  let server: TestServer;
  let admin: Api;
  let rx: Receiver;

  beforeAll(async () => {
    rx = await startReceiver();
    server = await startTestServer({ adminKey: ADMIN });
    admin = withKey(server.url, ADMIN);
  });

  afterAll(async () => {
    await server?.close();
    await rx?.close();
  });

  it('refuses non-http(s) URLs and hosts that are or resolve to non-public addresses with 422 at /url', async () => {
    const refused = [
      `${rx.url}/hook`,
      'http://127.0.0.1:9/x',
      'http://10.1.2.3/hook',
      'http://192.168.0.10/hook',
      'http://172.16.5.4/hook',
      'http://169.254.169.254/latest/meta-data/',
      'http://100.64.0.1/hook',
      'http://0.0.0.0:8080/',
      'http://224.0.0.1/',
      'http://[::1]:8080/hook',
      'http://[fd00::1]/hook',
      'http://[fe80::1]/hook',
      'http://[::ffff:127.0.0.1]/hook',
      'http://[::127.0.0.1]/hook',
      'http://[64:ff9b::169.254.169.254]/latest/meta-data/',
      'http://[2002:a9fe:a9fe::1]/hook',
      'http://0x7f000001/hook',
      'http://localhost:8080/hook',
      'ftp://example.com/hook',
      'file:///etc/passwd',
      'javascript:alert(1)',
      'not a url',
      'http://user:pass@93.184.216.34/hook',
    ];
    for (const url of refused) {
      const res = await admin.post('/webhooks', { url, events: ['*'], secret: SECRET });
      expect(res.status, `${url}: ${res.text}`).toBe(422);
      expect(res.body.code, url).toBe('webhook_url_forbidden');
      expect(res.body.errors.map((e: { path: string }) => e.path), url).toEqual(['/url']);
    }
    expect((await admin.get('/webhooks')).body.items).toEqual([]);
    // A public address literal is accepted (no request is made at creation).
    const ok = await admin.post('/webhooks', { url: 'https://93.184.216.34/hook', events: ['workflow.completed'], secret: SECRET });
    expect(ok.status, ok.text).toBe(201);
    expect((await admin.del(`/webhooks/${ok.body.id}`)).status).toBe(204);
  });

  it('re-checks the address at delivery time: a private target fails the attempt without a request', async () => {
    const delivery = {
      id: 'whd_TEST', webhookId: 'wh_TEST', tenant: 'default', eventId: 'e1', eventType: 'workflow.completed', body: '{}',
      status: 'pending' as const, attempts: 0, lastStatusCode: null, lastError: null, nextAttemptAt: 0, createdAt: 0, deliveredAt: null,
    };
    const common = { url: `${rx.url}/rebound`, secret: SECRET, delivery, timeoutMs: 5000, signal: new AbortController().signal, nowMs: Date.now() };
    const refused = await sendDelivery({ ...common, allowPrivate: false });
    expect(refused).toMatchObject({ kind: 'failed', statusCode: null, error: expect.stringMatching(/^url refused: .*loopback/) });
    expect(rx.on('/rebound')).toEqual([]);
    // The same attempt with private targets allowed reaches the receiver.
    expect(await sendDelivery({ ...common, allowPrivate: true })).toEqual({ kind: 'delivered', statusCode: 200 });
    expect(rx.on('/rebound')).toHaveLength(1);
    // A name (resolved once, then pinned) likewise: refused as loopback, or delivered with its Host header when allowed.
    const byName = { ...common, url: `${rx.url.replace('127.0.0.1', 'localhost')}/by-name` };
    expect(await sendDelivery({ ...byName, allowPrivate: false })).toMatchObject({ kind: 'failed', statusCode: null, error: expect.stringMatching(/^url refused: host localhost resolves to .*loopback/) });
    expect(rx.on('/by-name')).toEqual([]);
    expect(await sendDelivery({ ...byName, allowPrivate: true })).toEqual({ kind: 'delivered', statusCode: 200 });
    expect(rx.on('/by-name').map((r) => [r.headers.host, r.headers['x-actorflow-delivery']])).toEqual([[new URL(byName.url).host, 'whd_TEST']]);
  });

  it('keeps refused redirects and 4xx/5xx as failed attempts, and reports a receiver that does not listen', async () => {
    rx.respond('/redirect', () => 302);
    const delivery = {
      id: 'whd_TEST2', webhookId: 'wh_TEST', tenant: 'default', eventId: 'e2', eventType: 'workflow.completed', body: '{}',
      status: 'pending' as const, attempts: 0, lastStatusCode: null, lastError: null, nextAttemptAt: 0, createdAt: 0, deliveredAt: null,
    };
    const common = { secret: SECRET, delivery, timeoutMs: 5000, signal: new AbortController().signal, nowMs: Date.now(), allowPrivate: true };
    expect(await sendDelivery({ ...common, url: `${rx.url}/redirect` })).toEqual({ kind: 'failed', statusCode: 302, error: 'HTTP 302' });
    expect(rx.on('/redirect')).toHaveLength(1);
    // Port 9 (discard) on loopback: nobody listens.
    expect(await sendDelivery({ ...common, url: 'http://127.0.0.1:9/none' })).toEqual({ kind: 'failed', statusCode: null, error: 'ECONNREFUSED' });
    // A receiver that never answers: the attempt's timeout.
    rx.respond('/silent', () => 'hang');
    expect(await sendDelivery({ ...common, url: `${rx.url}/silent`, timeoutMs: 200 })).toEqual({ kind: 'failed', statusCode: null, error: 'timed out after 200 ms' });
  });
});

describe('deliveries across a restart', () => {
  let dataDir: string;
  let rx: Receiver;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'actorflow-webhooks-'));
    rx = await startReceiver();
  });

  afterAll(async () => {
    await rx?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('resumes a pending delivery (interrupted by shutdown) after a restart', async () => {
    let holding = true;
    rx.respond('/resume', () => (holding ? 'hang' : 200));
    const first = await startTestServer({ adminKey: ADMIN, dataDir, webhookAllowPrivate: true, webhookRetryMs: RETRY_MS });
    let hookId = '';
    let deliveryId = '';
    try {
      const admin = withKey(first.url, ADMIN);
      expect((await admin.post('/workflow-definitions', ECHO_FLOW)).status).toBe(201);
      const hook = await admin.post('/webhooks', { url: `${rx.url}/resume`, events: ['workflow.completed'], secret: SECRET });
      expect(hook.status).toBe(201);
      hookId = hook.body.id as string;
      const ex = await admin.post('/executions', { workflow: ECHO_FLOW.name, input: { name: 'r' } });
      await waitForEnd(first.engine, ex.body.id as string);
      const [held] = await rx.waitFor('/resume', 1);
      deliveryId = String(held?.headers['x-actorflow-delivery']);
      expect(await deliveriesOf(admin, hookId)).toMatchObject([{ id: deliveryId, status: 'pending', attempts: 0 }]);
    } finally {
      await first.close();
    }
    holding = false;
    const second = await startTestServer({ adminKey: ADMIN, dataDir, webhookAllowPrivate: true, webhookRetryMs: RETRY_MS });
    try {
      const admin = withKey(second.url, ADMIN);
      const [d] = await settled(admin, hookId, 1);
      expect(d).toMatchObject({ id: deliveryId, status: 'delivered', attempts: 1, lastStatusCode: 200 });
      const reqs = rx.on('/resume');
      expect(reqs).toHaveLength(2);
      // Same delivery id and body on the retry: receivers can deduplicate.
      expect(reqs[1]?.headers['x-actorflow-delivery']).toBe(deliveryId);
      expect(reqs[1]?.body).toBe(reqs[0]?.body);
      expect(verifySignature(String(reqs[1]?.headers['x-actorflow-signature']), reqs[1]?.body ?? '', SECRET)).toBe(true);
    } finally {
      await second.close();
    }
  });
});

describe('retry schedule and event patterns', () => {
  it('waits base, then doubles, capped at 5 minutes; 8 tries in all', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => retryDelayMs(n, 1000))).toEqual([1000, 2000, 4000, 8000, 16_000, 32_000, 64_000]);
    expect(retryDelayMs(7, 10_000)).toBe(MAX_WEBHOOK_RETRY_MS);
    expect(MAX_WEBHOOK_RETRY_MS).toBe(300_000);
    expect(WEBHOOK_MAX_ATTEMPTS).toBe(8);
  });

  it('matches exact types, dotted-prefix wildcards and *', () => {
    expect(WEBHOOK_WILDCARDS).toEqual(expect.arrayContaining(['*', 'workflow.*', 'workflow.step.*', 'step.*']));
    const m = eventMatcher(['workflow.completed', 'workflow.step.*']);
    expect(['workflow.completed', 'workflow.step.started', 'workflow.step.failed'].every(m)).toBe(true);
    expect(['workflow.started', 'workflow.failed', 'step.log', 'agent.selected'].some(m)).toBe(false);
    expect(eventMatcher(['*'])('agent.selected')).toBe(true);
    expect(eventMatcher(['workflow.*'])('step.log')).toBe(false);
  });
});
