/**
 * @module graphql/create-graphql — the read-only GraphQL executor: prepare (parse + validate with the
 * standard rules and our limits, cached by query text), then execute against the Engine for one tenant.
 */
import {
  type DocumentNode,
  type ExecutionResult,
  GraphQLError,
  type GraphQLSchema,
  buildSchema,
  execute,
  isObjectType,
  parse,
  printSchema,
  specifiedRules,
  validate,
} from 'graphql';
import type { Engine } from '../engine/types.ts';
import { ActorflowError, ErrorCode, type Issue, ValidationError } from '../common/errors.ts';
import type { Logger } from '../common/logger.ts';
import { LruCache } from '../common/lru-cache.ts';
import { memoizeEngineReads } from './engine-memo.ts';
import { complexityLimitRule, depthLimitRule, readOnlyRule } from './limits.ts';
import { RESOLVERS, type ResolverMap } from './resolvers.ts';
import { GRAPHQL_SDL } from './sdl.ts';
import { DEFAULT_GRAPHQL_LIMITS, type GraphqlContext, type GraphqlErrorJson, type GraphqlLimits, type GraphqlRequest, type GraphqlResponse } from './types.ts';

export interface GraphqlOptions {
  readonly engine: Engine;
  readonly logger: Logger;
  /** Overrides of DEFAULT_GRAPHQL_LIMITS. */
  readonly limits?: Partial<GraphqlLimits> | undefined;
}

export interface GraphqlApi {
  /**
   * Runs one request for `tenant`. Resolves with `{ data, errors? }` when the operation ran (errors
   * of fields, e.g. an unknown execution id: that field is null and its error has `extensions.code`),
   * or with `{ errors }` alone for a request error (GraphQL-over-HTTP): `graphql_parse_failed`
   * (syntax), `graphql_read_only` (mutation, subscription), `graphql_validation_failed` (schema,
   * variables, operationName). Throws a ValidationError for a document refused by our limits
   * (`graphql_depth_limit`, `graphql_complexity_limit`) or a query over the length limit.
   */
  execute(tenant: string, request: GraphqlRequest): Promise<GraphqlResponse>;
  /** The schema as SDL text. */
  sdl(): Promise<string>;
  /** Prepared-document cache counters. */
  cacheStats(): { readonly size: number; readonly hits: number; readonly misses: number };
}

/** A prepared document, or what to answer instead: a refusal to throw, or request errors to answer. */
type Prepared =
  | { readonly kind: 'document'; readonly document: DocumentNode }
  | { readonly kind: 'refused'; readonly error: ValidationError }
  | { readonly kind: 'invalid'; readonly answer: GraphqlResponse };

/** Codes of the limits, most telling first: a refused document answers the first one present. */
const LIMIT_CODES: readonly string[] = [ErrorCode.graphqlDepthLimit, ErrorCode.graphqlComplexityLimit];

/** Builds the executable schema: the SDL with the resolvers attached. Throws if the two disagree. */
export function buildGraphqlSchema(resolvers: ResolverMap = RESOLVERS): GraphQLSchema {
  const schema = buildSchema(GRAPHQL_SDL);
  for (const [typeName, fields] of Object.entries(resolvers)) {
    const type = schema.getType(typeName);
    if (!isObjectType(type)) throw new Error(`resolvers name type ${typeName}, which the schema lacks`);
    const defs = type.getFields();
    for (const [name, fn] of Object.entries(fields)) {
      const def = defs[name];
      if (def === undefined) throw new Error(`resolvers name field ${typeName}.${name}, which the schema lacks`);
      def.resolve = (source, args: Record<string, unknown>, ctx: GraphqlContext) => fn(source, args, ctx);
    }
  }
  return schema;
}

const where = (e: GraphQLError): string => {
  const loc = e.locations?.[0];
  return loc === undefined ? '' : ` (line ${loc.line}, column ${loc.column})`;
};

/** Where in the request body a request error points (JSON Pointer). */
function pathOf(e: GraphQLError): string {
  const variable = /^Variable "\$(\w+)"/.exec(e.message);
  if (variable !== null) return `/variables/${variable[1] ?? ''}`;
  if (/operation name|Unknown operation named/i.test(e.message)) return '/operationName';
  return '/query';
}

const issuesOf = (errors: readonly GraphQLError[]): Issue[] => errors.map((e) => ({ path: pathOf(e), message: e.message + where(e) }));

/** A request error as the answer carries it: message, locations, `extensions.code` (our rules set theirs). */
function requestErrorJson(e: GraphQLError, fallbackCode: string): GraphqlErrorJson {
  const code = e.extensions['code'];
  return {
    message: e.message,
    ...(e.locations === undefined ? {} : { locations: e.locations.map((l) => ({ line: l.line, column: l.column })) }),
    extensions: { code: typeof code === 'string' ? code : fallbackCode },
  };
}

const requestErrors = (errors: readonly GraphQLError[], code: string): GraphqlResponse => ({ errors: errors.map((e) => requestErrorJson(e, code)) });

/** Parses and validates; the outcome is cached by query text, refusals and request errors included. */
function prepare(schema: GraphQLSchema, query: string, limits: GraphqlLimits): Prepared {
  let document: DocumentNode;
  try {
    document = parse(query, { maxTokens: limits.maxTokens });
  } catch (err) {
    const e = err instanceof GraphQLError ? err : new GraphQLError(String(err));
    return { kind: 'invalid', answer: requestErrors([e], ErrorCode.graphqlParseFailed) };
  }
  const rules = [...specifiedRules, readOnlyRule, depthLimitRule(limits.maxDepth), complexityLimitRule(limits.maxComplexity)];
  const errors = validate(schema, document, rules);
  if (errors.length === 0) return { kind: 'document', document };
  // A document over a limit is refused outright (problem+json), whatever else is wrong with it.
  const limitError = LIMIT_CODES.map((code) => errors.find((e) => e.extensions['code'] === code)).find((e) => e !== undefined);
  if (limitError !== undefined) {
    return { kind: 'refused', error: new ValidationError(limitError.message, issuesOf(errors), limitError.extensions['code'] as string) };
  }
  return { kind: 'invalid', answer: requestErrors(errors, ErrorCode.graphqlValidationFailed) };
}

/** One error of the answer. Engine errors keep their code; anything unexpected is logged and masked. */
function errorJson(e: GraphQLError, logger: Logger): GraphqlErrorJson {
  const base = {
    message: e.message,
    ...(e.locations === undefined ? {} : { locations: e.locations.map((l) => ({ line: l.line, column: l.column })) }),
    ...(e.path === undefined ? {} : { path: e.path }),
  };
  const original = e.originalError;
  if (original instanceof ActorflowError && original.code !== ErrorCode.internal) {
    return { ...base, extensions: { code: original.code, ...(original.issues.length > 0 ? { issues: original.issues } : {}) } };
  }
  logger.error('graphql field failed', { path: e.path?.join('.'), error: original?.stack ?? e.message });
  return { ...base, message: 'An unexpected error occurred; it has been logged.', extensions: { code: ErrorCode.internal } };
}

/**
 * Creates the GraphQL executor over an Engine.
 * @example
 * const gql = createGraphql({ engine, logger });
 * const { data } = await gql.execute('default', { query: '{ agents { id status } }' });
 */
export function createGraphql(opts: GraphqlOptions): GraphqlApi {
  const limits: GraphqlLimits = { ...DEFAULT_GRAPHQL_LIMITS, ...opts.limits };
  const schema = buildGraphqlSchema();
  const sdl = printSchema(schema);
  const cache = new LruCache<Prepared>(limits.cacheEntries, limits.cacheChars);

  return {
    sdl: () => Promise.resolve(sdl),
    cacheStats: () => ({ size: cache.size, hits: cache.hits, misses: cache.misses }),
    execute: async (tenant, req) => {
      if (req.query.length > limits.maxQueryLength) {
        throw new ValidationError('The query is too long.', [{ path: '/query', message: `must NOT have more than ${limits.maxQueryLength} characters` }]);
      }
      let prepared = cache.get(req.query);
      if (prepared === undefined) {
        prepared = prepare(schema, req.query, limits);
        cache.set(req.query, prepared);
      }
      if (prepared.kind === 'refused') throw prepared.error;
      if (prepared.kind === 'invalid') return prepared.answer;
      // A fresh memo per request: fields share identical Engine calls, requests never do.
      const contextValue: GraphqlContext = { engine: memoizeEngineReads(opts.engine), tenant };
      const result: ExecutionResult = await execute({
        schema,
        document: prepared.document,
        contextValue,
        variableValues: req.variables ?? undefined,
        operationName: req.operationName ?? undefined,
      });
      // No `data` at all: a request error (variables, operationName), raised before any resolver ran.
      if (!('data' in result) || result.data === undefined) return requestErrors(result.errors ?? [], ErrorCode.graphqlValidationFailed);
      const data = (result.data ?? null) as Record<string, unknown> | null;
      if (result.errors === undefined || result.errors.length === 0) return { data };
      return { data, errors: result.errors.map((e) => errorJson(e, opts.logger)) };
    },
  };
}
