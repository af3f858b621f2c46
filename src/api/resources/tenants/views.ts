/** @module api/resources/tenants/views — a tenant, and its usage, as the API shows them. */
import { iso } from '../../../common/clock.ts';
import type { TenantUsage } from '../../../engine/types.ts';
import type { TenantRow } from '../../../store/types.ts';

/** A tenant as the API shows it (a limit not set is null). */
export function toTenantView(t: TenantRow) {
  return {
    slug: t.slug,
    name: t.name,
    limits: { maxRunning: t.maxRunning, rps: t.rps },
    createdAt: iso(t.createdAt),
    updatedAt: iso(t.updatedAt),
  };
}

/** `running` is what `limits.maxRunning` caps: every non-terminal execution; `waiting` those of them waiting. */
export function toUsageView(u: TenantUsage) {
  let executions = 0;
  for (const n of Object.values(u.executions)) executions += n;
  return { running: u.open, waiting: u.executions['waiting'] ?? 0, executions, definitions: u.definitions };
}
