/** @module api/resources/schedules/handlers — GET/POST /schedules and GET/PATCH/DELETE /schedules/{id} (tenant-scoped). */
import type { Engine } from '../../../engine/types.ts';
import { ValidationError, type Issue } from '../../../common/errors.ts';
import { isRecord } from '../../../common/json.ts';
import { cronIssues } from '../../../scheduler/next-run.ts';
import type { SchedulePatch, Scheduler, ScheduleSpec } from '../../../scheduler/scheduler.ts';
import { empty, json } from '../../http/reply.ts';
import type { HandlersOf } from '../../routing/route-spec.ts';
import { pageOf, viewPage } from '../paging.ts';
import type { SCHEDULE_ROUTES, ScheduleFields } from './routes.ts';
import { toScheduleView } from './views.ts';

export interface SchedulesDeps {
  readonly engine: Engine;
  readonly scheduler: Scheduler;
}

const TRIGGERS = ['cron', 'everyMs', 'at'] as const;

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/** Exactly one trigger on create (at most one on change); `timezone` only with `cron`; a valid cron and zone. */
function triggerIssues(body: unknown, create: boolean): Issue[] {
  if (!isRecord(body)) return [];
  const given = TRIGGERS.filter((k) => body[k] !== undefined);
  const issues: Issue[] = [];
  if (given.length > 1) for (const k of given.slice(1)) issues.push({ path: `/${k}`, message: `only one of cron, everyMs, at may be given (also got ${given[0] ?? ''})` });
  if (create && given.length === 0) issues.push({ path: '', message: 'exactly one of cron, everyMs, at is required' });
  if (create && body['timezone'] !== undefined && body['cron'] === undefined) issues.push({ path: '/timezone', message: 'is only allowed with cron' });
  if (given.length <= 1) issues.push(...cronIssues(str(body['cron']), str(body['timezone'])));
  return issues;
}

/** The validated body as a spec (`at` as epoch ms). */
function specOf(b: ScheduleFields): SchedulePatch {
  const spec: { -readonly [K in keyof ScheduleSpec]?: ScheduleSpec[K] } = {};
  if (b.workflow !== undefined) spec.workflow = b.workflow;
  if ('input' in b) spec.input = b.input;
  if (b.cron !== undefined) spec.cron = b.cron;
  if (b.timezone !== undefined) spec.timezone = b.timezone;
  if (b.everyMs !== undefined) spec.everyMs = b.everyMs;
  if (b.at !== undefined) spec.at = Date.parse(b.at);
  if (b.enabled !== undefined) spec.enabled = b.enabled;
  if (b.catchUp !== undefined) spec.catchUp = b.catchUp;
  if (b.overlap !== undefined) spec.overlap = b.overlap;
  if (b.priority !== undefined) spec.priority = b.priority;
  return spec;
}

/** Handlers of the schedule routes, keyed by route id. */
export function schedulesHandlers({ engine, scheduler }: SchedulesDeps) {
  return {
    listSchedules: {
      handle: ({ ctx, query }) => json(200, viewPage(scheduler.list(ctx.tenant, pageOf(query)), toScheduleView)),
    },
    createSchedule: {
      refine: (body) => triggerIssues(body, true),
      handle: async ({ ctx, body }) => {
        const spec = specOf(body);
        await engine.getDefinition(ctx.tenant, body.workflow);
        const row = await scheduler.create(ctx.tenant, { ...spec, workflow: body.workflow });
        return json(201, toScheduleView(row));
      },
    },
    getSchedule: {
      handle: ({ ctx, params }) => json(200, toScheduleView(scheduler.get(ctx.tenant, params.id))),
    },
    updateSchedule: {
      refine: (body) => triggerIssues(body, false),
      handle: async ({ ctx, params, body }) => {
        const id = params.id;
        const current = scheduler.get(ctx.tenant, id);
        const patch = specOf(body);
        const retrigger = TRIGGERS.some((k) => patch[k] !== undefined);
        const cron = retrigger ? (patch.cron ?? null) : current.cron;
        if (patch.timezone !== undefined && cron === null) throw new ValidationError('The request is invalid; see `errors`.', [{ path: '/timezone', message: 'is only allowed with cron' }]);
        const issues = cronIssues(cron, patch.timezone ?? (retrigger ? null : current.timezone));
        if (issues.length > 0) throw new ValidationError('The request is invalid; see `errors`.', issues);
        if (patch.workflow !== undefined) await engine.getDefinition(ctx.tenant, patch.workflow);
        return json(200, toScheduleView(await scheduler.update(ctx.tenant, id, patch)));
      },
    },
    deleteSchedule: {
      handle: async ({ ctx, params }) => {
        await scheduler.remove(ctx.tenant, params.id);
        return empty(204);
      },
    },
  } satisfies HandlersOf<typeof SCHEDULE_ROUTES>;
}
