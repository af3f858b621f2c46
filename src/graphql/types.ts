/** @module graphql/types — options, defaults and the per-request context of the GraphQL API. */
import type { EngineReads } from './engine-memo.ts';

/** Longest accepted query document, in characters (the route schema enforces it too). */
export const DEFAULT_MAX_QUERY_LENGTH = 16_384;
/** Most tokens the parser reads before giving up (a second bound, against token-dense documents). */
export const DEFAULT_MAX_TOKENS = 10_000;
/** Deepest field nesting (`execution { steps { items { stepId } } }` is 4). */
export const DEFAULT_MAX_DEPTH = 8;
/** Highest estimated cost of one operation (see graphql/limits.ts for the model). */
export const DEFAULT_MAX_COMPLEXITY = 25_000;
/** Prepared documents kept (LRU, by query text). */
export const DEFAULT_CACHE_ENTRIES = 500;
/** Characters of query text kept in the cache at most (bounds its memory with the ASTs). */
export const DEFAULT_CACHE_CHARS = 2 * 1024 * 1024;

/** Page bounds of list fields: the same as the REST `?limit=`. */
export const MAX_PAGE_LIMIT = 1000;
export const DEFAULT_PAGE_LIMIT = 50;
export const MAX_CURSOR_LENGTH = 1024;

/** Limits of the GraphQL endpoint; every field has a default above. */
export interface GraphqlLimits {
  /** @default DEFAULT_MAX_QUERY_LENGTH */
  readonly maxQueryLength: number;
  /** @default DEFAULT_MAX_TOKENS */
  readonly maxTokens: number;
  /** @default DEFAULT_MAX_DEPTH */
  readonly maxDepth: number;
  /** @default DEFAULT_MAX_COMPLEXITY */
  readonly maxComplexity: number;
  /** @default DEFAULT_CACHE_ENTRIES */
  readonly cacheEntries: number;
  /** @default DEFAULT_CACHE_CHARS */
  readonly cacheChars: number;
}

export const DEFAULT_GRAPHQL_LIMITS: GraphqlLimits = {
  maxQueryLength: DEFAULT_MAX_QUERY_LENGTH,
  maxTokens: DEFAULT_MAX_TOKENS,
  maxDepth: DEFAULT_MAX_DEPTH,
  maxComplexity: DEFAULT_MAX_COMPLEXITY,
  cacheEntries: DEFAULT_CACHE_ENTRIES,
  cacheChars: DEFAULT_CACHE_CHARS,
};

/**
 * What every resolver gets: the Engine reads, memoized for this request only (graphql/engine-memo.ts),
 * and the tenant of the credential (never from the query).
 */
export interface GraphqlContext {
  readonly engine: EngineReads;
  readonly tenant: string;
}

/** The body of `POST /graphql` (GraphQL-over-HTTP). */
export interface GraphqlRequest {
  readonly query: string;
  readonly variables?: Readonly<Record<string, unknown>> | null | undefined;
  readonly operationName?: string | null | undefined;
}

/** One error of a GraphQL answer; `extensions.code` is a stable code (src/common/errors.ts or an engine code). */
export interface GraphqlErrorJson {
  readonly message: string;
  readonly locations?: readonly { readonly line: number; readonly column: number }[];
  readonly path?: readonly (string | number)[];
  readonly extensions: { readonly code: string; readonly [k: string]: unknown };
}

/**
 * A GraphQL answer. An operation that ran has `data` (null fields where resolvers failed) and
 * `errors` when any; a request error (syntax, validation, variables, operationName, a mutation)
 * has `errors` only, as the GraphQL spec says of errors raised before execution.
 */
export interface GraphqlResponse {
  readonly data?: Record<string, unknown> | null;
  readonly errors?: readonly GraphqlErrorJson[];
}
