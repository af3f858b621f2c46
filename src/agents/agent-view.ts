/** @module agents/agent-view — an agent as the API shows it, in REST and GraphQL alike (docs/api/operations.md, "Agents"; times RFC 3339). */
import type { AgentView } from '../bus/types.ts';
import { iso } from '../common/clock.ts';

/** An agent as listed. */
export interface AgentItem {
  readonly id: string;
  readonly name: string;
  readonly kinds: readonly string[];
  readonly status: AgentView['status'];
  readonly capacity: number;
  readonly inFlight: number;
  readonly lastHeartbeatAt: string | null;
  readonly version: string;
}

export interface AgentDetail extends AgentItem {
  readonly stats: AgentView['stats'];
}

/** An agent as a list shows it. */
export function agentItem(a: AgentView): AgentItem {
  return {
    id: a.id,
    name: a.name,
    kinds: [...a.kinds],
    status: a.status,
    capacity: a.capacity,
    inFlight: a.inFlight,
    lastHeartbeatAt: iso(a.lastHeartbeatAt),
    version: a.version,
  };
}

/** An agent with the stats of `GET /agents/{id}`. */
export const agentDetail = (a: AgentView): AgentDetail => ({ ...agentItem(a), stats: { ...a.stats } });
