/** @module api/resources/agents/handlers — GET /agents and /agents/{id}: the engine's view of the agents on the bus. */
import type { AgentView } from '../../../bus/types.ts';
import { iso } from '../../../shared/clock.ts';
import { ErrorCode, NotFoundError } from '../../../shared/errors.ts';
import type { Page } from '../../../shared/execution.ts';
import type { RouteId } from '../../routes.ts';
import { type ApiDeps, type RouteHandler, pageOf } from '../../routing/route-spec.ts';
import { json } from '../../http/reply.ts';

/** An agent as listed: docs/api/operations.md, "Agents" (times RFC 3339). */
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

/** An agent as REST lists it (times RFC 3339). */
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

/** Agents ordered by id; the cursor is the last id of the previous page (opaque to clients). */
export function pageAgents(agents: readonly AgentView[], limit: number, cursor: string | undefined): Page<AgentItem> {
  const sorted = agents.slice().sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const from = cursor === undefined ? 0 : sorted.findIndex((a) => a.id > cursor);
  const rest = from < 0 ? [] : sorted.slice(from);
  const items = rest.slice(0, limit).map(agentItem);
  return { items, nextCursor: rest.length > limit ? (items[items.length - 1]?.id ?? null) : null };
}

/** Handlers of the agent routes, keyed by route id. */
export function agentsHandlers({ engine }: ApiDeps) {
  return {
    listAgents: {
      handle: ({ query }) => {
        const { limit, cursor } = pageOf(query);
        return json(200, pageAgents(engine.agents(), limit, cursor));
      },
    },
    getAgent: {
      handle: ({ params }) => {
        const id = params['id'] ?? '';
        const a = engine.agents().find((x) => x.id === id);
        if (!a) throw new NotFoundError(ErrorCode.agentNotFound, `No agent ${JSON.stringify(id)}.`);
        return json(200, agentDetail(a) satisfies AgentDetail);
      },
    },
  } satisfies Partial<Record<RouteId, RouteHandler>>;
}
