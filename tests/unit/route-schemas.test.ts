/** Route validators compile on first use (api/routing/validate.ts): every route's schemas must compile, checked here once. */
import { describe, expect, it } from 'vitest';
import { ROUTES } from '../../src/api/routes.ts';
import { compileRoutes } from '../../src/api/routing/validate.ts';
import { WS_ROUTES } from '../../src/api/streams/ws/upgrade.ts';

describe('route schemas', () => {
  it('compile for every HTTP and WebSocket route, and each validator is compiled once', () => {
    for (const route of compileRoutes([...ROUTES, ...WS_ROUTES])) {
      const fns = [route.validateParams, route.validateQuery, route.validateBody];
      expect(typeof route.validateQuery, route.spec.id).toBe('function');
      expect(route.spec.body === undefined ? route.validateBody : typeof route.validateBody, route.spec.id).toBe(route.spec.body === undefined ? undefined : 'function');
      // The second read is the same function, not a second compile.
      expect([route.validateParams, route.validateQuery, route.validateBody]).toEqual(fns);
    }
  });

  it('an invalid schema fails when its route is first validated', () => {
    const [route] = compileRoutes([{ ...(ROUTES[0] as (typeof ROUTES)[number]), query: { type: 'object', properties: { x: { type: 'nonsense' } } } } as never]);
    expect(() => route?.validateQuery).toThrow();
  });
});
