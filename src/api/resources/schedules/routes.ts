/** @module api/resources/schedules/routes — the route table of schedules: cron, fixed interval and one-time starts of a workflow. */
import { type Static, Type } from '@sinclair/typebox';
import { ErrorCode } from '../../../common/errors.ts';
import { ANY, PAGE, definitionName, priority, shape, stringEnum, ulidId } from '../../routing/schemas.ts';
import type { RouteSpec } from '../../routing/route-spec.ts';

const { Optional } = Type;

export const scheduleId = ulidId('sc', 'Schedule id');

const cron = Type.String({ minLength: 1, maxLength: 200, description: 'Cron expression (5 fields, or 6 with seconds), evaluated by croner in `timezone`.' });
const timezone = Type.String({ minLength: 1, maxLength: 100, description: 'IANA time zone of `cron` (default UTC).' });
const everyMs = Type.Integer({ minimum: 1000, maximum: 31_536_000_000, description: 'Fixed interval in ms (≥ 1000).' });
const at = Type.String({ format: 'date-time', description: 'One-time run at this instant; the schedule disables itself after it.' });
const catchUp = stringEnum(['skip', 'run-once'], { description: 'A run due while the server was down: `skip` it, or `run-once` at boot. @default skip' });
const overlap = stringEnum(['skip', 'allow', 'cancel-previous'], {
  description: 'When the previous run is still open: `skip` this run, `allow` both, or `cancel-previous` then start. @default skip',
});

const FIELDS = {
  workflow: Optional(definitionName),
  input: Optional(ANY),
  cron: Optional(cron),
  timezone: Optional(timezone),
  everyMs: Optional(everyMs),
  at: Optional(at),
  enabled: Optional(Type.Boolean()),
  catchUp: Optional(catchUp),
  overlap: Optional(overlap),
  priority: Optional(priority),
};

/** A change of a schedule: any of its fields. */
const scheduleChange = shape(FIELDS, { minProperties: 1 });
/** The fields of a schedule as a handler reads them (a create has `workflow` too). */
export type ScheduleFields = Static<typeof scheduleChange>;

const idParams = shape({ id: scheduleId });
const ID_404 = { id: ErrorCode.scheduleNotFound } as const;
const DEF_422 = { [ErrorCode.definitionNotFound]: 422 } as const;

export const SCHEDULE_ROUTES = [
  {
    id: 'listSchedules',
    method: 'get',
    path: '/schedules',
    summary: "The tenant's schedules, by id.",
    tag: 'schedules',
    query: shape(PAGE),
    status: 200,
  },
  {
    id: 'createSchedule',
    method: 'post',
    path: '/schedules',
    summary: 'Schedule a workflow: exactly one of `cron` (+ `timezone`), `everyMs`, `at`. Runs are executions labelled `schedule=<id>`.',
    tag: 'schedules',
    body: { schema: shape({ ...FIELDS, workflow: definitionName }) },
    errorStatus: DEF_422,
    status: 201,
  },
  {
    id: 'getSchedule',
    method: 'get',
    path: '/schedules/{id}',
    summary: 'One schedule with `nextRunAt`, `lastRunAt`, `lastExecutionId`.',
    tag: 'schedules',
    params: idParams,
    paramNotFound: ID_404,
    status: 200,
  },
  {
    id: 'updateSchedule',
    method: 'patch',
    path: '/schedules/{id}',
    summary: 'Change fields (`enabled: false` disables, `true` enables); one of `cron`/`everyMs`/`at` replaces the trigger.',
    tag: 'schedules',
    params: idParams,
    paramNotFound: ID_404,
    body: { schema: scheduleChange },
    errorStatus: DEF_422,
    status: 200,
  },
  {
    id: 'deleteSchedule',
    method: 'delete',
    path: '/schedules/{id}',
    summary: 'Delete a schedule; runs already started continue.',
    tag: 'schedules',
    params: idParams,
    paramNotFound: ID_404,
    status: 204,
    produces: 'none',
  },
] as const satisfies readonly RouteSpec[];
