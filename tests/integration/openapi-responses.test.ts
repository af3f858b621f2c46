/**
 * The OpenAPI document tells the truth about answers: real responses of a running server, for
 * every route with a documented success schema, validate against the schema the document gives
 * for that method, path and status.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../../src/api/routes.ts';
import { fullPath, type RouteSpec } from '../../src/api/routing/route-spec.ts';
import { RESPONSE_SCHEMAS } from '../../src/api/routing/response-schemas.ts';
import { type Method, request } from '../support/http.ts';
import { startPushReceiver } from '../support/push-receiver.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { nextEvent, waitForStatus, waitForEnd } from '../support/wait.ts';

const ADMIN = 'test-admin-key-responses-0123456789abcdef';
const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

let server: TestServer;
let doc: any;
const ajv = new Ajv2020({ strict: false, allErrors: true });
ajv.addFormat('date-time', ISO_MS);
const covered = new Set<string>();

/** The route a concrete method + path hits (templates compiled to regexes). */
const matchers = (ROUTES as readonly RouteSpec[]).map((spec) => ({
  spec,
  re: new RegExp('^' + fullPath(spec).replace(/\{[^}]+\}/g, '[^/]+') + '$'),
}));

function routeOf(method: Method, path: string): RouteSpec {
  const bare = path.split('?')[0] ?? path;
  const hits = matchers.filter((m) => m.spec.method === method.toLowerCase() && m.re.test(bare));
  // A literal segment beats a parameter (`/definitions/validate` over `/definitions/{name}`).
  hits.sort((a, b) => (fullPath(b.spec).match(/\{/g)?.length ?? 0) < (fullPath(a.spec).match(/\{/g)?.length ?? 0) ? 1 : -1);
  const hit = hits[0];
  if (hit === undefined) throw new Error(`no route for ${method} ${bare}`);
  return hit.spec;
}

/** Calls the server, checks the answer against the document's schema for its status, returns the body. */
async function call(method: Method, path: string, body?: unknown, expected?: number, headers: Readonly<Record<string, string>> = {}): Promise<any> {
  const res = await request(server.url, method, path, body, { headers: { authorization: `Bearer ${ADMIN}`, ...headers } });
  const spec = routeOf(method, path);
  if (expected !== undefined) expect(res.status, `${method} ${path}: ${res.text}`).toBe(expected);
  expect(res.status, `${method} ${path}: ${res.text}`).toBeLessThan(300);
  const op = doc.paths[fullPath(spec)][spec.method];
  const schema = op.responses[String(res.status)]?.content?.['application/json']?.schema;
  expect(schema, `${spec.id} documents no JSON schema for ${res.status}`).toBeDefined();
  // `#/components/...` references resolve against the root of the compiled schema.
  const validate = ajv.compile({ ...schema, components: doc.components });
  const ok = validate(res.body);
  expect(ok, `${spec.id} ${res.status} answer does not match its schema: ${ajv.errorsText(validate.errors)}\n${res.text.slice(0, 600)}`).toBe(true);
  covered.add(spec.id);
  return res.body;
}

beforeAll(async () => {
  server = await startTestServer({ adminKey: ADMIN, webhookAllowPrivate: true, webhookRetryMs: 60_000 });
  doc = (await request(server.url, 'GET', '/api/v1/openapi.json')).body;
});

afterAll(async () => {
  await server?.close();
});

describe('answers match the documented response schemas', () => {
  it('covers definitions, executions, agents, schedules, keys, audit and ops', async () => {
    const v1 = '/api/v1';
    await call('GET', '/health');
    await call('GET', '/ready');
    await call('GET', `${v1}/health`);
    await call('GET', `${v1}/ready`);

    const approval = {
      name: 'resp-approval',
      steps: [
        { id: 'approve', type: 'wait', signal: 'approval' },
        { id: 'after', type: 'task', agent: 'echo', input: '$.steps.approve.output' },
      ],
    };
    const failing = { name: 'resp-failing', steps: [{ id: 'boom', type: 'task', agent: 'fail', input: { retryable: false } }] };
    await call('POST', `${v1}/workflow-definitions/validate`, approval);
    await call('POST', `${v1}/workflow-definitions`, approval, 201);
    await call('POST', `${v1}/workflow-definitions`, failing, 201);
    await call('GET', `${v1}/workflow-definitions`);
    await call('GET', `${v1}/workflow-definitions/resp-approval`);
    await call('GET', `${v1}/workflow-definitions/resp-approval/versions`);

    const started = await call('POST', `${v1}/executions`, { workflow: 'resp-approval', input: { n: 1 }, labels: { suite: 'responses' } }, 201);
    await waitForStatus(server.engine, started.id, 'waiting');
    await call('GET', `${v1}/executions/${started.id}`);
    await call('GET', `${v1}/executions?workflow=resp-approval`);
    await call('PATCH', `${v1}/executions/${started.id}`, { labels: { phase: 'two' } });
    await call('POST', `${v1}/executions/${started.id}/pause`, {}, 202);
    await call('POST', `${v1}/executions/${started.id}/resume`, {}, 202);
    await call('POST', `${v1}/executions/${started.id}/signals/approval`, { payload: { ok: true } }, 202);
    expect((await waitForEnd(server.engine, started.id)).status).toBe('completed');
    await call('GET', `${v1}/executions/${started.id}/steps`);
    await call('GET', `${v1}/executions/${started.id}/steps/after/attempts`);
    const events = await call('GET', `${v1}/executions/${started.id}/events`);
    expect(events.items.length).toBeGreaterThan(3);
    await call('GET', `${v1}/executions/${started.id}/logs`);
    await call('GET', `${v1}/executions/${started.id}/children`);
    await call('GET', `${v1}/executions/${started.id}/costs`);

    const doomed = await call('POST', `${v1}/executions`, { workflow: 'resp-approval' }, 201);
    await waitForStatus(server.engine, doomed.id, 'waiting');
    await call('POST', `${v1}/executions/${doomed.id}/cancel`, { reason: 'test' }, 202);

    const failed = await call('POST', `${v1}/executions`, { workflow: 'resp-failing' }, 201);
    expect((await waitForEnd(server.engine, failed.id)).status).toBe('failed');
    await call('POST', `${v1}/executions/${failed.id}/retry`, {}, 202);
    expect((await waitForEnd(server.engine, failed.id)).status).toBe('failed');
    await call('POST', `${v1}/executions/${failed.id}/steps/boom/retry`, {}, 202);
    await waitForEnd(server.engine, failed.id);

    const agents = await call('GET', `${v1}/agents`);
    expect(agents.items.length).toBeGreaterThan(0);
    await call('GET', `${v1}/agents/${agents.items[0].id}`);

    const schedule = await call('POST', `${v1}/schedules`, { workflow: 'resp-approval', everyMs: 3_600_000 }, 201);
    await call('GET', `${v1}/schedules`);
    await call('GET', `${v1}/schedules/${schedule.id}`);
    await call('PATCH', `${v1}/schedules/${schedule.id}`, { enabled: false });

    await call('POST', `${v1}/api-keys`, { name: 'reader', scopes: ['read'], rateLimit: { rps: 10, burst: 20 } }, 201);
    await call('GET', `${v1}/api-keys`);
    await server.flushAudit();
    const audit = await call('GET', `${v1}/audit`);
    expect(audit.items.length).toBeGreaterThan(0);
    await call('GET', `${v1}/status`);
  });

  it('covers webhooks, inbound hooks, telemetry and GraphQL', async () => {
    const v1 = '/api/v1';
    await call('POST', `${v1}/workflow-definitions`, { name: 'resp-hooked', steps: [{ id: 'a', type: 'task', agent: 'echo', input: '$.input' }] }, 201);
    // Nothing listens on port 9: the delivery fails and waits for its retry, which is all this needs.
    const hook = await call('POST', `${v1}/webhooks`, { url: 'http://127.0.0.1:9/hook', events: ['workflow.completed'], secret: 'a-secret-of-16-chars-or-more' }, 201);
    await call('GET', `${v1}/webhooks`);
    await call('GET', `${v1}/webhooks/${hook.id}`);
    const run = await call('POST', `${v1}/hooks/resp-hooked`, { order: 7 }, 201);
    expect((await waitForEnd(server.engine, run.id)).status).toBe('completed');
    let deliveries: any = { items: [] };
    for (const deadline = Date.now() + 10_000; deliveries.items.length === 0 && Date.now() < deadline; ) {
      deliveries = await call('GET', `${v1}/webhooks/${hook.id}/deliveries`);
      if (deliveries.items.length === 0) await new Promise((r) => setImmediate(r));
    }
    expect(deliveries.items.length).toBeGreaterThan(0);
    await call('GET', `${v1}/telemetry/summary`);
    await call('GET', `${v1}/telemetry/series?buckets=4`);
    await call('GET', `${v1}/telemetry/workflows/resp-hooked/stats`);
    const q = `{ execution(id: "${run.id}") { id status } agents { id } }`;
    const answer = await call('POST', `${v1}/graphql`, { query: q });
    expect(answer.data.execution).toMatchObject({ id: run.id, status: 'completed' });
    await call('GET', `${v1}/graphql?query=${encodeURIComponent(q)}`);
  });

  it('covers HTTP push agents (register, list, one, heartbeat)', async () => {
    const v1 = '/api/v1';
    const rx = await startPushReceiver();
    try {
      rx.behave('/later', () => ({ status: 202 }));
      const ag = await call('POST', `${v1}/agents/http`, { name: 'resp', kinds: ['resp-later'], url: `${rx.url}/later` }, 201);
      expect(ag.secret).toMatch(/^agsec_/);
      expect((await call('GET', `${v1}/agents`)).items.map((a: any) => a.id)).toContain(ag.id);
      await call('GET', `${v1}/agents/${ag.id}`);
      await call('POST', `${v1}/workflow-definitions`, { name: 'resp-pushed', steps: [{ id: 'a', type: 'task', agent: 'resp-later', input: '$.input' }] }, 201);
      const run = await call('POST', `${v1}/executions`, { workflow: 'resp-pushed' }, 201);
      const [got] = await rx.waitFor('/later', 1);
      await call('POST', `${v1}/agent-tasks/${encodeURIComponent(got!.task.taskId)}/heartbeat`, {}, 202, { 'x-actorflow-task-token': got!.task.taskToken });
      const res = await request(server.url, 'POST', `${v1}/agent-tasks/${encodeURIComponent(got!.task.taskId)}/result`, { output: 1 }, { headers: { 'x-actorflow-task-token': got!.task.taskToken } });
      expect(res.status).toBe(202);
      expect((await waitForEnd(server.engine, run.id)).status).toBe('completed');
    } finally {
      await rx.close();
    }
  });

  it('covers task definitions and step schemas', async () => {
    const v1 = '/api/v1';
    expect((await call('GET', `${v1}/task-definitions`)).items.map((d: any) => d.kind)).toContain('echo');
    await call('GET', `${v1}/task-definitions/echo`);
    const doc = { name: 'resp-schemas', steps: [{ id: 'a', type: 'task', agent: 'echo', outputSchema: { type: 'object' } }] };
    await call('POST', `${v1}/workflow-definitions`, doc, 201);
    expect(await call('GET', `${v1}/workflow-definitions/resp-schemas/steps/a/schema`)).toEqual({ input: null, output: { type: 'object' } });
  });

  it('covers standalone tasks (create, replay, list, one, attempts, cancel)', async () => {
    const v1 = '/api/v1';
    // Subscribed before the create: the in-process agent may finish before the answer is read.
    const done = nextEvent(server.engine, (e) => e.type === 'workflow.completed' && e.workflow === 'task.fail');
    const body = { agent: 'fail', input: { times: 1 }, retry: { maxAttempts: 3, backoff: 'fixed', initialMs: 5 }, idempotencyKey: 'resp-task-1' };
    const task = await call('POST', `${v1}/tasks`, body, 201);
    expect((await done).executionId).toBe(task.id);
    expect((await call('POST', `${v1}/tasks`, body, 200)).id).toBe(task.id);
    const list = await call('GET', `${v1}/tasks?agent=fail`);
    expect(list.items.map((t: any) => [t.id, t.status, t.attempts])).toEqual([[task.id, 'completed', 2]]);
    expect(await call('GET', `${v1}/tasks/${task.id}`)).toEqual(list.items[0]);
    expect((await call('GET', `${v1}/tasks/${task.id}/attempts`)).items.map((a: any) => a.status)).toEqual(['failed', 'completed']);
    const long = await call('POST', `${v1}/tasks`, { agent: 'sleep', input: { ms: 30_000 } }, 201);
    expect((await call('DELETE', `${v1}/tasks/${long.id}`, undefined, 202)).status).toBe('cancelled');
  });

  it('covers documents (create, list, one, update under if-match, versions, one version) and an execution with a scope', async () => {
    const v1 = '/api/v1';
    const doc = await call('POST', `${v1}/documents`, { scopeType: 'project', scopeId: 'resp', type: 'spec', title: 'Spec', content: { a: 1 } }, 201);
    await call('GET', `${v1}/documents?scopeType=project&scopeId=resp`);
    await call('GET', `${v1}/documents/${doc.id}`);
    expect((await call('PUT', `${v1}/documents/${doc.id}`, { status: 'final' }, 200, { 'if-match': '1' })).version).toBe(2);
    await call('GET', `${v1}/documents/${doc.id}/versions`);
    await call('GET', `${v1}/documents/${doc.id}/versions/1`);
    expect((await call('POST', `${v1}/executions`, { definition: { name: 'resp-scoped', steps: [{ id: 'a', type: 'task', agent: 'echo' }] }, scope: { type: 'project', id: 'resp' } }, 201)).scope).toEqual({ type: 'project', id: 'resp' });
  });

  it('covers tenants (create, list, one with usage, update)', async () => {
    const v1 = '/api/v1';
    await call('POST', `${v1}/tenants`, { slug: 'resp-tenant', name: 'Resp', limits: { maxRunning: 3 } }, 201);
    await call('GET', `${v1}/tenants`);
    expect((await call('GET', `${v1}/tenants/resp-tenant`)).usage).toEqual({ running: 0, waiting: 0, executions: 0, definitions: 0 });
    expect((await call('PATCH', `${v1}/tenants/resp-tenant`, { limits: { maxRunning: null, rps: 50 } })).limits).toEqual({ maxRunning: null, rps: 50 });
  });

  it('covers templates: create, list, read, instantiate, and a start from one', async () => {
    const v1 = '/api/v1';
    const base = { name: 'resp-tpl', parameters: { properties: { who: { type: 'string', default: 'ada' } } }, steps: [{ id: 'a', type: 'task', agent: 'echo', input: { who: '${params.who}' } }] };
    await call('POST', `${v1}/workflow-templates`, base, 201);
    await call('POST', `${v1}/workflow-templates`, { ...base, version: 1 }, 200);
    await call('POST', `${v1}/workflow-templates`, { name: 'resp-tpl-child', extends: 'resp-tpl', steps: [{ id: 'b', type: 'task', agent: 'echo' }] }, 201);
    await call('GET', `${v1}/workflow-templates`);
    await call('GET', `${v1}/workflow-templates/resp-tpl-child`);
    await call('GET', `${v1}/workflow-templates/resp-tpl/versions`);
    const made = await call('POST', `${v1}/workflow-templates/resp-tpl-child/instantiate`, { name: 'resp-from-tpl', params: { who: 'bob' } }, 201);
    expect(made.source).toBe('template');
    await call('GET', `${v1}/workflow-definitions/resp-from-tpl`);
    const started = await call('POST', `${v1}/executions?wait=10000`, { template: 'resp-tpl-child' }, 201);
    expect(started.template).toEqual({ name: 'resp-tpl-child', version: 1 });
  });

  it('covers bulk operations (dry run, create, replay, list, one, cancel)', async () => {
    const v1 = '/api/v1';
    expect((await server.engine.registerDefinition('default', { name: 'resp-bulk', steps: [{ id: 'w', type: 'wait', signal: 'go' }] })).created).toBe(true);
    // Enough that the cancel below finds it still running.
    for (let i = 0; i < 500; i += 100) await Promise.all(Array.from({ length: 100 }, () => server.engine.start({ tenant: 'default', workflow: 'resp-bulk' })));
    const body = { action: 'signal', filter: { workflow: 'resp-bulk', status: ['waiting'] }, signal: { name: 'go', payload: 1 } };
    expect((await call('POST', `${v1}/bulk-operations`, { ...body, dryRun: true }, 200)).matched).toBe(500);
    const op = await call('POST', `${v1}/bulk-operations`, body, 202, { 'idempotency-key': 'resp-bulk' });
    expect((await call('POST', `${v1}/bulk-operations`, body, 200, { 'idempotency-key': 'resp-bulk' })).id).toBe(op.id);
    expect((await call('POST', `${v1}/bulk-operations/${op.id}/cancel`, undefined, 202)).status).toBe('cancelled');
    await call('GET', `${v1}/bulk-operations`);
    expect((await call('GET', `${v1}/bulk-operations/${op.id}`)).matched).toBe(500);
  });

  it('checked every route that documents a response schema', () => {
    // GET /cluster answers only in cluster mode: tests/integration/cluster-nodes.test.ts checks it against its schema.
    const elsewhere = new Set(['cluster']);
    const documented = Object.keys(RESPONSE_SCHEMAS).filter((id) => !elsewhere.has(id) && (ROUTES as readonly RouteSpec[]).some((r) => r.id === id));
    expect(documented.filter((id) => !covered.has(id))).toEqual([]);
  });

  it('documents the schemas as components, referenced from operations', () => {
    expect(doc.components.schemas.Execution.required).toContain('lastSeq');
    expect(doc.paths['/api/v1/executions/{id}'].get.responses['200'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Execution' });
  });
});
