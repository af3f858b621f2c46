/**
 * @module dashboard/pages/admin/tenants — tenants (admins of tenant default): their quotas against their usage,
 * create one, and `#/tenants/:slug` to change its name and limits (an empty limit removes it).
 */
import type { TenantDetail, TenantLimits } from '../../../../src/client/index.ts';
import type { App, Page } from '../../app.ts';
import { fill, h, time } from '../../dom.ts';
import { actionForm, field } from '../../widgets/form.ts';
import { count } from '../../widgets/format.ts';
import { PageScope } from '../../widgets/scope.ts';
import { dataTable, td } from '../../widgets/table.ts';

const limitText = (n: number | null): string => (n === null ? 'no limit' : count(n));

/** An input of a limit: a number, or empty for "no limit" (null). @throws when it is neither */
function limitOf(input: HTMLInputElement, what: string): number | null {
  const text = input.value.trim();
  if (text === '') return null;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${what} must be a whole number of at least 1, or empty for no limit`);
  return n;
}

/** Running against its cap, as a meter when there is a cap. */
function usage(t: TenantDetail): HTMLElement {
  const max = t.limits.maxRunning;
  if (max === null) return h('span', {}, `${count(t.usage.running)} open`);
  return h('span', { class: 'load' }, h('meter', { min: 0, max, value: t.usage.running, high: max * 0.8, 'aria-label': `${t.slug}: ${t.usage.running} of ${max} open executions` }), h('span', { class: 'load-text' }, `${count(t.usage.running)} / ${count(max)}`));
}

export const tenantsPage: Page = (root, app, [selected]) => {
  const scope = new PageScope(app);
  const message = h('div');
  const editor = h('div');

  const table = dataTable<TenantDetail>(
    'tenants',
    ['Tenant', 'Name', 'Open executions', 'Max open', 'Requests/s', 'Waiting', 'All executions', 'Definitions', ''],
    (t) =>
      h(
        'tr',
        { 'data-slug': t.slug, class: t.slug === selected ? 'selected' : undefined },
        td(h('code', {}, t.slug)),
        td(t.name),
        td(usage(t)),
        td(h('span', { class: 'max-running' }, limitText(t.limits.maxRunning))),
        td(h('span', { class: 'rps' }, limitText(t.limits.rps))),
        td(count(t.usage.waiting)),
        td(count(t.usage.executions)),
        td(count(t.usage.definitions)),
        td(h('a', { class: 'button', href: `#/tenants/${encodeURIComponent(t.slug)}`, 'aria-label': `Edit limits of ${t.slug}` }, 'Edit')),
      ),
    (t) => t.slug,
  );

  const load = async (): Promise<void> => {
    const details = await scope.run(message, async () => {
      const page = await app.api.tenants.list({ limit: 1000 });
      return Promise.all(page.items.map((t) => app.api.tenants.get(t.slug)));
    });
    if (details === undefined) return;
    table.show(details, 'No tenants.');
    const current = details.find((t) => t.slug === selected);
    if (current !== undefined && editor.childElementCount === 0) fill(editor, editForm(app, current, () => void load()));
  };

  root.append(
    h('h1', {}, 'Tenants'),
    editor,
    h('div', { class: 'panel' }, h('p', { class: 'muted' }, 'Quotas per tenant: at most "Max open" non-terminal executions (a start past it is refused with 429), and "Requests/s" over all its keys.'), message, table.element),
    h('div', { class: 'panel' }, h('h2', {}, 'New tenant'), createForm(app, () => void load())),
  );
  void load();
  return scope.dispose;
};

function editForm(app: App, t: TenantDetail, saved: () => void): HTMLElement {
  const name = h('input', { id: 'tenant-edit-name', value: t.name, required: true, autocomplete: 'off' });
  const maxRunning = h('input', { id: 'tenant-edit-max-running', type: 'number', min: 1, value: t.limits.maxRunning ?? '', placeholder: 'no limit', inputmode: 'numeric' });
  const rps = h('input', { id: 'tenant-edit-rps', type: 'number', min: 1, value: t.limits.rps ?? '', placeholder: 'no limit', inputmode: 'numeric' });
  return h(
    'section',
    { class: 'panel', id: 'tenant-editor', 'aria-label': `Limits of ${t.slug}` },
    h('h2', {}, 'Tenant ', h('code', {}, t.slug)),
    h('p', { class: 'muted' }, 'Created ', time(t.createdAt), ' · changed ', time(t.updatedAt)),
    actionForm(app, {
      id: 'tenant-edit-form',
      submit: 'Save',
      inline: true,
      fields: [field('Name', name), field('Max open executions', maxRunning), field('Requests per second', rps)],
      action: async () => {
        const limits: TenantLimits = { maxRunning: limitOf(maxRunning, 'Max open executions'), rps: limitOf(rps, 'Requests per second') };
        const updated = await app.api.tenants.update(t.slug, { name: name.value.trim(), limits });
        saved();
        return h('span', { id: 'tenant-saved' }, `Saved: max open ${limitText(updated.limits.maxRunning)}, ${limitText(updated.limits.rps)} requests/s.`);
      },
    }),
  );
}

function createForm(app: App, created: () => void): HTMLFormElement {
  const slug = h('input', { id: 'tenant-slug', required: true, pattern: '[a-z0-9][a-z0-9\\-]{1,62}', placeholder: 'acme', autocomplete: 'off' });
  const name = h('input', { id: 'tenant-name', required: true, placeholder: 'Acme Inc.', autocomplete: 'off' });
  const maxRunning = h('input', { id: 'tenant-max-running', type: 'number', min: 1, placeholder: 'no limit', inputmode: 'numeric' });
  const rps = h('input', { id: 'tenant-rps', type: 'number', min: 1, placeholder: 'no limit', inputmode: 'numeric' });
  return actionForm(app, {
    id: 'tenant-form',
    submit: 'Create tenant',
    inline: true,
    fields: [field('Slug', slug), field('Name', name), field('Max open executions', maxRunning), field('Requests per second', rps)],
    action: async () => {
      const t = await app.api.tenants.create({ slug: slug.value.trim(), name: name.value.trim(), limits: { maxRunning: limitOf(maxRunning, 'Max open executions'), rps: limitOf(rps, 'Requests per second') } });
      created();
      return h('span', {}, 'Created ', h('a', { href: `#/tenants/${encodeURIComponent(t.slug)}` }, t.slug), '. Create a key for it on the API keys page.');
    },
  });
}
