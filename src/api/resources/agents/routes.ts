/** @module api/resources/agents/routes — the route table of agents: the engine's view of the agents on the bus, and the registration of HTTP push agents. */
import { ErrorCode } from '../../../common/errors.ts';
import { Type } from '@sinclair/typebox';
import { TASK_AGENT_PATTERN } from '../../../engine/runtime/tasks.ts';
import { DEFAULT_HTTP_AGENT_CONCURRENCY, DEFAULT_HTTP_AGENT_TIMEOUT_MS } from '../../../http-agents/types.ts';
import type { RouteSpec } from '../../routing/route-spec.ts';
import { PAGE, shape, ulidId } from '../../routing/schemas.ts';

const { Optional } = Type;

/** Agent ids are `ag_` + the agent's name and a suffix; anything else cannot exist (404). */
export const agentId = Type.String({ pattern: '^ag_', maxLength: 300, description: 'Agent id: `ag_…`.' });

const agentParams = shape({ id: agentId });
const AGENT_404 = { id: ErrorCode.agentNotFound } as const;

const httpAgentBody = shape({
  name: Type.String({ minLength: 1, maxLength: 200, description: 'A name to tell agents apart in lists.' }),
  kinds: Type.Array(Type.String({ pattern: TASK_AGENT_PATTERN }), {
    minItems: 1,
    maxItems: 64,
    description: 'Agent kinds it runs (1-123 characters of A-Z a-z 0-9 _ . -). Steps of these kinds, of your tenant, are POSTed to `url`.',
  }),
  url: Type.String({
    minLength: 1,
    maxLength: 2048,
    description: 'http(s) URL the tasks are POSTed to; refused (422 `agent_url_forbidden`) when its host resolves to a non-public address.',
  }),
  secret: Optional(
    Type.String({
      minLength: 16,
      maxLength: 256,
      description: 'HMAC-SHA256 key of `x-actorflow-signature` (as webhooks); generated (and shown only in the 201 answer) when omitted. Never shown again.',
    }),
  ),
  concurrency: Optional(Type.Integer({ minimum: 1, maximum: 10_000, default: DEFAULT_HTTP_AGENT_CONCURRENCY, description: 'Tasks sent to it at once at most (answered or not); the rest wait.' })),
  timeoutMs: Optional(
    Type.Integer({
      minimum: 1,
      maximum: 2_147_483_647,
      default: DEFAULT_HTTP_AGENT_TIMEOUT_MS,
      description: 'How long an answer, a posted result or the next heartbeat may take before the attempt fails with `http_agent_timeout` (retryable).',
    }),
  ),
});

export const AGENT_ROUTES = [
  {
    id: 'listAgents',
    method: 'get',
    path: '/agents',
    summary:
      'Agents seen on the bus (in-process ones included) and your tenant\'s HTTP push agents, by id: status `online|busy|offline`, capacity, in-flight, last heartbeat.',
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
  {
    id: 'registerHttpAgent',
    method: 'post',
    path: '/agents/http',
    summary:
      'Register an HTTP push agent (any language, serverless platforms): each step of its kinds is POSTed to `url` as JSON ' +
      '`{ taskId, taskToken, executionId, stepId, attempt, kind, input, deadline }`, signed with `x-actorflow-signature` as webhooks. ' +
      'Answer 2xx `{ output, logs?, costs? }` = done; 202 = the result is posted to `/agent-tasks/{taskId}/result` later; 4xx = failure, not retried (408, 429: retried); ' +
      '5xx, timeout or a connection error = retried. At least once: the same `taskId` and `attempt` may come again.',
    tag: 'agents',
    body: { schema: httpAgentBody },
    errorStatus: { [ErrorCode.agentUrlForbidden]: 422, [ErrorCode.agentKindTaken]: 409 },
    status: 201,
  },
  {
    id: 'deleteHttpAgent',
    method: 'delete',
    path: '/agents/http/{id}',
    summary: 'Delete an HTTP push agent: steps of its kinds wait for another agent; tasks it has already keep their tokens until they end.',
    tag: 'agents',
    params: shape({ id: ulidId('ag', 'HTTP agent id') }),
    paramNotFound: AGENT_404,
    status: 204,
    produces: 'none',
  },
] as const satisfies readonly RouteSpec[];
