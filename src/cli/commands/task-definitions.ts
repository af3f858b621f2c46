/** @module cli/commands/task-definitions — `actorflow task-definitions list|get`: the kinds agents serve, with their schemas. */
import type { TaskDefinitionView } from '../../client/types.ts';
import { PAGE_FLAGS, pageOptions } from './common.ts';
import { printPage, show } from './output.ts';
import type { Command, Group } from './spec.ts';

/** A row of the table: the counts flat, the schemas as whether one is declared (`get` shows them whole). */
const row = (d: TaskDefinitionView) => ({
  kind: d.kind,
  online: d.agents.online,
  busy: d.agents.busy,
  input: d.inputSchema === null ? null : 'schema',
  output: d.outputSchema === null ? null : 'schema',
  description: d.description,
});

const list: Command = {
  name: 'task-definitions list',
  summary: 'agent kinds served now: agents online and busy, declared schemas, description',
  flags: PAGE_FLAGS,
  async run(c) {
    const page = await c.client.taskDefinitions.list(pageOptions(c));
    printPage(c, c.json ? page : { ...page, items: page.items.map(row) }, [
      ['KIND', 'kind'], ['ONLINE', 'online'], ['BUSY', 'busy'], ['INPUT', 'input'], ['OUTPUT', 'output'], ['DESCRIPTION', 'description'],
    ]);
    return 0;
  },
};

const get: Command = {
  name: 'task-definitions get',
  args: '<kind>',
  summary: 'one kind with its input and output JSON Schemas',
  async run(c) {
    const d = await c.client.taskDefinitions.get(c.arg(0, 'kind'));
    if (c.json) show(c, d);
    else c.out(`kind: ${d.kind}\nagents: ${d.agents.online} online, ${d.agents.busy} busy\ndescription: ${d.description ?? '-'}\ninputSchema: ${JSON.stringify(d.inputSchema, null, 2)}\noutputSchema: ${JSON.stringify(d.outputSchema, null, 2)}`);
    return 0;
  },
};

export const TASK_DEFINITIONS: Group = {
  name: 'task-definitions',
  aliases: ['kinds'],
  summary: 'agent kinds and their schemas',
  default: 'list',
  commands: [list, get],
};
