/** @module dashboard/pages/automation/schedules — schedules with their next and last runs: create, enable/disable, delete. */
import type { CreateScheduleRequest, ScheduleView } from '../../../../src/client/index.ts';
import type { App, Page } from '../../app.ts';
import { h, parseJsonField } from '../../dom.ts';
import { actionForm, field, select } from '../../widgets/form.ts';
import { every, stamp, tone } from '../../widgets/format.ts';
import { PageScope } from '../../widgets/scope.ts';
import { dataTable, td } from '../../widgets/table.ts';

/** Next runs move as schedules fire: the list is read again this often while shown. */
const REFRESH_MS = 10_000;

function trigger(s: ScheduleView): HTMLElement {
  if (s.cron !== null) return h('span', {}, h('code', {}, s.cron), h('span', { class: 'muted' }, ` ${s.timezone ?? 'UTC'}`));
  if (s.everyMs !== null) return h('span', {}, every(s.everyMs));
  return h('span', {}, 'once');
}

export const schedulesPage: Page = (root, app) => {
  const scope = new PageScope(app);
  const message = h('div');

  const setEnabled = (s: ScheduleView, enabled: boolean) => scope.run(message, () => app.api.schedules.update(s.id, { enabled })).then(() => load());
  const remove = (s: ScheduleView): void => {
    if (!confirm(`Delete schedule ${s.id} (${s.workflow})? Runs already started continue.`)) return;
    void scope.run(message, () => app.api.schedules.delete(s.id)).then(() => load());
  };

  const table = dataTable<ScheduleView>('schedules', ['Schedule', 'Workflow', 'Trigger', 'Next run', 'Last run', 'State', ''], (s) =>
    h(
      'tr',
      { 'data-id': s.id, 'data-enabled': String(s.enabled) },
      td(h('code', {}, s.id)),
      td(h('a', { href: `#/definitions/${encodeURIComponent(s.workflow)}` }, s.workflow)),
      td(trigger(s)),
      td(s.enabled ? stamp(s.nextRunAt) : h('span', { class: 'muted' }, 'disabled')),
      td(s.lastExecutionId === null ? h('span', { class: 'muted' }, 'never') : h('a', { class: 'mono', href: `#/executions/${s.lastExecutionId}` }, s.lastExecutionId), ' ', s.lastRunAt === null ? null : stamp(s.lastRunAt)),
      td(s.enabled ? tone('enabled', 'online') : tone('disabled', 'offline')),
      td(
        h(
          'div',
          { class: 'actions' },
          h('button', { type: 'button', 'data-action': s.enabled ? 'disable' : 'enable', 'aria-label': `${s.enabled ? 'Disable' : 'Enable'} schedule ${s.id}`, onclick: () => void setEnabled(s, !s.enabled) }, s.enabled ? 'Disable' : 'Enable'),
          h('button', { type: 'button', class: 'danger', 'data-action': 'delete', 'aria-label': `Delete schedule ${s.id}`, onclick: () => remove(s) }, 'Delete'),
        ),
      ),
    ),
  );

  const load = async (): Promise<void> => {
    const page = await scope.run(message, () => app.api.schedules.list({ limit: 1000 }));
    if (page !== undefined) table.show(page.items, 'No schedules yet.');
  };

  root.append(
    h('h1', {}, 'Schedules'),
    h('div', { class: 'panel' }, message, table.element),
    h('div', { class: 'panel' }, h('h2', {}, 'New schedule'), createForm(app, () => void load())),
  );
  void load();
  scope.every(REFRESH_MS, () => void load());
  return scope.dispose;
};

function createForm(app: App, created: () => void): HTMLFormElement {
  const workflow = h('select', { id: 'schedule-workflow', required: true });
  app.api.definitions.list({ limit: 1000 }).then(
    (page) => workflow.replaceChildren(...page.items.filter((d) => !d.retired).map((d) => h('option', { value: d.name }, d.name))),
    (err: unknown) => app.failed(err),
  );
  const kind = select({ id: 'schedule-kind' }, ['cron', 'every', 'at'], { cron: 'cron expression', every: 'every N seconds', at: 'once at' });
  const when = h('input', { id: 'schedule-when', required: true, placeholder: '*/5 * * * *', autocomplete: 'off' });
  const timezone = h('input', { id: 'schedule-timezone', placeholder: 'UTC', autocomplete: 'off' });
  const overlap = select({ id: 'schedule-overlap' }, ['skip', 'allow', 'cancel-previous']);
  const input = h('textarea', { id: 'schedule-input', rows: 2 }, '');
  const enabled = h('input', { id: 'schedule-enabled', type: 'checkbox', checked: true });
  kind.addEventListener('change', () => {
    when.placeholder = { cron: '*/5 * * * *', every: '60', at: new Date(Date.now() + 3_600_000).toISOString() }[kind.value] ?? '';
    timezone.disabled = kind.value !== 'cron';
  });
  return actionForm(app, {
    id: 'schedule-form',
    submit: 'Create schedule',
    fields: [
      h(
        'div',
        { class: 'toolbar' },
        field('Workflow', workflow),
        field('Trigger', kind),
        field('When', when),
        field('Time zone (cron)', timezone),
        field('If the last run is still open', overlap),
        h('label', { class: 'check' }, enabled, 'Enabled'),
      ),
      field('Input (JSON)', input),
    ],
    action: async () => {
      const body = parseJsonField(input.value, 'Input');
      const value = when.value.trim();
      const triggerOf: Record<string, Partial<CreateScheduleRequest>> = {
        cron: { cron: value, ...(timezone.value.trim() === '' ? {} : { timezone: timezone.value.trim() }) },
        every: { everyMs: Math.round(Number(value) * 1000) },
        at: { at: value },
      };
      const s = await app.api.schedules.create({
        workflow: workflow.value,
        ...triggerOf[kind.value],
        overlap: overlap.value as ScheduleView['overlap'],
        enabled: enabled.checked,
        ...(body === undefined ? {} : { input: body }),
      });
      created();
      return h('span', {}, 'Created ', h('code', { id: 'schedule-created' }, s.id), s.nextRunAt === null ? '.' : ['; next run ', stamp(s.nextRunAt), '.']);
    },
  });
}
