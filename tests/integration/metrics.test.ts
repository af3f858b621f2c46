/** Prometheus metrics: the text parses, counters move as flows run, HTTP latency per route, WAL size, tenant default and scope unless public. */
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WAL_SIZE_LIMIT_BYTES } from '../../src/store/sqlite/wal-checkpointer.ts';
import { type Api, api, createKey, request, withKey } from '../support/http.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { waitForEnd, waitForStatus } from '../support/wait.ts';
import { connectWs } from '../support/ws-client.ts';

const ADMIN = 'test-admin-key-metrics-0123456789abcdef';

interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

interface Scrape {
  readonly samples: Sample[];
  readonly types: Map<string, string>;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (-?(?:[0-9.e+-]+|NaN|\+Inf|-Inf))$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)/g;

/** A strict parser of the Prometheus text format 0.0.4 (HELP/TYPE comments, samples); throws on a bad line. */
function parseProm(text: string): Scrape {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('# HELP ')) continue;
    if (line.startsWith('# TYPE ')) {
      const [, , name = '', type = ''] = line.split(' ');
      expect(['counter', 'gauge', 'histogram', 'summary', 'untyped']).toContain(type);
      types.set(name, type);
      continue;
    }
    const m = LINE.exec(line);
    if (m === null) throw new Error(`not Prometheus text: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    const body = m[2] ?? '';
    let consumed = 0;
    for (const l of body.matchAll(LABEL)) {
      labels[l[1] ?? ''] = (l[2] ?? '').replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
      consumed += l[0].length;
    }
    if (consumed !== body.length) throw new Error(`bad labels: ${JSON.stringify(line)}`);
    samples.push({ name: m[1] ?? '', labels, value: Number(m[3]) });
  }
  return { samples, types };
}

/** Sum of the samples of `name` whose labels include `match`. */
function total(s: Scrape, name: string, match: Record<string, string> = {}): number {
  return s.samples.filter((x) => x.name === name && Object.entries(match).every(([k, v]) => x.labels[k] === v)).reduce((a, x) => a + x.value, 0);
}

let server: TestServer;
let http: Api;

async function scrape(path = '/metrics', url = server.url, headers: Record<string, string> = {}): Promise<Scrape> {
  const res = await request(url, 'GET', path, undefined, { headers });
  expect(res.status, res.text).toBe(200);
  expect(res.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseProm(res.text);
}

async function run(workflow: string, input: unknown = {}): Promise<string> {
  const res = await http.post('/executions', { workflow, input });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  await waitForEnd(server.engine, res.body.id);
  return res.body.id as string;
}

beforeAll(async () => {
  server = await startTestServer();
  http = api(server.url);
  const define = async (doc: unknown): Promise<void> => {
    const res = await http.post('/workflow-definitions', doc);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  };
  await define({ name: 'm-ok', steps: [{ id: 'a', type: 'task', agent: 'echo', input: 'x' }, { id: 'b', type: 'task', agent: 'echo', input: 'y' }] });
  await define({ name: 'm-fail', steps: [{ id: 'f', type: 'task', agent: 'fail', input: { retryable: false } }] });
  await define({ name: 'm-wait', steps: [{ id: 'w', type: 'wait', signal: 'go' }] });
});

afterAll(async () => {
  await server?.close();
});

describe('/metrics', () => {
  it('parses as Prometheus text with the documented families', async () => {
    const s = await scrape();
    for (const [name, type] of [
      ['actorflow_executions_started_total', 'counter'],
      ['actorflow_executions_finished_total', 'counter'],
      ['actorflow_steps_total', 'counter'],
      ['actorflow_step_duration_seconds', 'histogram'],
      ['actorflow_execution_duration_seconds', 'histogram'],
      ['actorflow_http_request_duration_seconds', 'histogram'],
      ['actorflow_ws_connections', 'gauge'],
      ['actorflow_ws_subscriptions', 'gauge'],
      ['actorflow_journal_commit_duration_seconds', 'histogram'],
      ['actorflow_journal_commit_batch_events', 'histogram'],
      ['actorflow_event_loop_lag_seconds', 'gauge'],
      ['actorflow_recovery_duration_seconds', 'gauge'],
      ['actorflow_recovered_executions', 'gauge'],
      ['actorflow_wal_bytes', 'gauge'],
    ]) {
      expect(s.types.get(name ?? ''), name).toBe(type);
    }
    const same = await scrape('/api/v1/metrics');
    expect(same.types.size).toBe(s.types.size);
  });

  it('counts executions, steps and durations as flows run', async () => {
    const before = await scrape();
    await run('m-ok');
    await run('m-ok');
    await run('m-fail');
    const cancelled = await http.post('/executions', { workflow: 'm-wait' });
    expect(cancelled.status).toBe(201);
    expect((await http.post(`/executions/${cancelled.body.id}/cancel`, {})).status).toBe(202);
    await waitForEnd(server.engine, cancelled.body.id);

    const after = await scrape();
    const delta = (name: string, match: Record<string, string> = {}): number => total(after, name, match) - total(before, name, match);
    expect(delta('actorflow_executions_started_total', { workflow: 'm-ok' })).toBe(2);
    expect(delta('actorflow_executions_started_total', { workflow: 'm-fail' })).toBe(1);
    expect(delta('actorflow_executions_finished_total', { workflow: 'm-ok', status: 'completed' })).toBe(2);
    expect(delta('actorflow_executions_finished_total', { workflow: 'm-fail', status: 'failed' })).toBe(1);
    expect(delta('actorflow_executions_finished_total', { workflow: 'm-wait', status: 'cancelled' })).toBe(1);
    expect(delta('actorflow_steps_total', { type: 'task', agent: 'echo', outcome: 'completed' })).toBe(4);
    expect(delta('actorflow_steps_total', { agent: 'fail', outcome: 'failed' })).toBe(1);
    expect(delta('actorflow_step_duration_seconds_count', { agent: 'echo', outcome: 'completed' })).toBe(4);
    expect(delta('actorflow_execution_duration_seconds_count', { workflow: 'm-ok', status: 'completed' })).toBe(2);
    expect(delta('actorflow_journal_commit_duration_seconds_count')).toBeGreaterThan(0);
    expect(delta('actorflow_journal_commit_batch_events_sum')).toBeGreaterThanOrEqual(10);
    // Histogram buckets are cumulative and end in +Inf = count.
    const buckets = after.samples.filter((x) => x.name === 'actorflow_execution_duration_seconds_bucket' && x.labels['workflow'] === 'm-ok');
    for (let i = 1; i < buckets.length; i++) expect(buckets[i]?.value ?? 0).toBeGreaterThanOrEqual(buckets[i - 1]?.value ?? 0);
    expect(buckets.at(-1)?.labels['le']).toBe('+Inf');
    expect(buckets.at(-1)?.value).toBe(total(after, 'actorflow_execution_duration_seconds_count', { workflow: 'm-ok' }));
  });

  it('observes HTTP latency by route template and status', async () => {
    const before = await scrape();
    await http.post('/executions', { workflow: 'm-ok' });
    await http.post('/executions', { workflow: 'nope' });
    await http.get('/executions/ex_00000000000000000000000000');
    await request(server.url, 'GET', '/no/such/route');
    const after = await scrape();
    const delta = (match: Record<string, string>): number =>
      total(after, 'actorflow_http_request_duration_seconds_count', match) - total(before, 'actorflow_http_request_duration_seconds_count', match);
    expect(delta({ route: '/api/v1/executions', method: 'POST', status: '201' })).toBe(1);
    expect(delta({ route: '/api/v1/executions', method: 'POST', status: '422' })).toBe(1);
    expect(delta({ route: '/api/v1/executions/{id}', method: 'GET', status: '404' })).toBe(1);
    expect(delta({ route: '(unmatched)', status: '404' })).toBe(1);
  });

  it('reports the size of the journal WAL file', async () => {
    await run('m-ok');
    const s = await scrape();
    const onDisk = (await stat(join(server.dataDir, 'actorflow.db-wal'))).size;
    const gauge = total(s, 'actorflow_wal_bytes');
    expect(gauge).toBeGreaterThan(0);
    // Read by stat at scrape time; an audit flush or a checkpoint may move it a little since.
    expect(Math.abs(gauge - onDisk)).toBeLessThan(1024 * 1024);
    expect(gauge).toBeLessThan(WAL_SIZE_LIMIT_BYTES + 1024 * 1024);
  });

  it('reports WebSocket connections and subscriptions', async () => {
    const ws = await connectWs(server.url);
    try {
      ws.send({ op: 'subscribe', id: 's1', filter: {} });
      await ws.waitFor((f) => f.op === 'ack' && f.id === 's1');
      const s = await scrape();
      expect(total(s, 'actorflow_ws_connections')).toBeGreaterThanOrEqual(1);
      expect(total(s, 'actorflow_ws_subscriptions')).toBeGreaterThanOrEqual(1);
    } finally {
      await ws.close();
    }
  });
});

describe('/metrics access', () => {
  let secured: TestServer;
  let publicMetrics: TestServer;
  beforeAll(async () => {
    [secured, publicMetrics] = await Promise.all([startTestServer({ adminKey: ADMIN }), startTestServer({ adminKey: ADMIN, metricsPublic: true })]);
  });
  afterAll(async () => {
    await Promise.all([secured?.close(), publicMetrics?.close()]);
  });

  it('needs the read scope unless ACTORFLOW_METRICS_PUBLIC', async () => {
    for (const path of ['/metrics', '/api/v1/metrics']) {
      const res = await request(secured.url, 'GET', path);
      expect(res.status, path).toBe(401);
      expect(res.contentType).toMatch(/problem\+json/);
      await scrape(path, secured.url, { authorization: `Bearer ${ADMIN}` });
      await scrape(path, publicMetrics.url);
    }
    const doc = await request(publicMetrics.url, 'GET', '/api/v1/openapi.json');
    expect(doc.body.paths['/metrics'].get.security).toEqual([]);
    const securedDoc = await request(secured.url, 'GET', '/api/v1/openapi.json');
    expect(securedDoc.body.paths['/metrics'].get.security).not.toEqual([]);
  });

  it('needs a credential of tenant default (read is enough): other tenants get 403 unless public', async () => {
    const admin = withKey(secured.url, ADMIN);
    const defaultRead = await createKey(admin, ['read']);
    const acmeRead = await createKey(admin, ['read'], 'acme');
    const acmeAdmin = await createKey(admin, ['admin'], 'acme');
    for (const path of ['/metrics', '/api/v1/metrics']) {
      for (const key of [acmeRead, acmeAdmin]) {
        const res = await request(secured.url, 'GET', path, undefined, { headers: { authorization: `Bearer ${key}` } });
        expect(res.status, path).toBe(403);
        expect(res.contentType).toMatch(/problem\+json/);
        expect(res.body.code).toBe('forbidden');
        expect(res.text).not.toContain('actorflow_');
      }
      await scrape(path, secured.url, { 'x-api-key': defaultRead });
      // Public metrics read no credential at all: whatever is sent, they answer.
      await scrape(path, publicMetrics.url);
      await scrape(path, publicMetrics.url, { authorization: `Bearer ${acmeRead}` });
    }
  });
});

describe('/metrics after a restart', () => {
  it('reports how many executions the recovery brought back and how long it took', async () => {
    const first = await startTestServer({ keepDataDir: true });
    const client = api(first.url);
    expect((await client.post('/workflow-definitions', { name: 'm-parked', steps: [{ id: 'w', type: 'wait', signal: 'go' }] })).status).toBe(201);
    for (let i = 0; i < 3; i++) {
      const res = await client.post('/executions', { workflow: 'm-parked' });
      expect(res.status).toBe(201);
      await waitForStatus(first.engine, res.body.id, 'waiting');
    }
    await first.close();
    const second = await startTestServer({ dataDir: first.dataDir });
    try {
      await second.schedulerIdle(); // resolves after recovery
      const s = await scrape('/metrics', second.url);
      // Waiting executions are not rebuilt: they stay in the store (passivated) until an input comes.
      expect(total(s, 'actorflow_recovered_executions')).toBe(3);
      expect(total(s, 'actorflow_recovered_executions', { how: 'waiting' })).toBe(3);
      expect(total(s, 'actorflow_recovered_executions', { how: 'rebuilt' })).toBe(0);
      expect(total(s, 'actorflow_recovery_duration_seconds')).toBeGreaterThan(0);
    } finally {
      await second.close();
      await rm(first.dataDir, { recursive: true, force: true });
    }
  });
});
