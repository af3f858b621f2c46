/**
 * @module dashboard/pages/executions-bulk — a bulk action (cancel, pause, resume, retry) on the executions list's
 * current filter: the count first (a dry run) to confirm, then one progress line fed by the firehose's `bulk.*` events.
 */
import type { BulkAction, BulkEventView, BulkFilter, BulkOperationView } from '../../../src/client/index.ts';
import type { App } from '../app.ts';
import { errorBox, h } from '../dom.ts';

const ACTIONS: readonly BulkAction[] = ['cancel', 'pause', 'resume', 'retry'];

type Counts = Pick<BulkOperationView, 'status' | 'matched' | 'succeeded' | 'skipped' | 'failed'>;

const done = (c: Counts): number => c.succeeded + c.skipped + c.failed;

/** Events and reads race (a GET answered after the last event carries older counts): never show a step backwards. */
const behind = (shown: Counts | undefined, next: Counts): boolean =>
  shown !== undefined && (done(next) < done(shown) || (shown.status !== 'running' && next.status === 'running'));

const line = (id: string, action: string, c: Counts): string =>
  `${id} ${action}: ${done(c)}/${c.matched} — succeeded ${c.succeeded}, skipped ${c.skipped}, failed ${c.failed}${c.status === 'running' ? '' : ` (${c.status})`}`;

/** The panel, acting on `filter()` (undefined while the list shows everything: a bulk action needs a criterion). */
export function bulkPanel(app: App, filter: () => BulkFilter | undefined): { readonly element: HTMLElement; dispose(): void } {
  const action = h('select', { id: 'bulk-action' }, ...ACTIONS.map((a) => h('option', { value: a }, a)));
  const progress = h('div', { id: 'bulk-progress', class: 'mono' });
  const message = h('div');
  let current: { id: string; action: string; shown?: Counts } | undefined;
  const stop = h('button', { type: 'button', hidden: true, onclick: () => void halt() }, 'Stop');
  const apply = h('button', { id: 'bulk-apply', type: 'button', onclick: () => void start() }, 'Apply to matching…');

  const show = (c: Counts): void => {
    if (current === undefined || behind(current.shown, c)) return;
    current.shown = c;
    progress.textContent = line(current.id, current.action, c);
    progress.dataset['status'] = c.status;
    stop.hidden = c.status !== 'running';
    apply.disabled = c.status === 'running';
  };
  const refresh = async (): Promise<void> => {
    if (current !== undefined) show(await app.api.bulkOperations.get(current.id));
  };
  const fail = (err: unknown): void => {
    app.failed(err);
    message.replaceChildren(errorBox(err));
  };

  async function start(): Promise<void> {
    message.replaceChildren();
    const f = filter();
    if (f === undefined) return void message.replaceChildren(h('p', { class: 'muted' }, 'Choose a status or a workflow first: a bulk action needs a filter.'));
    const req = { action: action.value as BulkAction, filter: f };
    try {
      const preview = await app.api.bulkOperations.preview(req);
      if (preview.matched === 0) return void message.replaceChildren(h('p', { class: 'muted' }, 'No execution matches.'));
      if (!confirm(`${req.action} ${preview.matched} execution${preview.matched === 1 ? '' : 's'}?`)) return;
      const accepted = await app.api.bulkOperations.create(req);
      current = { id: accepted.id, action: req.action };
      show({ status: accepted.status, matched: accepted.matched, succeeded: 0, skipped: 0, failed: 0 });
      // Events may have gone by before the id was known.
      await refresh();
    } catch (err) {
      fail(err);
    }
  }

  async function halt(): Promise<void> {
    if (current === undefined) return;
    try {
      show(await app.api.bulkOperations.cancel(current.id));
    } catch (err) {
      fail(err);
    }
  }

  const unsubscribe = app.live.bulk(
    (e: BulkEventView) => {
      if (current !== undefined && e.operationId === current.id) show(e.data);
    },
    // Subscribed (again): what happened meanwhile is read once.
    () => void refresh().catch(fail),
  );
  const element = h(
    'div',
    { class: 'panel', id: 'bulk-panel' },
    h('h2', {}, 'Bulk action on the filtered executions'),
    h('div', { class: 'toolbar' }, h('label', {}, 'Action', action), apply, stop),
    progress,
    message,
  );
  return { element, dispose: unsubscribe };
}
