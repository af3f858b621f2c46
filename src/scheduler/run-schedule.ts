/** @module scheduler/run-schedule — one run of a schedule: its overlap policy, then a start labelled `schedule=<id>`. */
import { ActorflowError } from '../common/errors.ts';
import type { Engine } from '../engine/types.ts';
import type { Logger } from '../common/logger.ts';
import type { ScheduleRow } from '../store/types.ts';

/** Statuses of a run that is still open (overlap applies to these). */
export const OPEN_STATUSES = ['pending', 'queued', 'running', 'waiting', 'paused'] as const;

/** The label every run of a schedule carries. */
export const SCHEDULE_LABEL = 'schedule';

async function openRuns(engine: Engine, s: ScheduleRow): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await engine.list(s.tenant, { labels: { [SCHEDULE_LABEL]: s.id }, status: OPEN_STATUSES }, { limit: 1000, cursor });
    for (const x of page.items) ids.push(x.id);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  return ids;
}

/**
 * Applies the overlap policy and starts a run (with `idempotencyKey`, a start that was made already
 * answers with its execution). Returns the new execution's id, or null when the
 * run was skipped (overlap `skip`) or could not start (logged with its code; e.g. the workflow was retired,
 * or `tenant_limit`: the tenant is at its `maxRunning`).
 */
export async function runSchedule(engine: Engine, s: ScheduleRow, logger: Logger, idempotencyKey?: string): Promise<string | null> {
  try {
    if (s.overlap !== 'allow') {
      const open = await openRuns(engine, s);
      if (open.length > 0 && s.overlap === 'skip') {
        logger.info('schedule run skipped: the previous run is still open', { schedule: s.id, open: open[0] });
        return null;
      }
      for (const id of open) {
        await engine.cancel(s.tenant, id, `cancelled by schedule ${s.id} (overlap: cancel-previous)`).catch((err: unknown) => {
          logger.warn('schedule could not cancel a previous run', { schedule: s.id, execution: id, error: String(err) });
        });
      }
    }
    const { execution } = await engine.start({
      tenant: s.tenant,
      workflow: s.workflow,
      input: s.input,
      labels: { [SCHEDULE_LABEL]: s.id },
      priority: s.priority,
      ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
    });
    return execution.id;
  } catch (err) {
    logger.warn('schedule run failed to start', {
      schedule: s.id,
      tenant: s.tenant,
      workflow: s.workflow,
      ...(err instanceof ActorflowError ? { code: err.code } : {}),
      error: err instanceof Error ? err.message : String(err),
    });
    return null;
  }
}
