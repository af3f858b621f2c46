/** @module dashboard/pages/definitions — registered definitions; `#/definitions/:name` shows one with its diagram and document. */
import type { Page } from '../app.ts';
import { drawDiagram } from '../diagram.ts';
import { errorBox, fill, h, jsonBlock, time } from '../dom.ts';

export const definitionsPage: Page = (root, app, [selected]) => {
  let disposed = false;
  const tbody = h('tbody');
  const message = h('div');
  const detail = h('div');

  const loadList = async (): Promise<void> => {
    try {
      const page = await app.api.definitions.list({ limit: 1000 });
      if (disposed) return;
      if (page.items.length === 0) {
        fill(tbody, h('tr', {}, h('td', { colspan: 5, class: 'empty' }, 'No definitions registered.')));
        return;
      }
      fill(
        tbody,
        page.items.map((d) =>
          h(
            'tr',
            { 'data-name': d.name },
            h('td', {}, h('a', { href: `#/definitions/${encodeURIComponent(d.name)}` }, d.name)),
            h('td', {}, `v${d.version}`),
            h('td', {}, d.source),
            h('td', {}, d.retired ? h('span', { class: 'badge cancelled' }, 'retired') : h('span', { class: 'badge online' }, 'active')),
            h('td', {}, time(d.createdAt)),
          ),
        ),
      );
    } catch (err) {
      app.failed(err);
      if (!disposed) message.replaceChildren(errorBox(err));
    }
  };

  const loadDetail = async (name: string): Promise<void> => {
    const diagram = h('div', { class: 'diagram', id: 'diagram' }, h('span', { class: 'muted' }, 'Loading diagram…'));
    const doc = h('div');
    fill(detail, h('div', { class: 'grid2' }, h('div', { class: 'panel' }, h('h2', {}, 'Diagram of ', h('code', {}, name)), diagram), h('div', { class: 'panel' }, h('h2', {}, 'Document'), doc)));
    try {
      const [def, mermaid] = await Promise.all([app.api.definitions.get(name), app.api.definitions.diagram(name)]);
      if (disposed) return;
      fill(doc, h('p', { class: 'muted' }, `version ${def.version} · ${def.source}${def.retired ? ' · retired' : ''}`), jsonBlock(def.document));
      await drawDiagram(diagram, mermaid);
    } catch (err) {
      app.failed(err);
      if (!disposed) fill(detail, errorBox(err));
    }
  };

  root.append(
    h('h1', {}, 'Definitions'),
    message,
    detail,
    h('div', { class: 'panel' }, h('table', { id: 'definitions' }, h('thead', {}, h('tr', {}, ...['Name', 'Latest', 'Source', 'State', 'Registered'].map((t) => h('th', {}, t)))), tbody)),
  );
  void loadList();
  if (selected !== undefined && selected !== '') void loadDetail(selected);
  return () => {
    disposed = true;
  };
};
