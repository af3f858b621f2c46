/** @module api/resources/agents/routes — the route table of agents: the engine's view of the agents on the bus (read-only). */
import { ErrorCode } from '../../../common/errors.ts';
import { Type } from '@sinclair/typebox';
import type { RouteSpec } from '../../routing/route-spec.ts';
import { PAGE, shape } from '../../routing/schemas.ts';

/** Agent ids are `ag_` + the agent's name and a suffix; anything else cannot exist (404). */
export const agentId = Type.String({ pattern: '^ag_', maxLength: 300, description: 'Agent id: `ag_…`.' });

const agentParams = shape({ id: agentId });
const AGENT_404 = { id: ErrorCode.agentNotFound } as const;

export const AGENT_ROUTES = [
  {
    id: 'listAgents',
    method: 'get',
    path: '/agents',
    summary: 'Agents seen on the bus (in-process ones included), by id: status `online|busy|offline`, capacity, in-flight, last heartbeat.',
    tag: 'agents',
    query: shape(PAGE),
    status: 200,
  },
  {
    id: 'getAgent',
    method: 'get',
    path: '/agents/{id}',
    summary: 'One agent with `stats: { completed, failed, failureRate, p50Ms }`.',
    tag: 'agents',
    params: agentParams,
    paramNotFound: AGENT_404,
    status: 200,
  },
] as const satisfies readonly RouteSpec[];
