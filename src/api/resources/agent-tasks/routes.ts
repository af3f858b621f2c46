/** @module api/resources/agent-tasks/routes — what HTTP push agents call back: the result of a task they answered 202, and heartbeats. No API key: the task token authorizes. */
import { Type } from '@sinclair/typebox';
import { ErrorCode } from '../../../common/errors.ts';
import type { RouteSpec } from '../../routing/route-spec.ts';
import { documentSaves } from '../documents/routes.ts';
import { ANY, EMPTY_OBJECT, logLevel, shape } from '../../routing/schemas.ts';

const { Optional } = Type;

/** The header carrying the `taskToken` the task was POSTed with. */
export const TASK_TOKEN_HEADER = 'x-actorflow-task-token';

/** `<executionId>:<stepId>:<attempt>`, as POSTed; anything else cannot exist (404). */
const taskId = Type.String({
  pattern: '^(ex|tk)_[0-9A-HJKMNP-TV-Z]{26}:.+:[1-9][0-9]{0,8}$',
  maxLength: 1024,
  description: 'The `taskId` the task was POSTed with: `<executionId>:<stepId>:<attempt>` (URL-encode it).',
});

const params = shape({ taskId });
const TASK_404 = { taskId: ErrorCode.agentTaskNotFound } as const;

const logs = Type.Array(shape({ level: logLevel, message: Type.String({ maxLength: 10_000 }), data: Optional(ANY) }), {
  maxItems: 1000,
  description: 'Step log lines, as `ctx.log` of the SDK.',
});
const costs = Type.Array(
  shape({ model: Optional(Type.String({ maxLength: 200 })), tokens: Optional(Type.Number({ minimum: 0 })), usd: Optional(Type.Number({ minimum: 0 })) }),
  { maxItems: 1000, description: 'Costs of the attempt, as `ctx.reportCost` of the SDK.' },
);

export const resultBody = shape({
  output: Optional(ANY),
  error: Optional(
    shape({
      code: Type.String({ minLength: 1, maxLength: 200 }),
      message: Type.String({ maxLength: 10_000 }),
      retryable: Optional(Type.Boolean({ description: 'Retried by the step\'s policy unless false. @default true' })),
    }),
  ),
  logs: Optional(logs),
  costs: Optional(costs),
  documents: Optional(documentSaves),
});

export const AGENT_TASK_ROUTES = [
  {
    id: 'postAgentTaskResult',
    method: 'post',
    path: '/agent-tasks/{taskId}/result',
    summary:
      'The result of a task an HTTP push agent answered 202: `{ output }` or `{ error: { code, message, retryable? } }` (exactly one), with `logs?` and `costs?`. ' +
      'Authorized by `x-actorflow-task-token` (no API key). 202 once the result is durable; a stale or unknown token is 404 `agent_task_not_found`.',
    tag: 'agents',
    auth: 'none',
    params,
    paramNotFound: TASK_404,
    headers: [TASK_TOKEN_HEADER],
    body: { schema: resultBody },
    status: 202,
    produces: 'none',
  },
  {
    id: 'heartbeatAgentTask',
    method: 'post',
    path: '/agent-tasks/{taskId}/heartbeat',
    summary: "Extends the task's deadline by its agent's `timeoutMs`: 202 `{ deadline }`. Same token as the result; a stale or unknown token is 404 `agent_task_not_found`.",
    tag: 'agents',
    auth: 'none',
    params,
    paramNotFound: TASK_404,
    headers: [TASK_TOKEN_HEADER],
    body: { schema: EMPTY_OBJECT, optional: true },
    status: 202,
  },
] as const satisfies readonly RouteSpec[];
