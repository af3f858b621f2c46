/**
 * @module graphql/lazy-graphql — the server's GraphQL executor, loaded by its first request. graphql-js and
 * the schema build took ~0.2 s of every boot (bench/RESULTS.md, "eleventh session"), on the restart's path to
 * `/ready`, for an API most servers never serve; the first GraphQL request pays it instead.
 */
import type { GraphqlApi, GraphqlOptions } from './create-graphql.ts';

export function lazyGraphql(opts: GraphqlOptions): GraphqlApi {
  let api: GraphqlApi | undefined;
  let loading: Promise<GraphqlApi> | undefined;
  const load = (): Promise<GraphqlApi> => (loading ??= import('./create-graphql.ts').then((m) => (api = m.createGraphql(opts))));
  return {
    execute: async (tenant, request) => (api ?? (await load())).execute(tenant, request),
    sdl: async () => (api ?? (await load())).sdl(),
    cacheStats: () => api?.cacheStats() ?? { size: 0, hits: 0, misses: 0 },
  };
}
