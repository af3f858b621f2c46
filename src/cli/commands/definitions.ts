/** @module cli/commands/definitions — `actorflow definitions push|list|get|validate|diagram|step-schema|retire`: flow documents. */
import { readFileSync } from 'node:fs';
import { deleteCommand, diagramCommand, listCommand } from './builders.ts';
import { type Ctx, UsageError } from './common.ts';
import { printPage, show } from './output.ts';
import type { Command, Group } from './spec.ts';

/** A document file (`-`: stdin) as text; a usage error when it cannot be read. */
export function readDoc(path: string): string {
  try {
    return readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

const COLUMNS = [
  ['NAME', 'name'],
  ['VERSION', 'version'],
  ['SOURCE', 'source'],
  ['RETIRED', 'retired'],
  ['CREATED', 'createdAt'],
] as const;

const versionFlag = { version: { type: 'string', arg: 'N', help: 'this version (default: latest)' } } as const;
const version = (c: Ctx) => c.int('version', 1);

const push: Command = {
  name: 'definitions push',
  args: '<file.yaml|file.json|->',
  summary: 'register a flow document (a new version when the name exists)',
  async run(c) {
    const d = await c.client.definitions.create(readDoc(c.arg(0, 'file')));
    c.out(c.json ? JSON.stringify(d, null, 2) : `${d.name} v${d.version} registered`);
    return 0;
  },
};

const list = listCommand({
  name: 'definitions list',
  summary: 'latest version of each definition',
  flags: { name: { type: 'string', arg: 'PREFIX', help: 'only names starting with this' } },
  columns: COLUMNS,
  list: (c, page) => {
    const name = c.str('name');
    return c.client.definitions.list({ ...(name ? { name } : {}), ...page });
  },
});

const get: Command = {
  name: 'definitions get',
  args: '<name>',
  summary: 'one definition with its document (--versions: all its versions)',
  flags: { ...versionFlag, versions: { type: 'boolean', help: 'list every version instead' } },
  async run(c) {
    const name = c.arg(0, 'name');
    if (c.bool('versions')) {
      printPage(c, await c.client.definitions.versions(name), COLUMNS);
      return 0;
    }
    const d = await c.client.definitions.get(name, version(c));
    show(c, d, ['name', 'version', 'source', 'retired', 'createdAt']);
    if (!c.json) c.out(`document:\n${JSON.stringify(d.document, null, 2)}`);
    return 0;
  },
};

const validate: Command = {
  name: 'definitions validate',
  args: '<file|->',
  summary: 'validate a flow document without saving it',
  async run(c) {
    const file = c.arg(0, 'file');
    const r = await c.client.definitions.validate(readDoc(file));
    c.out(c.json ? JSON.stringify(r) : `${file}: valid`);
    return 0;
  },
};

const diagram = diagramCommand({
  name: 'definitions diagram',
  summary: 'Mermaid stateDiagram-v2 of a definition',
  diagram: (c, name, v) => c.client.definitions.diagram(name, v),
});

const stepSchema: Command = {
  name: 'definitions step-schema',
  args: '<name> <stepId>',
  summary: "a step's input and output JSON Schemas (from its agent kind and its own outputSchema)",
  flags: versionFlag,
  async run(c) {
    const s = await c.client.definitions.stepSchema(c.arg(0, 'name'), c.arg(1, 'stepId'), version(c));
    c.out(JSON.stringify(s, null, 2));
    return 0;
  },
};

const retire = deleteCommand({
  name: 'definitions retire',
  args: '<name>',
  summary: 'refuse new starts (running executions continue)',
  verb: 'retired',
  remove: (c, name) => c.client.definitions.retire(name),
});

export const DEFINITIONS: Group = {
  name: 'definitions',
  aliases: ['defs'],
  summary: 'flow documents (YAML or JSON)',
  commands: [push, list, get, validate, diagram, stepSchema, retire],
  default: 'list',
};
