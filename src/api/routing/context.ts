/** @module api/routing/context — who is asking: the single place where a request gets its tenant. */
import { DEFAULT_TENANT, type Principal, Scope } from '../auth/types.ts';
import type { RequestContext } from './route-spec.ts';

export { DEFAULT_TENANT };

/** The caller of a public route (no credential): read-only, tenant `default`. */
export const PUBLIC_PRINCIPAL: Principal = { keyId: null, tenant: DEFAULT_TENANT, scope: Scope.read, limiterId: 'public', rateLimit: undefined };

/**
 * Builds the context of a request from its verified principal (the gate ran first): the tenant
 * is always the credential's, never anything the client sent. Public routes (no credential)
 * run as `PUBLIC_PRINCIPAL` and read nothing tenant-scoped.
 */
export function requestContext(principal: Principal | undefined, requestId: string): RequestContext {
  const p = principal ?? PUBLIC_PRINCIPAL;
  return { tenant: p.tenant, requestId, principal: p };
}
