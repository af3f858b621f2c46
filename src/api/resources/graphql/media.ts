/**
 * @module api/resources/graphql/media — how a GraphQL answer goes out (GraphQL-over-HTTP): the media type
 * the `accept` header prefers, and the status that media type gives a request error.
 */
import Negotiator from 'negotiator';
import type { GraphqlResponse } from '../../../graphql/types.ts';
import { MEDIA_GRAPHQL_RESPONSE, MEDIA_JSON } from '../../http/media.ts';
import { type Reply, json, text } from '../../http/reply.ts';

/** Offered in this order: on a tie (a wildcard) `application/json` wins, whose status rules older clients expect. */
const OFFERED = [MEDIA_JSON, MEDIA_GRAPHQL_RESPONSE] as const;

/** The answer's media type for an `accept` header (absent: `application/json`, the spec's legacy default). */
export function graphqlMediaOf(accept: string | undefined): (typeof OFFERED)[number] {
  if (accept === undefined || accept === '') return MEDIA_JSON;
  const picked = new Negotiator({ headers: { accept } }).mediaType(OFFERED);
  return picked === MEDIA_GRAPHQL_RESPONSE ? MEDIA_GRAPHQL_RESPONSE : MEDIA_JSON;
}

/**
 * The reply of one GraphQL answer. With `application/json` every answer is 200; with
 * `application/graphql-response+json` an answer without `data` (a request error: syntax,
 * validation, variables) is 400, as GraphQL-over-HTTP requires of that media type.
 */
export function graphqlReply(answer: GraphqlResponse, accept: string | undefined): Reply {
  if (graphqlMediaOf(accept) === MEDIA_JSON) return json(200, answer);
  const status = 'data' in answer ? 200 : 400;
  return text(status, JSON.stringify(answer), `${MEDIA_GRAPHQL_RESPONSE}; charset=utf-8`);
}
