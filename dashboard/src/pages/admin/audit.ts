/** @module dashboard/pages/admin/audit — the audit log (admin): state-changing calls, newest first, filtered by key, route and time. */
import type { AuditEntry } from '../../../../src/client/index.ts';
import type { Page } from '../../app.ts';
import { h } from '../../dom.ts';
import { field, toolbarForm } from '../../widgets/form.ts';
import { stamp, tone } from '../../widgets/format.ts';
import { PageScope } from '../../widgets/scope.ts';
import { dataTable, td } from '../../widgets/table.ts';

const PAGE_SIZE = 100;

/** A `datetime-local` value (the browser's zone) as RFC 3339, or undefined when empty. */
const isoOf = (input: HTMLInputElement): string | undefined => (input.value === '' ? undefined : new Date(input.value).toISOString());

const statusTone = (status: number): string => (status >= 500 ? 'failed' : status >= 400 ? 'waiting' : 'completed');

export const auditPage: Page = (root, app) => {
  const scope = new PageScope(app);
  const message = h('div');
  let entries: AuditEntry[] = [];
  let cursor: string | null = null;

  const keyId = h('select', { id: 'audit-key', class: 'narrow' }, h('option', { value: '' }, 'any key'));
  const route = h('input', { id: 'audit-route', list: 'audit-routes', placeholder: '/api/v1/schedules/{id}', autocomplete: 'off' });
  const routes = h('datalist', { id: 'audit-routes' });
  const from = h('input', { id: 'audit-from', type: 'datetime-local', step: 1 });
  const to = h('input', { id: 'audit-to', type: 'datetime-local', step: 1 });
  const more = h('button', { type: 'button', hidden: true, onclick: () => void load(false) }, 'Load more');
  const names = new Map<string, string>();

  const table = dataTable<AuditEntry>(
    'audit',
    ['Time', 'Key', 'Method', 'Route', 'Target', 'Status', 'Request'],
    (e) =>
      h(
        'tr',
        { 'data-route': e.route, 'data-method': e.method, 'data-key': e.keyId ?? '' },
        td(stamp(e.at)),
        td(e.keyId === null ? h('span', { class: 'muted' }, '—') : h('span', { title: e.keyId }, names.get(e.keyId) ?? h('code', {}, e.keyId))),
        td(h('code', {}, e.method)),
        td(h('code', { class: 'wrap' }, e.route)),
        td(e.targetId === null ? h('span', { class: 'muted' }, '—') : h('code', {}, e.targetId)),
        td(tone(String(e.status), statusTone(e.status))),
        td(h('code', { class: 'muted small' }, e.requestId)),
      ),
    (e) => `${e.requestId}|${e.at}`,
  );

  const load = async (fresh: boolean): Promise<void> => {
    const r = route.value.trim();
    const k = keyId.value;
    const page = await scope.run(message, () =>
      app.api.audit({
        limit: PAGE_SIZE,
        ...(k === '' ? {} : { keyId: k }),
        ...(r === '' ? {} : { route: r }),
        ...(isoOf(from) === undefined ? {} : { from: isoOf(from) as string }),
        ...(isoOf(to) === undefined ? {} : { to: isoOf(to) as string }),
        ...(fresh || cursor === null ? {} : { cursor }),
      }),
    );
    if (page === undefined) return;
    entries = fresh ? page.items : [...entries, ...page.items];
    cursor = page.nextCursor;
    more.hidden = cursor === null;
    table.table.dataset['filter'] = JSON.stringify({ keyId: k, route: r });
    table.show(entries, 'No entries match.');
    // The routes seen so far, as suggestions for the route filter (it matches a route exactly).
    const known = new Set([...routes.querySelectorAll('option')].map((o) => o.value));
    for (const e of page.items) if (!known.has(e.route)) routes.append(h('option', { value: e.route })), known.add(e.route);
  };

  // Key names for the Key column and the key filter.
  void scope.run(message, () => app.api.apiKeys.list({ limit: 1000 })).then((page) => {
    for (const k of page?.items ?? []) {
      names.set(k.id, k.name);
      keyId.append(h('option', { value: k.id }, `${k.name} (${k.id})`));
    }
    table.show(entries, 'No entries match.');
  });

  const filters = toolbarForm('audit-filters', [field('Key', keyId), field('Route (exact)', route, { class: 'grow' }), routes, field('From', from), field('To', to)], 'Filter', () => void load(true), 'search');
  keyId.addEventListener('change', () => void load(true));

  root.append(
    h('h1', {}, 'Audit'),
    h('div', { class: 'panel' }, h('p', { class: 'muted' }, 'Every state-changing call, newest first: who (the key), what (method and route), on which resource, and the answer.'), filters, message, table.element, h('div', { class: 'actions' }, more)),
  );
  void load(true);
  return scope.dispose;
};
