/** @module api/resources/bulk-operations/handlers — POST (or dry-run), GET and cancel of /bulk-operations (tenant-scoped). */
import type { BulkOperations } from '../../../bulk/bulk-service.ts';
import type { BulkRequest } from '../../../bulk/types.ts';
import type { Issue } from '../../../common/errors.ts';
import { isRecord } from '../../../common/json.ts';
import { json } from '../../http/reply.ts';
import type { HandlersOf } from '../../routing/route-spec.ts';
import { keyHeaderIssues, keyMismatchIssues, startRequestHash, startedOrReplayed } from '../idempotency.ts';
import { pageOf, viewPage } from '../paging.ts';
import type { BULK_OPERATION_ROUTES } from './routes.ts';
import { toBulkOperationView } from './views.ts';

/** The single routes that take a text: cancel's `reason`, retry's `note`. */
const WITH_REASON: ReadonlySet<unknown> = new Set(['cancel', 'retry']);

/** Cross-field rules of POST /bulk-operations. */
function refineCreate(body: unknown, headers: Readonly<Record<string, string>>): Issue[] {
  const issues = keyHeaderIssues(headers);
  if (!isRecord(body)) return issues;
  const action = body['action'];
  if (action === 'signal' && body['signal'] === undefined) issues.push({ path: '/signal', message: 'is required with action signal' });
  if (action !== 'signal' && body['signal'] !== undefined) issues.push({ path: '/signal', message: 'is only allowed with action signal' });
  if (!WITH_REASON.has(action) && body['reason'] !== undefined) issues.push({ path: '/reason', message: 'is only allowed with action cancel or retry' });
  issues.push(...keyMismatchIssues(body, headers));
  return issues;
}

/** Handlers of the bulk operation routes, keyed by route id. */
export function bulkOperationsHandlers(bulk: BulkOperations) {
  return {
    createBulkOperation: {
      refine: (body, { headers }) => refineCreate(body, headers),
      handle: async ({ ctx, body, headers }) => {
        const req: BulkRequest = { action: body.action, filter: body.filter ?? {}, signal: body.signal, reason: body.reason };
        if (body.dryRun === true) return json(200, await bulk.preview(ctx.tenant, req));
        const key = body.idempotencyKey ?? headers['idempotency-key'];
        const { operation, replayed } = await bulk.create(ctx.tenant, req, key === undefined ? undefined : { key, requestHash: startRequestHash(body) });
        return startedOrReplayed(replayed, { id: operation.id, status: operation.status, matched: operation.matched }, 202);
      },
    },
    listBulkOperations: {
      handle: async ({ ctx, query }) => json(200, viewPage(await bulk.list(ctx.tenant, pageOf(query)), toBulkOperationView)),
    },
    getBulkOperation: {
      handle: async ({ ctx, params }) => json(200, toBulkOperationView(await bulk.get(ctx.tenant, params.id))),
    },
    cancelBulkOperation: {
      handle: async ({ ctx, params }) => json(202, toBulkOperationView(await bulk.cancel(ctx.tenant, params.id))),
    },
  } satisfies HandlersOf<typeof BULK_OPERATION_ROUTES>;
}
