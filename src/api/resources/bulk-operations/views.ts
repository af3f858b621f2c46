/** @module api/resources/bulk-operations/views — a bulk operation as the API shows it. */
import type { BulkOperation } from '../../../bulk/types.ts';
import { iso } from '../../../common/clock.ts';

export function toBulkOperationView(o: BulkOperation) {
  return {
    id: o.id,
    action: o.action,
    filter: o.filter,
    status: o.status,
    matched: o.matched,
    succeeded: o.succeeded,
    failed: o.failed,
    skipped: o.skipped,
    errors: o.errors,
    createdAt: iso(o.createdAt),
    finishedAt: iso(o.finishedAt),
  };
}
