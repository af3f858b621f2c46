/** @module api/resources/graphql/handlers — POST and GET /graphql, GET /graphql/schema: the GraphQL executor behind the route table. */
import type { GraphqlApi } from '../../../graphql/create-graphql.ts';
import type { GraphqlRequest } from '../../../graphql/types.ts';
import { ErrorCode, ValidationError } from '../../../common/errors.ts';
import { isRecord } from '../../../common/json.ts';
import { json } from '../../http/reply.ts';
import type { HandlersOf } from '../../routing/route-spec.ts';
import { graphqlReply } from './media.ts';
import type { GRAPHQL_ROUTES } from './routes.ts';

export interface GraphqlDeps {
  /** The executor (schema, document cache), one per server. */
  readonly graphql: GraphqlApi;
}

/** `?variables=` of the GET form: a JSON object, else 400 `invalid_json`. */
function variablesOf(raw: string | undefined): Record<string, unknown> | undefined {
  if (raw === undefined || raw === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    value = undefined;
  }
  if (!isRecord(value)) {
    throw new ValidationError('`variables` is not a JSON object.', [{ path: '/query/variables', message: 'must be a JSON object' }], ErrorCode.invalidJson);
  }
  return value;
}

/** Handlers of the GraphQL routes. */
export function graphqlHandlers({ graphql: gql }: GraphqlDeps) {
  return {
    graphql: {
      handle: async ({ ctx, body, headers }) => graphqlReply(await gql.execute(ctx.tenant, body), headers['accept']),
    },
    graphqlGet: {
      handle: async ({ ctx, query, headers }) => {
        const request: GraphqlRequest = {
          query: query.query,
          variables: variablesOf(query.variables),
          operationName: query.operationName,
        };
        return graphqlReply(await gql.execute(ctx.tenant, request), headers['accept']);
      },
    },
    graphqlSchema: {
      handle: async () => json(200, { sdl: await gql.sdl() }),
    },
  } satisfies HandlersOf<typeof GRAPHQL_ROUTES>;
}
