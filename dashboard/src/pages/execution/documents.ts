/**
 * @module dashboard/pages/execution/documents — the documents an execution's steps saved (a version of):
 * title, type, status, version and scope; a title opens the latest version's content under its row.
 */
import type { DocumentSummaryView } from '../../../../src/client/index.ts';
import type { App } from '../../app.ts';
import { badge, errorBox, fill, h, jsonBlock, time } from '../../dom.ts';

/** The panel's table body, and `draw` to fill it with a fresh list (content rows opened by the user stay open). */
export function documentsPanel(app: App): { readonly element: HTMLElement; draw(docs: readonly DocumentSummaryView[]): void } {
  const body = h('tbody');
  /** Rows by document id and version: a row is rebuilt only when its document got a new version (undefined: nothing drawn yet). */
  let drawn: string | undefined;
  const draw = (docs: readonly DocumentSummaryView[]): void => {
    const key = docs.map((d) => `${d.id}@${d.version}`).join(',');
    if (key === drawn) return;
    drawn = key;
    if (docs.length === 0) {
      fill(body, h('tr', {}, h('td', { colspan: 6, class: 'empty' }, 'No document saved by this execution.')));
      return;
    }
    fill(
      body,
      docs.map((d) => {
        const titleCell = h('td', {});
        titleCell.append(h('button', { type: 'button', class: 'link-button', 'data-document': d.id, onclick: () => void toggleContent(app, d.id, titleCell) }, d.title));
        return h(
          'tr',
          { 'data-document-id': d.id },
          titleCell,
          h('td', {}, d.type),
          h('td', {}, badge(d.status)),
          h('td', {}, `v${d.version}`),
          h('td', { class: 'mono' }, `${d.scopeType}/${d.scopeId}`),
          h('td', {}, time(d.updatedAt)),
        );
      }),
    );
  };
  const element = h('table', { id: 'documents' }, h('thead', {}, h('tr', {}, ...['Title', 'Type', 'Status', 'Version', 'Scope', 'Updated'].map((t) => h('th', {}, t)))), body);
  return { element, draw };
}

/** Shows (or hides) the latest version's content under the title. */
async function toggleContent(app: App, id: string, cell: HTMLElement): Promise<void> {
  const open = cell.querySelector('.document-content');
  if (open !== null) {
    open.remove();
    return;
  }
  const holder = h('div', { class: 'document-content' });
  cell.append(holder);
  try {
    holder.append(jsonBlock((await app.api.documents.get(id)).content));
  } catch (err) {
    app.failed(err);
    holder.append(errorBox(err));
  }
}
