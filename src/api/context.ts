/** @module api/context — who is asking: the single place where a request gets its tenant. */
import type { HttpRequest } from 'uWebSockets.js';
import type { RequestContext } from './types.ts';

/** Every request belongs to this tenant until authentication (a later issue) assigns one. */
export const DEFAULT_TENANT = 'default';

/**
 * Builds the context of a request. Runs synchronously inside the uWS handler, so it may read
 * headers (`authorization`, `x-api-key`) once auth slots in here.
 */
export function requestContext(_req: HttpRequest, requestId: string): RequestContext {
  return { tenant: DEFAULT_TENANT, requestId };
}
