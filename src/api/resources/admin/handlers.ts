/** @module api/resources/admin/handlers — POST/GET/DELETE /api-keys and GET /audit (admin scope, tenant-scoped). */
import { ErrorCode, NotFoundError, ActorflowError, ValidationError } from '../../../common/errors.ts';
import type { TenantRegistry } from '../../../tenants/tenant-registry.ts';
import type { AuditLog } from '../../auth/audit-log.ts';
import { type KeyRing, toKeyView } from '../../auth/key-ring.ts';
import { DEFAULT_TENANT, type Principal } from '../../auth/types.ts';
import { empty, json } from '../../http/reply.ts';
import type { HandlersOf } from '../../routing/route-spec.ts';
import { pageById, pageOf } from '../paging.ts';
import type { ADMIN_ROUTES } from './routes.ts';

export interface AdminDeps {
  readonly keys: KeyRing;
  readonly audit: AuditLog;
  /** Keys may only name a tenant that exists. */
  readonly tenants: TenantRegistry;
}

/**
 * Admins of tenant `default` operate the server: they may create keys for any tenant and see
 * every key and audit entry. Admins of another tenant only see and manage their own tenant's.
 */
const isOperator = (p: Principal): boolean => p.tenant === DEFAULT_TENANT;

/** The tenant filter of a listing: none for operators. */
const tenantFilter = (p: Principal): string | undefined => (isOperator(p) ? undefined : p.tenant);

/** Handlers of the admin routes, keyed by route id. */
export function adminHandlers({ keys, audit, tenants }: AdminDeps) {
  return {
    createApiKey: {
      handle: async ({ ctx, body }) => {
        const tenant = body.tenant ?? ctx.tenant;
        if (tenant !== ctx.tenant && !isOperator(ctx.principal)) {
          throw new ActorflowError(ErrorCode.forbidden, `Only admins of tenant "${DEFAULT_TENANT}" may create keys for another tenant.`);
        }
        // The caller's own tenant is in use whatever the registry says (a JWT may name a tenant never created).
        if (tenant !== ctx.tenant && !tenants.has(tenant)) {
          throw new ValidationError(`No tenant "${tenant}": create it first (POST /tenants).`, [{ path: '/tenant', message: 'unknown tenant' }], ErrorCode.tenantNotFound);
        }
        const { row, key } = await keys.create({ name: body.name, tenant, scopes: body.scopes, rateLimit: body.rateLimit }, Date.now());
        return json(201, { ...toKeyView(row), key });
      },
    },
    listApiKeys: {
      handle: ({ ctx, query }) => {
        const only = tenantFilter(ctx.principal);
        return json(200, pageById(keys.list().filter((r) => only === undefined || r.tenant === only), pageOf(query), toKeyView));
      },
    },
    revokeApiKey: {
      handle: async ({ ctx, params }) => {
        const id = params.id;
        if (!(await keys.revoke(id, tenantFilter(ctx.principal), Date.now()))) throw new NotFoundError(ErrorCode.apiKeyNotFound, `no API key ${id}`);
        return empty(204);
      },
    },
    listAudit: {
      handle: async ({ ctx, query }) => {
        const page = pageOf(query);
        const before = page.cursor === undefined ? undefined : Number(page.cursor);
        if (before !== undefined && !Number.isSafeInteger(before)) {
          throw new ActorflowError(ErrorCode.validationFailed, 'The request is invalid; see `errors`.', { issues: [{ path: '/query/cursor', message: 'is not a cursor of this list' }] });
        }
        const ms = (v: string | undefined): number | undefined => (v === undefined ? undefined : Date.parse(v));
        const rows = await audit.list({
          tenant: tenantFilter(ctx.principal),
          keyId: query.keyId,
          route: query.route,
          from: ms(query.from),
          to: ms(query.to),
          beforeSeq: before,
          limit: page.limit + 1,
        });
        const items = rows.slice(0, page.limit);
        const last = items[items.length - 1];
        return json(200, {
          items: items.map((r) => ({
            at: new Date(r.at).toISOString(),
            keyId: r.keyId,
            tenant: r.tenant,
            method: r.method,
            route: r.route,
            targetId: r.targetId,
            status: r.status,
            requestId: r.requestId,
          })),
          nextCursor: rows.length > page.limit && last !== undefined ? String(last.seq) : null,
        });
      },
    },
  } satisfies HandlersOf<typeof ADMIN_ROUTES>;
}
