/** @module cli/commands/definitions — `actorflow definitions push|list|get|validate|diagram`. */
import { readFileSync } from 'node:fs';
import { type Ctx, UsageError, context, details, intFlag, need, printPage } from './common.ts';

function readDoc(path: string): string {
  try {
    return readFileSync(path, 'utf8');
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

function showDefinition(c: Ctx, d: object): void {
  c.out(c.json ? JSON.stringify(d, null, 2) : details(d as Record<string, unknown>, ['name', 'version', 'source', 'retired', 'createdAt']));
}

/** `definitions <sub> …`. */
export async function definitionsCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'push': {
      const c = context(rest);
      const file = need(c.positionals, 0, 'file');
      const d = await c.client.definitions.create(readDoc(file));
      if (c.json) c.out(JSON.stringify(d, null, 2));
      else c.out(`${d.name} v${d.version} registered`);
      return 0;
    }
    case 'list': {
      const c = context(rest, { name: { type: 'string' }, limit: { type: 'string' }, cursor: { type: 'string' } });
      const limit = intFlag(c.values['limit'], 'limit', 1);
      const name = c.str('name');
      const cursor = c.str('cursor');
      printPage(c, await c.client.definitions.list({ ...(name ? { name } : {}), ...(limit ? { limit } : {}), ...(cursor ? { cursor } : {}) }), COLUMNS);
      return 0;
    }
    case 'get': {
      const c = context(rest, { version: { type: 'string' }, versions: { type: 'boolean' } });
      const name = need(c.positionals, 0, 'name');
      if (c.values['versions'] === true) {
        printPage(c, await c.client.definitions.versions(name), COLUMNS);
        return 0;
      }
      const d = await c.client.definitions.get(name, intFlag(c.values['version'], 'version', 1));
      showDefinition(c, d);
      if (!c.json) c.out(`document:\n${JSON.stringify(d.document, null, 2)}`);
      return 0;
    }
    case 'validate': {
      const c = context(rest);
      const file = need(c.positionals, 0, 'file');
      const r = await c.client.definitions.validate(readDoc(file));
      c.out(c.json ? JSON.stringify(r) : `${file}: valid`);
      return 0;
    }
    case 'diagram': {
      const c = context(rest, { version: { type: 'string' } });
      const name = need(c.positionals, 0, 'name');
      const text = await c.client.definitions.diagram(name, intFlag(c.values['version'], 'version', 1));
      c.out(c.json ? JSON.stringify({ mermaid: text }) : text);
      return 0;
    }
    case 'retire': {
      const c = context(rest);
      const name = need(c.positionals, 0, 'name');
      await c.client.definitions.retire(name);
      c.out(c.json ? JSON.stringify({ retired: name }) : `${name} retired`);
      return 0;
    }
    default:
      throw new UsageError(sub === undefined ? 'definitions needs a subcommand: push|list|get|validate|diagram|retire' : `unknown definitions subcommand ${sub}`);
  }
}
