/**
 * @module dashboard/pages/library/documents — documents that flows and people saved: filtered by scope, type and
 * status, or opened by id; `#/documents/:id` shows the latest content and every version (each one can be shown).
 */
import type { DocumentStatus, DocumentSummaryView, DocumentVersionSummaryView, DocumentView } from '../../../../src/client/index.ts';
import type { App, Page } from '../../app.ts';
import { fill, h, jsonBlock } from '../../dom.ts';
import { field, select, toolbarForm } from '../../widgets/form.ts';
import { stamp, tone } from '../../widgets/format.ts';
import { PageScope } from '../../widgets/scope.ts';
import { dataTable, td } from '../../widgets/table.ts';

const STATUS_TONE: Readonly<Record<DocumentStatus, string>> = { draft: 'pending', final: 'completed', archived: 'cancelled' };
const status = (s: DocumentStatus): HTMLElement => tone(s, STATUS_TONE[s], { 'data-status': s });

/** Who wrote it: the execution (and step) that saved it, or the API. */
const writer = (d: { executionId: string | null; stepId: string | null }): HTMLElement =>
  d.executionId === null ? h('span', { class: 'muted' }, 'API') : h('span', {}, h('a', { class: 'mono', href: `#/executions/${d.executionId}` }, d.executionId), d.stepId === null ? null : h('span', { class: 'muted' }, ` · ${d.stepId}`));

/** Text content as text, anything else as JSON. */
const content = (value: unknown): HTMLElement => (typeof value === 'string' ? h('pre', { class: 'document-text' }, value) : jsonBlock(value));

export const documentsPage: Page = (root, app, [selected]) => {
  const scope = new PageScope(app);
  const message = h('div');
  const detail = h('div');

  const scopeType = h('input', { id: 'documents-scope-type', placeholder: 'project', autocomplete: 'off' });
  const scopeId = h('input', { id: 'documents-scope-id', placeholder: 'p-1', autocomplete: 'off' });
  const type = h('input', { id: 'documents-type', placeholder: 'report', autocomplete: 'off' });
  const statusFilter = select({ id: 'documents-status' }, ['', 'draft', 'final', 'archived'], { '': 'any' });
  const openId = h('input', { id: 'documents-open-id', placeholder: 'doc_…', autocomplete: 'off', spellcheck: 'false' });

  const table = dataTable<DocumentSummaryView>('documents', ['Title', 'Type', 'Scope', 'Status', 'Version', 'Written by', 'Updated'], (d) =>
    h(
      'tr',
      { 'data-id': d.id, class: d.id === selected ? 'selected' : undefined },
      td(h('a', { href: `#/documents/${d.id}` }, d.title), h('div', { class: 'muted mono small' }, d.id)),
      td(h('code', {}, d.type)),
      td(h('code', {}, `${d.scopeType}/${d.scopeId}`)),
      td(status(d.status)),
      td(`v${d.version}`),
      td(writer(d)),
      td(stamp(d.updatedAt)),
    ),
  );

  const load = async (): Promise<void> => {
    const v = (i: HTMLInputElement) => i.value.trim();
    const page = await scope.run(message, () =>
      app.api.documents.list({
        limit: 200,
        ...(v(scopeType) === '' ? {} : { scopeType: v(scopeType) }),
        ...(v(scopeId) === '' ? {} : { scopeId: v(scopeId) }),
        ...(v(type) === '' ? {} : { type: v(type) }),
        ...(statusFilter.value === '' ? {} : { status: statusFilter.value as DocumentStatus }),
      }),
    );
    if (page !== undefined) table.show(page.items, 'No documents match.');
  };

  const filters = toolbarForm('documents-filters', [field('Scope type', scopeType), field('Scope id', scopeId), field('Type', type), field('Status', statusFilter)], 'Filter', () => void load(), 'search');
  const opener = toolbarForm('documents-open', [field('Open by id', openId)], 'Open', () => {
    if (openId.value.trim() !== '') location.hash = `#/documents/${encodeURIComponent(openId.value.trim())}`;
  });
  statusFilter.addEventListener('change', () => void load());

  root.append(h('h1', {}, 'Documents'), detail, h('div', { class: 'panel' }, h('div', { class: 'filter-row' }, filters, opener), message, table.element));
  void load();
  if (selected) void showDocument(app, scope, detail, selected);
  return scope.dispose;
};

async function showDocument(app: App, scope: PageScope, detail: HTMLElement, id: string): Promise<void> {
  const message = h('div');
  fill(detail, message);
  const got = await scope.run(message, () => Promise.all([app.api.documents.get(id), app.api.documents.versions(id, { limit: 1000 })]));
  if (got === undefined) return;
  const [doc, versions] = got;
  const shown = h('div', { id: 'document-content', 'data-version': doc.version }, content(doc.content));
  const heading = h('h3', {}, `Content of v${doc.version} (latest)`);
  const show = (v: DocumentVersionSummaryView): void => {
    void scope.run(message, () => app.api.documents.version(id, v.version)).then((full) => {
      if (full === undefined) return;
      heading.textContent = `Content of v${v.version}${v.version === doc.version ? ' (latest)' : ''}`;
      shown.dataset['version'] = String(v.version);
      fill(shown, content(full.content));
      for (const b of table.table.querySelectorAll<HTMLButtonElement>('button[data-version]')) b.setAttribute('aria-pressed', String(b.dataset['version'] === String(v.version)));
    });
  };
  const table = dataTable<DocumentVersionSummaryView>(
    'document-versions',
    ['Version', 'Title', 'Status', 'Written by', 'Saved'],
    (v) =>
      h(
        'tr',
        { 'data-version': v.version },
        td(h('button', { type: 'button', class: 'link-button', 'data-version': v.version, 'aria-pressed': String(v.version === doc.version), 'aria-label': `Show version ${v.version}`, onclick: () => show(v) }, `v${v.version}`)),
        td(v.title),
        td(status(v.status)),
        td(writer(v)),
        td(stamp(v.createdAt)),
      ),
    (v) => String(v.version),
  );
  table.show([...versions.items].reverse(), 'No versions.');
  fill(detail, documentPanel(doc, message, heading, shown, table.element));
}

function documentPanel(doc: DocumentView, message: HTMLElement, heading: HTMLElement, shown: HTMLElement, versions: HTMLElement): HTMLElement {
  return h(
    'section',
    { class: 'panel', id: 'document', 'data-id': doc.id, 'aria-label': `Document ${doc.title}` },
    h('div', { class: 'row' }, h('h2', {}, doc.title), status(doc.status), h('code', { class: 'muted' }, doc.id)),
    message,
    h(
      'dl',
      { class: 'kv' },
      h('dt', {}, 'Type'),
      h('dd', {}, h('code', {}, doc.type)),
      h('dt', {}, 'Scope'),
      h('dd', {}, h('code', {}, `${doc.scopeType}/${doc.scopeId}`)),
      h('dt', {}, 'Latest'),
      h('dd', {}, `v${doc.version}, `, stamp(doc.updatedAt)),
      h('dt', {}, 'Written by'),
      h('dd', {}, writer(doc)),
    ),
    h('div', { class: 'grid2' }, h('div', {}, heading, shown), h('div', {}, h('h3', {}, 'Versions'), versions)),
  );
}
