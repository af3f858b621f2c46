/** @module dashboard/pages/executions — the executions table: filters, live rows over the WebSocket firehose, a start form. */
import type { ExecutionStatus, ExecutionView } from '../../../src/client/index.ts';
import type { Page } from '../app.ts';
import { badge, errorBox, fill, h, parseJsonField, time } from '../dom.ts';
import { bulkPanel } from './executions-bulk.ts';

const STATUSES: readonly ExecutionStatus[] = ['pending', 'queued', 'running', 'waiting', 'paused', 'completed', 'failed', 'cancelled', 'timed_out'];

export const executionsPage: Page = (root, app) => {
  /** Rows by id; a row is replaced only by a view at least as recent (events may overtake a list reply). */
  const rows = new Map<string, ExecutionView>();
  let cursor: string | null = null;
  let disposed = false;

  const statusFilter = h('select', { id: 'filter-status', onchange: () => reload(true) }, h('option', { value: '' }, 'any'), ...STATUSES.map((s) => h('option', { value: s }, s.replace('_', ' '))));
  const workflowFilter = h('input', { id: 'filter-workflow', placeholder: 'workflow name', onchange: () => reload(true) });
  const tbody = h('tbody');
  const table = h('table', { id: 'executions' }, h('thead', {}, h('tr', {}, ...['ID', 'Workflow', 'Status', 'Current steps', 'Created', 'Updated'].map((t) => h('th', {}, t)))), tbody);
  const message = h('div');
  const more = h('button', { type: 'button', hidden: true, onclick: () => void load(cursor) }, 'Load more');

  const matches = (x: ExecutionView): boolean =>
    (statusFilter.value === '' || x.status === statusFilter.value) && (workflowFilter.value.trim() === '' || x.workflow === workflowFilter.value.trim());

  const draw = (changed: ReadonlySet<string> = new Set()): void => {
    const list = [...rows.values()].sort((a, b) => (a.id < b.id ? 1 : -1));
    if (list.length === 0) {
      fill(tbody, h('tr', {}, h('td', { colspan: 6, class: 'empty' }, 'No executions yet.')));
      return;
    }
    fill(
      tbody,
      list.map((x) =>
        h(
          'tr',
          { 'data-id': x.id, 'data-status': x.status, class: changed.has(x.id) ? 'flash' : undefined },
          h('td', {}, h('a', { class: 'mono', href: `#/executions/${x.id}` }, x.id)),
          h('td', {}, x.workflow, h('span', { class: 'muted' }, ` v${x.version}`)),
          h('td', {}, badge(x.status)),
          h('td', { class: 'mono' }, x.currentSteps.join(', ') || h('span', { class: 'muted' }, '—')),
          h('td', {}, time(x.createdAt)),
          h('td', {}, time(x.updatedAt)),
        ),
      ),
    );
  };

  /** Merges views into the table; returns the ids that changed. */
  const merge = (items: readonly ExecutionView[]): Set<string> => {
    const changed = new Set<string>();
    for (const x of items) {
      const had = rows.get(x.id);
      if (!matches(x)) {
        if (had !== undefined && x.lastSeq >= had.lastSeq) rows.delete(x.id);
        continue;
      }
      if (had === undefined || x.lastSeq > had.lastSeq) {
        rows.set(x.id, x);
        changed.add(x.id);
      }
    }
    return changed;
  };

  const load = async (from: string | null): Promise<void> => {
    try {
      const status = statusFilter.value === '' ? undefined : (statusFilter.value as ExecutionStatus);
      const workflow = workflowFilter.value.trim() === '' ? undefined : workflowFilter.value.trim();
      const page = await app.api.executions.list({ limit: 50, ...(status === undefined ? {} : { status }), ...(workflow === undefined ? {} : { workflow }), ...(from === null ? {} : { cursor: from }) });
      if (disposed) return;
      merge(page.items);
      cursor = page.nextCursor;
      more.hidden = cursor === null;
      message.replaceChildren();
      draw();
    } catch (err) {
      app.failed(err);
      message.replaceChildren(errorBox(err));
    }
  };

  const reload = (clear: boolean): void => {
    if (clear) rows.clear();
    cursor = null;
    void load(null);
  };

  // Live: every event names its execution; changed executions are fetched again, a few at a time.
  const pending = new Set<string>();
  let flushTimer: ReturnType<typeof setTimeout> | undefined;
  const flush = async (): Promise<void> => {
    flushTimer = undefined;
    const ids = [...pending];
    pending.clear();
    const views = await Promise.all(ids.map((id) => app.api.executions.get(id).catch(() => undefined)));
    if (disposed) return;
    draw(merge(views.filter((v): v is ExecutionView => v !== undefined)));
  };
  // The list's own filter is the bulk action's: what you see is what it acts on.
  const bulk = bulkPanel(app, () => {
    const status = statusFilter.value;
    const workflow = workflowFilter.value.trim();
    if (status === '' && workflow === '') return undefined;
    return { ...(status === '' ? {} : { status: [status as ExecutionStatus] }), ...(workflow === '' ? {} : { workflow }) };
  });
  const unsubscribe = app.live.firehose(
    (e) => {
      pending.add(e.executionId);
      // Coalesce a burst of events (a flow's steps) into one fetch per execution.
      flushTimer ??= setTimeout(() => void flush(), 60);
    },
    () => {
      // Subscribed (again): whatever happened before is in the list.
      table.dataset['subscribed'] = 'true';
      reload(false);
    },
  );

  root.append(
    h('h1', {}, 'Executions'),
    h(
      'div',
      { class: 'panel' },
      h('div', { class: 'toolbar' }, h('label', {}, 'Status', statusFilter), h('label', {}, 'Workflow', workflowFilter)),
      message,
      table,
      h('div', { class: 'actions', style: 'margin-top:10px' }, more),
    ),
    bulk.element,
    startForm(app, (x) => draw(merge([x]))),
  );
  draw();
  void load(null);
  return () => {
    disposed = true;
    clearTimeout(flushTimer);
    unsubscribe();
    bulk.dispose();
  };
};

/** Start an execution of a registered workflow with a JSON input. */
function startForm(app: Parameters<Page>[1], started: (x: ExecutionView) => void): HTMLElement {
  const workflow = h('select', { id: 'start-workflow', required: true });
  const input = h('textarea', { id: 'start-input', rows: 3 }, '{}');
  const message = h('div');
  const button = h('button', { class: 'primary', type: 'submit' }, 'Start');
  app.api.definitions.list({ limit: 1000 }).then(
    (page) => fill(workflow, page.items.filter((d) => !d.retired).map((d) => h('option', { value: d.name }, `${d.name} (v${d.version})`))),
    (err: unknown) => app.failed(err),
  );
  const form = h(
    'form',
    {
      id: 'start-form',
      onsubmit: (ev) => {
        ev.preventDefault();
        message.replaceChildren();
        let body: unknown;
        try {
          body = parseJsonField(input.value, 'Input');
        } catch (err) {
          message.replaceChildren(errorBox(err));
          return;
        }
        button.disabled = true;
        app.api.executions
          .start({ workflow: workflow.value, ...(body === undefined ? {} : { input: body }) })
          .then(
            (x) => {
              started(x);
              message.replaceChildren(h('p', {}, 'Started ', h('a', { class: 'mono', href: `#/executions/${x.id}` }, x.id), '.'));
            },
            (err: unknown) => {
              app.failed(err);
              message.replaceChildren(errorBox(err));
            },
          )
          .finally(() => (button.disabled = false));
      },
    },
    h('div', { class: 'toolbar' }, h('label', {}, 'Workflow', workflow), h('label', { style: 'flex:1' }, 'Input (JSON)', input), button),
    message,
  );
  return h('div', { class: 'panel' }, h('h2', {}, 'Start an execution'), form);
}
