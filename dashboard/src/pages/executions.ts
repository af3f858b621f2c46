/**
 * @module dashboard/pages/executions — the executions table: search, status chips with counts and filters
 * (executions-filters.ts), live rows over the WebSocket firehose, a bulk action on the filter, a start form.
 */
import type { ExecutionView } from '../../../src/client/index.ts';
import { ActorflowApiError } from '../../../src/client/index.ts';
import type { Page } from '../app.ts';
import { badge, errorBox, fill, h, parseJsonField, time } from '../dom.ts';
import { bulkPanel } from './executions-bulk.ts';
import { executionFilters } from './executions-filters.ts';

/** Counts are read again at most this often while events flow. */
const COUNTS_EVERY_MS = 1000;

export const executionsPage: Page = (root, app) => {
  /** Rows by id; a row is replaced only by a view at least as recent (events may overtake a list reply). */
  const rows = new Map<string, ExecutionView>();
  let cursor: string | null = null;
  let disposed = false;

  const filters = executionFilters(() => reload(true));
  const tbody = h('tbody');
  const table = h('table', { id: 'executions' }, h('thead', {}, h('tr', {}, ...['ID', 'Workflow', 'Status', 'Current steps', 'Created', 'Updated'].map((t) => h('th', {}, t)))), tbody);
  const message = h('div');
  const more = h('button', { type: 'button', hidden: true, onclick: () => void load(cursor) }, 'Load more');
  const matches = (x: ExecutionView): boolean => filters.matches(x);

  const draw = (changed: ReadonlySet<string> = new Set()): void => {
    const list = [...rows.values()].sort((a, b) => (a.id < b.id ? 1 : -1));
    if (list.length === 0) {
      fill(tbody, h('tr', {}, h('td', { colspan: 6, class: 'empty' }, filters.search() === null && filters.status() === null && filters.workflow() === null ? 'No executions yet.' : 'No execution matches.')));
      return;
    }
    fill(
      tbody,
      list.map((x) =>
        h(
          'tr',
          { 'data-id': x.id, 'data-status': x.status, class: changed.has(x.id) ? 'flash' : undefined },
          h('td', {}, h('a', { class: 'mono', href: `#/executions/${x.id}` }, x.id)),
          h(
            'td',
            {},
            x.workflow,
            h('span', { class: 'muted' }, ` v${x.version}`),
            Object.keys(x.labels).length === 0 ? null : h('div', { class: 'labels mono' }, Object.entries(x.labels).map(([k, v]) => h('span', {}, `${k}=${v}`))),
          ),
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
    const search = filters.search();
    if (search !== null && 'invalid' in search) return;
    try {
      if (search !== null && 'id' in search) {
        // An id is one read: the row, or a plain "not found" (another tenant's id is a 404 as well).
        const x = await app.api.executions.get(search.id).catch((err: unknown) => {
          if (err instanceof ActorflowApiError && err.status === 404) return null;
          throw err;
        });
        if (disposed) return;
        if (x !== null) merge([x]);
        cursor = null;
        more.hidden = true;
        message.replaceChildren(x === null ? h('p', { class: 'muted', id: 'not-found' }, `No execution ${search.id}.`) : '');
        draw();
        return;
      }
      const page = await app.api.executions.list({ limit: 50, ...filters.query(), ...(from === null ? {} : { cursor: from }) });
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

  let countsAt = 0;
  let countsTimer: ReturnType<typeof setTimeout> | undefined;
  const readCounts = (): void => {
    countsTimer = undefined;
    countsAt = Date.now();
    app.api.status().then(
      (s) => {
        if (!disposed) filters.counts(s);
      },
      (err: unknown) => app.failed(err),
    );
  };
  /** At most one read per COUNTS_EVERY_MS, the last change always counted. */
  const countsSoon = (): void => {
    countsTimer ??= setTimeout(readCounts, Math.max(0, countsAt + COUNTS_EVERY_MS - Date.now()));
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
    countsSoon();
  };
  // The list's own filter is the bulk action's: what you see is what it acts on.
  const bulk = bulkPanel(app, () => filters.bulk());
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
      countsSoon();
    },
  );

  root.append(
    h('h1', {}, 'Executions'),
    h(
      'div',
      { class: 'panel' },
      filters.element,
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
    clearTimeout(countsTimer);
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
