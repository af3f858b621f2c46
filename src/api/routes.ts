/** @module api/routes — the route table: one data object per route (validation and OpenAPI share it). */
import { ErrorCode } from '../shared/errors.ts';
import {
  ANY,
  agentId,
  EMPTY_OBJECT,
  PAGE,
  dateTime,
  definitionName,
  diagramFormat,
  executionId,
  executionStatuses,
  flowDocument,
  idempotencyKey,
  labels,
  logLevel,
  longString,
  object,
  positiveInt,
  shortString,
} from './schemas.ts';
import { ADMIN_ROUTES } from './admin-routes.ts';
import { DASHBOARD_ROUTES } from './dashboard-routes.ts';
import { META_ROUTES } from './meta-routes.ts';
import { SCHEDULE_ROUTES } from './schedule-routes.ts';
import { TASK_ROUTES } from './task-routes.ts';
import { WEBHOOK_ROUTES } from './webhook-routes.ts';
import { TELEMETRY_ROUTES } from './telemetry-routes.ts';
import { GRAPHQL_ROUTES } from './graphql-routes.ts';
import type { RouteSpec } from './types.ts';

export const BASE_PATH = '/api/v1';

const nameParams = object({ name: definitionName }, ['name']);
const idParams = object({ id: executionId }, ['id']);
const stepParams = object({ id: executionId, stepId: shortString }, ['id', 'stepId']);
const signalParams = object({ id: executionId, name: shortString }, ['id', 'name']);
const ID_404 = { id: ErrorCode.executionNotFound, stepId: ErrorCode.stepNotFound, name: ErrorCode.notFound } as const;
const NAME_404 = { name: ErrorCode.definitionNotFound } as const;
const page = object(PAGE);
/** `?wait=`: how long a reply may wait for the execution to settle (finished, or waiting for a signal). */
const waitMs = { type: 'integer', minimum: 0, maximum: 30_000, default: 0, description: 'Milliseconds to wait for the execution to finish or wait for a signal (0-30000).' } as const;
const agentParams = object({ id: agentId }, ['id']);
const AGENT_404 = { id: ErrorCode.agentNotFound } as const;

const CORE_ROUTES = [
  // ── workflow definitions ────────────────────────────────────────────────
  {
    id: 'listDefinitions',
    method: 'get',
    path: '/workflow-definitions',
    summary: 'Latest version of each definition; `?name=` is a prefix filter.',
    tag: 'definitions',
    query: object({ name: { type: 'string', maxLength: 200 }, ...PAGE }),
    status: 200,
  },
  {
    id: 'createDefinition',
    method: 'post',
    path: '/workflow-definitions',
    summary: 'Register a flow document (JSON or YAML). Without `version`: latest+1 (201). Identical explicit version: 200.',
    tag: 'definitions',
    body: { schema: flowDocument, yaml: true },
    status: 201,
    alsoStatus: [200],
  },
  {
    id: 'validateDefinition',
    method: 'post',
    path: '/workflow-definitions/validate',
    summary: 'Validate a flow document without saving: 200 `{ valid: true }` or 422 with `errors`.',
    tag: 'definitions',
    body: { schema: flowDocument, yaml: true },
    status: 200,
  },
  {
    id: 'getDefinition',
    method: 'get',
    path: '/workflow-definitions/{name}',
    summary: 'Latest version of a definition; `?version=N` for another.',
    tag: 'definitions',
    params: nameParams,
    paramNotFound: NAME_404,
    query: object({ version: positiveInt }),
    status: 200,
  },
  {
    id: 'listDefinitionVersions',
    method: 'get',
    path: '/workflow-definitions/{name}/versions',
    summary: 'Every version of a definition.',
    tag: 'definitions',
    params: nameParams,
    paramNotFound: NAME_404,
    query: page,
    status: 200,
  },
  {
    id: 'retireDefinition',
    method: 'delete',
    path: '/workflow-definitions/{name}',
    summary: 'Retire: new starts get 409 `definition_retired`; running executions continue.',
    tag: 'definitions',
    params: nameParams,
    paramNotFound: NAME_404,
    status: 204,
    produces: 'none',
  },
  {
    id: 'definitionDiagram',
    method: 'get',
    path: '/workflow-definitions/{name}/diagram',
    summary: 'Mermaid `stateDiagram-v2` of a definition; `?format=json` → `{ mermaid }`.',
    tag: 'definitions',
    params: nameParams,
    paramNotFound: NAME_404,
    query: object({ version: positiveInt, format: diagramFormat }),
    status: 200,
    produces: 'mermaid',
  },
  // ── executions ──────────────────────────────────────────────────────────
  {
    id: 'startExecution',
    method: 'post',
    path: '/executions',
    summary: 'Start an execution of a registered workflow, or of a one-off `definition`. Durable before the reply; with `?wait=<ms>` the reply waits until it is finished or waiting for a signal (or `wait` passed).',
    tag: 'executions',
    headers: ['idempotency-key', 'traceparent', 'tracestate'],
    query: object({ wait: waitMs }),
    body: {
      schema: object({
        workflow: shortString,
        version: positiveInt,
        definition: flowDocument,
        input: ANY,
        labels,
        idempotencyKey,
        durability: { enum: ['journal', 'none'], description: '`none`: a direct execution: no file I/O while it runs, written once when it ends (lost on a crash before). Refused (422 `direct_not_allowed`) for flows with `wait` steps or sleeps over 60 s.' },
      }),
    },
    status: 201,
    alsoStatus: [200],
    errorStatus: { [ErrorCode.definitionNotFound]: 422 },
  },
  {
    id: 'listExecutions',
    method: 'get',
    path: '/executions',
    summary: 'Executions, newest first; filters `status`, `workflow`, `label.<k>=<v>`, `parentId`, `createdAfter`, `createdBefore`.',
    tag: 'executions',
    query: object({
      status: executionStatuses,
      workflow: shortString,
      labels,
      parentId: executionId,
      createdAfter: dateTime,
      createdBefore: dateTime,
      ...PAGE,
    }),
    status: 200,
  },
  {
    id: 'getExecution',
    method: 'get',
    path: '/executions/{id}',
    summary: 'One execution; with `?wait=<ms>` a long poll: answers once it is finished or waiting for a signal, or `wait` passed.',
    tag: 'executions',
    params: idParams,
    query: object({ wait: waitMs }),
    paramNotFound: ID_404,
    status: 200,
  },
  {
    id: 'updateExecution',
    method: 'patch',
    path: '/executions/{id}',
    summary: 'Merge `labels` and/or `context` (`workflow.updated`); 409 `execution_finished` when finished.',
    tag: 'executions',
    params: idParams,
    paramNotFound: ID_404,
    body: { schema: object({ labels, context: { type: 'object' } }, [], { minProperties: 1 }) },
    status: 200,
  },
  {
    id: 'cancelExecution',
    method: 'post',
    path: '/executions/{id}/cancel',
    summary: 'Cancel; in-flight steps are aborted. 409 when finished.',
    tag: 'executions',
    params: idParams,
    paramNotFound: ID_404,
    body: { schema: object({ reason: longString }), optional: true },
    status: 202,
  },
  {
    id: 'pauseExecution',
    method: 'post',
    path: '/executions/{id}/pause',
    summary: 'Pause: no new step is dispatched until resume. 409 unless running/waiting.',
    tag: 'executions',
    params: idParams,
    paramNotFound: ID_404,
    body: { schema: EMPTY_OBJECT, optional: true },
    status: 202,
  },
  {
    id: 'resumeExecution',
    method: 'post',
    path: '/executions/{id}/resume',
    summary: 'Resume a paused execution. 409 unless paused.',
    tag: 'executions',
    params: idParams,
    paramNotFound: ID_404,
    body: { schema: EMPTY_OBJECT, optional: true },
    status: 202,
  },
  {
    id: 'retryExecution',
    method: 'post',
    path: '/executions/{id}/retry',
    summary: 'Retry a failed/timed-out execution from the failed step (else 409 `not_retryable`).',
    tag: 'executions',
    params: idParams,
    paramNotFound: ID_404,
    body: { schema: object({ note: longString }), optional: true },
    status: 202,
  },
  {
    id: 'retryStep',
    method: 'post',
    path: '/executions/{id}/steps/{stepId}/retry',
    summary: 'Re-run a failed step. 409 otherwise.',
    tag: 'executions',
    params: stepParams,
    paramNotFound: ID_404,
    body: { schema: EMPTY_OBJECT, optional: true },
    status: 202,
  },
  {
    id: 'signalExecution',
    method: 'post',
    path: '/executions/{id}/signals/{name}',
    summary: '`{ payload }` delivers to the `wait` step for `name`; `{ reject: true, reason }` fails it. Buffered until reached.',
    tag: 'executions',
    params: signalParams,
    paramNotFound: ID_404,
    body: { schema: object({ payload: ANY, reject: { type: 'boolean' }, reason: longString }), optional: true },
    status: 202,
  },
  {
    id: 'listSteps',
    method: 'get',
    path: '/executions/{id}/steps',
    summary: 'Steps that have started, in start order.',
    tag: 'executions',
    params: idParams,
    paramNotFound: ID_404,
    query: page,
    status: 200,
  },
  {
    id: 'listAttempts',
    method: 'get',
    path: '/executions/{id}/steps/{stepId}/attempts',
    summary: 'Attempts of one step.',
    tag: 'executions',
    params: stepParams,
    paramNotFound: ID_404,
    query: page,
    status: 200,
  },
  {
    id: 'listEvents',
    method: 'get',
    path: '/executions/{id}/events',
    summary: 'Events in `seq` order after `?since=` (exclusive).',
    tag: 'executions',
    params: idParams,
    paramNotFound: ID_404,
    query: object({ since: { type: 'integer', minimum: 0, default: 0 }, ...PAGE }),
    status: 200,
  },
  {
    id: 'listLogs',
    method: 'get',
    path: '/executions/{id}/logs',
    summary: 'Step logs; `?level=` (that level and above), `?stepId=`.',
    tag: 'executions',
    params: idParams,
    paramNotFound: ID_404,
    query: object({ level: logLevel, stepId: shortString, ...PAGE }),
    status: 200,
  },
  {
    id: 'listChildren',
    method: 'get',
    path: '/executions/{id}/children',
    summary: 'Child executions.',
    tag: 'executions',
    params: idParams,
    paramNotFound: ID_404,
    query: page,
    status: 200,
  },
  {
    id: 'executionDiagram',
    method: 'get',
    path: '/executions/{id}/diagram',
    summary: "The definition's Mermaid with the visited states classed `done`, `active` or `failed`.",
    tag: 'executions',
    params: idParams,
    paramNotFound: ID_404,
    query: object({ format: diagramFormat }),
    status: 200,
    produces: 'mermaid',
  },
  {
    id: 'executionCosts',
    method: 'get',
    path: '/executions/{id}/costs',
    summary: 'Token and USD costs, in total and per step attempt.',
    tag: 'executions',
    params: idParams,
    paramNotFound: ID_404,
    status: 200,
  },
  {
    id: 'streamExecution',
    method: 'get',
    path: '/executions/{id}/stream',
    summary:
      'Server-sent events: `id:` = seq, `event:` = type, `data:` = the event JSON. From seq 1, or after `Last-Event-ID` / `?since=`; ' +
      "`?children=true` adds child executions' events (then `id:` is a cursor `<seq>,<childId>:<seq>…`); ends after the terminal event.",
    tag: 'executions',
    params: idParams,
    paramNotFound: ID_404,
    headers: ['last-event-id'],
    query: object({ since: { type: 'integer', minimum: 0 }, children: { type: 'boolean', default: false }, token: { type: 'string', maxLength: 4096 } }),
    status: 200,
    produces: 'event-stream',
  },
  // ── agents ──────────────────────────────────────────────────────────────
  {
    id: 'listAgents',
    method: 'get',
    path: '/agents',
    summary: 'Agents seen on the bus (in-process ones included), by id: status `online|busy|offline`, capacity, in-flight, last heartbeat.',
    tag: 'agents',
    query: page,
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
  // ── operations ──────────────────────────────────────────────────────────
  { id: 'health', method: 'get', path: '/health', auth: 'none', summary: 'Liveness: `{ status, version, uptimeS }`.', tag: 'ops', status: 200 },
  { id: 'ready', method: 'get', path: '/ready', auth: 'none', summary: 'Readiness: 200 `{ ready: true }` or 503 `not_ready`.', tag: 'ops', status: 200 },
  { id: 'status', method: 'get', path: '/status', summary: "Counts of the caller's tenant (executions and tasks by status, every status present, 0 when none; stalled steps), agents, bus, store. Admins of tenant `default` also get the whole server's figures under `system`.", tag: 'ops', status: 200 },
  { id: 'rootHealth', method: 'get', path: '/health', root: true, auth: 'none', summary: 'Liveness (outside the base path).', tag: 'ops', status: 200 },
  { id: 'rootReady', method: 'get', path: '/ready', root: true, auth: 'none', summary: 'Readiness (outside the base path).', tag: 'ops', status: 200 },
] as const satisfies readonly RouteSpec[];

/** Every REST route (WebSocket routes are in api/ws-upgrade.ts). */
export const ROUTES = [...CORE_ROUTES, ...SCHEDULE_ROUTES, ...TASK_ROUTES, ...WEBHOOK_ROUTES, ...ADMIN_ROUTES, ...META_ROUTES, ...DASHBOARD_ROUTES, ...TELEMETRY_ROUTES, ...GRAPHQL_ROUTES] as const satisfies readonly RouteSpec[];

export type RouteId = (typeof ROUTES)[number]['id'];

/** The full URL path template of a route (OpenAPI form, `{param}`). */
export function fullPath(route: RouteSpec): string {
  return route.root === true ? route.path : BASE_PATH + route.path;
}
