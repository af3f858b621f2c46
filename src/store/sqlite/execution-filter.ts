/** @module store/sqlite/execution-filter — the WHERE clause of a filtered read of the executions index (lists, bulk operations' matching). */
import type { ExecutionQuery } from '../types.ts';

/** The smallest string above every string that starts with `prefix` (a range an index can seek). */
export const prefixEnd = (prefix: string): string => prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);

/** `WHERE` text (without the keyword) and its parameters for every field of `q` but `limit`. */
export function executionWhere(q: Omit<ExecutionQuery, 'limit'>): { readonly sql: string; readonly params: unknown[] } {
  const where = ['tenant = ?'];
  const params: unknown[] = [q.tenant];
  if (q.status && q.status.length > 0) {
    where.push(`status IN (${q.status.map(() => '?').join(',')})`);
    params.push(...q.status);
  }
  if (q.workflow !== undefined) (where.push('workflow = ?'), params.push(q.workflow));
  if (q.parentId !== undefined) (where.push('parent_id = ?'), params.push(q.parentId));
  if (q.createdAfter !== undefined) (where.push('created_at >= ?'), params.push(q.createdAfter));
  if (q.createdBefore !== undefined) (where.push('created_at < ?'), params.push(q.createdBefore));
  if (q.beforeId !== undefined) (where.push('id < ?'), params.push(q.beforeId));
  if (q.idPrefix !== undefined) (where.push('id >= ? AND id < ?'), params.push(q.idPrefix, prefixEnd(q.idPrefix)));
  for (const [k, v] of Object.entries(q.labels ?? {})) {
    where.push('json_extract(labels, ?) = ?');
    params.push(`$."${k.replace(/"/g, '""')}"`, v);
  }
  return { sql: where.join(' AND '), params };
}
