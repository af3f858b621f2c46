/** @module api/resources/tasks/routes — the route table of standalone tasks: one step dispatched to an agent kind, without a flow. */
import { Type } from '@sinclair/typebox';
import { RETRY_SCHEMA } from '../../../engine/flow/flow-schema.ts';
import { TASK_AGENT_PATTERN } from '../../../engine/runtime/tasks.ts';
import { ErrorCode } from '../../../common/errors.ts';
import { TASK_STATUSES } from '../../../tasks/task-view.ts';
import type { RetryPolicy } from '../../../common/flow.ts';
import { ANY, PAGE, idempotencyKey, shape, stringEnum, ulidId } from '../../routing/schemas.ts';
import type { RouteSpec } from '../../routing/route-spec.ts';

const { Optional } = Type;

/** Same shape as `parseTaskId` in src/engine/runtime/tasks.ts: anything else cannot exist (404). */
export const taskId = ulidId('tk', 'Task id');

const agent = Type.String({
  pattern: TASK_AGENT_PATTERN,
  description: 'Agent kind to run the task (built-in: echo, log, sleep, http, fail): 1-123 characters of A-Z a-z 0-9 _ . - (starting with a letter or digit).',
});

const taskStatuses = Type.Array(stringEnum(TASK_STATUSES), { minItems: 1, description: 'Comma-separated list of task statuses.' });

/** Above 2^31-1 ms a timer would fire at once. */
const timeoutMs = Type.Integer({ minimum: 1, maximum: 2_147_483_647, description: 'Timeout of each attempt in ms (`step_timeout`, retryable).' });

// The flow validator's own messages (`x-messages`) are not keywords the API's strict ajv accepts.
const { 'x-messages': _messages, ...retryPolicy } = RETRY_SCHEMA;
/** The flow step's retry policy: its schema and type come from the flow document's (src/engine/flow/flow-schema.ts, src/common/flow.ts). */
const retry = Type.Unsafe<RetryPolicy>({
  ...retryPolicy,
  description: 'Retry policy; defaults `{ maxAttempts: 3, backoff: exponential, initialMs: 200, factor: 2, maxMs: 30000, jitter: false }`.',
});

const idParams = shape({ id: taskId });
const ID_404 = { id: ErrorCode.taskNotFound } as const;

export const TASK_ROUTES = [
  {
    id: 'listTasks',
    method: 'get',
    path: '/tasks',
    summary: 'Standalone tasks, newest first; filters `status` (comma list) and `agent`.',
    tag: 'tasks',
    query: shape({ status: Optional(taskStatuses), agent: Optional(Type.String({ minLength: 1, maxLength: 200 })), ...PAGE }),
    status: 200,
  },
  {
    id: 'createTask',
    method: 'post',
    path: '/tasks',
    summary:
      'Run one step on an agent kind without a flow, with the flow step retry policy (`retry`) and per-attempt `timeoutMs`. Durable before the reply. Status `pending|running|completed|failed|cancelled`.',
    tag: 'tasks',
    headers: ['idempotency-key'],
    body: {
      schema: shape({ agent, input: ANY, retry: Optional(retry), timeoutMs: Optional(timeoutMs), idempotencyKey: Optional(idempotencyKey) }),
    },
    status: 201,
    alsoStatus: [200],
  },
  {
    id: 'getTask',
    method: 'get',
    path: '/tasks/{id}',
    summary: 'One task with `status`, `output`, `error`, `attempts`.',
    tag: 'tasks',
    params: idParams,
    paramNotFound: ID_404,
    status: 200,
  },
  {
    id: 'listTaskAttempts',
    method: 'get',
    path: '/tasks/{id}/attempts',
    summary: 'Attempts of a task: `{ attempt, status, startedAt, finishedAt, durationMs, agentId, output, error }`.',
    tag: 'tasks',
    params: idParams,
    paramNotFound: ID_404,
    query: shape(PAGE),
    status: 200,
  },
  {
    id: 'cancelTask',
    method: 'delete',
    path: '/tasks/{id}',
    summary: 'Cancel a pending or running task (its running attempt is aborted): 202 with the task. 409 `task_finished` once it ended.',
    tag: 'tasks',
    params: idParams,
    paramNotFound: ID_404,
    errorStatus: { [ErrorCode.taskFinished]: 409 },
    status: 202,
  },
] as const satisfies readonly RouteSpec[];
