/**
 * @module graphql/engine-memo — the Engine reads of one GraphQL request, memoized: a query that asks for
 * the same data through several fields (aliases, `parent`/`children { execution }`, the same step's
 * `attemptHistory` twice) calls the Engine once per distinct call and shares that promise. Each Engine
 * read folds the execution's journal, so duplicates cost as much as the first call.
 * One memo per request (never shared across requests or tenants): a later request sees later changes.
 */
import type { Engine } from '../engine/types.ts';

/** The Engine methods the resolvers use (all reads). */
export type EngineReads = Pick<Engine, 'get' | 'list' | 'getDefinition' | 'agents' | 'steps' | 'attempts' | 'events' | 'logs' | 'children' | 'costs'>;

/**
 * Wraps `engine` for one request. Key: method + JSON of the arguments (tenant included; `undefined`
 * fields drop out, so `{ limit: 50, cursor: undefined }` and `{ limit: 50 }` are the same call).
 * A rejected call stays memoized: the same call within the request fails the same way.
 * `agents()` is synchronous and in memory, so it passes through.
 */
export function memoizeEngineReads(engine: Engine): EngineReads {
  const calls = new Map<string, Promise<unknown>>();
  const once = <T>(method: string, args: readonly unknown[], call: () => Promise<T>): Promise<T> => {
    const key = `${method}\u0000${JSON.stringify(args)}`;
    let p = calls.get(key) as Promise<T> | undefined;
    if (p === undefined) {
      p = call();
      calls.set(key, p);
    }
    return p;
  };
  return {
    get: (...a) => once('get', a, () => engine.get(...a)),
    list: (...a) => once('list', a, () => engine.list(...a)),
    getDefinition: (...a) => once('getDefinition', a, () => engine.getDefinition(...a)),
    agents: () => engine.agents(),
    steps: (...a) => once('steps', a, () => engine.steps(...a)),
    attempts: (...a) => once('attempts', a, () => engine.attempts(...a)),
    events: (...a) => once('events', a, () => engine.events(...a)),
    logs: (...a) => once('logs', a, () => engine.logs(...a)),
    children: (...a) => once('children', a, () => engine.children(...a)),
    costs: (...a) => once('costs', a, () => engine.costs(...a)),
  };
}
