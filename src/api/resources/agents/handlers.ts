/** @module api/resources/agents/handlers — GET /agents and /agents/{id} (the bus's agents and the tenant's HTTP push agents), and the registration of HTTP push agents. */
import { randomBytes } from 'node:crypto';
import { agentDetail, agentItem } from '../../../agents/agent-view.ts';
import type { AgentView } from '../../../bus/types.ts';
import { iso } from '../../../common/clock.ts';
import type { Engine } from '../../../engine/types.ts';
import { ErrorCode, NotFoundError } from '../../../common/errors.ts';
import { DEFAULT_HTTP_AGENT_CONCURRENCY, DEFAULT_HTTP_AGENT_TIMEOUT_MS, type HttpAgentView, type HttpAgents } from '../../../http-agents/types.ts';
import { empty, json } from '../../http/reply.ts';
import type { HandlersOf } from '../../routing/route-spec.ts';
import { pageById, pageOf } from '../paging.ts';
import type { AGENT_ROUTES } from './routes.ts';

export interface AgentsDeps {
  readonly engine: Engine;
  readonly httpAgents: HttpAgents;
}

const isHttp = (a: AgentView): a is HttpAgentView => 'url' in a;

/** What an HTTP push agent shows besides the fields of every agent. */
const httpFields = (a: HttpAgentView) => ({ url: a.url, concurrency: a.concurrency, timeoutMs: a.timeoutMs, secretHint: a.secretHint, createdAt: iso(a.createdAt) });

const item = (a: AgentView) => (isHttp(a) ? { ...agentItem(a), ...httpFields(a) } : agentItem(a));
const detail = (a: AgentView) => (isHttp(a) ? { ...agentDetail(a), ...httpFields(a) } : agentDetail(a));

/** Handlers of the agent routes, keyed by route id. */
export function agentsHandlers({ engine, httpAgents }: AgentsDeps) {
  return {
    listAgents: {
      handle: ({ ctx, query }) => json(200, pageById([...engine.agents(), ...httpAgents.list(ctx.tenant)], pageOf(query), item)),
    },
    getAgent: {
      handle: ({ ctx, params }) => {
        const id = params.id;
        const a = engine.agents().find((x) => x.id === id) ?? httpAgents.get(ctx.tenant, id);
        if (!a) throw new NotFoundError(ErrorCode.agentNotFound, `No agent ${JSON.stringify(id)}.`);
        return json(200, detail(a));
      },
    },
    registerHttpAgent: {
      handle: async ({ ctx, body }) => {
        const secret = body.secret ?? `agsec_${randomBytes(24).toString('base64url')}`;
        const a = await httpAgents.register(ctx.tenant, {
          name: body.name,
          kinds: body.kinds,
          url: body.url,
          secret,
          concurrency: body.concurrency ?? DEFAULT_HTTP_AGENT_CONCURRENCY,
          timeoutMs: body.timeoutMs ?? DEFAULT_HTTP_AGENT_TIMEOUT_MS,
        });
        // A generated secret is shown once, in this answer.
        return json(201, body.secret === undefined ? { ...detail(a), secret } : detail(a));
      },
    },
    deleteHttpAgent: {
      handle: async ({ ctx, params }) => {
        await httpAgents.remove(ctx.tenant, params.id);
        return empty(204);
      },
    },
  } satisfies HandlersOf<typeof AGENT_ROUTES>;
}
