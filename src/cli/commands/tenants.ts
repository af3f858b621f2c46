/** @module cli/commands/tenants — `actorflow tenants list|get|create|update`: tenants and their quotas (admins of tenant `default`). */
import type { TenantLimits, TenantView } from '../../client/index.ts';
import { listCommand } from './builders.ts';
import { type Ctx, UsageError } from './common.ts';
import { show } from './output.ts';
import type { Flags, Group } from './spec.ts';

const LIMIT_FLAGS: Flags = {
  'max-running': { type: 'string', arg: 'N|none', help: 'non-terminal executions at most (a start past it is refused); none removes the limit' },
  rps: { type: 'string', arg: 'N|none', help: "requests per second over all the tenant's keys; none removes the limit" },
};

/** `none` → null (no limit), a number within the flag's rule, else a usage error. */
function limitFlag(c: Ctx, flag: string, integer: boolean): number | null | undefined {
  const v = c.str(flag);
  if (v === undefined) return undefined;
  if (v === 'none') return null;
  const n = Number(v);
  const ok = v.trim() !== '' && Number.isFinite(n) && (integer ? Number.isInteger(n) && n >= 0 : n > 0);
  if (!ok) throw new UsageError(`--${flag} must be ${integer ? 'an integer ≥ 0' : 'a number > 0'} or none`);
  return n;
}

/** The limits given as flags; undefined when none was. */
function limits(c: Ctx): Partial<TenantLimits> | undefined {
  const maxRunning = limitFlag(c, 'max-running', true);
  const rps = limitFlag(c, 'rps', false);
  if (maxRunning === undefined && rps === undefined) return undefined;
  return { ...(maxRunning === undefined ? {} : { maxRunning }), ...(rps === undefined ? {} : { rps }) };
}

/** A limit as a table or detail cell: `-` for none. */
const limitCell = (n: number | null): string | number => n ?? '-';

/** One row of `tenants list`, and the head of `tenants get`: limits side by side with the rest. */
const flat = (t: TenantView) => ({ slug: t.slug, name: t.name, maxRunning: limitCell(t.limits.maxRunning), rps: limitCell(t.limits.rps), createdAt: t.createdAt, updatedAt: t.updatedAt });

const showTenant = (c: Ctx, t: TenantView) => (c.json ? show(c, t) : show(c, flat(t)));

export const TENANTS: Group = {
  name: 'tenants',
  summary: 'tenants and their quotas (admins of tenant default)',
  default: 'list',
  commands: [
    listCommand({
      name: 'tenants list',
      summary: 'every tenant with its limits',
      columns: [['SLUG', 'slug'], ['NAME', 'name'], ['MAX RUNNING', 'maxRunning'], ['RPS', 'rps'], ['CREATED', 'createdAt']],
      list: async (c, options) => {
        const page = await c.client.tenants.list(options);
        return c.json ? page : { ...page, items: page.items.map(flat) };
      },
    }),
    {
      name: 'tenants get',
      args: '<slug>',
      summary: 'one tenant with its limits and usage (running, waiting, executions, definitions)',
      async run(c) {
        const t = await c.client.tenants.get(c.arg(0, 'slug'));
        if (c.json) show(c, t);
        else show(c, { ...flat(t), running: t.usage.running, waiting: t.usage.waiting, executions: t.usage.executions, definitions: t.usage.definitions });
        return 0;
      },
    },
    {
      name: 'tenants create',
      args: '<slug>',
      summary: 'create a tenant (slug: a-z, 0-9 and -, 2-63 characters); then `keys create --tenant <slug>`',
      flags: { name: { type: 'string', arg: 'NAME', help: 'display name (default: the slug)' }, ...LIMIT_FLAGS },
      async run(c) {
        const slug = c.arg(0, 'slug');
        const l = limits(c);
        showTenant(c, await c.client.tenants.create({ slug, name: c.str('name') ?? slug, ...(l === undefined ? {} : { limits: l }) }));
        return 0;
      },
    },
    {
      name: 'tenants update',
      args: '<slug>',
      summary: 'change the name or limits of a tenant (a limit not given is kept)',
      flags: { name: { type: 'string', arg: 'NAME', help: 'new display name' }, ...LIMIT_FLAGS },
      async run(c) {
        const name = c.str('name');
        const l = limits(c);
        if (name === undefined && l === undefined) throw new UsageError('tenants update needs --name, --max-running or --rps');
        showTenant(c, await c.client.tenants.update(c.arg(0, 'slug'), { ...(name === undefined ? {} : { name }), ...(l === undefined ? {} : { limits: l }) }));
        return 0;
      },
    },
  ],
};
