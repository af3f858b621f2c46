/**
 * GraphQL (POST /api/v1/graphql): same data as REST, tenant scoping, read scope, limits, request
 * errors as GraphQL answers (GraphQL-over-HTTP, both media types), `application/graphql` bodies,
 * refusals, document cache.
 */
import fc from 'fast-check';
import { getIntrospectionQuery } from 'graphql';
import { type AuditFail, type AuditResult, auditServer } from 'graphql-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActorflowApiError, createClient } from '../../src/client/index.ts';
import { createGraphql } from '../../src/graphql/create-graphql.ts';
import { memoizeEngineReads } from '../../src/graphql/engine-memo.ts';
import type { Logger } from '../../src/common/logger.ts';
import { type ApiResponse, api, ensureTenant, request, withKey } from '../support/http.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { waitForEnd, waitForStatus } from '../support/wait.ts';

const ADMIN = 'test-admin-key-graphql-0123456789abcdef';

let server: TestServer;
const keys = { read: '', write: '', acmeRead: '', acmeWrite: '' };
const ids = { parent: '', child: '', failed: '', waiting: [] as string[], acme: '' };

const EXECUTION_FIELDS = 'id workflow version status input output error { code message stepId compensated } currentSteps parentId tenant labels createdAt startedAt updatedAt finishedAt retryAttempt lastSeq priority';

const auth = (key: string) => ({ headers: { authorization: `Bearer ${key}` } });
const rest = (key: string, path: string, query?: Record<string, string | number>) => api(server.url).get(path, { ...auth(key), ...(query ? { query } : {}) });

function gql(key: string | undefined, query: string, variables?: Record<string, unknown>, operationName?: string, accept?: string): Promise<ApiResponse> {
  const body = { query, ...(variables ? { variables } : {}), ...(operationName ? { operationName } : {}) };
  const headers = { ...(key === undefined ? {} : auth(key).headers), ...(accept === undefined ? {} : { accept }) };
  return api(server.url).post('/graphql', body, { headers });
}

/** A 200 answer without errors: its `data`. */
async function data(key: string, query: string, variables?: Record<string, unknown>): Promise<any> {
  const res = await gql(key, query, variables);
  expect(res.status, res.text).toBe(200);
  expect(res.contentType).toMatch(/^application\/json/);
  expect(res.body.errors, res.text).toBeUndefined();
  return res.body.data;
}

async function newKey(scopes: string[], tenant?: string): Promise<string> {
  if (tenant) await ensureTenant(withKey(server.url, ADMIN), tenant);
  const res = await api(server.url).post('/api-keys', { name: `gql-${scopes.join('-')}-${tenant ?? 'default'}`, scopes, ...(tenant ? { tenant } : {}) }, auth(ADMIN));
  expect(res.status, res.text).toBe(201);
  return res.body.key as string;
}

async function define(key: string, doc: Record<string, unknown>): Promise<void> {
  const res = await api(server.url).post('/workflow-definitions', doc, auth(key));
  expect(res.status, res.text).toBe(201);
}

async function start(key: string, workflow: string, input: unknown = {}): Promise<string> {
  const res = await api(server.url).post('/executions', { workflow, input, labels: { suite: 'graphql' } }, auth(key));
  expect(res.status, res.text).toBe(201);
  return res.body.id as string;
}

beforeAll(async () => {
  server = await startTestServer({ adminKey: ADMIN });
  [keys.read, keys.write, keys.acmeRead, keys.acmeWrite] = await Promise.all([newKey(['read']), newKey(['write']), newKey(['read'], 'acme'), newKey(['write'], 'acme')]);
  await define(keys.write, { name: 'gq-child', steps: [{ id: 'c1', type: 'task', agent: 'echo', input: { v: '$.input.v' } }] });
  await define(keys.write, {
    name: 'gq-parent',
    steps: [
      { id: 'flaky', type: 'task', agent: 'fail', input: { times: 1, code: 'flaky' }, retry: { maxAttempts: 2, backoff: 'fixed', initialMs: 5 } },
      { id: 'pay', type: 'task', agent: 'echo', input: { cost: { model: 'm1', tokens: 12, usd: 0.5 } } },
      { id: 'note', type: 'task', agent: 'log', input: { level: 'warn', message: 'hello from a step' } },
      { id: 'call', type: 'workflow', workflow: 'gq-child', input: { v: 7 } },
    ],
  });
  await define(keys.write, { name: 'gq-fail', steps: [{ id: 'boom', type: 'task', agent: 'fail', input: { times: 1, retryable: false } }] });
  await define(keys.write, { name: 'gq-wait', steps: [{ id: 'w', type: 'wait', signal: 'go' }] });
  await define(keys.acmeWrite, { name: 'gq-wait', steps: [{ id: 'w', type: 'wait', signal: 'go' }] });

  ids.parent = await start(keys.write, 'gq-parent');
  ids.failed = await start(keys.write, 'gq-fail');
  for (let i = 0; i < 5; i++) ids.waiting.push(await start(keys.write, 'gq-wait', { i }));
  ids.acme = await start(keys.acmeWrite, 'gq-wait');
  await waitForEnd(server.engine, ids.parent);
  await waitForEnd(server.engine, ids.failed);
  for (const id of ids.waiting) await waitForStatus(server.engine, id, 'waiting');
  const children = await rest(keys.read, `/executions/${ids.parent}/children`);
  ids.child = children.body.items[0].id;
}, 30_000);

afterAll(async () => {
  await server?.close();
});

describe('same data as REST', () => {
  it('answers an execution with its steps, attempts, events, logs, children and costs as the REST endpoints do', async () => {
    const q = `query One($id: ID!) {
      execution(id: $id) {
        ${EXECUTION_FIELDS}
        steps(limit: 100) { items { stepId type status attempts startedAt finishedAt output error agentId waitingFor } nextCursor }
        events(limit: 1000) { items { seq id executionId workflow tenant type timestamp stepId data } nextCursor }
        logs { items { timestamp level message stepId attempt data } nextCursor }
        children { items { id workflow status createdAt } nextCursor }
        costs { total { tokens usd } steps { stepId attempt model tokens usd } }
      }
    }`;
    const x = (await data(keys.read, q, { id: ids.parent })).execution;
    const { steps, events, logs, children, costs, ...view } = x;
    expect(view.status).toBe('completed');
    expect(view).toEqual((await rest(keys.read, `/executions/${ids.parent}`)).body);
    expect(steps).toEqual((await rest(keys.read, `/executions/${ids.parent}/steps`, { limit: 100 })).body);
    expect(steps.items.map((s: { stepId: string }) => s.stepId)).toEqual(['flaky', 'pay', 'note', 'call']);
    const restEvents = (await rest(keys.read, `/executions/${ids.parent}/events`, { limit: 1000 })).body;
    // REST leaves `stepId` out of events without a step; GraphQL answers null there.
    expect(events).toEqual({ ...restEvents, items: restEvents.items.map((e: { stepId?: string }) => ({ ...e, stepId: e.stepId ?? null })) });
    expect(events.items.map((e: { seq: number }) => e.seq)).toEqual(Array.from({ length: view.lastSeq }, (_, i) => i + 1));
    expect(logs).toEqual((await rest(keys.read, `/executions/${ids.parent}/logs`)).body);
    expect(logs.items.some((l: { message: string }) => l.message === 'hello from a step')).toBe(true);
    expect(children).toEqual((await rest(keys.read, `/executions/${ids.parent}/children`)).body);
    expect(children.items).toHaveLength(1);
    expect(costs).toEqual((await rest(keys.read, `/executions/${ids.parent}/costs`)).body);
    expect(costs.total).toEqual({ tokens: 12, usd: 0.5 });
  });

  it('answers attempts, the parent, the child and the definition of an execution', async () => {
    const q = `{
      execution(id: "${ids.child}") {
        id parentId
        parent { id steps(limit: 1) { items { stepId attempts attemptHistory { items { attempt status startedAt finishedAt durationMs agentId output error } nextCursor } } nextCursor } }
        definition { name version source retired createdAt document }
      }
    }`;
    const x = (await data(keys.read, q)).execution;
    expect(x.parentId).toBe(ids.parent);
    expect(x.parent.id).toBe(ids.parent);
    const flaky = x.parent.steps.items[0];
    expect(flaky.stepId).toBe('flaky');
    expect(flaky.attempts).toBe(2);
    expect(flaky.attemptHistory).toEqual((await rest(keys.read, `/executions/${ids.parent}/steps/flaky/attempts`)).body);
    expect(flaky.attemptHistory.items.map((a: { status: string }) => a.status)).toEqual(['failed', 'completed']);
    expect(x.parent.steps.nextCursor).not.toBeNull();
    expect(x.definition).toEqual((await rest(keys.read, '/workflow-definitions/gq-child')).body);
    const viaChild = await data(keys.read, `{ execution(id: "${ids.parent}") { children { items { id execution { id workflow parentId } } } } }`);
    expect(viaChild.execution.children.items).toEqual([{ id: ids.child, execution: { id: ids.child, workflow: 'gq-child', parentId: ids.parent } }]);
  });

  it('answers a failed execution with its error as REST does', async () => {
    const x = (await data(keys.read, `{ execution(id: "${ids.failed}") { ${EXECUTION_FIELDS} } }`)).execution;
    expect(x.status).toBe('failed');
    expect(x.error.stepId).toBe('boom');
    expect(x).toEqual((await rest(keys.read, `/executions/${ids.failed}`)).body);
  });

  it('pages executions with nextCursor and filters by status and workflow like REST', async () => {
    const q = `query Page($cursor: String) { executions(workflow: "gq-wait", limit: 2, cursor: $cursor) { items { ${EXECUTION_FIELDS} } nextCursor } }`;
    const seen: string[] = [];
    let cursor: string | null = null;
    let restCursor: string | undefined;
    for (let page = 0; page < 10; page++) {
      const got: { items: { id: string }[]; nextCursor: string | null } = (await data(keys.read, q, { cursor })).executions;
      const want = (await rest(keys.read, '/executions', { workflow: 'gq-wait', limit: 2, ...(restCursor ? { cursor: restCursor } : {}) })).body;
      expect(got).toEqual(want);
      seen.push(...got.items.map((x: { id: string }) => x.id));
      cursor = got.nextCursor;
      restCursor = want.nextCursor ?? undefined;
      if (cursor === null) break;
    }
    expect(cursor).toBeNull();
    expect(seen).toEqual([...ids.waiting].reverse());

    const waiting = (await data(keys.read, '{ executions(status: "waiting", limit: 100) { items { id status } nextCursor } }')).executions;
    const restWaiting = (await rest(keys.read, '/executions', { status: 'waiting', limit: 100 })).body;
    expect(waiting.items.map((x: { id: string }) => x.id)).toEqual(restWaiting.items.map((x: { id: string }) => x.id));
    expect(waiting.items.every((x: { status: string }) => x.status === 'waiting')).toBe(true);
    expect(waiting.items).toHaveLength(5);

    const labelled = (await data(keys.read, '{ executions(labels: { suite: "graphql" }, workflow: "gq-wait", limit: 100) { items { id labels } } }')).executions;
    expect(labelled.items.map((x: { id: string }) => x.id)).toEqual([...ids.waiting].reverse());
    expect((await data(keys.read, '{ executions(labels: { suite: "other" }) { items { id } } }')).executions.items).toEqual([]);
    const badLabels = await gql(keys.read, '{ executions(labels: { suite: 1 }) { items { id } } }');
    expect(badLabels.body.errors[0].extensions).toMatchObject({ code: 'validation_failed', issues: [{ path: '/labels/suite' }] });

    const ended = (await data(keys.read, '{ executions(status: ["completed", "failed"], limit: 100) { items { id } } }')).executions;
    const restEnded = (await rest(keys.read, '/executions', { status: 'completed,failed', limit: 100 })).body;
    expect(ended.items.map((x: { id: string }) => x.id)).toEqual(restEnded.items.map((x: { id: string }) => x.id));
    expect(ended.items.map((x: { id: string }) => x.id)).toEqual(expect.arrayContaining([ids.parent, ids.child, ids.failed]));
  });

  it('answers definitions and agents as REST does', async () => {
    const def = await data(keys.read, '{ definition(name: "gq-parent", version: 1) { name version source retired createdAt document } latest: definition(name: "gq-parent") { version } }');
    expect(def.definition).toEqual((await rest(keys.read, '/workflow-definitions/gq-parent', { version: 1 })).body);
    expect(def.latest.version).toBe(1);
    const agents = (await data(keys.read, '{ agents { id name kinds status capacity inFlight lastHeartbeatAt version stats { completed failed failureRate p50Ms } } }')).agents;
    const restAgents = (await rest(keys.read, '/agents', { limit: 1000 })).body.items;
    const stable = (a: { id: string; name: string; kinds: string[]; capacity: number; version: string }) => ({ id: a.id, name: a.name, kinds: a.kinds, capacity: a.capacity, version: a.version });
    expect(agents.map(stable)).toEqual(restAgents.map(stable));
    expect(agents.flatMap((a: { kinds: string[] }) => a.kinds)).toEqual(expect.arrayContaining(['echo', 'fail', 'log']));
    expect(agents.some((a: { stats: { completed: number } }) => a.stats.completed > 0)).toBe(true);
  });

  it('answers unknown definitions and ids as null fields with the REST error codes', async () => {
    const res = await gql(keys.read, `{ nope: definition(name: "gq-nope") { name } old: definition(name: "gq-parent", version: 9) { name } x: execution(id: "ex_01ARZ3NDEKTSV4RRFFQ69G5FAV") { id } y: execution(id: "garbage") { id } ok: execution(id: "${ids.failed}") { id } }`);
    expect(res.status, res.text).toBe(200);
    expect(res.body.data).toEqual({ nope: null, old: null, x: null, y: null, ok: { id: ids.failed } });
    const codes = Object.fromEntries(res.body.errors.map((e: { path: string[]; extensions: { code: string } }) => [e.path[0], e.extensions.code]));
    expect(codes).toEqual({ nope: 'definition_not_found', old: 'definition_not_found', x: 'execution_not_found', y: 'execution_not_found' });
  });

  it('answers bad argument values as a null field with validation_failed and the failing paths', async () => {
    const res = await gql(keys.read, '{ executions(status: ["waiting", "nope"], limit: 5000) { items { id } } }');
    expect(res.status).toBe(200);
    expect(res.body.data.executions).toBeNull();
    expect(res.body.errors[0].extensions.code).toBe('validation_failed');
    expect(res.body.errors[0].extensions.issues.map((i: { path: string }) => i.path).sort()).toEqual(['/limit', '/status/1']);
  });
});

describe('tenants and credentials', () => {
  it("answers another tenant's execution as null with execution_not_found, and lists only the caller's tenant", async () => {
    const res = await gql(keys.acmeRead, `{ execution(id: "${ids.parent}") { id } }`);
    expect(res.status, res.text).toBe(200);
    expect(res.body.data.execution).toBeNull();
    expect(res.body.errors).toHaveLength(1);
    expect(res.body.errors[0]).toMatchObject({ path: ['execution'], extensions: { code: 'execution_not_found' } });
    expect(res.text).not.toContain('gq-parent');
    const own = await data(keys.acmeRead, `{ execution(id: "${ids.acme}") { id tenant } executions(limit: 1000) { items { id tenant } } }`);
    expect(own.execution).toEqual({ id: ids.acme, tenant: 'acme' });
    expect(own.executions.items).toEqual([{ id: ids.acme, tenant: 'acme' }]);
    const def = await gql(keys.acmeRead, '{ definition(name: "gq-parent") { name } }');
    expect(def.body.data.definition).toBeNull();
    expect(def.body.errors[0].extensions.code).toBe('definition_not_found');
    // The default tenant does not see acme's execution either.
    const back = await gql(keys.read, `{ execution(id: "${ids.acme}") { id } }`);
    expect(back.body.errors[0].extensions.code).toBe('execution_not_found');
  });

  it('needs a credential (401) and is served to the read scope', async () => {
    const none = await gql(undefined, '{ agents { id } }');
    expect(none.status).toBe(401);
    expect(none.body.code).toBe('unauthorized');
    expect((await gql('afk_wrong', '{ agents { id } }')).status).toBe(401);
    expect((await data(keys.read, '{ agents { id } }')).agents.length).toBeGreaterThan(0);
    expect((await data(keys.write, '{ agents { id } }')).agents.length).toBeGreaterThan(0);
    const schema = await api(server.url).get('/graphql/schema', auth(keys.read));
    expect(schema.status).toBe(200);
    expect(schema.body.sdl).toContain('type Query');
    expect(schema.body.sdl).toContain('executions(');
    expect((await api(server.url).get('/graphql/schema')).status).toBe(401);
  });
});

describe('typed client', () => {
  it('queries through createClient().graphql, answers request errors in `errors` and throws ActorflowApiError on a refused document', async () => {
    const af = createClient({ url: server.url, key: keys.read });
    const res = await af.graphql<{ execution: { id: string; status: string } | null }>('query($id: ID!) { execution(id: $id) { id status } }', { id: ids.failed });
    expect(res.data?.execution).toEqual({ id: ids.failed, status: 'failed' });
    const missing = await af.graphql('{ execution(id: "ex_01ARZ3NDEKTSV4RRFFQ69G5FAV") { id } }');
    expect(missing.errors?.[0]?.extensions.code).toBe('execution_not_found');
    const mutation = await af.graphql('mutation { x }');
    expect(mutation.errors?.[0]?.extensions.code).toBe('graphql_read_only');
    expect('data' in mutation).toBe(false);
    const deep = `{ execution(id: "${ids.child}") { parent { parent { parent { parent { parent { parent { parent { parent { id } } } } } } } } } }`;
    const refused = await af.graphql(deep).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(ActorflowApiError);
    expect(refused).toMatchObject({ status: 422, code: 'graphql_depth_limit' });
  });
});

describe('refusals before execution', () => {
  const problem = (res: ApiResponse, status: number, code: string) => {
    expect(res.status, res.text).toBe(status);
    expect(res.contentType).toMatch(/^application\/problem\+json/);
    expect(res.body.code).toBe(code);
    expect(res.body.errors.length).toBeGreaterThan(0);
  };

  it('refuses an over-deep query with graphql_depth_limit, also through fragments', async () => {
    const deep = `{ execution(id: "${ids.child}") { parent { parent { parent { parent { parent { parent { parent { parent { id } } } } } } } } } }`;
    const res = await gql(keys.read, deep);
    problem(res, 422, 'graphql_depth_limit');
    expect(res.body.detail).toMatch(/10 deep; at most 8/);
    const viaFragments = `{ execution(id: "${ids.child}") { ...A } } fragment A on Execution { parent { ...B } } fragment B on Execution { parent { parent { ...C } } } fragment C on Execution { parent { parent { parent { parent { id } } } } }`;
    problem(await gql(keys.read, viaFragments), 422, 'graphql_depth_limit');
    // The standard introspection query (GraphiQL and other tools) stays within both limits.
    const intro = await gql(keys.read, getIntrospectionQuery());
    expect(intro.status, intro.text.slice(0, 300)).toBe(200);
    expect(intro.body.data.__schema.queryType.name).toBe('Query');
    // Exactly at the limit runs.
    const eight = `{ execution(id: "${ids.child}") { parent { parent { parent { parent { parent { parent { id } } } } } } } }`;
    expect((await gql(keys.read, eight)).status).toBe(200);
  });

  it('refuses a query whose estimated cost passes the limit with graphql_complexity_limit', async () => {
    const wide = '{ executions(limit: 1000) { items { id steps(limit: 1000) { items { stepId } } } } }';
    const res = await gql(keys.read, wide);
    problem(res, 422, 'graphql_complexity_limit');
    expect(res.body.detail).toMatch(/estimated cost of \d+; at most 25000/);
    // A limit from a variable counts as the maximum.
    problem(await gql(keys.read, 'query($n: Int) { executions(limit: $n) { items { id steps(limit: 100) { items { stepId } } } } }', { n: 1 }), 422, 'graphql_complexity_limit');
    // Many aliases of a cheap field add up too.
    const aliases = Array.from({ length: 150 }, (_, i) => `a${i}: executions(limit: 100) { items { id } }`).join(' ');
    problem(await gql(keys.read, `{ ${aliases} }`), 422, 'graphql_complexity_limit');
    // Fragments spread many times are measured once each, and still counted every time.
    const fan = `{ ...F0 } ${Array.from({ length: 15 }, (_, i) => `fragment F${i} on Query { ${i === 14 ? 'agents { id }' : `...F${i + 1} ...F${i + 1}`} }`).join(' ')}`;
    const started = Date.now();
    problem(await gql(keys.read, fan), 422, 'graphql_complexity_limit');
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('validates the body like every route: 422 validation_failed for a missing or wrong query, 400 for bad JSON, 415 for another type', async () => {
    const a = api(server.url);
    const bad = [{}, { query: 1 }, { query: '' }, { query: '{ agents { id } }', extra: true }, { query: '{ agents { id } }', variables: [] }, { query: 'x'.repeat(16_385) }];
    for (const body of bad) {
      const res = await a.post('/graphql', body, auth(keys.read));
      expect(res.status, JSON.stringify(body).slice(0, 80)).toBe(422);
      expect(res.body.code).toBe('validation_failed');
    }
    expect((await a.post('/graphql', undefined, { ...auth(keys.read), rawBody: '{"query":', headers: { ...auth(keys.read).headers, 'content-type': 'application/json' } })).status).toBe(400);
    const plain = await a.post('/graphql', undefined, { rawBody: '{ agents { id } }', headers: { ...auth(keys.read).headers, 'content-type': 'text/plain' } });
    expect(plain.status).toBe(415);
    expect(plain.body.detail).toMatch(/application\/json or application\/graphql/);
    const ok = await a.post('/graphql', { query: '{ agents { id } }', variables: null, operationName: null }, auth(keys.read));
    expect(ok.status).toBe(200);
  });
});

const GRAPHQL_RESPONSE = 'application/graphql-response+json';

describe('request errors are GraphQL answers (GraphQL-over-HTTP)', () => {
  /**
   * A request error: `errors` only (no `data`: nothing ran), each with a message, its locations in
   * the document and `extensions.code`. 200 with application/json, 400 with application/graphql-response+json.
   */
  async function requestError(query: string, variables?: Record<string, unknown>, operationName?: string) {
    const legacy = await gql(keys.read, query, variables, operationName);
    expect(legacy.status, legacy.text).toBe(200);
    expect(legacy.contentType).toMatch(/^application\/json/);
    expect('data' in legacy.body, legacy.text).toBe(false);
    expect(legacy.body.errors.length).toBeGreaterThan(0);
    for (const e of legacy.body.errors) {
      expect(typeof e.message).toBe('string');
      expect(typeof e.extensions.code).toBe('string');
    }
    const modern = await gql(keys.read, query, variables, operationName, GRAPHQL_RESPONSE);
    expect(modern.status, modern.text).toBe(400);
    expect(modern.contentType).toMatch(/^application\/graphql-response\+json/);
    expect(modern.body).toEqual(legacy.body);
    return legacy.body.errors as { message: string; locations?: { line: number; column: number }[]; path?: unknown; extensions: { code: string } }[];
  }

  it('answers a syntax error with its message, location and graphql_parse_failed', async () => {
    const errors = await requestError('{\n  execution(id: ');
    expect(errors).toEqual([{ message: expect.stringMatching(/^Syntax Error: /), locations: [{ line: 2, column: 17 }], extensions: { code: 'graphql_parse_failed' } }]);
  });

  it('answers unknown fields with one error each, located, graphql_validation_failed', async () => {
    const errors = await requestError('{ nope\n  agents { id bogus } }');
    expect(errors).toHaveLength(2);
    expect(errors[0]).toEqual({ message: 'Cannot query field "nope" on type "Query".', locations: [{ line: 1, column: 3 }], extensions: { code: 'graphql_validation_failed' } });
    expect(errors[1]).toMatchObject({ message: expect.stringContaining('"bogus"'), locations: [{ line: 2, column: 15 }], extensions: { code: 'graphql_validation_failed' } });
  });

  it('answers bad variables (missing, wrong type) and operationName errors with graphql_validation_failed', async () => {
    const missing = await requestError('query($id: ID!) { execution(id: $id) { id } }', {});
    expect(missing).toEqual([{ message: expect.stringMatching(/^Variable "\$id" of required type "ID!" was not provided/), locations: [{ line: 1, column: 7 }], extensions: { code: 'graphql_validation_failed' } }]);
    const wrongType = await requestError('query($n: Int) { executions(limit: $n) { items { id } } }', { n: 'many' });
    expect(wrongType[0]).toMatchObject({ message: expect.stringMatching(/^Variable "\$n" got invalid value "many"/), extensions: { code: 'graphql_validation_failed' } });
    const two = 'query A { agents { id } } query B { agents { name } }';
    expect((await requestError(two))[0]?.extensions.code).toBe('graphql_validation_failed');
    expect((await requestError(two, undefined, 'C'))[0]?.message).toBe('Unknown operation named "C".');
    const picked = await gql(keys.read, two, undefined, 'B');
    expect(picked.status).toBe(200);
    expect(Object.keys(picked.body.data.agents[0])).toEqual(['name']);
  });

  it('answers mutations and subscriptions with graphql_read_only, and changes nothing', async () => {
    const errors = await requestError(`mutation { cancel(id: "${ids.waiting[0]}") { id } }`);
    expect(errors.map((e) => e.extensions.code)).toContain('graphql_read_only');
    expect((await requestError('subscription { events { seq } }')).map((e) => e.extensions.code)).toContain('graphql_read_only');
    expect((await rest(keys.read, `/executions/${ids.waiting[0]}`)).body.status).toBe('waiting');
  });

  it('answers field errors 200 with data in both media types, and picks the media type by accept', async () => {
    const q = '{ agents { id } execution(id: "ex_01ARZ3NDEKTSV4RRFFQ69G5FAV") { id } }';
    for (const accept of [GRAPHQL_RESPONSE, `application/json;q=0.5, ${GRAPHQL_RESPONSE}`, `${GRAPHQL_RESPONSE}, application/json;q=0.9`]) {
      const res = await gql(keys.read, q, undefined, undefined, accept);
      expect(res.status, accept).toBe(200);
      expect(res.contentType, accept).toMatch(/^application\/graphql-response\+json/);
      expect(res.body.data.execution).toBeNull();
      expect(res.body.errors[0]).toMatchObject({ path: ['execution'], extensions: { code: 'execution_not_found' } });
    }
    for (const accept of ['*/*', 'application/json', `application/json, ${GRAPHQL_RESPONSE};q=0.5`, 'text/html']) {
      const res = await gql(keys.read, '{ nope }', undefined, undefined, accept);
      expect(res.status, accept).toBe(200);
      expect(res.contentType, accept).toMatch(/^application\/json/);
    }
  });

  it('keeps refusals that are not GraphQL requests problem+json, whatever the accept header', async () => {
    const none = await gql(undefined, '{ nope }', undefined, undefined, GRAPHQL_RESPONSE);
    expect(none.status).toBe(401);
    expect(none.contentType).toMatch(/^application\/problem\+json/);
    const deep = `{ execution(id: "${ids.child}") { parent { parent { parent { parent { parent { parent { parent { parent { id } } } } } } } } } }`;
    const refused = await gql(keys.read, deep, undefined, undefined, GRAPHQL_RESPONSE);
    expect(refused.status).toBe(422);
    expect(refused.body.code).toBe('graphql_depth_limit');
    const notJson = await api(server.url).post('/graphql', undefined, { rawBody: '{"query":', headers: { ...auth(keys.read).headers, accept: GRAPHQL_RESPONSE } });
    expect(notJson.status).toBe(400);
    expect(notJson.body.code).toBe('invalid_json');
  });

  it('answers the GET form the same way', async () => {
    const get = (query: string, accept?: string) =>
      request(server.url, 'GET', '/api/v1/graphql', undefined, { headers: { ...auth(keys.read).headers, ...(accept === undefined ? {} : { accept }) }, query: { query } });
    const legacy = await get('{ execution(id: ');
    expect(legacy.status).toBe(200);
    expect(legacy.body.errors[0].extensions.code).toBe('graphql_parse_failed');
    const modern = await get('{ nope }', GRAPHQL_RESPONSE);
    expect(modern.status).toBe(400);
    expect(modern.body.errors[0].extensions.code).toBe('graphql_validation_failed');
    const mutation = await get('mutation { x }');
    expect(mutation.status).toBe(200);
    expect(mutation.body.errors.map((e: { extensions: { code: string } }) => e.extensions.code)).toContain('graphql_read_only');
  });
});

describe('GraphQL-over-HTTP conformance (the graphql-http audit suite)', () => {
  it('passes every MUST and SHOULD audit; the MAYs left are 400s where this API answers 422 problem+json', async () => {
    const authorized = (...[input, init]: Parameters<typeof fetch>) => {
      const headers = new Headers(init?.headers);
      headers.set('authorization', `Bearer ${keys.read}`);
      return fetch(input, { ...init, headers });
    };
    const results = await auditServer({ url: `${server.url}/api/v1/graphql`, fetchFn: authorized });
    const isFail = (r: AuditResult): r is AuditFail => r.status !== 'ok';
    const failed = results.filter(isFail).filter((r) => r.status !== 'notice').map((r) => `${r.status} ${r.id} ${r.name}: ${r.reason}`);
    expect(failed).toEqual([]);
    const notices = results.filter(isFail).filter((r) => r.status === 'notice');
    for (const n of notices) expect(n.name, n.reason).toMatch(/^MAY use 400 status code/);
    expect(results.filter((r) => r.status === 'ok').length).toBeGreaterThan(30);
  });
});

describe('application/graphql request bodies', () => {
  const raw = (body: string, contentType = 'application/graphql', accept?: string) =>
    api(server.url).post('/graphql', undefined, { rawBody: body, headers: { ...auth(keys.read).headers, 'content-type': contentType, ...(accept === undefined ? {} : { accept }) } });

  it('takes the body as the query document', async () => {
    const res = await raw(`{ execution(id: "${ids.failed}") { id status } }`);
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual({ data: { execution: { id: ids.failed, status: 'failed' } } });
    expect((await raw('{ agents { id } }', 'application/graphql; charset=utf-8')).body).toEqual((await gql(keys.read, '{ agents { id } }')).body);
  });

  it('answers request errors and refusals as a JSON body would', async () => {
    const syntax = await raw('{ agents { id }');
    expect(syntax.status).toBe(200);
    expect(syntax.body.errors[0].extensions.code).toBe('graphql_parse_failed');
    expect((await raw('{ nope }', 'application/graphql', GRAPHQL_RESPONSE)).status).toBe(400);
    const empty = await raw('');
    expect(empty.status).toBe(422);
    expect(empty.body.code).toBe('validation_failed');
    const long = await raw(`{ agents { id } }${' '.repeat(16_384)}`);
    expect(long.status).toBe(422);
    expect(long.body.errors[0].path).toBe('/query');
    const latin1 = await raw('{ agents { id } }', 'application/graphql; charset=iso-8859-1');
    expect(latin1.status).toBe(415);
    const notUtf8 = await api(server.url).post('/graphql', undefined, {
      rawBody: new Uint8Array([0x7b, 0x20, 0xff, 0x20, 0x7d]),
      headers: { ...auth(keys.read).headers, 'content-type': 'application/graphql' },
    });
    expect(notUtf8.status).toBe(400);
    expect(notUtf8.body.errors[0].path).toBe('/query');
  });
});

describe('the prepared-document cache', () => {
  const quiet: Logger = { info: () => {}, warn: () => {}, error: () => {} };

  it('parses and validates a query text once, refusals included, and stays bounded', async () => {
    const gqlApi = createGraphql({ engine: server.engine, logger: quiet, limits: { cacheEntries: 3 } });
    const q = `query($id: ID!) { execution(id: $id) { id status } }`;
    for (const id of [ids.parent, ids.failed, ids.parent]) {
      const res = await gqlApi.execute('default', { query: q, variables: { id } });
      expect((res.data?.['execution'] as { id: string }).id).toBe(id);
    }
    expect(gqlApi.cacheStats()).toEqual({ size: 1, hits: 2, misses: 1 });
    for (let i = 0; i < 2; i++) expect((await gqlApi.execute('default', { query: '{ nope }' })).errors?.[0]?.extensions.code).toBe('graphql_validation_failed');
    expect(gqlApi.cacheStats()).toMatchObject({ size: 2, hits: 3, misses: 2 });
    for (let i = 0; i < 10; i++) await gqlApi.execute('default', { query: `{ a${i}: agents { id } }` });
    expect(gqlApi.cacheStats().size).toBe(3);
    // Tenant comes from the caller, never from the cached document.
    const other = await gqlApi.execute('acme', { query: q, variables: { id: ids.parent } });
    expect(other.data?.['execution']).toBeNull();
    expect(other.errors?.[0]?.extensions.code).toBe('execution_not_found');
  });

  it('skips parse and validate for a repeated query (measured)', async () => {
    const gqlApi = createGraphql({ engine: server.engine, logger: quiet });
    // A dashboard-sized document; the id cannot exist, so execution is one rejected field and the time is parse + validate.
    const fields = `${EXECUTION_FIELDS} steps { items { stepId status attempts output } } events(limit: 100) { items { seq type timestamp data } } costs { total { usd } }`;
    const query = `{ ${Array.from({ length: 8 }, (_, i) => `x${i}: execution(id: "nope") { ${fields} parent { ${fields} } }`).join(' ')} }`;
    const t0 = performance.now();
    const first = await gqlApi.execute('default', { query });
    const firstMs = performance.now() - t0;
    expect(first.errors).toHaveLength(8);
    const runs = 200;
    const t1 = performance.now();
    for (let i = 0; i < runs; i++) await gqlApi.execute('default', { query });
    const cachedMs = (performance.now() - t1) / runs;
    console.info(`graphql: ${query.length}-char query: first ${firstMs.toFixed(2)} ms (parse + validate + execute), cached ${cachedMs.toFixed(3)} ms`);
    expect(gqlApi.cacheStats()).toMatchObject({ size: 1, hits: runs, misses: 1 });
  });
});

describe('hostile queries', () => {
  /** Token soup from the GraphQL vocabulary and our schema, plus argument values at and past every bound. */
  const token = fc.constantFrom(
    '{', '}', '(', ')', ':', '...', '@include(if: true)', '$v', 'query', 'mutation', 'subscription', 'fragment F on Execution', '...F', 'on', '__typename', '__schema { types { name } }',
    'execution', 'executions', 'definition', 'agents', 'id:', '"ex_01ARZ3NDEKTSV4RRFFQ69G5FAV"', '"garbage"', 'status:', '"waiting"', '["nope"]', 'limit:', '0', '-1', '1001', '2147483647', '99999999999',
    'cursor:', '"\\u0000"', '""', 'createdAfter:', '"2020-13-45T00:00:00Z"', 'since:', 'version:', 'name:', 'parent', 'steps', 'items', 'events', 'logs', 'level:', '"loud"', 'children', 'costs',
    'attemptHistory', 'id', 'status', 'nextCursor', 'data', 'null', 'true', '1.5', '#', '"', '\\', 'workflow:', 'parentId:',
  );
  const soup = fc.array(token, { minLength: 1, maxLength: 40 }).map((t) => t.join(' '));
  /** Well-formed operations whose one variable takes hostile values: they exercise the resolvers' argument checks. */
  const shaped = (parent: string) =>
    fc.constantFrom(
      'query($v: Int) { executions(limit: $v) { items { id } nextCursor } }',
      'query($v: String) { executions(cursor: $v) { items { id } } }',
      'query($v: [String!]) { executions(status: $v) { items { id status } } }',
      'query($v: String) { executions(createdAfter: $v, createdBefore: $v) { items { id } } }',
      'query($v: ID) { executions(parentId: $v, workflow: "gq-child") { items { id } } }',
      'query($v: JSON) { executions(labels: $v) { items { id } } }',
      '{ executions(labels: { a: { b: [1, 2] }, c: "d" }) { items { id } } }',
      'query($v: ID!) { execution(id: $v) { id steps { items { stepId } } } }',
      'query($v: String!) { definition(name: $v) { name } }',
      'query($v: Int) { definition(name: "gq-parent", version: $v) { name } }',
      `query($v: Int) { execution(id: "${parent}") { events(since: $v, limit: 5) { items { seq } } } }`,
      `query($v: String) { execution(id: "${parent}") { logs(level: $v, stepId: $v) { items { message } } } }`,
      `query($v: Int) { execution(id: "${parent}") { steps(limit: $v) { items { attemptHistory(limit: $v) { items { attempt } } } } children(limit: $v) { nextCursor } } }`,
    );
  const value = (parent: string) =>
    fc.oneof(
      fc.constantFrom<unknown>(1, 2, 50, 1000, 0, -1, 1001, 2 ** 31, 'waiting', ['waiting', 'failed'], ['nope'], 'warn', 'loud', '2026-01-01T00:00:00Z', 'yesterday', parent, 'ex_01ARZ3NDEKTSV4RRFFQ69G5FAV', 'gq-parent', '', 'x'.repeat(2000)),
      fc.string({ maxLength: 30 }),
      fc.integer(),
      fc.double(),
      fc.boolean(),
      fc.constant(null),
      fc.array(fc.string({ maxLength: 10 }), { maxLength: 3 }),
    );
  const variables = (parent: string) => fc.oneof(fc.constant(undefined), fc.record({ v: value(parent) }), fc.dictionary(fc.constantFrom('v', 'w'), value(parent)));

  it('answers 500 generated hostile queries with 200 or 422 and never an internal error', async () => {
    const samples = fc.sample(fc.record({ query: fc.oneof(soup, shaped(ids.parent)), variables: variables(ids.parent) }), { numRuns: 500, seed: 20_261_125 });
    const statuses = new Map<number, number>();
    const bad: string[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      for (let i = next++; i < samples.length; i = next++) {
        const { query, variables: v } = samples[i] as { query: string; variables?: Record<string, unknown> };
        const res = await gql(keys.read, query, v);
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        const internal = res.status === 200 && (res.body.errors ?? []).some((e: { extensions: { code: string } }) => e.extensions.code === 'internal_error');
        if (![200, 422].includes(res.status) || internal) bad.push(`${res.status} ${query.slice(0, 150)} ${JSON.stringify(v)} → ${res.text.slice(0, 200)}`);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    console.info(`graphql hostile queries: ${JSON.stringify(Object.fromEntries(statuses))}`);
    expect(bad.slice(0, 5)).toEqual([]);
    for (const s of [200, 422]) expect(statuses.get(s) ?? 0, `status ${s}`).toBeGreaterThan(0);
    expect((await rest(keys.read, `/executions/${ids.waiting[0]}`)).body.status).toBe('waiting');
  }, 60_000);
});

describe('GET /graphql', () => {
  it('answers ?query=&variables=&operationName= like POST, and refuses bad variables JSON with 400', async () => {
    const q = 'query A($id: ID!) { execution(id: $id) { id status } } query B { agents { id } }';
    const vars = JSON.stringify({ id: ids.failed });
    const res = await request(server.url, 'GET', '/api/v1/graphql', undefined, { ...auth(keys.read), query: { query: q, variables: vars, operationName: 'A' } });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual((await gql(keys.read, q, { id: ids.failed }, 'A')).body);
    expect(res.body.data.execution).toEqual({ id: ids.failed, status: 'failed' });
    const badVars = await request(server.url, 'GET', '/api/v1/graphql', undefined, { ...auth(keys.read), query: { query: q, variables: '{"id":', operationName: 'A' } });
    expect(badVars.status).toBe(400);
    expect(badVars.body.code).toBe('invalid_json');
    expect(badVars.body.errors[0].path).toBe('/query/variables');
    const missing = await request(server.url, 'GET', '/api/v1/graphql', undefined, auth(keys.read));
    expect(missing.status).toBe(422);
    expect(missing.body.errors[0].path).toBe('/query/query');
    expect((await request(server.url, 'GET', '/api/v1/graphql', undefined, { query: { query: '{ agents { id } }' } })).status).toBe(401);
  });
});

describe('engine reads shared within one request', () => {
  const ALL = `id status lastSeq
    steps(limit: 10) { items { stepId status attempts attemptHistory(limit: 5) { items { attempt status agentId output error } nextCursor } } nextCursor }
    events(limit: 100) { items { seq type stepId } nextCursor }
    logs(limit: 20) { items { message level stepId } nextCursor }
    costs { total { tokens usd } steps { stepId attempt model tokens usd } }`;

  it('answers the same execution asked through several aliases with REST-equal data in each', async () => {
    const q = `query Twice($id: ID!) { a: execution(id: $id) { ${ALL} } b: execution(id: $id) { ${ALL} } c: execution(id: $id) { costs { total { usd } } parent { id } } }`;
    const { a, b, c } = await data(keys.read, q, { id: ids.parent });
    expect(b).toEqual(a);
    expect(c).toEqual({ costs: { total: { usd: a.costs.total.usd } }, parent: null });
    expect(a.steps.items.map((s: { stepId: string }) => s.stepId)).toEqual(['flaky', 'pay', 'note', 'call']);
    const restSteps = (await rest(keys.read, `/executions/${ids.parent}/steps`, { limit: 100 })).body;
    expect(a.steps.items.map((s: { stepId: string; status: string; attempts: number }) => ({ stepId: s.stepId, status: s.status, attempts: s.attempts }))).toEqual(
      restSteps.items.map((s: { stepId: string; status: string; attempts: number }) => ({ stepId: s.stepId, status: s.status, attempts: s.attempts })),
    );
    for (const step of a.steps.items) {
      const attempts = (await rest(keys.read, `/executions/${ids.parent}/steps/${step.stepId}/attempts`)).body;
      expect(step.attemptHistory.items).toEqual(attempts.items.map((x: Record<string, unknown>) => ({ attempt: x['attempt'], status: x['status'], agentId: x['agentId'], output: x['output'] ?? null, error: x['error'] ?? null })));
    }
    const restEvents = (await rest(keys.read, `/executions/${ids.parent}/events`, { limit: 1000 })).body;
    expect(a.events.items).toEqual(restEvents.items.map((e: { seq: number; type: string; stepId?: string }) => ({ seq: e.seq, type: e.type, stepId: e.stepId ?? null })));
    expect(a.events.items).toHaveLength(a.lastSeq);
    const restLogs = (await rest(keys.read, `/executions/${ids.parent}/logs`)).body;
    expect(a.logs.items).toEqual(restLogs.items.map((l: { message: string; level: string; stepId?: string }) => ({ message: l.message, level: l.level, stepId: l.stepId ?? null })));
    expect(a.costs).toEqual((await rest(keys.read, `/executions/${ids.parent}/costs`)).body);
  });

  it('shares one engine call per distinct read within a request and none across requests', async () => {
    const page = { limit: 10, cursor: undefined };
    const one = memoizeEngineReads(server.engine);
    const first = one.steps('default', ids.parent, page);
    expect(one.steps('default', ids.parent, { limit: 10 })).toBe(first);
    expect(one.steps('default', ids.parent, { limit: 11, cursor: undefined })).not.toBe(first);
    expect(one.steps('acme', ids.parent, page)).not.toBe(first);
    expect(one.costs('default', ids.parent)).toBe(one.costs('default', ids.parent));
    expect(memoizeEngineReads(server.engine).steps('default', ids.parent, page)).not.toBe(first);
    // Another tenant's call fails on its own; the memo does not turn it into the default tenant's data.
    await expect(one.steps('acme', ids.parent, page)).rejects.toMatchObject({ code: 'execution_not_found' });
    expect(await first).toEqual(await server.engine.steps('default', ids.parent, page));
  });

  it('lets a second request see a signal sent after the first', async () => {
    await define(keys.write, { name: 'gq-memo', steps: [{ id: 'w', type: 'wait', signal: 'go' }, { id: 'after', type: 'task', agent: 'echo', input: { v: 1 } }] });
    const started = await api(server.url).post('/executions', { workflow: 'gq-memo', input: {} }, auth(keys.write));
    expect(started.status, started.text).toBe(201);
    const id = started.body.id as string;
    await waitForStatus(server.engine, id, 'waiting');
    const q = `query Q($id: ID!) { a: execution(id: $id) { status steps { items { stepId status } } events(limit: 1000) { items { seq } } } b: execution(id: $id) { status lastSeq } }`;
    const before = await data(keys.read, q, { id });
    expect(before.a.status).toBe('waiting');
    expect(before.b.status).toBe('waiting');
    expect(before.a.steps.items).toEqual([{ stepId: 'w', status: 'waiting' }]);
    // The other tenant asks the same query text for the same id in between: not found, and it changes nothing for us.
    const foreign = await gql(keys.acmeRead, q, { id });
    expect(foreign.body.data).toEqual({ a: null, b: null });
    expect(foreign.body.errors.map((e: { extensions: { code: string } }) => e.extensions.code)).toEqual(['execution_not_found', 'execution_not_found']);
    const signalled = await api(server.url).post(`/executions/${id}/signals/go`, { payload: { ok: true } }, auth(keys.write));
    expect(signalled.status, signalled.text).toBeLessThan(300);
    await waitForEnd(server.engine, id);
    const after = await data(keys.read, q, { id });
    expect(after.a.status).toBe('completed');
    expect(after.b.status).toBe('completed');
    expect(after.a.steps.items).toEqual([{ stepId: 'w', status: 'completed' }, { stepId: 'after', status: 'completed' }]);
    expect(after.a.events.items.length).toBe(after.b.lastSeq);
    expect(after.b.lastSeq).toBeGreaterThan(before.b.lastSeq);
    expect(after.b.lastSeq).toBe((await rest(keys.read, `/executions/${id}`)).body.lastSeq);
  });
});
