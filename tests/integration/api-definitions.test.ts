/** @module tests/integration/api-definitions — every /workflow-definitions route over real HTTP. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Api, type ApiResponse, api, request } from '../support/http.ts';
import { type TestServer, startTestServer } from '../support/server.ts';

let server: TestServer;
let client: Api;
let seq = 0;
const run = Date.now().toString(36);
/** A name no other test uses. */
const uniqueName = (label: string) => `${label}-${run}-${++seq}`;

/** A minimal valid flow document: one echo task. */
const flow = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  steps: [{ id: 'hello', type: 'task', agent: 'echo', input: '$.input' }],
  ...extra,
});

const YAML = { 'content-type': 'application/yaml' } as const;

function expectProblem(res: ApiResponse, status: number, code: string): void {
  expect(res.status, res.text).toBe(status);
  expect(res.contentType).toContain('application/problem+json');
  expect(res.body).toMatchObject({ status, code, type: `https://actorflow.dev/errors/${code}` });
  expect(typeof res.body.title).toBe('string');
  expect(typeof res.body.detail).toBe('string');
  expect(Array.isArray(res.body.errors)).toBe(true);
  expect(res.headers.get('x-request-id')).toBeTruthy();
  expect(res.text).not.toMatch(/\bat .*\.ts:\d+/); // never a stack trace
}

beforeAll(async () => {
  server = await startTestServer();
  client = api(server.url);
});

afterAll(async () => {
  await server?.close();
});

describe('POST /workflow-definitions', () => {
  it('creates version 1 of a new name, then latest+1, answering 201 with the definition', async () => {
    const name = uniqueName('create');
    const first = await client.post('/workflow-definitions', flow(name));
    expect(first.status, first.text).toBe(201);
    expect(first.contentType).toContain('application/json');
    expect(first.body).toMatchObject({ name, version: 1, source: 'document', retired: false });
    expect(first.body.createdAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    const second = await client.post('/workflow-definitions', flow(name, { description: 'v2' }));
    expect(second.status).toBe(201);
    expect(second.body.version).toBe(2);
  });

  it('accepts an explicit version above the latest (gaps allowed): 201', async () => {
    const name = uniqueName('gap');
    await client.post('/workflow-definitions', flow(name));
    const res = await client.post('/workflow-definitions', flow(name, { version: 5 }));
    expect(res.status, res.text).toBe(201);
    expect(res.body.version).toBe(5);
  });

  it('answers 200 for an existing version with an identical document (key order, JSON or YAML alike)', async () => {
    const name = uniqueName('same');
    const created = await client.post('/workflow-definitions', flow(name, { version: 1 }));
    expect(created.status).toBe(201);
    const reordered = { steps: [{ input: '$.input', agent: 'echo', type: 'task', id: 'hello' }], version: 1, name };
    const again = await client.post('/workflow-definitions', reordered);
    expect(again.status, again.text).toBe(200);
    expect(again.body).toMatchObject({ name, version: 1 });
    const yaml = `name: ${name}\nversion: 1\nsteps:\n  - id: hello\n    type: task\n    agent: echo\n    input: $.input\n`;
    const viaYaml = await client.post('/workflow-definitions', undefined, { rawBody: yaml, headers: YAML });
    expect(viaYaml.status, viaYaml.text).toBe(200);
    expect(viaYaml.body.version).toBe(1);
  });

  it('answers 409 version_exists for an existing version with a different document', async () => {
    const name = uniqueName('exists');
    await client.post('/workflow-definitions', flow(name, { version: 1 }));
    const res = await client.post('/workflow-definitions', flow(name, { version: 1, description: 'changed' }));
    expectProblem(res, 409, 'version_exists');
  });

  it('answers 409 version_conflict for a version below the latest that does not exist', async () => {
    const name = uniqueName('conflict');
    await client.post('/workflow-definitions', flow(name, { version: 1 }));
    await client.post('/workflow-definitions', flow(name, { version: 3 }));
    const res = await client.post('/workflow-definitions', flow(name, { version: 2 }));
    expectProblem(res, 409, 'version_conflict');
  });

  it.each(['application/yaml', 'application/x-yaml', 'text/yaml', 'application/yaml; charset=utf-8'])('accepts a YAML body as %s', async (type) => {
    const name = uniqueName('yaml');
    const yaml = `name: ${name}\nsteps:\n  - { id: a, type: task, agent: echo }\n  - id: w\n    type: wait\n    signal: go\n`;
    const res = await client.post('/workflow-definitions', undefined, { rawBody: yaml, headers: { 'content-type': type } });
    expect(res.status, res.text).toBe(201);
    expect(res.body).toMatchObject({ name, version: 1 });
    expect(res.body.document).toMatchObject({ name, steps: [{ id: 'a' }, { id: 'w', signal: 'go' }] });
  });

  it('answers 400 invalid_yaml for YAML that does not parse', async () => {
    const res = await client.post('/workflow-definitions', undefined, { rawBody: 'name: [oops\nsteps: {', headers: YAML });
    expectProblem(res, 400, 'invalid_yaml');
  });

  it('answers 400 invalid_json for JSON that does not parse', async () => {
    const res = await client.post('/workflow-definitions', undefined, { rawBody: '{"name": "x",' });
    expectProblem(res, 400, 'invalid_json');
  });

  it('answers 422 invalid_definition listing every failing path', async () => {
    const res = await client.post('/workflow-definitions', {
      name: 'bad name!',
      steps: [
        { id: 'a', type: 'teleport' },
        { id: 'b', type: 'task', agent: 'echo', next: 'nowhere' },
      ],
      colour: 'blue',
    });
    expectProblem(res, 422, 'invalid_definition');
    const paths = (res.body.errors as { path: string }[]).map((e) => e.path);
    expect(paths).toEqual(expect.arrayContaining(['/name', '/colour']));
    expect(paths.some((p) => p.startsWith('/steps/0'))).toBe(true);
    expect(paths.some((p) => p.startsWith('/steps/1'))).toBe(true);
    for (const e of res.body.errors) expect(typeof e.message).toBe('string');
  });

  it('answers 422 for a body that is not an object', async () => {
    expectProblem(await client.post('/workflow-definitions', [1, 2]), 422, 'validation_failed');
  });

  it('answers 415 for other media types', async () => {
    const res = await client.post('/workflow-definitions', undefined, { rawBody: 'name: x', headers: { 'content-type': 'text/plain' } });
    expectProblem(res, 415, 'unsupported_media_type');
  });
});

describe('GET /workflow-definitions', () => {
  it('lists the latest version of each name, filtered by `?name=` prefix, paged with nextCursor', async () => {
    const prefix = uniqueName('list');
    for (const suffix of ['a', 'b', 'c']) await client.post('/workflow-definitions', flow(`${prefix}-${suffix}`));
    await client.post('/workflow-definitions', flow(`${prefix}-a`, { description: 'second' }));

    const all = await client.get('/workflow-definitions', { query: { name: prefix } });
    expect(all.status).toBe(200);
    expect(all.body.nextCursor).toBeNull();
    expect(all.body.items.map((d: { name: string }) => d.name).sort()).toEqual([`${prefix}-a`, `${prefix}-b`, `${prefix}-c`]);
    expect(all.body.items.find((d: { name: string }) => d.name === `${prefix}-a`).version).toBe(2);

    const names: string[] = [];
    let cursor: string | null = null;
    do {
      const page: ApiResponse = await client.get('/workflow-definitions', { query: { name: prefix, limit: 2, ...(cursor ? { cursor } : {}) } });
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      names.push(...page.body.items.map((d: { name: string }) => d.name));
      cursor = page.body.nextCursor;
    } while (cursor !== null);
    expect(names.sort()).toEqual([`${prefix}-a`, `${prefix}-b`, `${prefix}-c`]);
  });

  it('answers an empty list for a prefix nothing matches', async () => {
    const res = await client.get('/workflow-definitions', { query: { name: `none-${run}` } });
    expect(res.body).toEqual({ items: [], nextCursor: null });
  });

  it.each([
    ['limit=0', '/query/limit'],
    ['limit=1001', '/query/limit'],
    ['limit=abc', '/query/limit'],
    ['bogus=1', '/query/bogus'],
  ])('answers 422 for ?%s', async (qs, path) => {
    const res = await client.get(`/workflow-definitions?${qs}`);
    expectProblem(res, 422, 'validation_failed');
    expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(path);
  });
});

describe('GET /workflow-definitions/{name}', () => {
  it('answers the latest version, or `?version=N`', async () => {
    const name = uniqueName('get');
    await client.post('/workflow-definitions', flow(name));
    await client.post('/workflow-definitions', flow(name, { description: 'two' }));
    const latest = await client.get(`/workflow-definitions/${name}`);
    expect(latest.status).toBe(200);
    expect(latest.body).toMatchObject({ name, version: 2, document: { description: 'two' } });
    const v1 = await client.get(`/workflow-definitions/${name}`, { query: { version: 1 } });
    expect(v1.status).toBe(200);
    expect(v1.body.version).toBe(1);
    expectProblem(await client.get(`/workflow-definitions/${name}`, { query: { version: 9 } }), 404, 'definition_not_found');
    expectProblem(await client.get(`/workflow-definitions/${name}`, { query: { version: 'two' } }), 422, 'validation_failed');
  });

  it('answers 404 definition_not_found for an unknown name', async () => {
    expectProblem(await client.get(`/workflow-definitions/${uniqueName('missing')}`), 404, 'definition_not_found');
  });
});

describe('GET /workflow-definitions/{name}/versions', () => {
  it('lists every version in order, paged', async () => {
    const name = uniqueName('versions');
    for (let i = 0; i < 3; i++) await client.post('/workflow-definitions', flow(name, { description: `v${i + 1}` }));
    const all = await client.get(`/workflow-definitions/${name}/versions`);
    expect(all.status).toBe(200);
    expect(all.body.items.map((d: { version: number }) => d.version)).toEqual([1, 2, 3]);
    const first = await client.get(`/workflow-definitions/${name}/versions`, { query: { limit: 2 } });
    expect(first.body.items).toHaveLength(2);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const rest = await client.get(`/workflow-definitions/${name}/versions`, { query: { limit: 2, cursor: first.body.nextCursor } });
    expect(rest.body.items.map((d: { version: number }) => d.version)).toEqual([3]);
    expect(rest.body.nextCursor).toBeNull();
  });

  it('answers 404 for an unknown name', async () => {
    expectProblem(await client.get(`/workflow-definitions/${uniqueName('missing')}/versions`), 404, 'definition_not_found');
  });
});

describe('DELETE /workflow-definitions/{name}', () => {
  it('retires with 204 and no body; new starts then get 409 definition_retired', async () => {
    const name = uniqueName('retire');
    await client.post('/workflow-definitions', flow(name));
    const started = await client.post('/executions', { workflow: name, input: { n: 1 } });
    expect(started.status, started.text).toBe(201);

    const res = await client.del(`/workflow-definitions/${name}`);
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    expect(res.headers.get('x-request-id')).toBeTruthy();

    const after = await client.get(`/workflow-definitions/${name}`);
    expect(after.body.retired).toBe(true);
    expectProblem(await client.post('/executions', { workflow: name }), 409, 'definition_retired');
    // The execution started before retirement still exists.
    expect((await client.get(`/executions/${started.body.id}`)).status).toBe(200);
  });

  it('answers 404 for an unknown name', async () => {
    expectProblem(await client.del(`/workflow-definitions/${uniqueName('missing')}`), 404, 'definition_not_found');
  });
});

describe('GET /workflow-definitions/{name}/diagram', () => {
  it('answers Mermaid text, or `{ mermaid }` with ?format=json, for any version', async () => {
    const name = uniqueName('diagram');
    await client.post('/workflow-definitions', flow(name));
    await client.post('/workflow-definitions', flow(name, { steps: [{ id: 'only', type: 'wait', signal: 'go' }] }));

    const textual = await client.get(`/workflow-definitions/${name}/diagram`);
    expect(textual.status).toBe(200);
    expect(textual.contentType).toMatch(/^text\/vnd\.mermaid/);
    expect(textual.text).toMatch(/^stateDiagram-v2/);
    expect(textual.text).toContain('only');

    const asJson = await client.get(`/workflow-definitions/${name}/diagram`, { query: { format: 'json' } });
    expect(asJson.status).toBe(200);
    expect(asJson.contentType).toContain('application/json');
    expect(asJson.body).toEqual({ mermaid: textual.text });

    const v1 = await client.get(`/workflow-definitions/${name}/diagram`, { query: { version: 1 } });
    expect(v1.text).toContain('hello');
    expectProblem(await client.get(`/workflow-definitions/${name}/diagram`, { query: { format: 'png' } }), 422, 'validation_failed');
  });

  it('answers 404 for an unknown name or version', async () => {
    expectProblem(await client.get(`/workflow-definitions/${uniqueName('missing')}/diagram`), 404, 'definition_not_found');
  });
});

describe('POST /workflow-definitions/validate', () => {
  it('answers 200 { valid: true } for a valid document and saves nothing', async () => {
    const name = uniqueName('validate');
    const res = await client.post('/workflow-definitions/validate', flow(name));
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual({ valid: true });
    expectProblem(await client.get(`/workflow-definitions/${name}`), 404, 'definition_not_found');
  });

  it('validates YAML too', async () => {
    const yaml = `name: ${uniqueName('vyaml')}\nsteps:\n  - { id: a, type: task, agent: echo }\n`;
    const res = await client.post('/workflow-definitions/validate', undefined, { rawBody: yaml, headers: YAML });
    expect(res.status, res.text).toBe(200);
  });

  it('answers 422 with every error for an invalid document', async () => {
    const res = await client.post('/workflow-definitions/validate', { name: 'x', steps: [{ id: 'a', type: 'task' }, { id: 'a', type: 'wait', signal: 's' }] });
    expect(res.status).toBe(422);
    expect(res.contentType).toContain('application/problem+json');
    expect(res.body.errors.length).toBeGreaterThanOrEqual(2);
    expect(res.body.errors.every((e: { path: string }) => e.path.startsWith('/steps/'))).toBe(true);
  });

  it('answers 405 for GET on the validate path', async () => {
    const res = await client.get('/workflow-definitions/validate');
    expectProblem(res, 405, 'method_not_allowed');
    expect(res.headers.get('allow')).toBe('POST');
  });
});

describe('starting definitions', () => {
  it('answers 422 definition_not_found for an unknown workflow', async () => {
    expectProblem(await client.post('/executions', { workflow: uniqueName('ghost') }), 422, 'definition_not_found');
  });

  it('echoes a sane x-request-id', async () => {
    const res = await request(server.url, 'GET', '/api/v1/workflow-definitions', undefined, { headers: { 'x-request-id': 'req-42' } });
    expect(res.headers.get('x-request-id')).toBe('req-42');
  });
});
