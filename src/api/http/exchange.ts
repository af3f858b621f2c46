/** @module api/http/exchange — one uWS request/response pair: request ids, abort handling, CORS headers. */
import { randomUUID } from 'node:crypto';
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';

/**
 * One request/response pair. uWS invalidates `req` when the handler returns and `res` when the
 * client aborts, so everything needed later is copied here and every write checks `open`.
 */
export interface Exchange {
  readonly res: HttpResponse;
  readonly requestId: string;
  /** False once aborted by the client or answered. */
  open: boolean;
  /** Called once if the client aborts (a streamed answer cleans up here). */
  onAbort?: (() => void) | undefined;
  /** `access-control-allow-origin` value when the request's origin is allowed (CORS). */
  corsOrigin?: string | undefined;
  /** Called once with the status (and JSON body) of the answer: the audit log listens here. */
  onAnswer?: ((status: number, body: unknown) => void) | undefined;
  /** `performance.now()` when the request arrived (latency metrics). */
  readonly t0: number;
  /** Latency histogram of the route, observed once with the status of the answer. */
  timer: RouteTimer | undefined;
}

/** Observes one answered request of a route (api/observability/metrics.ts implements it). */
export interface RouteTimer {
  observe(status: number, t0: number): void;
}

/** Response headers a browser script may read (CORS). */
const EXPOSED_HEADERS = 'x-request-id, retry-after, ratelimit-limit, ratelimit-remaining, ratelimit-reset, idempotent-replay, location';

/** Writes the CORS headers of an allowed origin; call inside the cork, after the status. */
export function writeCorsHeaders(ex: Exchange): void {
  if (ex.corsOrigin === undefined) return;
  ex.res.writeHeader('access-control-allow-origin', ex.corsOrigin).writeHeader('vary', 'origin').writeHeader('access-control-expose-headers', EXPOSED_HEADERS);
}

const SANE_REQUEST_ID = /^[\x21-\x7e]{1,200}$/;

/** Echo a sane `x-request-id` (printable ASCII, ≤ 200 chars), else a fresh UUID. */
export function requestIdOf(req: HttpRequest): string {
  const given = req.getHeader('x-request-id');
  return given !== '' && SANE_REQUEST_ID.test(given) ? given : randomUUID();
}

/** Must run synchronously in the uWS handler: registers onAborted before any async work. */
export function openExchange(res: HttpResponse, req: HttpRequest): Exchange {
  const ex: Exchange = { res, requestId: requestIdOf(req), open: true, onAbort: undefined, corsOrigin: undefined, onAnswer: undefined, t0: performance.now(), timer: undefined };
  res.onAborted(() => {
    ex.open = false;
    ex.onAbort?.();
  });
  return ex;
}
