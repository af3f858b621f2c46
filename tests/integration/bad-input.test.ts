/** @module tests/integration/bad-input — every route answers bad input with a 4xx problem+json and changes nothing. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Api, type ApiResponse, type Method, api, request } from '../support/http.ts';
import { type TestServer, startTestServer } from '../support/server.ts';

const run = Date.now().toString(36);
const WAITING_FLOW = `bad-wait-${run}`;
const RETIRED_FLOW = `bad-retired-${run}`;
const LABEL = { suite: `bad-input-${run}` };
/** A well-formed id that no execution has. */
const GHOST_ID = 'ex_01ARZ3NDEKTSV4RRFFQ69G5FAV';

interface Fixtures {
  /** Waiting on signal `go` (not paused, not failed). */
  readonly waiting: string;
  /** Cancelled: finished. */
  readonly finished: string;
  /** A document at version 1. */
  readonly document: string;
}

interface Case {
  readonly name: string;
  readonly method: Method;
  /** Path under /api/v1 (or absolute when `root`). */
  readonly path: (f: Fixtures) => string;
  readonly root?: boolean;
  readonly body?: unknown;
  readonly rawBody?: string;
  readonly headers?: Record<string, string>;
  readonly status: number;
  /** Expected code; when omitted any snake_case code passes (engine-chosen 409 codes). */
  readonly code?: string;
  /** JSON Pointers that must appear in `errors`. */
  readonly paths?: readonly string[];
}

const JSON_CT = { 'content-type': 'application/json' };
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const HUGE = `{"input":"${'x'.repeat(1_100_000)}"}`;
const waitingFlow = {
  name: WAITING_FLOW,
  inputSchema: { type: 'object', required: ['orderId'], properties: { orderId: { type: 'string' } } },
  steps: [
    { id: 'w', type: 'wait', signal: 'go' },
    { id: 'done', type: 'task', agent: 'echo', input: '$.input' },
  ],
};

const E = (f: Fixtures) => `/executions/${f.waiting}`;
const F = (f: Fixtures) => `/executions/${f.finished}`;
const G = () => `/executions/${GHOST_ID}`;

/** Body-reading routes: each gets malformed JSON, 415, 413. */
const BODY_ROUTES: readonly { name: string; method: Method; path: (f: Fixtures) => string }[] = [
  { name: 'create definition', method: 'POST', path: () => '/workflow-definitions' },
  { name: 'validate definition', method: 'POST', path: () => '/workflow-definitions/validate' },
  { name: 'create template', method: 'POST', path: () => '/workflow-templates' },
  { name: 'instantiate template', method: 'POST', path: () => `/workflow-templates/ghost-${run}/instantiate` },
  { name: 'start', method: 'POST', path: () => '/executions' },
  { name: 'patch', method: 'PATCH', path: E },
  { name: 'cancel', method: 'POST', path: (f) => `${E(f)}/cancel` },
  { name: 'pause', method: 'POST', path: (f) => `${E(f)}/pause` },
  { name: 'resume', method: 'POST', path: (f) => `${E(f)}/resume` },
  { name: 'retry', method: 'POST', path: (f) => `${E(f)}/retry` },
  { name: 'retry step', method: 'POST', path: (f) => `${E(f)}/steps/w/retry` },
  { name: 'signal', method: 'POST', path: (f) => `${E(f)}/signals/go` },
  { name: 'create tenant', method: 'POST', path: () => '/tenants' },
  { name: 'patch tenant', method: 'PATCH', path: () => '/tenants/default' },
  { name: 'create document', method: 'POST', path: () => '/documents' },
  { name: 'update document', method: 'PUT', path: (f) => `/documents/${f.document}` },
  { name: 'create bulk operation', method: 'POST', path: () => '/bulk-operations' },
  { name: 'cancel bulk operation', method: 'POST', path: () => '/bulk-operations/bk_01ARZ3NDEKTSV4RRFFQ69G5FAV/cancel' },
];

/** List routes: each gets `?limit=abc`, `?limit=0`, an unknown parameter. */
const LIST_ROUTES: readonly { name: string; path: (f: Fixtures) => string }[] = [
  { name: 'definitions', path: () => '/workflow-definitions' },
  { name: 'task definitions', path: () => '/task-definitions' },
  { name: 'versions', path: () => `/workflow-definitions/${WAITING_FLOW}/versions` },
  { name: 'templates', path: () => '/workflow-templates' },
  { name: 'executions', path: () => '/executions' },
  { name: 'steps', path: (f) => `${E(f)}/steps` },
  { name: 'attempts', path: (f) => `${E(f)}/steps/w/attempts` },
  { name: 'events', path: (f) => `${E(f)}/events` },
  { name: 'logs', path: (f) => `${E(f)}/logs` },
  { name: 'children', path: (f) => `${E(f)}/children` },
  { name: 'tenants', path: () => '/tenants' },
  { name: 'documents', path: () => '/documents' },
  { name: 'document versions', path: (f) => `/documents/${f.document}/versions` },
  { name: 'bulk operations', path: () => '/bulk-operations' },
];

/** Execution sub-resources: each answers 404 for an unknown and for a malformed id. */
const EXECUTION_ROUTES: readonly { method: Method; suffix: string; body?: unknown }[] = [
  { method: 'GET', suffix: '' },
  { method: 'PATCH', suffix: '', body: { labels: { a: 'b' } } },
  { method: 'POST', suffix: '/cancel' },
  { method: 'POST', suffix: '/pause' },
  { method: 'POST', suffix: '/resume' },
  { method: 'POST', suffix: '/retry' },
  { method: 'POST', suffix: '/steps/w/retry' },
  { method: 'POST', suffix: '/signals/go', body: { payload: 1 } },
  { method: 'GET', suffix: '/steps' },
  { method: 'GET', suffix: '/steps/w/attempts' },
  { method: 'GET', suffix: '/events' },
  { method: 'GET', suffix: '/logs' },
  { method: 'GET', suffix: '/children' },
  { method: 'GET', suffix: '/diagram' },
  { method: 'GET', suffix: '/costs' },
];

const CASES: Case[] = [
  // ── every body route: syntax, media type, size ──
  ...BODY_ROUTES.flatMap((r): Case[] => [
    { name: `${r.name}: malformed JSON`, method: r.method, path: r.path, rawBody: '{"a": ', headers: JSON_CT, status: 400, code: 'invalid_json' },
    { name: `${r.name}: wrong content-type`, method: r.method, path: r.path, rawBody: 'a=1', headers: FORM, status: 415, code: 'unsupported_media_type' },
    { name: `${r.name}: body over the limit`, method: r.method, path: r.path, rawBody: HUGE, headers: JSON_CT, status: 413, code: 'payload_too_large' },
    { name: `${r.name}: non-UTF-8 charset`, method: r.method, path: r.path, rawBody: '{}', headers: { 'content-type': 'application/json; charset=iso-8859-1' }, status: 415, code: 'unsupported_media_type' },
  ]),
  // ── every list route: query validation ──
  ...LIST_ROUTES.flatMap((r): Case[] => [
    { name: `${r.name}: ?limit=abc`, method: 'GET', path: (f) => `${r.path(f)}?limit=abc`, status: 422, code: 'validation_failed', paths: ['/query/limit'] },
    { name: `${r.name}: ?limit=0`, method: 'GET', path: (f) => `${r.path(f)}?limit=0`, status: 422, code: 'validation_failed', paths: ['/query/limit'] },
    { name: `${r.name}: ?limit=1001`, method: 'GET', path: (f) => `${r.path(f)}?limit=1001`, status: 422, code: 'validation_failed', paths: ['/query/limit'] },
    { name: `${r.name}: unknown parameter`, method: 'GET', path: (f) => `${r.path(f)}?colour=red`, status: 422, code: 'validation_failed', paths: ['/query/colour'] },
  ]),
  // ── every execution route: unknown and malformed ids ──
  ...EXECUTION_ROUTES.flatMap((r): Case[] => [
    { name: `${r.method} /executions/{ghost}${r.suffix}`, method: r.method, path: () => `${G()}${r.suffix}`, body: r.body, status: 404, code: 'execution_not_found' },
    { name: `${r.method} /executions/{malformed}${r.suffix}`, method: r.method, path: () => `/executions/not-an-id${r.suffix}`, body: r.body, status: 404, code: 'execution_not_found' },
  ]),

  // ── definitions ──
  { name: 'create: not an object', method: 'POST', path: () => '/workflow-definitions', body: [1], status: 422, code: 'validation_failed', paths: [''] },
  { name: 'create: empty body', method: 'POST', path: () => '/workflow-definitions', rawBody: '', headers: JSON_CT, status: 422, code: 'validation_failed' },
  {
    name: 'create: invalid flow document',
    method: 'POST',
    path: () => '/workflow-definitions',
    body: { name: WAITING_FLOW, steps: [{ id: 'x', type: 'task', agent: 'echo', next: 'nowhere', retry: { maxAttempts: 'many' } }], extra: true },
    status: 422,
    code: 'invalid_definition',
    paths: ['/extra', '/steps/0/retry/maxAttempts'],
  },
  { name: 'create: invalid YAML', method: 'POST', path: () => '/workflow-definitions', rawBody: 'name: [x', headers: { 'content-type': 'application/yaml' }, status: 400, code: 'invalid_yaml' },
  { name: 'create: existing version, different document', method: 'POST', path: () => '/workflow-definitions', body: { ...waitingFlow, version: 1, description: 'other' }, status: 409, code: 'version_exists' },
  { name: 'validate: invalid flow', method: 'POST', path: () => '/workflow-definitions/validate', body: { name: 'v', steps: [] }, status: 422, code: 'invalid_definition', paths: ['/steps'] },
  { name: 'get definition: unknown', method: 'GET', path: () => `/workflow-definitions/ghost-${run}`, status: 404, code: 'definition_not_found' },
  { name: 'get definition: ?version=abc', method: 'GET', path: () => `/workflow-definitions/${WAITING_FLOW}?version=abc`, status: 422, code: 'validation_failed', paths: ['/query/version'] },
  { name: 'get definition: ?version=0', method: 'GET', path: () => `/workflow-definitions/${WAITING_FLOW}?version=0`, status: 422, code: 'validation_failed', paths: ['/query/version'] },
  { name: 'get definition: unknown version', method: 'GET', path: () => `/workflow-definitions/${WAITING_FLOW}?version=99`, status: 404, code: 'definition_not_found' },
  { name: 'versions: unknown', method: 'GET', path: () => `/workflow-definitions/ghost-${run}/versions`, status: 404, code: 'definition_not_found' },
  { name: 'retire: unknown', method: 'DELETE', path: () => `/workflow-definitions/ghost-${run}`, status: 404, code: 'definition_not_found' },
  { name: 'diagram: unknown', method: 'GET', path: () => `/workflow-definitions/ghost-${run}/diagram`, status: 404, code: 'definition_not_found' },
  { name: 'diagram: bad format', method: 'GET', path: () => `/workflow-definitions/${WAITING_FLOW}/diagram?format=svg`, status: 422, code: 'validation_failed', paths: ['/query/format'] },
  { name: 'definitions: PUT', method: 'PUT', path: () => '/workflow-definitions', body: {}, status: 405, code: 'method_not_allowed' },
  { name: 'create: outputSchema not a schema', method: 'POST', path: () => '/workflow-definitions', body: { name: `bad-out-${run}`, steps: [{ id: 'a', type: 'task', agent: 'echo', outputSchema: { type: 'text' } }] }, status: 422, code: 'invalid_definition', paths: ['/steps/0/outputSchema'] },
  { name: 'create: outputSchema not an object', method: 'POST', path: () => '/workflow-definitions', body: { name: `bad-out-${run}`, steps: [{ id: 'a', type: 'task', agent: 'echo', outputSchema: true }] }, status: 422, code: 'invalid_definition', paths: ['/steps/0/outputSchema'] },
  { name: 'step schema: unknown definition', method: 'GET', path: () => `/workflow-definitions/ghost-${run}/steps/a/schema`, status: 404, code: 'definition_not_found' },
  { name: 'step schema: unknown step', method: 'GET', path: () => `/workflow-definitions/${WAITING_FLOW}/steps/ghost/schema`, status: 404, code: 'step_not_found' },
  { name: 'step schema: ?version=abc', method: 'GET', path: () => `/workflow-definitions/${WAITING_FLOW}/steps/w/schema?version=abc`, status: 422, code: 'validation_failed', paths: ['/query/version'] },
  { name: 'task definition: unknown kind', method: 'GET', path: () => `/task-definitions/ghost-${run}`, status: 404, code: 'task_definition_not_found' },
  { name: 'task definition: kind too long', method: 'GET', path: () => `/task-definitions/${'k'.repeat(201)}`, status: 404, code: 'task_definition_not_found' },
  { name: 'task definitions: POST', method: 'POST', path: () => '/task-definitions', body: {}, status: 405, code: 'method_not_allowed' },

  // ── templates ──
  { name: 'template: not an object', method: 'POST', path: () => '/workflow-templates', body: [1], status: 422, code: 'validation_failed', paths: [''] },
  { name: 'template: no name, extends not a string', method: 'POST', path: () => '/workflow-templates', body: { extends: 1, parameters: 'x' }, status: 422, code: 'validation_failed', paths: ['/name', '/extends', '/parameters'] },
  { name: 'template: unknown parent, bad step', method: 'POST', path: () => '/workflow-templates', body: { name: `t-${run}`, extends: `ghost-${run}`, steps: 'x' }, status: 422, code: 'template_invalid', paths: ['/extends', '/steps'] },
  { name: 'template: invalid resolved flow', method: 'POST', path: () => '/workflow-templates', body: { name: `t-${run}`, steps: [{ id: 'a', type: 'nope' }] }, status: 422, code: 'template_invalid', paths: ['/steps/0/type'] },
  { name: 'template: invalid YAML', method: 'POST', path: () => '/workflow-templates', rawBody: 'name: [x', headers: { 'content-type': 'application/yaml' }, status: 400, code: 'invalid_yaml' },
  { name: 'template: unknown', method: 'GET', path: () => `/workflow-templates/ghost-${run}`, status: 404, code: 'template_not_found' },
  { name: 'template: ?version=0', method: 'GET', path: () => `/workflow-templates/ghost-${run}?version=0`, status: 422, code: 'validation_failed', paths: ['/query/version'] },
  { name: 'template delete: unknown', method: 'DELETE', path: () => `/workflow-templates/ghost-${run}`, status: 404, code: 'template_not_found' },
  { name: 'template diagram: bad format', method: 'GET', path: () => `/workflow-templates/ghost-${run}/diagram?format=svg`, status: 422, code: 'validation_failed', paths: ['/query/format'] },
  { name: 'instantiate: unknown template', method: 'POST', path: () => `/workflow-templates/ghost-${run}/instantiate`, body: {}, status: 404, code: 'template_not_found' },
  { name: 'instantiate: bad name, params not an object', method: 'POST', path: () => `/workflow-templates/ghost-${run}/instantiate`, body: { name: 'a b', params: [] }, status: 422, code: 'validation_failed', paths: ['/name', '/params'] },
  { name: 'start: unknown template', method: 'POST', path: () => '/executions', body: { template: `ghost-${run}` }, status: 422, code: 'template_not_found', paths: ['/template'] },
  { name: 'start: template together with a definition', method: 'POST', path: () => '/executions', body: { template: 'x', definition: waitingFlow }, status: 422, code: 'validation_failed', paths: ['/template'] },

  // ── start ──
  { name: 'start: empty body', method: 'POST', path: () => '/executions', rawBody: '', headers: JSON_CT, status: 422, code: 'validation_failed' },
  { name: 'start: neither workflow nor definition', method: 'POST', path: () => '/executions', body: { input: {} }, status: 422, code: 'validation_failed', paths: ['/workflow'] },
  { name: 'start: both workflow and definition', method: 'POST', path: () => '/executions', body: { workflow: WAITING_FLOW, definition: waitingFlow }, status: 422, code: 'validation_failed', paths: ['/definition'] },
  {
    name: 'start: wrong types and unknown fields, all reported',
    method: 'POST',
    path: () => '/executions',
    body: { workflow: 7, version: 'latest', labels: { team: 5 }, idempotencyKey: '', colour: 'red' },
    status: 422,
    code: 'validation_failed',
    paths: ['/workflow', '/version', '/labels/team', '/idempotencyKey', '/colour'],
  },
  { name: 'start: version 0', method: 'POST', path: () => '/executions', body: { workflow: WAITING_FLOW, version: 0 }, status: 422, code: 'validation_failed', paths: ['/version'] },
  { name: 'start: a JSON array', method: 'POST', path: () => '/executions', body: [], status: 422, code: 'validation_failed', paths: [''] },
  { name: 'start: unknown workflow', method: 'POST', path: () => '/executions', body: { workflow: `ghost-${run}` }, status: 422, code: 'definition_not_found' },
  { name: 'start: unknown version', method: 'POST', path: () => '/executions', body: { workflow: WAITING_FLOW, version: 42, input: { orderId: 'x' } }, status: 422, code: 'definition_not_found' },
  { name: 'start: input failing inputSchema', method: 'POST', path: () => '/executions', body: { workflow: WAITING_FLOW, input: { orderId: 1 } }, status: 422, paths: ['/input/orderId'] },
  { name: 'start: retired workflow', method: 'POST', path: () => '/executions', body: { workflow: RETIRED_FLOW }, status: 409, code: 'definition_retired' },
  {
    name: 'start: invalid one-off definition',
    method: 'POST',
    path: () => '/executions',
    body: { definition: { name: 'adhoc', steps: [{ id: 'a', type: 'nope' }] } },
    status: 422,
    code: 'invalid_definition',
    paths: ['/definition/steps/0/type'],
  },
  { name: 'start: input nested 1000 deep', method: 'POST', path: () => '/executions', rawBody: `{"workflow":"${WAITING_FLOW}","input":${'['.repeat(1000)}${']'.repeat(1000)}}`, headers: JSON_CT, status: 422, code: 'validation_failed', paths: [''] },
  { name: 'start: input array of 10,001 items', method: 'POST', path: () => '/executions', body: { workflow: WAITING_FLOW, input: { items: new Array(10_001).fill(0) } }, status: 422, code: 'validation_failed', paths: ['/input/items'] },
  { name: 'start: input property name of 262,145 chars', method: 'POST', path: () => '/executions', body: { workflow: WAITING_FLOW, input: { 'a/b': [{ ['k'.repeat(262_145)]: 1 }] } }, status: 422, code: 'validation_failed', paths: ['/input/a~1b/0'] },
  { name: 'create: YAML array of 10,001 items', method: 'POST', path: () => '/workflow-definitions', rawBody: `name: x\nsteps: [${new Array(10_001).fill('1').join(',')}]\n`, headers: { 'content-type': 'application/yaml' }, status: 422, code: 'validation_failed', paths: ['/steps'] },
  { name: 'create: YAML nested 200 deep', method: 'POST', path: () => '/workflow-definitions', rawBody: `name: x\nsteps: ${'['.repeat(200)}${']'.repeat(200)}\n`, headers: { 'content-type': 'application/yaml' }, status: 422, code: 'validation_failed' },
  { name: 'start: header and field keys differ', method: 'POST', path: () => '/executions', body: { workflow: WAITING_FLOW, idempotencyKey: 'a' }, headers: { 'idempotency-key': 'b' }, status: 422, paths: ['/idempotencyKey'] },

  // ── list filters ──
  { name: 'list: bad status', method: 'GET', path: () => '/executions?status=running,sleeping', status: 422, code: 'validation_failed', paths: ['/query/status/1'] },
  { name: 'list: bad createdAfter', method: 'GET', path: () => '/executions?createdAfter=yesterday', status: 422, code: 'validation_failed', paths: ['/query/createdAfter'] },
  { name: 'list: repeated parameter', method: 'GET', path: () => '/executions?workflow=a&workflow=b', status: 422, code: 'validation_failed', paths: ['/query/workflow'] },
  { name: 'events: ?since=-1', method: 'GET', path: (f) => `${E(f)}/events?since=-1`, status: 422, code: 'validation_failed', paths: ['/query/since'] },
  { name: 'events: ?since=x', method: 'GET', path: (f) => `${E(f)}/events?since=x`, status: 422, code: 'validation_failed', paths: ['/query/since'] },
  { name: 'logs: ?level=loud', method: 'GET', path: (f) => `${E(f)}/logs?level=loud`, status: 422, code: 'validation_failed', paths: ['/query/level'] },
  { name: 'diagram: ?format=svg', method: 'GET', path: (f) => `${E(f)}/diagram?format=svg`, status: 422, code: 'validation_failed', paths: ['/query/format'] },
  { name: 'get: unknown query parameter', method: 'GET', path: (f) => `${E(f)}?x=1`, status: 422, code: 'validation_failed', paths: ['/query/x'] },
  { name: 'attempts: unknown step', method: 'GET', path: (f) => `${E(f)}/steps/nope/attempts`, status: 404 },

  // ── bodies of the action routes ──
  { name: 'patch: empty object', method: 'PATCH', path: E, body: {}, status: 422, code: 'validation_failed' },
  { name: 'patch: wrong types', method: 'PATCH', path: E, body: { labels: { a: 1 }, context: 'x', extra: 1 }, status: 422, code: 'validation_failed', paths: ['/labels/a', '/context', '/extra'] },
  { name: 'cancel: wrong type', method: 'POST', path: (f) => `${E(f)}/cancel`, body: { reason: 5 }, status: 422, code: 'validation_failed', paths: ['/reason'] },
  { name: 'pause: unknown field', method: 'POST', path: (f) => `${E(f)}/pause`, body: { now: true }, status: 422, code: 'validation_failed', paths: ['/now'] },
  { name: 'retry: wrong type', method: 'POST', path: (f) => `${E(f)}/retry`, body: { note: [] }, status: 422, code: 'validation_failed', paths: ['/note'] },
  { name: 'signal: payload with reject', method: 'POST', path: (f) => `${E(f)}/signals/go`, body: { reject: true, payload: 1 }, status: 422, code: 'validation_failed', paths: ['/payload'] },
  { name: 'signal: reject not boolean', method: 'POST', path: (f) => `${E(f)}/signals/go`, body: { reject: 'yes' }, status: 422, code: 'validation_failed', paths: ['/reject'] },

  // ── tenants ──
  { name: 'tenant: bad slug', method: 'POST', path: () => '/tenants', body: { slug: 'Not_A_Slug', name: 'n' }, status: 422, code: 'validation_failed', paths: ['/slug'] },
  { name: 'tenant: bad limits', method: 'POST', path: () => '/tenants', body: { slug: 'bad-limits', name: 'n', limits: { maxRunning: -1, rps: 'fast' } }, status: 422, code: 'validation_failed', paths: ['/limits/maxRunning', '/limits/rps'] },
  { name: 'tenant: exists', method: 'POST', path: () => '/tenants', body: { slug: 'default', name: 'again' }, status: 409, code: 'tenant_exists' },
  { name: 'tenant: unknown', method: 'GET', path: () => '/tenants/nobody-here', status: 404, code: 'tenant_not_found' },
  { name: 'tenant: patch unknown', method: 'PATCH', path: () => '/tenants/nobody-here', body: { name: 'x' }, status: 404, code: 'tenant_not_found' },
  { name: 'tenant: patch nothing', method: 'PATCH', path: () => '/tenants/default', body: {}, status: 422, code: 'validation_failed' },
  { name: 'api key: unknown tenant', method: 'POST', path: () => '/api-keys', body: { name: 'k', scopes: ['read'], tenant: 'nobody-here' }, status: 422, code: 'tenant_not_found', paths: ['/tenant'] },

  // ── invalid state transitions ──
  { name: 'resume: not paused', method: 'POST', path: (f) => `${E(f)}/resume`, status: 409 },
  { name: 'retry: not failed', method: 'POST', path: (f) => `${E(f)}/retry`, status: 409, code: 'not_retryable' },
  { name: 'retry step: step not failed', method: 'POST', path: (f) => `${E(f)}/steps/w/retry`, status: 409 },
  { name: 'signal: unknown signal', method: 'POST', path: (f) => `${E(f)}/signals/nope`, body: { payload: 1 }, status: 409, code: 'unknown_signal' },
  { name: 'patch: finished', method: 'PATCH', path: F, body: { labels: { late: 'yes' } }, status: 409, code: 'execution_finished' },
  { name: 'cancel: finished', method: 'POST', path: (f) => `${F(f)}/cancel`, status: 409 },
  { name: 'pause: finished', method: 'POST', path: (f) => `${F(f)}/pause`, status: 409 },
  { name: 'resume: finished', method: 'POST', path: (f) => `${F(f)}/resume`, status: 409 },
  { name: 'retry: cancelled', method: 'POST', path: (f) => `${F(f)}/retry`, status: 409, code: 'not_retryable' },
  { name: 'signal: finished', method: 'POST', path: (f) => `${F(f)}/signals/go`, body: { payload: 1 }, status: 409 },

  // ── documents ──
  { name: 'document: missing fields, bad status', method: 'POST', path: () => '/documents', body: { type: 't', status: 'gone' }, status: 422, code: 'validation_failed', paths: ['/scopeType', '/scopeId', '/title', '/content', '/status'] },
  { name: 'document update: no if-match', method: 'PUT', path: (f) => `/documents/${f.document}`, body: { title: 'x' }, status: 428, code: 'if_match_required' },
  { name: 'document update: stale if-match', method: 'PUT', path: (f) => `/documents/${f.document}`, body: { title: 'x' }, headers: { 'if-match': '2' }, status: 412, code: 'version_mismatch' },
  { name: 'document update: empty change', method: 'PUT', path: (f) => `/documents/${f.document}`, body: {}, headers: { 'if-match': '1' }, status: 422, code: 'validation_failed' },
  { name: 'document: unknown id', method: 'GET', path: () => '/documents/doc_01ARZ3NDEKTSV4RRFFQ69G5FAV', status: 404, code: 'document_not_found' },
  { name: 'document: malformed id', method: 'PUT', path: () => '/documents/not-a-doc', body: { title: 'x' }, headers: { 'if-match': '1' }, status: 404, code: 'document_not_found' },
  { name: 'document version: not a number', method: 'GET', path: (f) => `/documents/${f.document}/versions/first`, status: 404, code: 'document_not_found' },
  { name: 'documents: bad filter', method: 'GET', path: () => '/documents?status=gone&executionId=x', status: 422, code: 'validation_failed', paths: ['/query/status', '/query/executionId'] },

  // ── bulk operations ──
  { name: 'bulk: no filter', method: 'POST', path: () => '/bulk-operations', body: { action: 'cancel' }, status: 422, code: 'filter_required', paths: ['/filter'] },
  { name: 'bulk: empty filter, dry run', method: 'POST', path: () => '/bulk-operations', body: { action: 'cancel', filter: {}, dryRun: true }, status: 422, code: 'filter_required', paths: ['/filter'] },
  {
    name: 'bulk: bad action, filter fields and signal',
    method: 'POST',
    path: () => '/bulk-operations',
    body: { action: 'delete', filter: { status: ['gone'], createdBefore: 'soon', ids: [] }, signal: { payload: 1 } },
    status: 422,
    code: 'validation_failed',
    paths: ['/action', '/filter/status/0', '/filter/createdBefore', '/filter/ids', '/signal/name'],
  },
  { name: 'bulk: signal without its signal', method: 'POST', path: () => '/bulk-operations', body: { action: 'signal', filter: { workflow: WAITING_FLOW } }, status: 422, code: 'validation_failed', paths: ['/signal'] },
  { name: 'bulk: unknown id', method: 'GET', path: () => '/bulk-operations/bk_01ARZ3NDEKTSV4RRFFQ69G5FAV', status: 404, code: 'bulk_operation_not_found' },
  { name: 'bulk: malformed id', method: 'POST', path: () => '/bulk-operations/not-an-op/cancel', status: 404, code: 'bulk_operation_not_found' },

  // ── routing ──
  { name: 'unknown route', method: 'GET', path: () => '/nothing/here', status: 404, code: 'not_found' },
  { name: 'unknown route outside the base', method: 'GET', path: () => '/favicon.ico', root: true, status: 404, code: 'not_found' },
  { name: 'wrong method on an execution', method: 'PUT', path: E, body: {}, status: 405, code: 'method_not_allowed' },
  { name: 'wrong method on health', method: 'POST', path: () => '/health', body: {}, status: 405, code: 'method_not_allowed' },
  { name: 'malformed percent-encoding', method: 'GET', path: () => '/workflow-definitions/%E0%A4%A', status: 400, code: 'bad_request' },
];

let server: TestServer;
let client: Api;
let fixtures: Fixtures;

async function waitForStatus(id: string, statuses: readonly string[]): Promise<ApiResponse> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const res = await client.get(`/executions/${id}`);
    if (statuses.includes(res.body?.status) || Date.now() > deadline) return res;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** What must not change: every execution with its status and last seq, every definition version. */
async function snapshotState(): Promise<unknown> {
  const executions = await client.get('/executions', { query: { limit: 1000 } });
  const definitions = await client.get('/workflow-definitions', { query: { limit: 1000 } });
  const versions = await client.get(`/workflow-definitions/${WAITING_FLOW}/versions`);
  const tenants = await client.get('/tenants', { query: { limit: 1000 } });
  const templates = await client.get('/workflow-templates', { query: { limit: 1000 } });
  const documents = await client.get('/documents', { query: { limit: 1000 } });
  const bulk = await client.get('/bulk-operations', { query: { limit: 1000 } });
  return {
    bulk: bulk.body.items,
    tenants: tenants.body.items,
    templates: templates.body.items.map((t: { name: string; version: number }) => [t.name, t.version]),
    documents: documents.body.items.map((d: { id: string; version: number }) => [d.id, d.version]),
    executions: executions.body.items.map((e: { id: string; status: string; lastSeq: number; labels: unknown }) => [e.id, e.status, e.lastSeq, e.labels]),
    definitions: definitions.body.items.map((d: { name: string; version: number; retired: boolean }) => [d.name, d.version, d.retired]),
    versions: versions.body.items.map((d: { version: number }) => d.version),
  };
}

let before: unknown;

beforeAll(async () => {
  server = await startTestServer();
  client = api(server.url);
  expect((await client.post('/workflow-definitions', { ...waitingFlow, version: 1 })).status).toBe(201);
  expect((await client.post('/workflow-definitions', { name: RETIRED_FLOW, steps: [{ id: 'a', type: 'task', agent: 'echo' }] })).status).toBe(201);
  expect((await client.del(`/workflow-definitions/${RETIRED_FLOW}`)).status).toBe(204);

  const waiting = await client.post('/executions', { workflow: WAITING_FLOW, input: { orderId: 'w' }, labels: LABEL });
  expect(waiting.status, waiting.text).toBe(201);
  const finished = await client.post('/executions', { workflow: WAITING_FLOW, input: { orderId: 'f' }, labels: LABEL });
  expect(finished.status, finished.text).toBe(201);
  expect((await waitForStatus(waiting.body.id, ['waiting'])).body.status).toBe('waiting');
  expect((await client.post(`/executions/${finished.body.id}/cancel`, { reason: 'fixture' })).status).toBe(202);
  expect((await waitForStatus(finished.body.id, ['cancelled'])).body.status).toBe('cancelled');
  const document = await client.post('/documents', { scopeType: 'suite', scopeId: run, type: 'fixture', title: 'fixture', content: null });
  expect(document.status, document.text).toBe(201);
  fixtures = { waiting: waiting.body.id, finished: finished.body.id, document: document.body.id };
  before = await snapshotState();
}, 20_000);

afterAll(async () => {
  await server?.close();
});

describe('bad input', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const path = c.root === true ? c.path(fixtures) : `/api/v1${c.path(fixtures)}`;
    const res = await request(server.url, c.method, path, c.body, {
      ...(c.rawBody === undefined ? {} : { rawBody: c.rawBody }),
      ...(c.headers === undefined ? {} : { headers: c.headers }),
    });
    expect(res.status, res.text.slice(0, 500)).toBe(c.status);
    expect(res.contentType).toContain('application/problem+json');
    expect(res.headers.get('x-request-id')).toBeTruthy();
    expect(res.body).toMatchObject({ status: c.status, title: expect.any(String), detail: expect.any(String), errors: expect.any(Array) });
    expect(res.body.code).toMatch(/^[a-z]+(?:_[a-z]+)*$/);
    expect(res.body.type).toBe(`https://actorflow.dev/errors/${res.body.code}`);
    if (c.code !== undefined) expect(res.body.code).toBe(c.code);
    if (c.paths !== undefined) {
      const paths = (res.body.errors as { path: string }[]).map((e) => e.path);
      expect(paths).toEqual(expect.arrayContaining([...c.paths]));
    }
    expect(res.text).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('still answers /health, and no state changed', async () => {
    const health = await request(server.url, 'GET', '/health');
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: 'ok', version: expect.any(String), uptimeS: expect.any(Number) });
    expect((await client.get('/health')).status).toBe(200);
    expect(await snapshotState()).toEqual(before);
    const listed = await client.get('/executions', { query: { 'label.suite': LABEL.suite } });
    expect(listed.body.items).toHaveLength(2);
  });
});

describe('long strings', () => {
  it('accepts a start whose input is one 900 KiB string (the body limit bounds strings, docs/api.md)', async () => {
    const s = await startTestServer();
    try {
      const http = api(s.url);
      await http.post('/workflow-definitions', { name: 'long-string', steps: [{ id: 'a', type: 'task', agent: 'echo', input: '$.input' }] });
      const text = 'x'.repeat(900 * 1024);
      const res = await http.post('/executions', { workflow: 'long-string', input: text }, { query: { wait: 5000 } });
      expect(res.status).toBe(201);
      expect(res.body.status).toBe('completed');
      expect((res.body.output as string).length).toBe(text.length);
    } finally {
      await s.close();
    }
  });
});
