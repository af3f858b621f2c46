/** @module dashboard/pages/admin/api-keys — API keys (admin): the list without secrets, create (the key shown once), revoke. */
import type { ApiKeyView, Scope } from '../../../../src/client/index.ts';
import type { App, Page } from '../../app.ts';
import { h } from '../../dom.ts';
import { actionForm, field, optionalNumber, select } from '../../widgets/form.ts';
import { tags, stamp } from '../../widgets/format.ts';
import { PageScope } from '../../widgets/scope.ts';
import { secretOnce } from '../../widgets/secret.ts';
import { dataTable, td } from '../../widgets/table.ts';

const SCOPES: readonly Scope[] = ['read', 'write', 'admin'];

function rateLimit(k: ApiKeyView): string {
  const r = k['rateLimit'] as { rps: number; burst: number } | null | undefined;
  return r === null || r === undefined ? 'default' : `${r.rps}/s, burst ${r.burst}`;
}

export const apiKeysPage: Page = (root, app) => {
  const scope = new PageScope(app);
  const message = h('div');

  const revoke = (k: ApiKeyView): void => {
    if (!confirm(`Revoke key ${k.name} (${k.id})? Every request with it is refused from now on.`)) return;
    void scope.run(message, () => app.api.apiKeys.revoke(k.id)).then(() => void load());
  };

  const table = dataTable<ApiKeyView>('api-keys', ['Key', 'Name', 'Tenant', 'Scopes', 'Rate limit', 'Created', 'Last used', ''], (k) =>
    h(
      'tr',
      { 'data-id': k.id },
      td(h('code', {}, k.id)),
      td(k.name),
      td(k.tenant),
      td(tags(k.scopes)),
      td(h('span', { class: 'muted' }, rateLimit(k))),
      td(stamp(k.createdAt)),
      td(stamp(k['lastUsedAt'] as string | null | undefined)),
      td(h('button', { type: 'button', class: 'danger', 'data-action': 'revoke', 'aria-label': `Revoke key ${k.name} (${k.id})`, onclick: () => revoke(k) }, 'Revoke')),
    ),
  );

  const load = async (): Promise<void> => {
    const page = await scope.run(message, () => app.api.apiKeys.list({ limit: 1000 }));
    if (page !== undefined) table.show(page.items, 'No keys.');
  };

  root.append(
    h('h1', {}, 'API keys'),
    h('div', { class: 'panel' }, message, table.element),
    h('div', { class: 'panel' }, h('h2', {}, 'New key'), createForm(app, () => void load())),
  );
  void load();
  return scope.dispose;
};

function createForm(app: App, created: () => void): HTMLFormElement {
  const name = h('input', { id: 'key-name', required: true, autocomplete: 'off', placeholder: 'ci-deploy' });
  const tenant = h('input', { id: 'key-tenant', value: 'default', autocomplete: 'off', list: 'key-tenants' });
  const tenants = h('datalist', { id: 'key-tenants' });
  // Only admins of tenant default list tenants; for others the field stays free text.
  app.api.tenants.list({ limit: 1000 }).then(
    (page) => tenants.replaceChildren(...page.items.map((t) => h('option', { value: t.slug }, t.name))),
    () => undefined,
  );
  const scopeSelect = select({ id: 'key-scope' }, SCOPES, { read: 'read', write: 'write (and read)', admin: 'admin (everything)' });
  const rps = h('input', { id: 'key-rps', type: 'number', min: 1, placeholder: 'default', inputmode: 'numeric' });
  return actionForm(app, {
    id: 'key-form',
    submit: 'Create key',
    inline: true,
    fields: [field('Name', name), field('Tenant', tenant), tenants, field('Scope', scopeSelect), field('Requests per second', rps)],
    action: async () => {
      const limit = optionalNumber(rps, 'Requests per second');
      const k = await app.api.apiKeys.create({
        name: name.value.trim(),
        tenant: tenant.value.trim() || 'default',
        scopes: [scopeSelect.value as Scope],
        ...(limit === undefined ? {} : { rateLimit: { rps: limit, burst: limit * 2 } }),
      });
      created();
      return h('div', { id: 'key-created', 'data-id': k.id }, secretOnce(`API key ${k.name}`, k.key));
    },
  });
}
