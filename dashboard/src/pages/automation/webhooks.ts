/**
 * @module dashboard/pages/automation/webhooks — outbound webhooks: create (a generated secret shown once), delete;
 * `#/webhooks/:id` shows its deliveries with status, tries, the last answer and the next retry.
 */
import type { DeliveryView, WebhookView } from '../../../../src/client/index.ts';
import type { App, Page } from '../../app.ts';
import { h } from '../../dom.ts';
import { actionForm, field } from '../../widgets/form.ts';
import { tags, stamp, tone } from '../../widgets/format.ts';
import { PageScope } from '../../widgets/scope.ts';
import { secretOnce } from '../../widgets/secret.ts';
import { dataTable, td, textTd } from '../../widgets/table.ts';

/** Deliveries retry on their own: the list is read again this often while shown. */
const DELIVERIES_REFRESH_MS = 3000;

const DELIVERY_TONE: Readonly<Record<DeliveryView['status'], string>> = { pending: 'pending', delivered: 'completed', failed: 'waiting', dead: 'failed' };

export const webhooksPage: Page = (root, app, [selected]) => {
  const scope = new PageScope(app);
  const message = h('div');

  const remove = (w: WebhookView): void => {
    if (!confirm(`Delete webhook ${w.id} (${w.url})? Its delivery history goes with it.`)) return;
    void scope.run(message, () => app.api.webhooks.delete(w.id)).then(() => {
      if (selected === w.id) location.hash = '#/webhooks';
      else void load();
    });
  };

  const table = dataTable<WebhookView>('webhooks', ['Webhook', 'URL', 'Events', 'Secret', 'Created', ''], (w) =>
    h(
      'tr',
      { 'data-id': w.id, class: w.id === selected ? 'selected' : undefined },
      td(h('a', { class: 'mono', href: `#/webhooks/${w.id}`, 'aria-label': `Deliveries of webhook ${w.id}` }, w.id)),
      td(h('span', { class: 'mono wrap' }, w.url)),
      td(tags(w.events)),
      td(h('code', {}, w.secretHint)),
      td(stamp(w.createdAt)),
      td(h('button', { type: 'button', class: 'danger', 'data-action': 'delete', 'aria-label': `Delete webhook ${w.id}`, onclick: () => remove(w) }, 'Delete')),
    ),
  );

  const load = async (): Promise<void> => {
    const page = await scope.run(message, () => app.api.webhooks.list({ limit: 1000 }));
    if (page !== undefined) table.show(page.items, 'No webhooks yet.');
  };

  root.append(h('h1', {}, 'Webhooks'), h('div', { class: 'panel' }, message, table.element));
  if (selected !== undefined && selected !== '') root.append(deliveriesPanel(app, scope, selected));
  root.append(h('div', { class: 'panel' }, h('h2', {}, 'New webhook'), createForm(app, () => void load())));
  void load();
  return scope.dispose;
};

function deliveriesPanel(app: App, scope: PageScope, id: string): HTMLElement {
  const message = h('div');
  const table = dataTable<DeliveryView>('deliveries', ['Delivery', 'Event', 'Status', 'Tries', 'Last answer', 'Next try', 'Created', 'Delivered'], (d) =>
    h(
      'tr',
      { 'data-id': d.id, 'data-status': d.status },
      td(h('code', {}, d.id)),
      td(h('code', {}, d.eventType), h('div', { class: 'muted mono small' }, d.eventId)),
      td(tone(d.status, DELIVERY_TONE[d.status], { 'data-status': d.status })),
      td(h('span', { class: 'attempts' }, String(d.attempts))),
      textTd(d.lastStatusCode === null ? null : h('code', {}, `HTTP ${d.lastStatusCode}`), d.lastError === null ? null : h('div', { class: 'muted small' }, d.lastError), d.lastStatusCode === null && d.lastError === null ? h('span', { class: 'muted' }, '—') : null),
      td(d.status === 'pending' || d.status === 'failed' ? stamp(d.nextAttemptAt) : h('span', { class: 'muted' }, '—')),
      td(stamp(d.createdAt)),
      td(stamp(d.deliveredAt)),
    ),
  );
  const load = async (): Promise<void> => {
    const page = await scope.run(message, () => app.api.webhooks.deliveries(id, { limit: 100 }));
    if (page !== undefined) table.show(page.items, 'No deliveries yet: they appear when a subscribed event happens.');
  };
  void load();
  scope.every(DELIVERIES_REFRESH_MS, () => void load());
  return h(
    'section',
    { class: 'panel', id: 'webhook-deliveries', 'aria-label': `Deliveries of ${id}` },
    h('h2', {}, 'Deliveries of ', h('code', {}, id)),
    h('p', { class: 'muted' }, 'Failed tries are retried with a doubling backoff; a delivery is dead after 8 tries. Newest first, refreshed every few seconds.'),
    message,
    table.element,
  );
}

function createForm(app: App, created: () => void): HTMLFormElement {
  const url = h('input', { id: 'webhook-url', type: 'url', required: true, placeholder: 'https://example.com/hooks/actorflow', autocomplete: 'off' });
  const events = h('input', { id: 'webhook-events', required: true, value: 'workflow.completed, workflow.failed', autocomplete: 'off' });
  const secret = h('input', { id: 'webhook-secret', type: 'password', minlength: 16, placeholder: 'generated when empty', autocomplete: 'off' });
  return actionForm(app, {
    id: 'webhook-form',
    submit: 'Create webhook',
    inline: true,
    fields: [field('URL', url, { class: 'grow' }), field('Events (comma-separated; workflow.*, *)', events, { class: 'grow', title: 'Event types; workflow.*, workflow.step.* and * match many' }), field('Secret (16+ characters)', secret)],
    action: async () => {
      const w = await app.api.webhooks.create({
        url: url.value.trim(),
        events: events.value.split(',').map((e) => e.trim()).filter((e) => e !== ''),
        ...(secret.value === '' ? {} : { secret: secret.value }),
      });
      created();
      return h('div', {}, h('p', {}, 'Created ', h('a', { class: 'mono', href: `#/webhooks/${w.id}` }, w.id), '.'), w.secret === undefined ? null : secretOnce('Signing secret', w.secret));
    },
  });
}
