/**
 * @module dashboard/pages/library/templates — workflow templates; `#/templates/:name[/:version]` shows one version:
 * its diagram (with the parameters' defaults), versions, parameters and resolved document, and forms to
 * instantiate it into a definition or to start it with parameters.
 */
import type { TemplateSummary, TemplateView } from '../../../../src/client/index.ts';
import type { App, Page } from '../../app.ts';
import { drawDiagram } from '../../diagram.ts';
import { fill, h, jsonBlock, parseJsonField } from '../../dom.ts';
import { actionForm, field } from '../../widgets/form.ts';
import { stamp } from '../../widgets/format.ts';
import { PageScope } from '../../widgets/scope.ts';
import { dataTable, td, textTd } from '../../widgets/table.ts';

const link = (name: string, version?: number): string => `#/templates/${encodeURIComponent(name)}${version === undefined ? '' : `/${version}`}`;

export const templatesPage: Page = (root, app, [selected, version]) => {
  const scope = new PageScope(app);
  const message = h('div');
  const detail = h('div');

  const table = dataTable<TemplateSummary>(
    'templates',
    ['Template', 'Latest', 'Description', 'Extends', 'Created'],
    (t) =>
      h(
        'tr',
        { 'data-name': t.name, class: t.name === selected ? 'selected' : undefined },
        td(h('a', { href: link(t.name) }, t.name)),
        td(`v${t.version}`),
        textTd(h('span', { class: 'muted' }, t.description ?? '')),
        td(t.extends === null ? h('span', { class: 'muted' }, '—') : h('a', { href: link(t.extends.split('@')[0] ?? '', Number(t.extends.split('@')[1])) }, h('code', {}, t.extends))),
        td(stamp(t.createdAt)),
      ),
    (t) => t.name,
  );

  root.append(h('h1', {}, 'Templates'), message, detail, h('div', { class: 'panel' }, table.element));
  void scope.run(message, () => app.api.templates.list({ limit: 1000 })).then((page) => page && table.show(page.items, 'No templates: POST /api/v1/workflow-templates creates one.'));
  if (selected) void showTemplate(app, scope, detail, message, selected, version === undefined || version === '' ? undefined : Number(version));
  return scope.dispose;
};

async function showTemplate(app: App, scope: PageScope, detail: HTMLElement, message: HTMLElement, name: string, version: number | undefined): Promise<void> {
  const diagram = h('div', { class: 'diagram', id: 'diagram', 'aria-label': `Diagram of template ${name}` }, h('span', { class: 'muted' }, 'Loading diagram…'));
  const title = h('h2', {}, 'Diagram of ', h('code', {}, name));
  const side = h('div');
  fill(detail, h('div', { class: 'grid2' }, h('section', { class: 'panel' }, title, diagram), h('section', { class: 'panel' }, side)));
  const got = await scope.run(message, () => Promise.all([app.api.templates.get(name, version), app.api.templates.versions(name, { limit: 1000 }), app.api.templates.diagram(name, version)]));
  if (got === undefined) return;
  const [t, all, mermaid] = got;
  title.append(` v${t.version}`);
  const versions = dataTable<TemplateSummary>(
    'template-versions',
    ['Version', 'Extends', 'Description', 'Created'],
    (v) =>
      h(
        'tr',
        { 'data-version': v.version, class: v.version === t.version ? 'selected' : undefined },
        td(h('a', { href: link(v.name, v.version), 'aria-current': v.version === t.version ? 'page' : undefined }, `v${v.version}`)),
        td(v.extends === null ? '—' : h('code', {}, v.extends)),
        textTd(h('span', { class: 'muted' }, v.description ?? '')),
        td(stamp(v.createdAt)),
      ),
    (v) => String(v.version),
  );
  versions.show([...all.items].reverse(), 'No live version.');
  fill(
    side,
    h('h2', {}, 'Versions'),
    versions.element,
    h('h3', {}, 'Parameters'),
    jsonBlock(t.parameters),
    h('details', {}, h('summary', {}, 'Resolved document (placeholders kept)'), jsonBlock(t.document)),
  );
  detail.append(
    h(
      'div',
      { class: 'grid2', id: 'template', 'data-name': t.name, 'data-version': t.version },
      h('section', { class: 'panel' }, h('h2', {}, 'Instantiate into a definition'), instantiateForm(app, t)),
      h('section', { class: 'panel' }, h('h2', {}, 'Start an execution from it'), startForm(app, t)),
    ),
  );
  await drawDiagram(diagram, mermaid);
}

function instantiateForm(app: App, t: TemplateView): HTMLFormElement {
  const name = h('input', { id: 'instantiate-name', value: t.name, required: true, autocomplete: 'off' });
  const params = h('textarea', { id: 'instantiate-params', rows: 2, 'aria-label': 'Parameters (JSON)' }, '{}');
  return actionForm(app, {
    id: 'instantiate-form',
    submit: 'Instantiate',
    fields: [field('Definition name', name), field('Parameters (JSON)', params)],
    action: async () => {
      const p = parseJsonField(params.value, 'Parameters') as Record<string, unknown> | undefined;
      const d = await app.api.templates.instantiate(t.name, { name: name.value.trim(), ...(p === undefined ? {} : { params: p }) }, { version: t.version });
      return h('span', {}, 'Registered ', h('a', { id: 'instantiated', href: `#/definitions/${encodeURIComponent(d.name)}` }, `${d.name} v${d.version}`), '.');
    },
  });
}

function startForm(app: App, t: TemplateView): HTMLFormElement {
  const params = h('textarea', { id: 'template-start-params', rows: 2 }, '{}');
  const input = h('textarea', { id: 'template-start-input', rows: 2 }, '{}');
  return actionForm(app, {
    id: 'template-start-form',
    submit: 'Start',
    fields: [field('Parameters (JSON)', params), field('Input (JSON)', input)],
    action: async () => {
      const p = parseJsonField(params.value, 'Parameters') as Record<string, unknown> | undefined;
      const i = parseJsonField(input.value, 'Input');
      const x = await app.api.executions.start({ template: t.name, templateVersion: t.version, ...(p === undefined ? {} : { params: p }), ...(i === undefined ? {} : { input: i }) });
      return h('span', {}, 'Started ', h('a', { class: 'mono', href: `#/executions/${x.id}` }, x.id), '.');
    },
  });
}
