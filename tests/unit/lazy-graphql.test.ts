/** The server's GraphQL executor is loaded by its first use (graphql/lazy-graphql.ts): nothing of it runs at boot. */
import { describe, expect, it } from 'vitest';
import type { Logger } from '../../src/common/logger.ts';
import type { Engine } from '../../src/engine/types.ts';
import { lazyGraphql } from '../../src/graphql/lazy-graphql.ts';

const quiet: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

describe('lazyGraphql', () => {
  it('builds nothing before the first request, then serves requests and the schema from one executor', async () => {
    // An engine no request of this test reaches: `__typename` resolves without it.
    const gql = lazyGraphql({ engine: {} as Engine, logger: quiet });
    expect(gql.cacheStats()).toEqual({ size: 0, hits: 0, misses: 0 });
    // Two first requests at once: one executor, so the second one hits the first one's prepared document.
    const [a, b] = await Promise.all([gql.execute('default', { query: '{ __typename }' }), gql.execute('default', { query: '{ __typename }' })]);
    expect(a).toEqual({ data: { __typename: 'Query' } });
    expect(b).toEqual(a);
    expect(gql.cacheStats()).toEqual({ size: 1, hits: 1, misses: 1 });
    expect(await gql.sdl()).toContain('type Query');
  });

  it('loads the executor for the schema alone', async () => {
    const gql = lazyGraphql({ engine: {} as Engine, logger: quiet });
    expect(await gql.sdl()).toContain('executions(');
    expect(gql.cacheStats()).toEqual({ size: 0, hits: 0, misses: 0 });
  });
});
