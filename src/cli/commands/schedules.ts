/** @module cli/commands/schedules — `actorflow schedules list|get|create|update|delete|enable|disable`: cron, interval and one-time starts. */
import type { ScheduleView, UpdateScheduleRequest } from '../../client/index.ts';
import { deleteCommand, listCommand } from './builders.ts';
import { type Ctx, UsageError } from './common.ts';
import { done, show } from './output.ts';
import type { Command, Flags, Group } from './spec.ts';

const KEYS = ['id', 'workflow', 'trigger', 'enabled', 'input', 'catchUp', 'overlap', 'nextRunAt', 'lastRunAt', 'lastExecutionId', 'createdAt', 'updatedAt'];

/** `90000` as `90s`, `3600000` as `1h`: the largest unit that divides it. */
function every(ms: number): string {
  for (const [unit, size] of [['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) if (ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}

/** `cron … (zone)`, `every 5m` or `at <time>`: one column for the three kinds of trigger. */
function withTrigger(s: ScheduleView): ScheduleView & { trigger: string } {
  const trigger = s.cron !== null ? `cron ${s.cron}${s.timezone ? ` (${s.timezone})` : ''}` : s.everyMs !== null ? `every ${every(s.everyMs)}` : `at ${s.at ?? '?'}`;
  return { ...s, trigger };
}

const showSchedule = (c: Ctx, s: ScheduleView) => (c.json ? c.out(JSON.stringify(s, null, 2)) : show(c, withTrigger(s), KEYS));

const FIELD_FLAGS: Flags = {
  cron: { type: 'string', arg: 'EXPR', help: 'cron expression (5 fields, or 6 with seconds)' },
  timezone: { type: 'string', arg: 'TZ', help: 'IANA time zone of --cron (default UTC)' },
  every: { type: 'string', arg: 'DURATION', help: 'fixed interval: 30s, 5m, 1h (at least 1s)' },
  at: { type: 'string', arg: 'TIME', help: 'one run at this RFC 3339 time, then the schedule disables itself' },
  input: { type: 'string', arg: 'JSON|@FILE', help: 'input of every run' },
  'catch-up': { type: 'string', arg: 'MODE', help: 'a run due while the server was down: skip (default) or run-once' },
  overlap: { type: 'string', arg: 'MODE', help: 'when the previous run is still open: skip (default), allow or cancel-previous' },
};

function oneOf<T extends string>(c: Ctx, flag: string, allowed: readonly T[]): T | undefined {
  const v = c.str(flag);
  if (v !== undefined && !(allowed as readonly string[]).includes(v)) throw new UsageError(`--${flag} must be ${allowed.join('|')}`);
  return v as T | undefined;
}

/** The schedule fields given as flags (the server checks that exactly one trigger is set). */
function fields(c: Ctx): UpdateScheduleRequest {
  const out: { -readonly [K in keyof UpdateScheduleRequest]: UpdateScheduleRequest[K] } = {};
  const cron = c.str('cron');
  const timezone = c.str('timezone');
  const everyMs = c.duration('every');
  const at = c.str('at');
  const input = c.jsonValue('input');
  const catchUp = oneOf(c, 'catch-up', ['skip', 'run-once'] as const);
  const overlap = oneOf(c, 'overlap', ['skip', 'allow', 'cancel-previous'] as const);
  if (cron !== undefined) out.cron = cron;
  if (timezone !== undefined) out.timezone = timezone;
  if (everyMs !== undefined) out.everyMs = everyMs;
  if (at !== undefined) out.at = at;
  if (input !== undefined) out.input = input;
  if (catchUp !== undefined) out.catchUp = catchUp;
  if (overlap !== undefined) out.overlap = overlap;
  return out;
}

const enabledSwitch = (name: 'enable' | 'disable'): Command => ({
  name: `schedules ${name}`,
  args: '<id>',
  summary: name === 'enable' ? 'resume a disabled schedule' : 'stop a schedule from starting runs (kept, can be enabled again)',
  async run(c) {
    const s = await c.client.schedules.update(c.arg(0, 'id'), { enabled: name === 'enable' });
    return done(c, s.id, `${name}d, next run ${s.nextRunAt ?? 'none'}`, s);
  },
});

export const SCHEDULES: Group = {
  name: 'schedules',
  summary: 'cron, interval and one-time starts',
  default: 'list',
  commands: [
    listCommand({
      name: 'schedules list',
      summary: 'schedules with their trigger and next run',
      columns: [['ID', 'id'], ['WORKFLOW', 'workflow'], ['TRIGGER', 'trigger'], ['ENABLED', 'enabled'], ['NEXT', 'nextRunAt'], ['LAST', 'lastRunAt']],
      list: async (c, options) => {
        const page = await c.client.schedules.list(options);
        return c.json ? page : { ...page, items: page.items.map(withTrigger) };
      },
    }),
    {
      name: 'schedules get',
      args: '<id>',
      summary: 'one schedule with its next and last run',
      async run(c) {
        showSchedule(c, await c.client.schedules.get(c.arg(0, 'id')));
        return 0;
      },
    },
    {
      name: 'schedules create',
      args: '<workflow>',
      summary: 'schedule a workflow: one of --cron, --every, --at',
      details: 'Runs are executions labelled schedule=<id> (`actorflow list --label schedule=<id>`).',
      flags: { ...FIELD_FLAGS, disabled: { type: 'boolean', help: 'create it disabled' } },
      async run(c) {
        const f = fields(c);
        if (f.cron === undefined && f.everyMs === undefined && f.at === undefined) throw new UsageError('schedules create needs one of --cron, --every, --at');
        const s = await c.client.schedules.create({ ...f, workflow: c.arg(0, 'workflow'), ...(c.bool('disabled') ? { enabled: false } : {}) });
        if (c.json) c.out(JSON.stringify(s, null, 2));
        else c.out(`${s.id}  ${withTrigger(s).trigger}  next run ${s.nextRunAt ?? 'none'}`);
        return 0;
      },
    },
    {
      name: 'schedules update',
      args: '<id>',
      summary: 'change a schedule; one of --cron, --every, --at replaces its trigger',
      flags: { ...FIELD_FLAGS, workflow: { type: 'string', arg: 'W', help: 'start this workflow instead' } },
      async run(c) {
        const workflow = c.str('workflow');
        const patch = { ...fields(c), ...(workflow === undefined ? {} : { workflow }) };
        if (Object.keys(patch).length === 0) throw new UsageError('schedules update needs at least one field flag');
        showSchedule(c, await c.client.schedules.update(c.arg(0, 'id'), patch));
        return 0;
      },
    },
    enabledSwitch('enable'),
    enabledSwitch('disable'),
    deleteCommand({ name: 'schedules delete', summary: 'delete a schedule (runs already started continue)', remove: (c, id) => c.client.schedules.delete(id) }),
  ],
};
