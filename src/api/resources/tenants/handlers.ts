/** @module api/resources/tenants/handlers — GET/POST /tenants, GET/PATCH /tenants/{slug}: only admins of tenant `default`. */
import { ActorflowError, ErrorCode } from '../../../common/errors.ts';
import type { Engine } from '../../../engine/types.ts';
import type { TenantRegistry } from '../../../tenants/tenant-registry.ts';
import { DEFAULT_TENANT } from '../../auth/types.ts';
import { json } from '../../http/reply.ts';
import type { HandlersOf, RequestContext } from '../../routing/route-spec.ts';
import { pageOf, viewPage } from '../paging.ts';
import type { TENANT_ROUTES } from './routes.ts';
import { toTenantView, toUsageView } from './views.ts';

export interface TenantsDeps {
  readonly tenants: TenantRegistry;
  readonly engine: Engine;
}

/** Tenants are the operators' business: another tenant's admin must not see or change them (the route already needs `admin`). */
function requireOperator(ctx: RequestContext): void {
  if (ctx.tenant !== DEFAULT_TENANT) throw new ActorflowError(ErrorCode.forbidden, `Only admins of tenant "${DEFAULT_TENANT}" manage tenants.`);
}

/** Handlers of the tenant routes, keyed by route id. */
export function tenantsHandlers({ tenants, engine }: TenantsDeps) {
  return {
    listTenants: {
      handle: ({ ctx, query }) => {
        requireOperator(ctx);
        return json(200, viewPage(tenants.list(pageOf(query)), toTenantView));
      },
    },
    createTenant: {
      handle: async ({ ctx, body }) => {
        requireOperator(ctx);
        return json(201, toTenantView(await tenants.create(body, Date.now())));
      },
    },
    getTenant: {
      handle: async ({ ctx, params }) => {
        requireOperator(ctx);
        const t = tenants.get(params.slug);
        return json(200, { ...toTenantView(t), usage: toUsageView(await engine.usage(t.slug)) });
      },
    },
    updateTenant: {
      handle: async ({ ctx, params, body }) => {
        requireOperator(ctx);
        return json(200, toTenantView(await tenants.update(params.slug, body, Date.now())));
      },
    },
  } satisfies HandlersOf<typeof TENANT_ROUTES>;
}
