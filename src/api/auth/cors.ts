/** @module api/auth/cors — allowed origins and the preflight (OPTIONS) answer. */
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import { requestIdOf } from '../http/exchange.ts';

const ALLOW_METHODS = 'GET, POST, PUT, PATCH, DELETE, OPTIONS';
const ALLOW_HEADERS = 'authorization, x-api-key, content-type, idempotency-key, if-match, x-request-id, last-event-id, traceparent, tracestate';
/** Browsers may cache a preflight answer this long (seconds). */
const MAX_AGE_S = '600';

export interface Cors {
  /** The `access-control-allow-origin` value for a request's `origin` header; undefined = no CORS headers. */
  allow(origin: string): string | undefined;
  /** Answers an OPTIONS request: 204, with the CORS headers when the origin is allowed. */
  preflight(res: HttpResponse, req: HttpRequest): void;
}

/**
 * `origins` lists allowed origins exactly (`https://app.example.com`); `*` allows any. With an
 * empty list no CORS header is ever written (browsers then refuse cross-origin calls).
 */
export function createCors(origins: readonly string[]): Cors {
  const any = origins.includes('*');
  const allowed = new Set(origins.map((o) => o.toLowerCase().replace(/\/+$/, '')));
  const allow = (origin: string): string | undefined => {
    if (origin === '' || allowed.size === 0) return undefined;
    if (any) return '*';
    return allowed.has(origin.toLowerCase()) ? origin : undefined;
  };
  return {
    allow,
    preflight: (res, req) => {
      const origin = allow(req.getHeader('origin'));
      const requestId = requestIdOf(req);
      res.cork(() => {
        res.writeStatus('204 No Content').writeHeader('x-request-id', requestId);
        if (origin !== undefined) {
          res
            .writeHeader('access-control-allow-origin', origin)
            .writeHeader('vary', 'origin')
            .writeHeader('access-control-allow-methods', ALLOW_METHODS)
            .writeHeader('access-control-allow-headers', ALLOW_HEADERS)
            .writeHeader('access-control-max-age', MAX_AGE_S);
        }
        res.endWithoutBody();
      });
    },
  };
}
