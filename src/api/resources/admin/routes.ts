/** @module api/resources/admin/routes — the route table of the admin API: API keys and the audit log (admin scope). */
import { Type } from '@sinclair/typebox';
import { ErrorCode } from '../../../common/errors.ts';
import { PAGE, dateTime, shape, shortString, stringEnum, ulidId } from '../../routing/schemas.ts';
import type { RouteSpec } from '../../routing/route-spec.ts';

const { Optional } = Type;

/** Tenant names: what a key or token may carry. */
export const tenantName = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$', description: 'Tenant: letters, digits, `.`, `_`, `-` (≤ 100 chars).' });

export const apiKeyId = ulidId('key', 'API key id');

const scopes = Type.Array(stringEnum(['read', 'write', 'admin']), { minItems: 1, maxItems: 3, uniqueItems: true, description: 'Scopes nest: `admin` ⊃ `write` ⊃ `read`.' });

const rateLimit = shape({
  rps: Type.Number({ exclusiveMinimum: 0, maximum: 1_000_000 }),
  burst: Type.Integer({ minimum: 1, maximum: 10_000_000 }),
});

const auditText = Type.String({ minLength: 1, maxLength: 300 });

export const ADMIN_ROUTES = [
  {
    id: 'createApiKey',
    method: 'post',
    path: '/api-keys',
    summary: 'Create an API key; the secret `key` is in this answer only. `tenant` defaults to the caller\'s; another tenant must exist (`422 tenant_not_found`).',
    tag: 'admin',
    auth: 'admin',
    body: { schema: shape({ name: shortString, tenant: Optional(tenantName), scopes, rateLimit: Optional(rateLimit) }) },
    // A tenant named in the body that does not exist is a bad reference, not a missing resource.
    errorStatus: { [ErrorCode.tenantNotFound]: 422 },
    status: 201,
  },
  {
    id: 'listApiKeys',
    method: 'get',
    path: '/api-keys',
    summary: 'Active API keys (never their secrets), by id.',
    tag: 'admin',
    auth: 'admin',
    query: shape(PAGE),
    status: 200,
  },
  {
    id: 'revokeApiKey',
    method: 'delete',
    path: '/api-keys/{id}',
    summary: 'Revoke an API key: it stops working at once.',
    tag: 'admin',
    auth: 'admin',
    params: shape({ id: apiKeyId }),
    paramNotFound: { id: ErrorCode.apiKeyNotFound },
    status: 204,
    produces: 'none',
  },
  {
    id: 'listAudit',
    method: 'get',
    path: '/audit',
    summary: 'State-changing calls, newest first: `{ at, keyId, tenant, method, route, targetId, status, requestId }`; filters `keyId`, `route`, `from`, `to`.',
    tag: 'admin',
    auth: 'admin',
    query: shape({ keyId: Optional(auditText), route: Optional(auditText), from: Optional(dateTime), to: Optional(dateTime), ...PAGE }),
    status: 200,
  },
] as const satisfies readonly RouteSpec[];
