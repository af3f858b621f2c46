/** @module api/routing/openapi — builds the OpenAPI 3.1 document from the route tables (the same specs that validate requests). */
import { Kind } from '@sinclair/typebox';
import { fullPath, type JsonSchema, routeAuth, type RouteSpec } from './route-spec.ts';
import { MEDIA_EVENT_STREAM, MEDIA_GRAPHQL_RESPONSE, MEDIA_JSON, MEDIA_PROBLEM, YAML_MEDIA_TYPES } from '../http/media.ts';
import { FLOW_DOCUMENT, flowComponentSchemas } from './openapi-flow.ts';
import { COMPONENT_SCHEMAS, RESPONSE_SCHEMAS } from './response-schemas.ts';
import { FLOW_DOCUMENT_KIND } from './schemas.ts';

/** An OpenAPI document as plain JSON data. */
export type OpenApiDocument = Readonly<Record<string, unknown>>;

export interface OpenApiOptions {
  /** `info.version`: the package version. */
  readonly version: string;
}

const TAGS: Readonly<Record<string, string>> = {
  definitions: 'Workflow definitions: flow documents (JSON or YAML) and code-first machines.',
  templates: 'Workflow templates: flow documents with parameters and inheritance, instantiated into definitions or started directly.',
  executions: 'Executions of workflows: start, inspect, control, signal.',
  agents: 'Agents seen on the bus.',
  schedules: 'Schedules: cron (with time zone), fixed-interval and one-time starts of a workflow.',
  bulk: 'Bulk operations: one control call on every execution a filter matches, durable and paced.',
  documents: 'Versioned documents of flows and people, grouped by scope, updated under optimistic locking (`if-match`).',
  streams: 'Real-time streams: WebSocket (JSON or msgpack subprotocol) and server-sent events.',
  ops: 'Health, readiness, status and metrics.',
  admin: 'API keys and the audit log (admin scope).',
  tenants: 'Tenants and their quotas (admins of tenant `default`).',
  reference: 'This API reference.',
};

const PROBLEM_SCHEMA: JsonSchema = {
  type: 'object',
  description: 'RFC 9457 problem details.',
  required: ['type', 'title', 'status', 'code', 'detail', 'errors'],
  properties: {
    type: { type: 'string', format: 'uri', examples: ['https://actorflow.dev/errors/validation_failed'] },
    title: { type: 'string' },
    status: { type: 'integer', minimum: 400, maximum: 599 },
    code: { type: 'string', description: 'Stable snake_case error code.' },
    detail: { type: 'string' },
    errors: {
      type: 'array',
      description: 'Every failing JSON path (JSON Pointer).',
      items: { type: 'object', required: ['path', 'message'], properties: { path: { type: 'string' }, message: { type: 'string' } } },
    },
  },
};

const problemContent = { [MEDIA_PROBLEM]: { schema: { $ref: '#/components/schemas/Problem' } } };

/**
 * Request schemas documented by a component instead of their runtime form, found by their TypeBox
 * kind: the router checks a flow document only for being an object (the engine validates it, with
 * its own messages), while clients get its full typed schema.
 */
const DOCUMENTED_AS: ReadonlyMap<unknown, string> = new Map([[FLOW_DOCUMENT_KIND, FLOW_DOCUMENT]]);

/** A request schema with the fragments of DOCUMENTED_AS replaced by references to their components. */
function documented(schema: JsonSchema): JsonSchema {
  const walk = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(walk);
    if (typeof value !== 'object' || value === null) return value;
    const name = DOCUMENTED_AS.get(Reflect.get(value, Kind));
    if (name !== undefined) return { $ref: `#/components/schemas/${name}` };
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v)]));
  };
  return walk(schema) as JsonSchema;
}

const RATE_HEADERS = {
  'retry-after': { description: 'Seconds until a request may succeed.', schema: { type: 'integer' } },
  'ratelimit-limit': { description: 'Bucket size.', schema: { type: 'integer' } },
  'ratelimit-remaining': { description: 'Requests left now.', schema: { type: 'integer' } },
  'ratelimit-reset': { description: 'Seconds until the bucket refills.', schema: { type: 'integer' } },
};

/** Shared error answers, referenced by status from every operation. */
const ERROR_RESPONSES: Readonly<Record<string, { name: string; description: string; headers?: Record<string, unknown> }>> = {
  '400': { name: 'BadRequest', description: 'Unparseable request (invalid JSON/YAML; a body that is not UTF-8; JSON that is not I-JSON, RFC 7493: a duplicate member name, a number outside the IEEE 754 double range or an unpaired surrogate escape, at `errors[].path`; bad query syntax, malformed path).' },
  '401': { name: 'Unauthorized', description: 'No or invalid credential.' },
  '403': { name: 'Forbidden', description: 'The credential lacks the needed scope.' },
  '404': { name: 'NotFound', description: "Unknown resource (or another tenant's)." },
  '409': { name: 'Conflict', description: 'State conflict.' },
  '412': { name: 'PreconditionFailed', description: 'The `if-match` version is not the latest one (`version_mismatch`).' },
  '413': { name: 'PayloadTooLarge', description: 'Request body over the limit.' },
  '415': { name: 'UnsupportedMediaType', description: 'Request body of an unsupported media type.' },
  '422': { name: 'Unprocessable', description: 'Parseable but invalid: `errors` lists every failing path.' },
  '428': { name: 'PreconditionRequired', description: 'The request needs an `if-match` header (`if_match_required`).' },
  '429': { name: 'RateLimited', description: 'Rate limited (`rate_limited`: a credential\'s or its tenant\'s request rate), or a start past the tenant\'s `maxRunning` (`tenant_limit`, with `retry-after` only).', headers: RATE_HEADERS },
  '503': { name: 'Unavailable', description: 'Not ready, or the request timed out.' },
  default: { name: 'Error', description: 'Unexpected error (problem details, never a stack trace).' },
};

const SUCCESS_TEXT: Readonly<Record<number, string>> = {
  101: 'Switching Protocols: the WebSocket is open.',
  200: 'OK.',
  201: 'Created.',
  202: 'Accepted.',
  204: 'No content.',
};

/** Media types of a success answer by `produces`. */
function successContent(spec: RouteSpec): Record<string, unknown> | undefined {
  const produces = spec.produces ?? 'json';
  switch (produces) {
    case 'json':
      return { [MEDIA_JSON]: { schema: RESPONSE_SCHEMAS[spec.id] ?? { type: 'object' } } };
    case 'graphql': {
      const schema = RESPONSE_SCHEMAS[spec.id] ?? { type: 'object' };
      return { [MEDIA_JSON]: { schema }, [MEDIA_GRAPHQL_RESPONSE]: { schema } };
    }
    case 'none':
      return undefined;
    case 'mermaid':
      return {
        'text/vnd.mermaid': { schema: { type: 'string' } },
        [MEDIA_JSON]: { schema: { type: 'object', properties: { mermaid: { type: 'string' } }, required: ['mermaid'] } },
      };
    case 'event-stream':
      return { [MEDIA_EVENT_STREAM]: { schema: { type: 'string' } } };
    case 'html':
      return { 'text/html': { schema: { type: 'string' } } };
    case 'asset':
      return {
        'text/css': { schema: { type: 'string' } },
        'text/javascript': { schema: { type: 'string' } },
        'image/png': { schema: { type: 'string', contentMediaType: 'image/png' } },
      };
    case 'prometheus':
      return { 'text/plain; version=0.0.4': { schema: { type: 'string' } } };
    default:
      return produces satisfies never;
  }
}

function propertiesOf(schema: JsonSchema | undefined): [string, JsonSchema][] {
  const props = schema?.['properties'];
  return props === undefined ? [] : Object.entries(props as Record<string, JsonSchema>);
}

function describedBy(schema: JsonSchema): { description?: string } {
  const d = schema['description'];
  return typeof d === 'string' ? { description: d } : {};
}

/** Path, query and header parameters of a route. */
function parameters(spec: RouteSpec): unknown[] {
  const out: unknown[] = [];
  for (const [name, schema] of propertiesOf(spec.params)) out.push({ name, in: 'path', required: true, schema, ...describedBy(schema) });
  const required = new Set((spec.query?.['required'] as string[] | undefined) ?? []);
  for (const [name, schema] of propertiesOf(spec.query)) {
    if (name === 'labels') {
      // Sent as `label.<k>=<v>` pairs, which OpenAPI has no style for: documented by name.
      out.push({
        name: 'label.<key>',
        in: 'query',
        description: 'Label filter `label.<k>=<v>`; repeat for several labels (all must match).',
        schema: { type: 'string', maxLength: 1024 },
        'x-actorflow-prefix': 'label.',
      });
      continue;
    }
    // Arrays: repeated parameters (`?status=a&status=b`, what generated clients send by default);
    // the router also takes one comma-separated value.
    const array = schema['type'] === 'array';
    out.push({
      name,
      in: 'query',
      required: required.has(name),
      schema,
      ...describedBy(schema),
      ...(array ? { style: 'form', explode: true } : {}),
    });
  }
  for (const name of spec.headers ?? []) out.push({ name, in: 'header', required: false, schema: { type: 'string' } });
  return out;
}

function requestBody(spec: RouteSpec): Record<string, unknown> | undefined {
  const body = spec.body;
  if (body === undefined) return undefined;
  const schema = documented(body.schema);
  const content: Record<string, unknown> = { [MEDIA_JSON]: { schema } };
  if (body.yaml === true) for (const type of YAML_MEDIA_TYPES) content[type] = { schema };
  if (body.text !== undefined) content[body.text.mediaType] = { schema: { type: 'string', description: `The \`${body.text.property}\` itself.` } };
  return { required: body.optional !== true, content };
}

const ref = (status: string): unknown => ({ $ref: `#/components/responses/${ERROR_RESPONSES[status]?.name ?? 'Error'}` });

function responses(spec: RouteSpec): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const content = successContent(spec);
  for (const status of [spec.status, ...(spec.alsoStatus ?? [])]) {
    const description = status === 200 && spec.status === 201 ? 'OK: an earlier identical request answered (replay).' : (SUCCESS_TEXT[status] ?? 'Success.');
    out[String(status)] = status === 204 || status === 101 || content === undefined ? { description } : { description, content };
  }
  const errors = new Set<string>();
  if (spec.query !== undefined || spec.body !== undefined || spec.params !== undefined) errors.add('400');
  if (routeAuth(spec) !== 'none') for (const s of ['401', '403', '429']) errors.add(s);
  if (spec.params !== undefined) errors.add('404');
  if (spec.method !== 'get') errors.add('409');
  if (spec.body !== undefined) for (const s of ['413', '415']) errors.add(s);
  if (spec.query !== undefined || spec.body !== undefined) errors.add('422');
  if (spec.id === 'ready' || spec.id === 'rootReady' || spec.method !== 'get') errors.add('503');
  for (const status of Object.values(spec.errorStatus ?? {})) errors.add(String(status));
  for (const s of [...errors].sort()) out[s] = ref(s);
  // GraphQL-over-HTTP: a request error asked for as `application/graphql-response+json` is a 400 GraphQL answer.
  if (spec.produces === 'graphql') {
    const graphqlAnswer = RESPONSE_SCHEMAS[spec.id] ?? { type: 'object' };
    out['400'] = {
      description: `${ERROR_RESPONSES['400']?.description ?? ''} With \`accept: ${MEDIA_GRAPHQL_RESPONSE}\`: a GraphQL request error (syntax, validation, variables), as a GraphQL answer without \`data\`.`,
      content: { ...problemContent, [MEDIA_GRAPHQL_RESPONSE]: { schema: graphqlAnswer } },
    };
  }
  out['default'] = ref('default');
  return out;
}

/** Credentials a route accepts; `[]` for public routes. */
function security(spec: RouteSpec, streams: boolean): unknown[] {
  if (routeAuth(spec) === 'none') return [];
  const schemes: unknown[] = [{ bearerAuth: [] }, { apiKeyHeader: [] }];
  if (streams) schemes.push({ tokenQuery: [] });
  return schemes;
}

/** Longest operation summary; Swagger UI shows it on one line. */
const MAX_SUMMARY = 120;
const ABBREVIATION = /(?:\be\.g|\bi\.e|\betc|\bvs)\.$/i;

/**
 * The first sentence of a route's text as its summary. A sentence ends at `.`, `!` or `?` before
 * a space, outside code spans and not after e.g./i.e.; never at a colon, which in these texts
 * introduces the point (`Pause: no new step is dispatched until resume.`). A longer sentence
 * ends at a word, outside code spans, with an ellipsis.
 */
export function summaryOf(text: string, max: number = MAX_SUMMARY): string {
  let inCode = false;
  let end = text.length;
  let lastBreak = -1;
  for (let i = 0; i < text.length && i < end; i++) {
    const c = text[i];
    if (c === '`') {
      inCode = !inCode;
    } else if (!inCode && c === ' ') {
      if (i < max) lastBreak = i;
    } else if (!inCode && (c === '.' || c === '!' || c === '?') && (i + 1 === text.length || text[i + 1] === ' ') && !ABBREVIATION.test(text.slice(Math.max(0, i - 4), i + 1))) {
      end = i + 1;
    }
  }
  if (end <= max) return text.slice(0, end);
  return `${text.slice(0, lastBreak > 0 ? lastBreak : max - 1).replace(/[\s,;:(]+$/, '')}…`;
}

function operation(spec: RouteSpec): Record<string, unknown> {
  const needed = routeAuth(spec);
  const streams = propertiesOf(spec.query).some(([name]) => name === 'token');
  const params = parameters(spec);
  const body = requestBody(spec);
  return {
    operationId: spec.id,
    tags: [spec.tag],
    summary: summaryOf(spec.summary),
    description: spec.summary + (needed === 'none' ? '\n\nNo credential needed.' : `\n\nNeeds the \`${needed}\` scope.`),
    ...(params.length > 0 ? { parameters: params } : {}),
    ...(body === undefined ? {} : { requestBody: body }),
    responses: responses(spec),
    security: security(spec, streams),
    'x-scope': needed,
  };
}

/**
 * The OpenAPI 3.1 document of every route given (REST and WebSocket tables). Paths are full
 * (`/api/v1/...`, and the root `/health`, `/ready`, `/metrics`), so the server URL is the origin.
 * @example
 * const doc = buildOpenApi([...ROUTES, ...wsRoutes], { version: '0.1.0' });
 */
export function buildOpenApi(routes: readonly RouteSpec[], opts: OpenApiOptions): OpenApiDocument {
  const paths: Record<string, Record<string, unknown>> = {};
  const tags = new Set<string>();
  for (const spec of routes) {
    const path = fullPath(spec);
    const item = (paths[path] ??= {});
    if (item[spec.method] !== undefined) throw new Error(`duplicate route ${spec.method.toUpperCase()} ${path}`);
    item[spec.method] = operation(spec);
    tags.add(spec.tag);
  }
  const responsesComponent: Record<string, unknown> = {};
  for (const { name, description, headers } of Object.values(ERROR_RESPONSES)) {
    responsesComponent[name] = { description, content: problemContent, ...(headers === undefined ? {} : { headers }) };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'actorflow API',
      version: opts.version,
      summary: 'Workflow-execution engine: definitions, executions, agents, streams.',
      description:
        'JSON bodies, camelCase fields, RFC 3339 times. Lists answer `{ items, nextCursor }` and take `?limit=` (1–1000) and `?cursor=`. ' +
        'Errors are RFC 9457 problem details (`application/problem+json`). Every response carries `x-request-id`.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [{ url: '/', description: 'This server' }],
    tags: [...tags].sort().map((name) => ({ name, ...(TAGS[name] === undefined ? {} : { description: TAGS[name] }) })),
    paths,
    components: {
      schemas: { Problem: PROBLEM_SCHEMA, ...COMPONENT_SCHEMAS, ...flowComponentSchemas() },
      responses: responsesComponent,
      securitySchemes: {
        bearerAuth: { type: 'http', scheme: 'bearer', description: 'An API key or a JWT: `authorization: Bearer <credential>`.' },
        apiKeyHeader: { type: 'apiKey', in: 'header', name: 'x-api-key', description: 'An API key.' },
        tokenQuery: { type: 'apiKey', in: 'query', name: 'token', description: 'Credential as `?token=` (WebSocket and SSE routes only, for browsers).' },
      },
    },
    security: [{ bearerAuth: [] }, { apiKeyHeader: [] }],
  };
}
