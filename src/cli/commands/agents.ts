/** @module cli/commands/agents — `actorflow agents list|get`: connected agents, their kinds, capacity and stats. */
import { getCommand, listCommand } from './builders.ts';
import type { Group } from './spec.ts';

export const AGENTS: Group = {
  name: 'agents',
  summary: 'agents (built-in and over NATS)',
  default: 'list',
  commands: [
    listCommand({
      name: 'agents list',
      summary: 'agents with their kinds, status and load',
      columns: [['ID', 'id'], ['NAME', 'name'], ['KINDS', 'kinds'], ['STATUS', 'status'], ['CAPACITY', 'capacity'], ['IN-FLIGHT', 'inFlight'], ['HEARTBEAT', 'lastHeartbeatAt']],
      list: (c, page) => c.client.agents.list(page),
    }),
    getCommand({ name: 'agents get', summary: 'one agent with its stats', get: (c, id) => c.client.agents.get(id) }),
  ],
};
