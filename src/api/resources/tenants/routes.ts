/** @module api/resources/tenants/routes — the route table of tenants and their quotas (admins of tenant `default`). */
import { Type } from '@sinclair/typebox';
import { ErrorCode } from '../../../common/errors.ts';
import { PAGE, shape, shortString } from '../../routing/schemas.ts';
import type { RouteSpec } from '../../routing/route-spec.ts';
import { tenantName } from '../admin/routes.ts';

const { Optional } = Type;

/** A slug of a new tenant; older tenants found in the data keep any name their keys had (`tenantName`). */
const slug = Type.String({ pattern: '^[a-z0-9][a-z0-9-]{1,62}$', description: 'Lowercase letters, digits and `-`, 2–63 characters, not starting with `-`.' });

const maxRunning = Type.Unsafe<number | null>({
  type: ['integer', 'null'],
  minimum: 0,
  maximum: 1_000_000_000,
  description: 'Non-terminal executions at most (every status but completed, failed, cancelled, timed_out); a start past it is `429 tenant_limit`. null: no limit.',
});
const rps = Type.Unsafe<number | null>({
  type: ['number', 'null'],
  exclusiveMinimum: 0,
  maximum: 1_000_000,
  description: "Requests per second over all the tenant's credentials (bursts of one second's worth); past it `429 rate_limited`. null: no limit.",
});
const limits = shape({ maxRunning: Optional(maxRunning), rps: Optional(rps) });

const slugParams = shape({ slug: tenantName });
const SLUG_404 = { slug: ErrorCode.tenantNotFound } as const;

export const TENANT_ROUTES = [
  {
    id: 'listTenants',
    method: 'get',
    path: '/tenants',
    summary: 'Every tenant, by slug (admins of tenant `default`).',
    tag: 'tenants',
    auth: 'admin',
    query: shape(PAGE),
    status: 200,
  },
  {
    id: 'createTenant',
    method: 'post',
    path: '/tenants',
    summary: 'Create a tenant with optional quotas; a taken slug is `409 tenant_exists` (admins of tenant `default`).',
    tag: 'tenants',
    auth: 'admin',
    body: { schema: shape({ slug, name: shortString, limits: Optional(limits) }) },
    status: 201,
  },
  {
    id: 'getTenant',
    method: 'get',
    path: '/tenants/{slug}',
    summary: 'One tenant with its `usage`: `{ running, waiting, executions, definitions }` (admins of tenant `default`).',
    tag: 'tenants',
    auth: 'admin',
    params: slugParams,
    paramNotFound: SLUG_404,
    status: 200,
  },
  {
    id: 'updateTenant',
    method: 'patch',
    path: '/tenants/{slug}',
    summary: 'Change `name` and `limits` (a limit set to null is removed; an absent one is kept). Admins of tenant `default`.',
    tag: 'tenants',
    auth: 'admin',
    params: slugParams,
    paramNotFound: SLUG_404,
    body: { schema: shape({ name: Optional(shortString), limits: Optional(limits) }, { minProperties: 1 }) },
    status: 200,
  },
] as const satisfies readonly RouteSpec[];
