/** @module api/resources/schedules/views — a schedule as the API shows it. */
import { iso } from '../../../common/clock.ts';
import type { ScheduleRow } from '../../../store/types.ts';

/** A schedule as the API shows it (times as RFC 3339, absent fields null). */
export function toScheduleView(s: ScheduleRow) {
  return {
    id: s.id,
    workflow: s.workflow,
    input: s.input ?? null,
    cron: s.cron,
    timezone: s.timezone,
    everyMs: s.everyMs,
    at: iso(s.at),
    enabled: s.enabled,
    catchUp: s.catchUp,
    overlap: s.overlap,
    priority: s.priority,
    nextRunAt: iso(s.nextRunAt),
    lastRunAt: iso(s.lastRunAt),
    lastExecutionId: s.lastExecutionId,
    createdAt: iso(s.createdAt),
    updatedAt: iso(s.updatedAt),
  };
}
