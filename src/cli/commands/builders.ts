/** @module cli/commands/builders — the common shapes of resource commands: a list, one by id, a delete by id. */
import { type Ctx, PAGE_FLAGS, pageOptions } from './common.ts';
import { type Columns, done, printPage, show } from './output.ts';
import type { Command, Flags } from './spec.ts';

export type ListOptions = ReturnType<typeof pageOptions>;

/** A list command: PAGE_FLAGS plus `flags`, printed as a table of `columns` (or JSON). */
export function listCommand(spec: {
  readonly name: string;
  readonly args?: string;
  readonly summary: string;
  readonly flags?: Flags;
  readonly columns: Columns;
  readonly list: (c: Ctx, page: ListOptions) => Promise<{ items: readonly object[]; nextCursor: string | null }>;
}): Command {
  return {
    name: spec.name,
    ...(spec.args === undefined ? {} : { args: spec.args }),
    summary: spec.summary,
    flags: { ...spec.flags, ...PAGE_FLAGS },
    async run(c) {
      printPage(c, await spec.list(c, pageOptions(c)), spec.columns);
      return 0;
    },
  };
}

/** `<name> <id>`: one object as `key: value` lines (`keys` in that order) or JSON. */
export function getCommand(spec: { readonly name: string; readonly summary: string; readonly keys?: readonly string[]; readonly get: (c: Ctx, id: string) => Promise<object> }): Command {
  return {
    name: spec.name,
    args: '<id>',
    summary: spec.summary,
    async run(c) {
      show(c, await spec.get(c, c.arg(0, 'id')), spec.keys);
      return 0;
    },
  };
}

/** `<name> <name>` printing the Mermaid `stateDiagram-v2` of a versioned resource (`--version N`; JSON `{ mermaid }`). */
export function diagramCommand(spec: { readonly name: string; readonly summary: string; readonly diagram: (c: Ctx, name: string, version: number | undefined) => Promise<string> }): Command {
  return {
    name: spec.name,
    args: '<name>',
    summary: spec.summary,
    flags: { version: { type: 'string', arg: 'N', help: 'this version (default: latest)' } },
    async run(c) {
      const text = await spec.diagram(c, c.arg(0, 'name'), c.int('version', 1));
      c.out(c.json ? JSON.stringify({ mermaid: text }) : text);
      return 0;
    },
  };
}

/** `<name> <arg>` that removes something: prints `<arg>: <verb>` (JSON `{ <verb>: <arg> }`). */
export function deleteCommand(spec: { readonly name: string; readonly args?: string; readonly summary: string; readonly verb?: string; readonly remove: (c: Ctx, id: string) => Promise<unknown> }): Command {
  const verb = spec.verb ?? 'deleted';
  return {
    name: spec.name,
    args: spec.args ?? '<id>',
    summary: spec.summary,
    async run(c) {
      const id = c.arg(0, (spec.args ?? '<id>').replace(/[<>]/g, ''));
      await spec.remove(c, id);
      return done(c, id, verb, { [verb]: id });
    },
  };
}
