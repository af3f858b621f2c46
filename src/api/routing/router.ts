/** @module api/routing/router — mounts the route table on uWS native routes (each one a request pipeline), then 405 per known path and a catch-all 404. */
import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { ErrorCode } from '../../common/errors.ts';
import { type RouteTimer, openExchange } from '../http/exchange.ts';
import { problemFor, statusLine } from '../http/problem.ts';
import { writeProblem } from '../http/reply.ts';
import { type PipelineOptions, type UwsHandler, routeHandler } from './pipeline.ts';
import { type HttpMethod, type RouteHandler, fullPath } from './route-spec.ts';
import type { CompiledRoute } from './validate.ts';

export interface RouterOptions extends PipelineOptions {
  /** Latency histogram per route template and method (api/observability/metrics.ts); none = not measured. */
  readonly timerFor?: ((route: string, method: string) => RouteTimer) | undefined;
}

/** Route label of requests no route matched (404, 405). */
export const UNMATCHED_ROUTE = '(unmatched)';

/** `/executions/{id}` → `/executions/:id` (uWS pattern syntax). */
export function toUwsPattern(path: string): string {
  return path.replace(/\{(\w+)\}/g, ':$1');
}

function register(app: TemplatedApp, method: HttpMethod, pattern: string, h: UwsHandler): void {
  switch (method) {
    case 'get':
      app.get(pattern, h);
      return;
    case 'post':
      app.post(pattern, h);
      return;
    case 'put':
      app.put(pattern, h);
      return;
    case 'patch':
      app.patch(pattern, h);
      return;
    case 'delete':
      app.del(pattern, h);
      return;
    default:
      method satisfies never;
  }
}

/**
 * Registers every route, then per path an `any` handler answering 405 (uWS prefers the
 * method-specific route), then a catch-all 404. Throws at startup if a route has no handler.
 */
export function mountRoutes(
  app: TemplatedApp,
  routes: readonly CompiledRoute[],
  handlers: Readonly<Record<string, RouteHandler>>,
  opts: RouterOptions,
): void {
  const methodsByPattern = new Map<string, string[]>();
  for (const route of routes) {
    const handler = handlers[route.spec.id];
    if (handler === undefined) throw new Error(`no handler for route ${route.spec.id}`);
    const path = fullPath(route.spec);
    const method = route.spec.method.toUpperCase();
    const pattern = toUwsPattern(path);
    register(app, route.spec.method, pattern, routeHandler(route, handler, opts, opts.timerFor?.(path, method)));
    const methods = methodsByPattern.get(pattern) ?? [];
    methods.push(method);
    methodsByPattern.set(pattern, methods);
  }
  const unmatched = opts.timerFor?.(UNMATCHED_ROUTE, 'other');
  for (const [pattern, methods] of methodsByPattern) {
    const allow = methods.join(', ');
    app.options(pattern, opts.gate.cors.preflight);
    app.head(pattern, (res, req) => headNotAllowed(res, req, allow));
    app.any(pattern, (res, req) => {
      const ex = openExchange(res, req);
      ex.timer = unmatched;
      const method = req.getMethod().toUpperCase();
      writeProblem(ex, problemFor(ErrorCode.methodNotAllowed, `${method} is not allowed here; allowed: ${allow}.`), { headers: { allow } });
    });
  }
  app.options('/*', opts.gate.cors.preflight);
  app.head('/*', (res, req) => headNotAllowed(res, req, ''));
  app.any('/*', (res, req) => {
    const ex = openExchange(res, req);
    ex.timer = unmatched;
    writeProblem(ex, problemFor(ErrorCode.notFound, `No route for ${req.getMethod().toUpperCase()} ${req.getUrl()}.`));
  });
}

/** HEAD is not served: 405 without a body (a HEAD answer must not carry one). */
function headNotAllowed(res: HttpResponse, req: HttpRequest, allow: string): void {
  const ex = openExchange(res, req);
  ex.open = false;
  res.cork(() => {
    res.writeStatus(statusLine(405)).writeHeader('x-request-id', ex.requestId);
    if (allow !== '') res.writeHeader('allow', allow);
    res.endWithoutBody(0);
  });
}
