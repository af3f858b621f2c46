/**
 * @module api/routing/response-schemas — the documented shapes of success answers, by route id.
 * The OpenAPI generator puts them under `components.schemas` and references them; a test
 * validates real answers against them, so the document cannot drift from what the server sends.
 */
import { BULK_ACTIONS } from '../../bulk/types.ts';
import { TASK_STATUSES } from '../../tasks/task-view.ts';
import type { JsonSchema } from './route-spec.ts';

const str: JsonSchema = { type: 'string' };
const nullableStr: JsonSchema = { type: ['string', 'null'] };
const time: JsonSchema = { type: 'string', format: 'date-time' };
const nullableTime: JsonSchema = { type: ['string', 'null'], format: 'date-time' };
const int: JsonSchema = { type: 'integer' };
const num: JsonSchema = { type: 'number' };
const anyValue: JsonSchema = {};
const labels: JsonSchema = { type: 'object', additionalProperties: { type: 'string' } };

const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });

/** What an HTTP push agent shows besides the fields of every agent (its `lastHeartbeatAt` is when it last answered). */
const HTTP_AGENT_FIELDS: Readonly<Record<string, JsonSchema>> = {
  url: { type: 'string', format: 'uri' },
  concurrency: int,
  timeoutMs: int,
  secretHint: { type: 'string', description: 'The last characters of the secret; the secret itself is never shown again.' },
  createdAt: time,
};

/** What a template shows in lists and alone. */
const TEMPLATE_FIELDS: Readonly<Record<string, JsonSchema>> = {
  name: str,
  version: int,
  description: nullableStr,
  extends: { ...nullableStr, description: 'The parent this version inherits from, pinned when it was created: `<name>@<version>`.' },
  parameters: { type: 'object', additionalProperties: true, description: 'JSON Schema of the parameters, merged along the `extends` chain.' },
  createdAt: time,
};

const DOCUMENT_STATUS: JsonSchema = { type: 'string', enum: ['draft', 'final', 'archived'] };
const BULK_ID: JsonSchema = { type: 'string', pattern: '^bk_' };
const BULK_STATUS: JsonSchema = { type: 'string', enum: ['running', 'completed', 'cancelled'] };
/** Who wrote a version: the execution and step that saved it, null when written through the API. */
const WRITER: Readonly<Record<string, JsonSchema>> = { executionId: nullableStr, stepId: nullableStr };

/** What a document shows in lists and alone (its latest version's title, status and writer). */
const DOCUMENT_FIELDS: Readonly<Record<string, JsonSchema>> = {
  id: { type: 'string', pattern: '^doc_' },
  scopeType: str,
  scopeId: str,
  type: str,
  title: str,
  status: DOCUMENT_STATUS,
  version: { type: 'integer', minimum: 1, description: 'The latest version; `if-match` of an update names it.' },
  ...WRITER,
  createdAt: time,
  updatedAt: time,
};

const DOCUMENT_VERSION_FIELDS: Readonly<Record<string, JsonSchema>> = { version: { type: 'integer', minimum: 1 }, title: str, status: DOCUMENT_STATUS, createdAt: time, ...WRITER };

/** An object schema whose listed properties are all required (answers always carry every field). */
function shape(properties: Readonly<Record<string, JsonSchema>>, optional: readonly string[] = [], description?: string): JsonSchema {
  return {
    type: 'object',
    ...(description === undefined ? {} : { description }),
    required: Object.keys(properties).filter((k) => !optional.includes(k)),
    properties,
  };
}

/** `{ items, nextCursor }` of a list. */
const page = (item: string): JsonSchema =>
  shape({ items: { type: 'array', items: ref(item) }, nextCursor: { ...nullableStr, description: 'Opaque; null on the last page.' } });

const EXECUTION_STATUS = ['pending', 'queued', 'running', 'waiting', 'paused', 'completed', 'failed', 'cancelled', 'timed_out'];
/** A start's priority (−10..10): the order of a concurrency queue. */
const priority: JsonSchema = { type: 'integer', minimum: -10, maximum: 10 };

/** Counts by execution status of `/status`: the open statuses always present. */
const statusCounts = (description: string): JsonSchema => ({
  type: 'object',
  description,
  required: ['pending', 'queued', 'running', 'waiting', 'paused'],
  additionalProperties: int,
});

/** Named component schemas (`#/components/schemas/<name>`). */
export const COMPONENT_SCHEMAS: Readonly<Record<string, JsonSchema>> = {
  Execution: shape(
    {
      id: { type: 'string', pattern: '^ex_' },
      workflow: str,
      version: int,
      status: { type: 'string', enum: EXECUTION_STATUS },
      input: anyValue,
      output: anyValue,
      error: {
        oneOf: [
          { type: 'null' },
          shape({ code: str, message: str, stepId: nullableStr, compensated: { type: 'boolean' } }),
        ],
      },
      currentSteps: { type: 'array', items: str },
      parentId: nullableStr,
      tenant: str,
      labels,
      createdAt: time,
      startedAt: nullableTime,
      updatedAt: time,
      finishedAt: nullableTime,
      retryAttempt: int,
      lastSeq: { type: 'integer', minimum: 0, description: 'Seq of the last journaled event.' },
      priority: { ...priority, description: 'Its order in its workflow\'s concurrency queue while `queued`: higher first, then oldest first.' },
      template: shape({ name: str, version: int }, [], 'Only for an execution started from a template: that template version.'),
      scope: shape({ type: str, id: str }, [], 'Only when started with one: where its steps save documents by default.'),
    },
    ['template', 'scope'],
    'An execution of a workflow.',
  ),
  ExecutionSummary: shape({ id: str, workflow: str, status: { type: 'string', enum: EXECUTION_STATUS }, createdAt: time }, [], 'A child execution.'),
  MachineDocument: shape(
    {
      name: str,
      version: int,
      kind: { type: 'string', const: 'xstate' },
      hash: { ...str, description: 'SHA-256 (16 hex digits) of the machine source: a new version when it changes.' },
      tasks: { type: 'object', additionalProperties: str, description: 'Task step id (the invoke id) → agent kind.' },
      signals: { type: 'array', items: str, description: 'Signal names the machine handles (`*`: any).' },
      diagram: { ...str, description: 'Mermaid stateDiagram-v2 of its states.' },
    },
    [],
    'An XState machine registered from the machines directory (docs/machines.md); the server keeps its code, the store this description.',
  ),
  Definition: shape(
    {
      name: str,
      version: int,
      source: { type: 'string', enum: ['document', 'code', 'template'] },
      retired: { type: 'boolean' },
      createdAt: time,
      document: { oneOf: [ref('FlowDocument'), ref('MachineDocument')] },
      template: shape(
        { name: str, version: int, params: { type: 'object', additionalProperties: true, description: 'The params it was made with, defaults filled in.' } },
        [],
        'Only with `source: template`: the template version it was made from.',
      ),
    },
    ['template'],
    'A version of a workflow definition.',
  ),
  TemplateSummary: shape(TEMPLATE_FIELDS, [], 'The latest version of a workflow template.'),
  Template: shape(
    { ...TEMPLATE_FIELDS, document: { type: 'object', additionalProperties: true, description: 'The resolved flow document: inheritance applied, `${params.<name>}` placeholders kept.' } },
    [],
    'A version of a workflow template.',
  ),
  Event: shape(
    {
      seq: { type: 'integer', minimum: 1 },
      id: str,
      executionId: str,
      workflow: str,
      tenant: str,
      type: str,
      timestamp: time,
      stepId: str,
      // additionalProperties: generated clients read a bare `{ type: 'object' }` as an empty object.
      data: { type: 'object', additionalProperties: true },
    },
    ['stepId'],
    'A journaled event; `seq` counts 1, 2, 3… per execution.',
  ),
  Step: shape(
    {
      stepId: str,
      type: str,
      status: { type: 'string', enum: ['pending', 'running', 'waiting', 'completed', 'failed', 'skipped', 'cancelled'] },
      attempts: int,
      startedAt: nullableTime,
      finishedAt: nullableTime,
      output: anyValue,
      error: anyValue,
      agentId: nullableStr,
      waitingFor: nullableStr,
    },
    [],
    'A step that has started, in start order.',
  ),
  Attempt: shape(
    {
      attempt: { type: 'integer', minimum: 1 },
      status: { type: 'string', enum: ['running', 'completed', 'failed', 'cancelled'] },
      startedAt: time,
      finishedAt: nullableTime,
      durationMs: { type: ['number', 'null'] },
      agentId: nullableStr,
      output: anyValue,
      error: anyValue,
    },
    [],
    'One attempt of a step.',
  ),
  Log: shape(
    {
      timestamp: time,
      level: { type: 'string', enum: ['debug', 'info', 'warn', 'error'] },
      message: str,
      stepId: nullableStr,
      attempt: { type: ['integer', 'null'] },
      data: anyValue,
    },
    [],
    'A log line of a step.',
  ),
  Agent: shape(
    {
      id: str,
      name: str,
      kinds: { type: 'array', items: str },
      status: { type: 'string', enum: ['online', 'busy', 'offline'] },
      capacity: int,
      inFlight: int,
      lastHeartbeatAt: nullableTime,
      version: str,
      ...HTTP_AGENT_FIELDS,
    },
    Object.keys(HTTP_AGENT_FIELDS),
    'An agent: on the bus, or an HTTP push agent of your tenant (which has `url`, `concurrency`, `timeoutMs`, `secretHint`, `createdAt`).',
  ),
  AgentDetail: {
    allOf: [
      ref('Agent'),
      shape({ stats: shape({ completed: int, failed: int, failureRate: { type: 'number', minimum: 0, maximum: 1 }, p50Ms: { type: ['number', 'null'] } }) }),
    ],
  },
  TaskDefinition: shape(
    {
      kind: str,
      agents: shape({ online: int, busy: int }, [], 'Agents of the kind that are online and busy (offline ones are not counted).'),
      inputSchema: { type: ['object', 'null'], description: 'JSON Schema its agents declare for the input; a step whose input fails it fails with `input_invalid` before it is sent.' },
      outputSchema: { type: ['object', 'null'], description: 'JSON Schema its agents declare for the output.' },
      description: nullableStr,
    },
    [],
    'An agent kind served now, and what its agents declare about it (null when nothing).',
  ),
  Costs: shape({
    total: shape({ tokens: num, usd: num }),
    steps: { type: 'array', items: shape({ stepId: str, attempt: int, model: nullableStr, tokens: num, usd: num }) },
  }),
  Schedule: shape({
    id: { type: 'string', pattern: '^sc_' },
    workflow: str,
    input: anyValue,
    cron: nullableStr,
    timezone: nullableStr,
    everyMs: { type: ['integer', 'null'] },
    at: nullableTime,
    enabled: { type: 'boolean' },
    catchUp: { type: 'string', enum: ['skip', 'run-once'] },
    overlap: { type: 'string', enum: ['skip', 'allow', 'cancel-previous'] },
    priority: { ...priority, description: 'The `priority` of its runs.' },
    nextRunAt: nullableTime,
    lastRunAt: nullableTime,
    lastExecutionId: nullableStr,
    createdAt: time,
    updatedAt: time,
  }),
  ApiKey: shape({
    id: { type: 'string', pattern: '^key_' },
    name: str,
    tenant: str,
    scopes: { type: 'array', items: { type: 'string', enum: ['read', 'write', 'admin'] } },
    rateLimit: { oneOf: [{ type: 'null' }, shape({ rps: num, burst: num })] },
    createdAt: time,
    lastUsedAt: nullableTime,
  }),
  DocumentSummary: shape(DOCUMENT_FIELDS, [], 'A document: its latest version, without content (lists).'),
  Document: shape({ ...DOCUMENT_FIELDS, content: { ...anyValue, description: 'Any JSON value (text as a string).' } }, [], 'A document: its latest version, with content.'),
  DocumentVersionSummary: shape(DOCUMENT_VERSION_FIELDS, [], 'One version of a document, without content (lists).'),
  DocumentVersion: shape({ ...DOCUMENT_VERSION_FIELDS, content: anyValue }, [], 'One version of a document, with content.'),
  BulkOperation: shape(
    {
      id: BULK_ID,
      action: { type: 'string', enum: BULK_ACTIONS },
      filter: {
        type: 'object',
        description: 'The filter as the request gave it.',
        properties: { status: { type: 'array', items: str }, workflow: str, labels, createdAfter: time, createdBefore: time, ids: { type: 'array', items: str } },
        additionalProperties: false,
      },
      status: BULK_STATUS,
      matched: { ...int, description: 'Executions the filter matched at creation: the set acted on.' },
      succeeded: int,
      failed: int,
      skipped: { ...int, description: 'Executions whose state did not allow the action (e.g. already finished).' },
      errors: { type: 'array', maxItems: 100, items: shape({ executionId: str, code: str }), description: 'The first 100 failures.' },
      createdAt: time,
      finishedAt: nullableTime,
    },
    [],
    'A bulk operation and its counts so far.',
  ),
  BulkOperationAccepted: shape({ id: BULK_ID, status: BULK_STATUS, matched: int }, [], 'A bulk operation created (202), or replayed by its idempotency key (200).'),
  BulkPreview: shape({ matched: int, sample: { type: 'array', maxItems: 20, items: str, description: 'The first 20 matched ids, newest first.' } }, [], 'What a dry run would act on.'),
  Webhook: shape(
    {
      id: { type: 'string', pattern: '^wh_' },
      url: { type: 'string', format: 'uri' },
      events: { type: 'array', items: str },
      secretHint: { type: 'string', description: 'The last characters of the secret; the secret itself is never shown again.' },
      createdAt: time,
    },
    [],
    'An outbound webhook subscription.',
  ),
  Tenant: shape(
    {
      slug: str,
      name: str,
      limits: shape(
        {
          maxRunning: { type: ['integer', 'null'], description: 'Non-terminal executions at most; null: no limit.' },
          rps: { type: ['number', 'null'], description: "Requests per second over all the tenant's credentials; null: no limit." },
        },
      ),
      createdAt: time,
      updatedAt: time,
    },
    [],
    'A tenant and its quotas.',
  ),
  WebhookDelivery: shape(
    {
      id: str,
      webhookId: str,
      eventId: str,
      eventType: str,
      status: { type: 'string', enum: ['pending', 'delivered', 'failed', 'dead'] },
      attempts: int,
      lastStatusCode: { type: ['integer', 'null'] },
      lastError: nullableStr,
      nextAttemptAt: nullableTime,
      createdAt: time,
      deliveredAt: nullableTime,
    },
    [],
    'One event sent (or to be sent) to a webhook.',
  ),
  GraphqlAnswer: {
    type: 'object',
    description:
      'GraphQL-over-HTTP answer. An operation that ran: `data`, and `errors` for fields that failed (that field is null). ' +
      'A request error (syntax, validation, variables): `errors` only.',
    properties: {
      data: { type: ['object', 'null'] },
      errors: {
        type: 'array',
        minItems: 1,
        items: {
          type: 'object',
          required: ['message', 'extensions'],
          properties: {
            message: str,
            locations: { type: 'array', items: shape({ line: { type: 'integer', minimum: 1 }, column: { type: 'integer', minimum: 1 } }) },
            path: { type: 'array', items: { type: ['string', 'integer'] }, description: 'Where in `data` the failing field is.' },
            extensions: {
              type: 'object',
              required: ['code'],
              properties: { code: { ...str, description: 'Stable code: `graphql_parse_failed`, `graphql_validation_failed`, `graphql_read_only`, or the REST code of a failing field.' } },
            },
          },
        },
      },
    },
  },
  AuditEntry: shape({
    at: time,
    keyId: nullableStr,
    tenant: str,
    method: str,
    route: str,
    targetId: nullableStr,
    status: int,
    requestId: str,
  }),
  Task: shape(
    {
      id: { type: 'string', pattern: '^tk_' },
      agent: str,
      status: { type: 'string', enum: TASK_STATUSES },
      input: anyValue,
      output: { ...anyValue, description: 'The output once completed; null otherwise.' },
      error: { oneOf: [{ type: 'null' }, shape({ code: str, message: str })], description: 'Why it failed or was cancelled; null otherwise.' },
      attempts: { type: 'integer', minimum: 0, description: 'Attempts started so far (the history is GET /tasks/{id}/attempts); the same number in lists.' },
      retry: shape(
        { maxAttempts: { type: 'integer', minimum: 1 }, backoff: { type: 'string', enum: ['exponential', 'fixed'] }, initialMs: num, factor: num, maxMs: num, jitter: { type: 'boolean' } },
        [],
        'The effective retry policy (defaults filled in).',
      ),
      timeoutMs: { type: ['integer', 'null'] },
      createdAt: time,
      updatedAt: time,
      completedAt: { ...nullableTime, description: 'When it ended; null while open.' },
    },
    [],
    'A standalone task: one step run on an agent kind without a flow.',
  ),
};

const executionPage = page('Execution');

const count: JsonSchema = { type: 'integer', minimum: 0 };
const ms: JsonSchema = { type: ['number', 'null'], minimum: 0, description: 'Milliseconds (nearest-rank percentile); null without samples.' };
const usd: JsonSchema = { type: 'number', minimum: 0, description: 'USD, rounded to 1e-9.' };
const all = (properties: Readonly<Record<string, JsonSchema>>): JsonSchema => ({ type: 'object', required: Object.keys(properties), properties });

/**
 * Success answers of the telemetry routes (JSON Schema), for the OpenAPI document's response
 * schemas; tests/integration/telemetry.test.ts validates real answers against them.
 */
export const TELEMETRY_RESPONSE_SCHEMAS = {
  telemetrySummary: all({
    from: time,
    to: time,
    executions: all({ started: count, completed: count, failed: { ...count, description: '`failed` and `timed_out`.' }, cancelled: count }),
    durationMs: all({ p50: ms, p95: ms }),
    cost: all({ tokens: { type: 'number', minimum: 0 }, usd }),
    workflows: {
      type: 'array',
      items: all({ workflow: { type: 'string' }, started: count, completed: count, failed: count, p50Ms: ms, p95Ms: ms, tokens: { type: 'number', minimum: 0 }, usd }),
    },
  }),
  telemetrySeries: all({
    from: time,
    to: time,
    bucketMs: { type: 'integer', minimum: 1, description: 'Length of each bucket (the last one may be shorter).' },
    buckets: {
      type: 'array',
      items: all({ at: time, started: count, completed: count, failed: { ...count, description: '`failed` and `timed_out`.' }, cancelled: count }),
    },
  }),
  telemetryWorkflowStats: all({
    workflow: { type: 'string' },
    from: time,
    to: time,
    steps: {
      type: 'array',
      items: all({
        stepId: { type: 'string' },
        runs: { ...count, description: 'Step runs with an outcome (not attempts).' },
        successRate: { type: 'number', minimum: 0, maximum: 1 },
        retries: count,
        recoveries: all({ skip: count, fallback: count, compensate: count }),
        p50Ms: ms,
        p95Ms: ms,
        p99Ms: ms,
      }),
    },
  }),
} as const satisfies Readonly<Record<string, JsonSchema>>;

/** This node of a cluster: the `cluster` object of `/status`, and the node part of `GET /cluster`. */
const CLUSTER_NODE: Readonly<Record<string, JsonSchema>> = {
  nodeId: str,
  partitions: int,
  serving: { type: 'array', items: int, description: 'Partitions this node serves now.' },
  adopting: { type: 'array', items: int, description: 'Partitions whose lease this node holds and which it is still taking over.' },
  journalLag: shape({ applied: int, streamLast: int, behind: int, sampledAt: int }, [], 'How far the read model of this node is behind the journal stream (commits), as last sampled.'),
  forwarded: shape({ sent: int, received: int, unavailable: int }, [], 'Commands forwarded to other nodes, received from them, and refused for want of an owner.'),
  sharedState: shape({ applied: int, waiting: int }, [], 'This node\'s copy of the cluster-wide resources (definitions, templates, keys, tenants, schedules, webhooks): the shared-state stream sequence it applied everything up to, and writes waiting for their resource while the node starts.'),
};

/** Success schema by route id; routes not listed are documented as `{ type: 'object' }`. */
export const RESPONSE_SCHEMAS: Readonly<Record<string, JsonSchema>> = {
  listDefinitions: page('Definition'),
  createDefinition: ref('Definition'),
  validateDefinition: shape({ valid: { type: 'boolean', const: true } }),
  getDefinition: ref('Definition'),
  listDefinitionVersions: page('Definition'),
  listTemplates: page('TemplateSummary'),
  createTemplate: ref('Template'),
  getTemplate: ref('Template'),
  listTemplateVersions: page('TemplateSummary'),
  instantiateTemplate: ref('Definition'),
  stepSchema: shape({
    input: { type: ['object', 'null'], description: 'JSON Schema of the step\'s input; null when none is declared.' },
    output: { type: ['object', 'null'], description: 'JSON Schema of the step\'s output; null when none is declared.' },
  }),
  startExecution: ref('Execution'),
  listExecutions: executionPage,
  getExecution: ref('Execution'),
  updateExecution: ref('Execution'),
  cancelExecution: ref('Execution'),
  pauseExecution: ref('Execution'),
  resumeExecution: ref('Execution'),
  retryExecution: ref('Execution'),
  retryStep: ref('Execution'),
  signalExecution: ref('Execution'),
  listSteps: page('Step'),
  listAttempts: page('Attempt'),
  listEvents: page('Event'),
  listLogs: page('Log'),
  listChildren: page('ExecutionSummary'),
  executionCosts: ref('Costs'),
  listAgents: page('Agent'),
  getAgent: ref('AgentDetail'),
  registerHttpAgent: {
    allOf: [
      ref('AgentDetail'),
      shape(HTTP_AGENT_FIELDS),
      { type: 'object', properties: { secret: { type: 'string', description: 'Only when the server generated it: shown once.' } } },
    ],
  },
  listTaskDefinitions: page('TaskDefinition'),
  getTaskDefinition: ref('TaskDefinition'),
  heartbeatAgentTask: shape({ deadline: { ...time, description: 'The new deadline of the task: an answer, its result or the next heartbeat by then.' } }),
  listSchedules: page('Schedule'),
  createSchedule: ref('Schedule'),
  getSchedule: ref('Schedule'),
  updateSchedule: ref('Schedule'),
  createApiKey: {
    allOf: [ref('ApiKey'), shape({ key: { type: 'string', description: 'The secret; shown only in this answer.' } })],
  },
  listApiKeys: page('ApiKey'),
  listAudit: page('AuditEntry'),
  listTenants: page('Tenant'),
  createTenant: ref('Tenant'),
  getTenant: {
    allOf: [
      ref('Tenant'),
      shape({
        usage: shape({
          running: { ...int, description: 'Non-terminal executions: what `limits.maxRunning` caps.' },
          waiting: { ...int, description: 'Of them, those waiting for a signal or a timer.' },
          executions: { ...int, description: 'Executions of every status.' },
          definitions: { ...int, description: 'Workflow definitions (by name).' },
        }),
      }),
    ],
  },
  updateTenant: ref('Tenant'),
  listTasks: page('Task'),
  createTask: ref('Task'),
  getTask: ref('Task'),
  listTaskAttempts: page('Attempt'),
  cancelTask: ref('Task'),
  listWebhooks: page('Webhook'),
  createWebhook: {
    allOf: [ref('Webhook'), { type: 'object', properties: { secret: { type: 'string', description: 'Only when the server generated it: shown once.' } } }],
  },
  getWebhook: ref('Webhook'),
  listWebhookDeliveries: page('WebhookDelivery'),
  createDocument: ref('Document'),
  listDocuments: page('DocumentSummary'),
  getDocument: ref('Document'),
  updateDocument: ref('Document'),
  listDocumentVersions: page('DocumentVersionSummary'),
  getDocumentVersion: ref('DocumentVersion'),
  createBulkOperation: { oneOf: [ref('BulkOperationAccepted'), ref('BulkPreview')] },
  listBulkOperations: page('BulkOperation'),
  getBulkOperation: ref('BulkOperation'),
  cancelBulkOperation: ref('BulkOperation'),
  triggerHook: ref('Execution'),
  ...TELEMETRY_RESPONSE_SCHEMAS,
  graphql: { $ref: '#/components/schemas/GraphqlAnswer' },
  graphqlGet: { $ref: '#/components/schemas/GraphqlAnswer' },
  health: shape({ status: { const: 'ok' }, version: str, uptimeS: int }),
  cluster: shape(
    {
      ...CLUSTER_NODE,
      nodes: { type: 'array', items: str, description: 'Live nodes (their heartbeats), sorted.' },
      owners: {
        type: 'array',
        description: 'Every partition, with its owner as the leases show it (null: none now) and the age of that lease in ms (null: no lease).',
        items: shape({ partition: int, node: { type: ['string', 'null'] }, leaseAgeMs: { type: ['integer', 'null'] } }),
      },
    },
    [],
    'Cluster mode: the cluster as this node sees it.',
  ),
  rootHealth: shape({ status: { const: 'ok' }, version: str, uptimeS: int }),
  ready: shape({ ready: { const: true } }),
  rootReady: shape({ ready: { const: true } }),
  status: shape(
    {
      executions: statusCounts('Executions of the caller\'s tenant by status; every status present, 0 when none.'),
      tasks: statusCounts('Standalone tasks of the caller\'s tenant by status; every status present, 0 when none.'),
      stalled: { type: 'integer', description: 'Steps of the caller\'s tenant dispatched but taken by no agent for a while.' },
      queuedByWorkflow: { type: 'object', additionalProperties: int, description: 'Queued executions of the caller\'s tenant per workflow (held by concurrency limits); workflows with none are absent.' },
      agents: shape({ online: int, busy: int, offline: int }, [], 'Agents on the bus (shared by every tenant).'),
      bus: str,
      store: str,
      system: shape(
        {
          executions: statusCounts('Executions of every tenant by status.'),
          tasks: statusCounts('Standalone tasks of every tenant by status.'),
          stalled: { type: 'integer', description: 'Stalled steps of every tenant.' },
          queuedByWorkflow: { type: 'object', additionalProperties: int, description: 'Queued executions of every tenant per workflow.' },
          live: { type: 'integer', description: 'Executions held in memory.' },
          passivated: { type: 'integer', description: 'How many times an idle execution was moved out of memory since start.' },
          rebuilt: shape({ executions: int, inputsReplayed: int, refused: int }, [], 'Executions rebuilt from the store since start, the journaled inputs replayed for them, and rebuilds refused (their stored state could not be read or replayed).'),
          timers: { type: 'integer', description: 'Durable timers armed.' },
          journal: shape({ commits: int, rows: int, lastMs: num }, [], 'Journal group commits since start, events written, duration of the last one.'),
        },
        [],
        'Only for admins of tenant `default`: the figures of the whole server.',
      ),
      cluster: shape(CLUSTER_NODE, [], 'Cluster mode only: this node.'),
    },
    ['system', 'cluster'],
  ),
};
