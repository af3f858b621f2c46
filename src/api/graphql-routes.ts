/** @module api/graphql-routes — the route table of the read-only GraphQL API (POST /graphql) and its schema text. */
import { ErrorCode } from '../shared/errors.ts';
import { DEFAULT_MAX_QUERY_LENGTH } from '../graphql/types.ts';
import { object } from './schemas.ts';
import type { RouteSpec } from './types.ts';

/** Refusals before execution: problem+json, 400 for syntax, 422 for the rest (API.md status rules). */
const GRAPHQL_ERRORS = {
  [ErrorCode.graphqlParseFailed]: 400,
  [ErrorCode.graphqlValidationFailed]: 422,
  [ErrorCode.graphqlReadOnly]: 422,
  [ErrorCode.graphqlDepthLimit]: 422,
  [ErrorCode.graphqlComplexityLimit]: 422,
} as const;

const query = { type: 'string', minLength: 1, maxLength: DEFAULT_MAX_QUERY_LENGTH, description: `GraphQL query document (at most ${DEFAULT_MAX_QUERY_LENGTH} characters).` };
const operationName = { type: 'string', minLength: 1, maxLength: 200, description: 'Which operation of the document to run.' };

const body = object(
  {
    query,
    variables: { anyOf: [{ type: 'object' }, { type: 'null' }], description: 'Variable values by name.' },
    operationName: { anyOf: [operationName, { type: 'null' }] },
  },
  ['query'],
);

/** GET form (GraphQL-over-HTTP): `variables` is JSON text. */
const getQuery = object(
  { query, variables: { type: 'string', maxLength: DEFAULT_MAX_QUERY_LENGTH, description: 'Variable values as a JSON object.' }, operationName },
  ['query'],
);

export const GRAPHQL_ROUTES = [
  {
    id: 'graphql',
    method: 'post',
    path: '/graphql',
    auth: 'read',
    summary:
      'Read-only GraphQL (GraphQL-over-HTTP, `application/json`): `execution(id)`, `executions(status, workflow, labels, parentId, createdAfter, createdBefore, limit, cursor)` → `{ items, nextCursor }`, ' +
      '`definition(name, version)`, `agents`; executions nest `parent`, `definition`, `steps` (with `attemptHistory`), `events`, `logs`, `children`, `costs`. ' +
      'A query that runs answers 200 `{ data, errors? }`: a failing field is null with an error whose `extensions.code` is the REST code (e.g. `execution_not_found`). ' +
      'A request refused before running answers problem+json, like every REST refusal (GraphQL-over-HTTP allows 4xx with `application/json`): ' +
      '400 `graphql_parse_failed` (syntax); 422 `graphql_validation_failed` (schema, variables, operationName), `graphql_read_only` (mutation/subscription), ' +
      '`graphql_depth_limit` (deeper than 8 fields), `graphql_complexity_limit` (estimated cost over 25000: each field 1, children times the `limit` of their list). ' +
      'Also as `GET /graphql?query=`. Schema: `GET /graphql/schema`.',
    tag: 'graphql',
    body: { schema: body },
    status: 200,
    errorStatus: GRAPHQL_ERRORS,
  },
  {
    id: 'graphqlGet',
    method: 'get',
    path: '/graphql',
    summary:
      'The same read-only GraphQL as `POST /graphql`, as `?query=&variables=<JSON>&operationName=` (cacheable links, no audit entry). ' +
      'Same answers; `variables` that is not a JSON object is 400 `invalid_json`.',
    tag: 'graphql',
    query: getQuery,
    status: 200,
    errorStatus: GRAPHQL_ERRORS,
  },
  {
    id: 'graphqlSchema',
    method: 'get',
    path: '/graphql/schema',
    summary: 'The GraphQL schema as SDL text: `{ sdl }`.',
    tag: 'graphql',
    status: 200,
  },
] as const satisfies readonly RouteSpec[];
