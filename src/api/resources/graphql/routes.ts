/** @module api/resources/graphql/routes — the route table of the read-only GraphQL API (POST /graphql) and its schema text. */
import { ErrorCode } from '../../../common/errors.ts';
import { DEFAULT_MAX_QUERY_LENGTH } from '../../../graphql/types.ts';
import { MEDIA_GRAPHQL } from '../../http/media.ts';
import { Type } from '@sinclair/typebox';
import { inOrder, shape } from '../../routing/schemas.ts';
import type { RouteSpec } from '../../routing/route-spec.ts';

/** Documents refused before execution by our limits: problem+json 422. Request errors are GraphQL answers. */
const GRAPHQL_ERRORS = {
  [ErrorCode.graphqlDepthLimit]: 422,
  [ErrorCode.graphqlComplexityLimit]: 422,
} as const;

/** How request errors and refusals are answered, the same for both forms of the endpoint. */
const ANSWERS =
  'A query that runs answers 200 `{ data, errors? }`: a failing field is null with an error whose `extensions.code` is the REST code (e.g. `execution_not_found`). ' +
  'A request error answers a GraphQL response without `data`, `{ errors: [ { message, locations, extensions: { code } } ] }`: ' +
  '`graphql_parse_failed` (syntax), `graphql_validation_failed` (schema, variables, operationName), `graphql_read_only` (mutation, subscription); ' +
  'its status is 200 with `accept: application/json` (or none), 400 with `accept: application/graphql-response+json` (GraphQL-over-HTTP). ' +
  'Refused with problem+json, like every REST refusal: a body that is not a GraphQL request (400 `invalid_json`, 422 `validation_failed`), ' +
  'a document over the limits, 422 `graphql_depth_limit` (deeper than 8 fields) or `graphql_complexity_limit` (estimated cost over 25000: each field 1, children times the `limit` of their list), ' +
  'and a missing credential (401).';

const { Optional } = Type;

const query = Type.String({ minLength: 1, maxLength: DEFAULT_MAX_QUERY_LENGTH, description: `GraphQL query document (at most ${DEFAULT_MAX_QUERY_LENGTH} characters).` });
const operationName = inOrder(Type.String({ minLength: 1, maxLength: 200, description: 'Which operation of the document to run.' }));
/** An object or null (Unsafe: TypeBox would write the description before `anyOf`, and the document has it after). */
const objectOrNull = (description: string) => Type.Unsafe<Record<string, unknown> | null>({ anyOf: [{ type: 'object' }, { type: 'null' }], description });

const body = shape({
  query,
  variables: Optional(objectOrNull('Variable values by name.')),
  operationName: Optional(Type.Unsafe<string | null>({ anyOf: [operationName, { type: 'null' }] })),
  // GraphQL-over-HTTP lets clients send it; this server defines no extensions and ignores it.
  extensions: Optional(objectOrNull('Protocol extensions; none are defined here, so it is ignored.')),
});

/** GET form (GraphQL-over-HTTP): `variables` is JSON text. */
const getQuery = shape({
  query,
  variables: Optional(Type.String({ maxLength: DEFAULT_MAX_QUERY_LENGTH, description: 'Variable values as a JSON object.' })),
  operationName: Optional(operationName),
  extensions: Optional(Type.String({ maxLength: DEFAULT_MAX_QUERY_LENGTH, description: 'Protocol extensions as JSON; ignored.' })),
});

export const GRAPHQL_ROUTES = [
  {
    id: 'graphql',
    method: 'post',
    path: '/graphql',
    auth: 'read',
    summary:
      'Read-only GraphQL query (GraphQL-over-HTTP). Fields: `execution(id)`, `executions(status, workflow, labels, parentId, createdAfter, createdBefore, limit, cursor)` → `{ items, nextCursor }`, ' +
      '`definition(name, version)`, `agents`; executions nest `parent`, `definition`, `steps` (with `attemptHistory`), `events`, `logs`, `children`, `costs`. ' +
      `The body is \`{ query, variables?, operationName? }\` as \`application/json\`, or the query document itself as \`${MEDIA_GRAPHQL}\`. ` +
      ANSWERS +
      ' Also as `GET /graphql?query=`. Schema: `GET /graphql/schema`.',
    tag: 'graphql',
    headers: ['accept'],
    body: { schema: body, text: { mediaType: MEDIA_GRAPHQL, property: 'query' } },
    status: 200,
    produces: 'graphql',
    errorStatus: GRAPHQL_ERRORS,
  },
  {
    id: 'graphqlGet',
    method: 'get',
    path: '/graphql',
    summary:
      'The same read-only GraphQL query as `POST /graphql`, as `?query=&variables=<JSON>&operationName=` (cacheable links, no audit entry). ' +
      '`variables` that is not a JSON object is 400 `invalid_json`. ' +
      ANSWERS,
    tag: 'graphql',
    headers: ['accept'],
    query: getQuery,
    status: 200,
    produces: 'graphql',
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
