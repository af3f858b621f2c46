/** @module api/ops-handlers — /health, /ready and /status. */
import { ActorflowError, ErrorCode } from '../shared/errors.ts';
import type { RouteId } from './routes.ts';
import { type ApiDeps, type Reply, type RouteHandler, json } from './types.ts';

/** Handlers of the operations routes, keyed by route id. */
export function opsHandlers({ engine, version, startedAt }: ApiDeps) {
  const health = (): Reply => json(200, { status: 'ok', version, uptimeS: Math.floor((Date.now() - startedAt) / 1000) });
  const ready = (): Reply => {
    // 503 `not_ready` through the error table, like every other problem.
    if (!engine.ready) throw new ActorflowError(ErrorCode.notReady, 'The engine is not ready: recovery has not finished or the bus is reconnecting.');
    return json(200, { ready: true });
  };
  return {
    health: { handle: health },
    rootHealth: { handle: health },
    ready: { handle: ready },
    rootReady: { handle: ready },
    status: { handle: async () => json(200, await engine.status()) },
  } satisfies Partial<Record<RouteId, RouteHandler>>;
}
