/** @module api/resources/agents/handlers — GET /agents and /agents/{id}: the engine's view of the agents on the bus. */
import { agentDetail, agentItem } from '../../../agents/agent-view.ts';
import type { Engine } from '../../../engine/types.ts';
import { ErrorCode, NotFoundError } from '../../../common/errors.ts';
import { json } from '../../http/reply.ts';
import type { HandlersOf } from '../../routing/route-spec.ts';
import { pageById, pageOf } from '../paging.ts';
import type { AGENT_ROUTES } from './routes.ts';

export interface AgentsDeps {
  readonly engine: Engine;
}

/** Handlers of the agent routes, keyed by route id. */
export function agentsHandlers({ engine }: AgentsDeps) {
  return {
    listAgents: {
      handle: ({ query }) => json(200, pageById(engine.agents(), pageOf(query), agentItem)),
    },
    getAgent: {
      handle: ({ params }) => {
        const id = params.id;
        const a = engine.agents().find((x) => x.id === id);
        if (!a) throw new NotFoundError(ErrorCode.agentNotFound, `No agent ${JSON.stringify(id)}.`);
        return json(200, agentDetail(a));
      },
    },
  } satisfies HandlersOf<typeof AGENT_ROUTES>;
}
