/** @module cli/commands/templates — `actorflow templates create|list|get|instantiate|diagram|delete`: workflow templates. */
import type { Ctx } from './common.ts';
import { readDoc } from './definitions.ts';
import { diagramCommand, listCommand } from './builders.ts';
import { done, show } from './output.ts';
import type { Command, Group } from './spec.ts';

const COLUMNS = [
  ['NAME', 'name'],
  ['VERSION', 'version'],
  ['EXTENDS', 'extends'],
  ['DESCRIPTION', 'description'],
  ['CREATED', 'createdAt'],
] as const;

const versionFlag = { version: { type: 'string', arg: 'N', help: 'this template version (default: latest)' } } as const;
const version = (c: Ctx) => c.int('version', 1);

const create: Command = {
  name: 'templates create',
  args: '<file.yaml|file.json|->',
  summary: 'create a template version (a new version when the name exists)',
  async run(c) {
    const t = await c.client.templates.create(readDoc(c.arg(0, 'file')));
    c.out(c.json ? JSON.stringify(t, null, 2) : `${t.name} v${t.version} created${t.extends === null ? '' : ` (extends ${t.extends})`}`);
    return 0;
  },
};

const list = listCommand({
  name: 'templates list',
  summary: 'latest version of each template',
  flags: { name: { type: 'string', arg: 'PREFIX', help: 'only names starting with this' } },
  columns: COLUMNS,
  list: (c, page) => {
    const name = c.str('name');
    return c.client.templates.list({ ...(name ? { name } : {}), ...page });
  },
});

const get: Command = {
  name: 'templates get',
  args: '<name>',
  summary: 'one template: its merged parameters and resolved document',
  flags: versionFlag,
  async run(c) {
    const t = await c.client.templates.get(c.arg(0, 'name'), version(c));
    show(c, t, ['name', 'version', 'extends', 'description', 'createdAt']);
    if (!c.json) c.out(`parameters:\n${JSON.stringify(t.parameters, null, 2)}\ndocument:\n${JSON.stringify(t.document, null, 2)}`);
    return 0;
  },
};

const instantiate: Command = {
  name: 'templates instantiate',
  args: '<template>',
  summary: 'register a definition made from a template with parameters',
  flags: {
    ...versionFlag,
    name: { type: 'string', arg: 'NAME', help: "the definition's name (default: the template's)" },
    params: { type: 'string', arg: 'JSON|@file', help: 'the parameters (defaults fill in the rest)' },
  },
  async run(c) {
    const name = c.str('name');
    const params = c.jsonValue('params') as Record<string, unknown> | undefined;
    const d = await c.client.templates.instantiate(c.arg(0, 'template'), { ...(name ? { name } : {}), ...(params === undefined ? {} : { params }) }, { version: version(c) });
    c.out(c.json ? JSON.stringify(d, null, 2) : `${d.name} v${d.version} registered from ${d.template?.name} v${d.template?.version}`);
    return 0;
  },
};

const diagram = diagramCommand({
  name: 'templates diagram',
  summary: 'Mermaid stateDiagram-v2 of a template (defaults filled in)',
  diagram: (c, name, v) => c.client.templates.diagram(name, v),
});

const remove: Command = {
  name: 'templates delete',
  args: '<name>',
  summary: 'delete every version (--version: one); definitions made from it stay',
  flags: versionFlag,
  async run(c) {
    const name = c.arg(0, 'name');
    const v = version(c);
    await c.client.templates.delete(name, v);
    const what = v === undefined ? name : `${name} v${v}`;
    return done(c, what, 'deleted', { deleted: name, ...(v === undefined ? {} : { version: v }) });
  },
};

export const TEMPLATES: Group = {
  name: 'templates',
  summary: 'workflow templates: flow documents with parameters and inheritance',
  commands: [create, list, get, instantiate, diagram, remove],
  default: 'list',
};
