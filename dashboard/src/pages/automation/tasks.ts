/**
 * @module dashboard/pages/automation/tasks — standalone tasks (one step on an agent kind, no flow): the list with
 * filters, a form to run one, and `#/tasks/:id` with its input, output, error and attempts; pending or running ones can be cancelled.
 */
import type { AttemptView, TaskStatus, TaskView } from '../../../../src/client/index.ts';
import type { App, Page } from '../../app.ts';
import { badge, fill, h, jsonBlock, parseJsonField } from '../../dom.ts';
import { actionForm, field, optionalNumber, select } from '../../widgets/form.ts';
import { ms, stamp } from '../../widgets/format.ts';
import { PageScope } from '../../widgets/scope.ts';
import { dataTable, td } from '../../widgets/table.ts';

const STATUSES: readonly TaskStatus[] = ['pending', 'running', 'completed', 'failed', 'cancelled'];
const open = (t: TaskView): boolean => t.status === 'pending' || t.status === 'running';
/** While a task shown is open, the page reads again this often. */
const REFRESH_MS = 2000;

export const tasksPage: Page = (root, app, [selected]) => {
  const scope = new PageScope(app);
  const message = h('div');
  const status = select({ id: 'tasks-status', 'aria-label': 'Status' }, ['', ...STATUSES], { '': 'any' });
  const agent = h('input', { id: 'tasks-agent', placeholder: 'agent kind', autocomplete: 'off' });
  let openShown = false;

  const cancel = (t: TaskView): void => {
    void scope.run(message, () => app.api.tasks.cancel(t.id)).then(() => refresh());
  };

  const table = dataTable<TaskView>('tasks', ['Task', 'Agent kind', 'Status', 'Tries', 'Created', 'Finished', ''], (t) =>
    h(
      'tr',
      { 'data-id': t.id, 'data-status': t.status, class: t.id === selected ? 'selected' : undefined },
      td(h('a', { class: 'mono', href: `#/tasks/${t.id}` }, t.id)),
      td(h('code', {}, t.agent)),
      td(badge(t.status)),
      td(String(t.attempts)),
      td(stamp(t.createdAt)),
      td(stamp(t.completedAt)),
      td(open(t) ? h('button', { type: 'button', class: 'danger', 'aria-label': `Cancel task ${t.id}`, onclick: () => cancel(t) }, 'Cancel') : null),
    ),
  );

  const load = async (): Promise<void> => {
    const page = await scope.run(message, () =>
      app.api.tasks.list({ limit: 100, ...(status.value === '' ? {} : { status: status.value as TaskStatus }), ...(agent.value.trim() === '' ? {} : { agent: agent.value.trim() }) }),
    );
    if (page === undefined) return;
    table.show(page.items, 'No tasks match.');
    openShown = page.items.some(open);
  };

  const detail = h('div');
  const loadDetail = async (id: string): Promise<void> => {
    const got = await scope.run(message, () => Promise.all([app.api.tasks.get(id), app.api.tasks.attempts(id, { limit: 100 })]));
    if (got === undefined) return;
    const [t, attempts] = got;
    openShown ||= open(t);
    fill(detail, taskDetail(t, attempts.items, () => cancel(t)));
  };
  const refresh = (): void => {
    void load();
    if (selected) void loadDetail(selected);
  };

  status.addEventListener('change', () => void load());
  agent.addEventListener('change', () => void load());
  root.append(
    h('h1', {}, 'Tasks'),
    detail,
    h('div', { class: 'panel' }, h('div', { class: 'toolbar' }, field('Status', status), field('Agent kind', agent)), message, table.element),
    h('div', { class: 'panel' }, h('h2', {}, 'Run a task'), createForm(app, refresh)),
  );
  refresh();
  scope.every(REFRESH_MS, () => {
    if (openShown) refresh();
  });
  return scope.dispose;
};

function taskDetail(t: TaskView, attempts: readonly AttemptView[], cancel: () => void): HTMLElement {
  const tries = dataTable<AttemptView>('task-attempts', ['Try', 'Status', 'Started', 'Took', 'Agent', 'Error'], (a) =>
    h('tr', { 'data-attempt': a.attempt }, td(String(a.attempt)), td(badge(a.status)), td(stamp(a.startedAt)), td(ms(a.durationMs)), td(h('code', {}, a.agentId ?? '—')), td(a.error === null ? '—' : jsonBlock(a.error))),
  );
  tries.show(attempts, 'Not tried yet.');
  return h(
    'section',
    { class: 'panel', id: 'task', 'data-status': t.status, 'aria-label': `Task ${t.id}` },
    h('div', { class: 'row' }, h('h2', {}, 'Task ', h('code', {}, t.id)), badge(t.status), open(t) ? h('button', { type: 'button', class: 'danger', onclick: cancel }, 'Cancel') : null),
    h(
      'dl',
      { class: 'kv' },
      h('dt', {}, 'Agent kind'),
      h('dd', {}, h('code', {}, t.agent)),
      h('dt', {}, 'Retry'),
      h('dd', {}, `${t.retry.maxAttempts} tries, ${t.retry.backoff} from ${t.retry.initialMs} ms`),
      h('dt', {}, 'Timeout per try'),
      h('dd', {}, ms(t.timeoutMs)),
      h('dt', {}, 'Created'),
      h('dd', {}, stamp(t.createdAt)),
    ),
    h('div', { class: 'grid2' }, h('div', {}, h('h3', {}, 'Input'), jsonBlock(t.input)), h('div', {}, h('h3', {}, t.error === null ? 'Output' : 'Error'), jsonBlock(t.error ?? t.output))),
    h('h3', {}, 'Tries'),
    tries.element,
  );
}

function createForm(app: App, created: () => void): HTMLFormElement {
  const kind = h('select', { id: 'task-agent', required: true });
  app.api.taskDefinitions.list({ limit: 1000 }).then(
    (page) => kind.replaceChildren(...page.items.map((d) => h('option', { value: d.kind, title: d.description ?? '' }, d.kind))),
    (err: unknown) => app.failed(err),
  );
  const input = h('textarea', { id: 'task-input', rows: 3 }, '{}');
  const tries = h('input', { id: 'task-tries', type: 'number', min: 1, max: 100, placeholder: '3', inputmode: 'numeric' });
  const timeout = h('input', { id: 'task-timeout', type: 'number', min: 1, placeholder: 'none', inputmode: 'numeric' });
  return actionForm(app, {
    id: 'task-form',
    submit: 'Run task',
    fields: [h('div', { class: 'toolbar' }, field('Agent kind', kind), field('Tries at most', tries), field('Timeout per try (ms)', timeout)), field('Input (JSON)', input)],
    action: async () => {
      const maxAttempts = optionalNumber(tries, 'Tries');
      const timeoutMs = optionalNumber(timeout, 'Timeout');
      const t = await app.api.tasks.create({
        agent: kind.value,
        input: parseJsonField(input.value, 'Input') ?? null,
        ...(maxAttempts === undefined ? {} : { retry: { maxAttempts } }),
        ...(timeoutMs === undefined ? {} : { timeoutMs }),
      });
      created();
      return h('span', {}, 'Created ', h('a', { class: 'mono', href: `#/tasks/${t.id}` }, t.id), '.');
    },
  });
}
