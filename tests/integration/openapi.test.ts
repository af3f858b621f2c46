/** OpenAPI document and API reference: valid OpenAPI 3.1, every served route listed, Swagger UI from local assets, public. */
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../../src/api/routes.ts';
import { fullPath, routeAuth } from '../../src/api/routing/route-spec.ts';
import { WS_ROUTES } from '../../src/api/streams/ws/upgrade.ts';
import { request } from '../support/http.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const ADMIN = 'test-admin-key-openapi-0123456789abcdef';

let open: TestServer;
let secured: TestServer;
let doc: any;

beforeAll(async () => {
  [open, secured] = await Promise.all([startTestServer(), startTestServer({ adminKey: ADMIN })]);
  const res = await request(open.url, 'GET', '/api/v1/openapi.json');
  expect(res.status).toBe(200);
  expect(res.contentType).toMatch(/^application\/json/);
  doc = res.body;
});

afterAll(async () => {
  await Promise.all([open?.close(), secured?.close()]);
});

describe('the OpenAPI document', () => {
  it('validates as OpenAPI 3.1', async () => {
    expect(doc.openapi).toBe('3.1.0');
    const validator = new Validator();
    const result = await validator.validate(doc);
    expect(result.errors ?? [], JSON.stringify(result.errors, null, 2)).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('lists exactly the routes the server serves, each with its method', () => {
    const served = [...ROUTES, ...WS_ROUTES].map((r) => `${r.method.toUpperCase()} ${fullPath(r)}`).sort();
    const documented: string[] = [];
    for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, unknown>>)) {
      for (const method of Object.keys(item)) documented.push(`${method.toUpperCase()} ${path}`);
    }
    expect(documented.sort()).toEqual(served);
    const ids = [...ROUTES, ...WS_ROUTES].map((r) => r.id).sort();
    const opIds = Object.values(doc.paths as Record<string, Record<string, { operationId: string }>>).flatMap((item) => Object.values(item).map((op) => op.operationId));
    expect(opIds.sort()).toEqual(ids);
  });

  it('describes parameters, bodies, responses and security from the route specs', () => {
    const start = doc.paths['/api/v1/executions'].post;
    expect(start.requestBody.content['application/json'].schema.properties.workflow).toBeDefined();
    expect(Object.keys(start.responses)).toEqual(expect.arrayContaining(['201', '200', '401', '422', 'default']));
    expect(start.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`)).toContain('header:idempotency-key');
    const create = doc.paths['/api/v1/workflow-definitions'].post;
    expect(Object.keys(create.requestBody.content)).toEqual(expect.arrayContaining(['application/json', 'application/yaml']));
    const get = doc.paths['/api/v1/executions/{id}'].get;
    expect(get.parameters[0]).toMatchObject({ name: 'id', in: 'path', required: true });
    const list = doc.paths['/api/v1/executions'].get;
    const status = list.parameters.find((p: { name: string }) => p.name === 'status');
    // Repeated parameters, what generated clients send by default; the server takes comma lists too.
    expect(status).toMatchObject({ in: 'query', style: 'form', explode: true, schema: { type: 'array' } });
    expect(list.parameters.find((p: { name: string }) => p.name === 'limit').schema).toMatchObject({ minimum: 1, maximum: 1000, default: 50 });
    expect(doc.paths['/api/v1/workflow-definitions/{name}'].delete.responses['204'].content).toBeUndefined();
    expect(Object.keys(doc.paths['/api/v1/workflow-definitions/{name}/diagram'].get.responses['200'].content)).toContain('text/vnd.mermaid');
    expect(doc.paths['/api/v1/executions/{id}/stream'].get.responses['200'].content['text/event-stream']).toBeDefined();
    expect(doc.components.responses.Unprocessable.content['application/problem+json'].schema.$ref).toBe('#/components/schemas/Problem');
    expect(Object.keys(doc.components.securitySchemes)).toEqual(expect.arrayContaining(['bearerAuth', 'apiKeyHeader']));
    for (const r of [...ROUTES, ...WS_ROUTES]) {
      const op = doc.paths[fullPath(r)][r.method];
      if (routeAuth(r) === 'none') expect(op.security, r.id).toEqual([]);
      else expect(op.security, r.id).toEqual(expect.arrayContaining([{ bearerAuth: [] }, { apiKeyHeader: [] }]));
      expect(op.tags).toEqual([r.tag]);
    }
    expect(doc.tags.map((t: { name: string }) => t.name)).toEqual(expect.arrayContaining(['definitions', 'executions', 'admin', 'reference']));
  });

  it('types the flow document: a component with the step types as a oneOf discriminated on `type`', () => {
    const flowRef = { $ref: '#/components/schemas/FlowDocument' };
    const create = doc.paths['/api/v1/workflow-definitions'].post.requestBody.content;
    expect(create['application/json'].schema).toEqual(flowRef);
    expect(create['application/yaml'].schema).toEqual(flowRef);
    expect(doc.paths['/api/v1/workflow-definitions/validate'].post.requestBody.content['application/json'].schema).toEqual(flowRef);
    expect(doc.paths['/api/v1/executions'].post.requestBody.content['application/json'].schema.properties.definition).toEqual(flowRef);
    expect(doc.components.schemas.Definition.properties.document).toEqual({ oneOf: [flowRef, { $ref: '#/components/schemas/MachineDocument' }] });
    const flow = doc.components.schemas.FlowDocument;
    expect(flow).toMatchObject({ type: 'object', required: ['name', 'steps'], additionalProperties: false });
    expect(flow.properties.steps.items).toEqual({ $ref: '#/components/schemas/FlowStep' });
    const step = doc.components.schemas.FlowStep;
    expect(step.discriminator.propertyName).toBe('type');
    expect(Object.keys(step.discriminator.mapping).sort()).toEqual(['choice', 'parallel', 'sleep', 'task', 'wait', 'workflow']);
    expect(doc.components.schemas.FlowTaskStep).toMatchObject({ required: ['id', 'type', 'agent'], properties: { type: { const: 'task' } } });
  });

  it('documents GraphQL bodies and answers in both GraphQL-over-HTTP media types', () => {
    const op = doc.paths['/api/v1/graphql'].post;
    expect(Object.keys(op.requestBody.content).sort()).toEqual(['application/graphql', 'application/json']);
    expect(Object.keys(op.responses['200'].content).sort()).toEqual(['application/graphql-response+json', 'application/json']);
    expect(Object.keys(op.responses['400'].content).sort()).toEqual(['application/graphql-response+json', 'application/problem+json']);
    expect(op.parameters).toContainEqual(expect.objectContaining({ name: 'accept', in: 'header' }));
  });

  it('gives every operation a whole first sentence as its summary, never one cut at a colon', () => {
    const ops = Object.values(doc.paths as Record<string, Record<string, { operationId: string; summary: string; description: string }>>).flatMap((item) => Object.values(item));
    for (const op of ops) {
      expect(op.summary.length, op.operationId).toBeLessThanOrEqual(120);
      expect(op.summary, op.operationId).toMatch(/[.!?…]$/);
      if (!op.summary.endsWith('…')) expect(op.description.startsWith(op.summary), op.operationId).toBe(true);
    }
    const summary = (id: string) => ops.find((op) => op.operationId === id)?.summary;
    expect(summary('pauseExecution')).toBe('Pause: no new step is dispatched until resume.');
    expect(summary('graphqlSchema')).toBe('The GraphQL schema as SDL text: `{ sdl }`.');
    expect(summary('signalExecution')).toBe('`{ payload }` delivers to the `wait` step for `name`; `{ reject: true, reason }` fails it.');
    expect(summary('health')).toBe('Liveness: `{ status, version, uptimeS }`.');
  });
});

describe('the API reference page', () => {
  it('serves Swagger UI HTML that loads only local assets', async () => {
    const res = await request(open.url, 'GET', '/api/v1/docs');
    expect(res.status).toBe(200);
    expect(res.contentType).toMatch(/^text\/html/);
    expect(res.text).toContain('SwaggerUIBundle');
    expect(res.text).toContain('/api/v1/openapi.json');
    const srcs = [...res.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] ?? '');
    expect(srcs.length).toBeGreaterThan(2);
    for (const src of srcs) {
      expect(src.startsWith('/api/v1/docs/assets/'), src).toBe(true);
      const asset = await request(open.url, 'GET', src);
      expect(asset.status, src).toBe(200);
    }
  });

  it('serves assets with their content types, unknown ones are 404', async () => {
    const js = await request(open.url, 'GET', '/api/v1/docs/assets/swagger-ui-bundle.js');
    expect(js.status).toBe(200);
    expect(js.contentType).toMatch(/^text\/javascript/);
    expect(js.text.length).toBeGreaterThan(100_000);
    const css = await request(open.url, 'GET', '/api/v1/docs/assets/swagger-ui.css');
    expect(css.contentType).toMatch(/^text\/css/);
    const png = await fetch(`${open.url}/api/v1/docs/assets/favicon-32x32.png`);
    expect(png.headers.get('content-type')).toBe('image/png');
    const bytes = new Uint8Array(await png.arrayBuffer());
    expect([...bytes.subarray(1, 4)]).toEqual([0x50, 0x4e, 0x47]);
    for (const bad of ['index.html', '..%2Fpackage.json', 'swagger-ui.js.map']) {
      const res = await request(open.url, 'GET', `/api/v1/docs/assets/${bad}`);
      expect(res.status, bad).toBe(404);
      expect(res.contentType).toMatch(/problem\+json/);
    }
  });

  it('is public with auth on; the rest of the API is not', async () => {
    for (const path of ['/api/v1/openapi.json', '/api/v1/docs', '/api/v1/docs/assets/swagger-ui.css']) {
      const res = await request(secured.url, 'GET', path);
      expect(res.status, path).toBe(200);
    }
    const res = await request(secured.url, 'GET', '/api/v1/openapi.json');
    expect(res.body.paths['/api/v1/executions'].get.security).not.toEqual([]);
    expect((await request(secured.url, 'GET', '/api/v1/executions')).status).toBe(401);
  });
});
