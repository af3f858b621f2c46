/** @module client/client — `createClient`: a typed method for every REST route (docs/api.md). */
import type { AttemptView, DefinitionView, EventView, ExecutionView, LogView, Page, StepView } from '../common/execution.ts';
import type { FlowDocument } from '../common/flow.ts';
import type { TemplateSummary, TemplateView } from '../common/template.ts';
import { type Duration, toMs } from './duration.ts';
import { type ExecutionResult, MAX_WAIT_MS, type ResultReads, outcome, settle, timed } from './result.ts';
import { type WatchOptions, watchExecution } from './sse.ts';
import { type CallOptions, type Method, Transport, type TransportOptions, seg } from './transport.ts';
import type { BulkOperationAccepted, BulkOperationView, BulkPreview, CreateBulkOperationRequest } from './bulk-types.ts';
import { type BulkWaitOptions, waitForBulk } from './bulk-wait.ts';
import type {
  CreateDocumentRequest,
  DocumentSummaryView,
  DocumentVersionSummaryView,
  DocumentVersionView,
  DocumentView,
  ListDocumentsOptions,
  UpdateDocumentRequest,
} from './document-types.ts';
import type {
  Accepted,
  AgentTaskResult,
  AgentView,
  ApiKeyView,
  AuditEntry,
  ChildView,
  CostsView,
  CreateApiKeyRequest,
  CreatedApiKey,
  GraphqlResponse,
  CreateTaskRequest,
  CreateScheduleRequest,
  CreateWebhookRequest,
  CreatedWebhook,
  CreateTenantRequest,
  DeliveryView,
  HealthView,
  InstantiateTemplateRequest,
  RegisterHttpAgentRequest,
  RegisteredHttpAgent,
  ListExecutionsOptions,
  ListOptions,
  ListTasksOptions,
  Query,
  ScheduleView,
  SignalRequest,
  StartExecutionRequest,
  StatusView,
  StepSchemasView,
  TaskDefinitionView,
  TaskView,
  TelemetrySeriesView,
  TelemetrySummaryView,
  TelemetryWindow,
  TenantDetail,
  TenantView,
  UpdateExecutionRequest,
  UpdateScheduleRequest,
  UpdateTenantRequest,
  ValidationResult,
  WebhookView,
  WorkflowStatsView,
} from './types.ts';

export type ClientOptions = TransportOptions;

/** Options of a start. */
export interface StartOptions {
  readonly idempotencyKey?: string;
  /**
   * Answer once the execution finished or waits for a signal, or after this long (ms or `"5s"`), with the
   * execution as it is then. Up to 30 s is one request (`?wait=`); longer waits continue as long polls.
   */
  readonly wait?: Duration;
  readonly signal?: AbortSignal;
}

/** Options of `result()` and `run()`. */
export interface ResultOptions {
  /** How long to wait at most (ms or `"2m"`); default 30 s, `0` looks once. */
  readonly timeout?: Duration;
  readonly signal?: AbortSignal;
}

const DEFAULT_RESULT_TIMEOUT_MS = 30_000;

/** A flow document: typed (`FlowDocument`), any object (checked by the server), or YAML/JSON text. */
export type DefinitionDocument = FlowDocument | Readonly<Record<string, unknown>> | string;

const lq = (o: ListOptions = {}): Query => ({ limit: o.limit, cursor: o.cursor });

function docBody(doc: DefinitionDocument): Pick<CallOptions, 'body' | 'raw'> {
  if (typeof doc !== 'string') return { body: doc };
  const json = doc.trimStart().startsWith('{');
  return { raw: { text: doc, contentType: json ? 'application/json' : 'application/yaml' } };
}

function executionQuery(o: ListExecutionsOptions): Query {
  const q: Record<string, string | number | undefined> = { ...lq(o), workflow: o.workflow, parentId: o.parentId, createdAfter: o.createdAfter, createdBefore: o.createdBefore };
  if (o.status !== undefined) q['status'] = typeof o.status === 'string' ? o.status : o.status.join(',');
  for (const [k, v] of Object.entries(o.labels ?? {})) q[`label.${k}`] = v;
  return q;
}

/** Builds a client. `url` is the server origin; `key` an API key or JWT. */
export function createClient(opts: ClientOptions) {
  const t = new Transport(opts);
  const call = <T>(method: Method, path: string, o?: CallOptions) => t.call<T>(method, path, o);
  const ex = (id: string) => `/executions/${seg(id)}`;
  const def = (name: string) => `/workflow-definitions/${seg(name)}`;
  const tpl = (name: string) => `/workflow-templates/${seg(name)}`;
  const doc = (id: string) => `/documents/${seg(id)}`;
  const action = (id: string, what: string, body: unknown = {}) => call<Accepted>('POST', `${ex(id)}/${what}`, { body });
  const idem = (key: string | undefined) => (key ? { headers: { 'idempotency-key': key } } : {});
  const sig = (signal: AbortSignal | undefined) => (signal === undefined ? {} : { signal });
  const reads = (signal: AbortSignal | undefined): ResultReads => ({
    get: (id, waitMs) => call<ExecutionView>('GET', ex(id), { query: { wait: waitMs || undefined }, ...sig(signal) }),
    steps: (id, cursor) => call<Page<StepView>>('GET', `${ex(id)}/steps`, { query: { limit: 1000, cursor }, ...sig(signal) }),
  });

  /** POST /executions with `?wait=` (capped at the server's 30 s), then long polls until `waitMs` from now. */
  async function startAndWait(req: StartExecutionRequest, waitMs: number, o: StartOptions) {
    const deadline = performance.now() + waitMs;
    const first = Math.min(waitMs, MAX_WAIT_MS);
    const polled = await timed(first, () =>
      call<ExecutionView>('POST', '/executions', { body: req, query: { wait: first || undefined }, ...idem(o.idempotencyKey), ...sig(o.signal) }),
    );
    return waitMs <= MAX_WAIT_MS ? { first: polled, settled: null } : { first: polled, settled: await settle(reads(o.signal), polled.view.id, deadline, polled) };
  }

  return {
    /** The transport (origin, key, fetch) this client uses. */
    transport: t,
    definitions: {
      list: (o: ListOptions & { name?: string } = {}) => call<Page<DefinitionView>>('GET', '/workflow-definitions', { query: { ...lq(o), name: o.name } }),
      get: (name: string, version?: number) => call<DefinitionView>('GET', def(name), { query: { version } }),
      versions: (name: string, o: ListOptions = {}) => call<Page<DefinitionView>>('GET', `${def(name)}/versions`, { query: lq(o) }),
      create: (doc: DefinitionDocument, o: { idempotencyKey?: string } = {}) =>
        call<DefinitionView>('POST', '/workflow-definitions', { ...docBody(doc), ...idem(o.idempotencyKey) }),
      validate: (doc: DefinitionDocument) => call<ValidationResult>('POST', '/workflow-definitions/validate', docBody(doc)),
      retire: (name: string) => call<void>('DELETE', def(name)),
      /** Mermaid `stateDiagram-v2` text. */
      diagram: (name: string, version?: number) => call<string>('GET', `${def(name)}/diagram`, { query: { version }, text: true }),
      /** `{ input, output }` JSON Schemas of one step (null where none is declared). */
      stepSchema: (name: string, stepId: string, version?: number) => call<StepSchemasView>('GET', `${def(name)}/steps/${seg(stepId)}/schema`, { query: { version } }),
    },
    /** Workflow templates: flow documents with parameters and inheritance (docs/api/templates.md). */
    templates: {
      list: (o: ListOptions & { name?: string } = {}) => call<Page<TemplateSummary>>('GET', '/workflow-templates', { query: { ...lq(o), name: o.name } }),
      /** With its merged parameters and resolved document (placeholders kept). */
      get: (name: string, version?: number) => call<TemplateView>('GET', tpl(name), { query: { version } }),
      /** Latest + 1 without `version`; the identical existing version with one (else 409). 422 `template_invalid` lists every problem. */
      create: (doc: DefinitionDocument) => call<TemplateView>('POST', '/workflow-templates', docBody(doc)),
      /** Every version, or one. Definitions made from it and executions started from it stay. */
      delete: (name: string, version?: number) => call<void>('DELETE', tpl(name), { query: { version } }),
      /** Its live versions, oldest first. */
      versions: (name: string, o: ListOptions = {}) => call<Page<TemplateSummary>>('GET', `${tpl(name)}/versions`, { query: lq(o) }),
      /** Registers the template with `params` as a new version of definition `name` (default: the template's name). */
      instantiate: (template: string, req: InstantiateTemplateRequest = {}, o: { version?: number | undefined } = {}) =>
        call<DefinitionView>('POST', `${tpl(template)}/instantiate`, { body: req, query: { version: o.version } }),
      /** Mermaid `stateDiagram-v2` text of the resolved document with the defaults. */
      diagram: (name: string, version?: number) => call<string>('GET', `${tpl(name)}/diagram`, { query: { version }, text: true }),
    },
    executions: {
      /** Starts an execution (durable before the reply); with `wait`, answers once it settled or `wait` passed. */
      start: async (req: StartExecutionRequest, o: StartOptions = {}): Promise<ExecutionView> => {
        const r = await startAndWait(req, o.wait === undefined ? 0 : toMs(o.wait, 'wait'), o);
        return r.settled?.execution ?? r.first.view;
      },
      /**
       * Starts an execution and waits for its result: `completed` with the output, `waiting` for a signal,
       * or `timeout` while it still runs. Failed, cancelled or timed out: throws ActorflowExecutionError.
       */
      run: async <O = unknown>(req: StartExecutionRequest, o: ResultOptions & { idempotencyKey?: string } = {}): Promise<ExecutionResult<O>> => {
        const timeoutMs = o.timeout === undefined ? DEFAULT_RESULT_TIMEOUT_MS : toMs(o.timeout, 'timeout');
        const deadline = performance.now() + timeoutMs;
        const r = await startAndWait(req, Math.min(timeoutMs, MAX_WAIT_MS), o);
        return outcome<O>(await settle(reads(o.signal), r.first.view.id, deadline, r.first));
      },
      /**
       * The result of an execution, waiting up to `timeout` (default 30 s): `completed` with the output,
       * `waiting` for a signal, or `timeout` while it still runs. Failed, cancelled or timed out: throws ActorflowExecutionError.
       */
      result: async <O = unknown>(id: string, o: ResultOptions = {}): Promise<ExecutionResult<O>> => {
        const timeoutMs = o.timeout === undefined ? DEFAULT_RESULT_TIMEOUT_MS : toMs(o.timeout, 'timeout');
        return outcome<O>(await settle(reads(o.signal), id, performance.now() + timeoutMs));
      },
      list: (o: ListExecutionsOptions = {}) => call<Page<ExecutionView>>('GET', '/executions', { query: executionQuery(o) }),
      /** One execution; with `wait` (ms or `"5s"`, at most 30 s) a long poll that answers once it finished or waits for a signal. */
      get: (id: string, o: { wait?: Duration; signal?: AbortSignal } = {}) =>
        call<ExecutionView>('GET', ex(id), { query: { wait: o.wait === undefined ? undefined : toMs(o.wait, 'wait') || undefined }, ...sig(o.signal) }),
      update: (id: string, req: UpdateExecutionRequest) => call<ExecutionView>('PATCH', ex(id), { body: req }),
      cancel: (id: string, reason?: string) => action(id, 'cancel', reason === undefined ? {} : { reason }),
      pause: (id: string) => action(id, 'pause'),
      resume: (id: string) => action(id, 'resume'),
      retry: (id: string, note?: string) => action(id, 'retry', note === undefined ? {} : { note }),
      retryStep: (id: string, stepId: string) => action(id, `steps/${seg(stepId)}/retry`),
      signal: (id: string, name: string, req: SignalRequest = {}) => action(id, `signals/${seg(name)}`, req),
      steps: (id: string, o: ListOptions = {}) => call<Page<StepView>>('GET', `${ex(id)}/steps`, { query: lq(o) }),
      attempts: (id: string, stepId: string, o: ListOptions = {}) => call<Page<AttemptView>>('GET', `${ex(id)}/steps/${seg(stepId)}/attempts`, { query: lq(o) }),
      events: (id: string, o: ListOptions & { since?: number } = {}) => call<Page<EventView>>('GET', `${ex(id)}/events`, { query: { ...lq(o), since: o.since } }),
      logs: (id: string, o: ListOptions & { level?: LogView['level']; stepId?: string } = {}) =>
        call<Page<LogView>>('GET', `${ex(id)}/logs`, { query: { ...lq(o), level: o.level, stepId: o.stepId } }),
      children: (id: string, o: ListOptions = {}) => call<Page<ChildView>>('GET', `${ex(id)}/children`, { query: lq(o) }),
      diagram: (id: string) => call<string>('GET', `${ex(id)}/diagram`, { text: true }),
      costs: (id: string) => call<CostsView>('GET', `${ex(id)}/costs`),
      /** Every event (history, then live) until the terminal one, over SSE; resumes on reconnect. */
      watch: (id: string, o: WatchOptions = {}): AsyncIterable<EventView> => watchExecution(t, id, o),
    },
    agents: {
      list: (o: ListOptions = {}) => call<Page<AgentView>>('GET', '/agents', { query: lq(o) }),
      get: (id: string) => call<AgentView>('GET', `/agents/${seg(id)}`),
      /** Registers an HTTP push agent of your tenant (docs/agents.md, "HTTP push agents"). */
      registerHttp: (req: RegisterHttpAgentRequest) => call<RegisteredHttpAgent>('POST', '/agents/http', { body: req }),
      deleteHttp: (id: string) => call<void>('DELETE', `/agents/http/${seg(id)}`),
    },
    /** The kinds agents serve now, with what they declare (schemas, description). */
    taskDefinitions: {
      list: (o: ListOptions = {}) => call<Page<TaskDefinitionView>>('GET', '/task-definitions', { query: lq(o) }),
      get: (kind: string) => call<TaskDefinitionView>('GET', `/task-definitions/${seg(kind)}`),
    },
    /** What an HTTP push agent written in TypeScript calls back; the task token authorizes (no key needed). */
    agentTasks: {
      /** The result of a task answered 202; resolves once it is durable. */
      result: (taskId: string, token: string, result: AgentTaskResult) =>
        call<void>('POST', `/agent-tasks/${seg(taskId)}/result`, { body: result, headers: { 'x-actorflow-task-token': token } }),
      /** Extends the task's deadline by the agent's `timeoutMs`. */
      heartbeat: (taskId: string, token: string) =>
        call<{ deadline: string }>('POST', `/agent-tasks/${seg(taskId)}/heartbeat`, { body: {}, headers: { 'x-actorflow-task-token': token } }),
    },
    tasks: {
      /** Durable before the reply; `idempotencyKey` replays the same task for the same request. */
      create: (req: CreateTaskRequest, o: { idempotencyKey?: string } = {}) =>
        call<TaskView>('POST', '/tasks', { body: req, ...idem(o.idempotencyKey) }),
      list: (o: ListTasksOptions = {}) =>
        call<Page<TaskView>>('GET', '/tasks', { query: { ...lq(o), agent: o.agent, status: o.status === undefined || typeof o.status === 'string' ? o.status : o.status.join(',') } }),
      get: (id: string) => call<TaskView>('GET', `/tasks/${seg(id)}`),
      attempts: (id: string, o: ListOptions = {}) => call<Page<AttemptView>>('GET', `/tasks/${seg(id)}/attempts`, { query: lq(o) }),
      /** Cancels a pending or running task (409 `task_finished` once it ended). */
      cancel: (id: string) => call<TaskView>('DELETE', `/tasks/${seg(id)}`),
    },
    schedules: {
      list: (o: ListOptions = {}) => call<Page<ScheduleView>>('GET', '/schedules', { query: lq(o) }),
      get: (id: string) => call<ScheduleView>('GET', `/schedules/${seg(id)}`),
      /** Exactly one trigger: `cron` (+ `timezone`), `everyMs` or `at`. Runs are executions labelled `schedule=<id>`. */
      create: (req: CreateScheduleRequest) => call<ScheduleView>('POST', '/schedules', { body: req }),
      /** Changes fields; `enabled: false` disables; one of `cron`/`everyMs`/`at` replaces the trigger. */
      update: (id: string, req: UpdateScheduleRequest) => call<ScheduleView>('PATCH', `/schedules/${seg(id)}`, { body: req }),
      /** Runs already started continue. */
      delete: (id: string) => call<void>('DELETE', `/schedules/${seg(id)}`),
    },
    webhooks: {
      list: (o: ListOptions = {}) => call<Page<WebhookView>>('GET', '/webhooks', { query: lq(o) }),
      get: (id: string) => call<WebhookView>('GET', `/webhooks/${seg(id)}`),
      /** Without `secret` one is generated and returned in this answer only. */
      create: (req: CreateWebhookRequest) => call<CreatedWebhook>('POST', '/webhooks', { body: req }),
      /** Drops the delivery history and deliveries not yet made. */
      delete: (id: string) => call<void>('DELETE', `/webhooks/${seg(id)}`),
      deliveries: (id: string, o: ListOptions = {}) => call<Page<DeliveryView>>('GET', `/webhooks/${seg(id)}/deliveries`, { query: lq(o) }),
      /** The inbound hook: starts `workflow` with `body` as input, labelled `trigger=hook` (`priority`: as on a start). */
      trigger: (workflow: string, body?: unknown, o: { idempotencyKey?: string; priority?: number } = {}) =>
        call<ExecutionView>('POST', `/hooks/${seg(workflow)}`, {
          body: body ?? {},
          ...idem(o.idempotencyKey),
          ...(o.priority === undefined ? {} : { query: { priority: String(o.priority) } }),
        }),
    },
    /** Versioned documents (of flows and people), grouped by scope, updated under optimistic locking. */
    documents: {
      /** Newest first, without content. */
      list: (o: ListDocumentsOptions = {}) =>
        call<Page<DocumentSummaryView>>('GET', '/documents', { query: { ...lq(o), scopeType: o.scopeType, scopeId: o.scopeId, type: o.type, status: o.status, executionId: o.executionId } }),
      /** The latest version with its content. */
      get: (id: string) => call<DocumentView>('GET', doc(id)),
      /** Version 1 of a new document. */
      create: (req: CreateDocumentRequest) => call<DocumentView>('POST', '/documents', { body: req }),
      /**
       * The next version, if `ifMatch` is still the latest one: else ActorflowApiError 412 `version_mismatch`
       * (read the document again and retry).
       */
      update: (id: string, ifMatch: number, req: UpdateDocumentRequest) => call<DocumentView>('PUT', doc(id), { body: req, headers: { 'if-match': String(ifMatch) } }),
      /** Every version, oldest first, without content. */
      versions: (id: string, o: ListOptions = {}) => call<Page<DocumentVersionSummaryView>>('GET', `${doc(id)}/versions`, { query: lq(o) }),
      version: (id: string, version: number) => call<DocumentVersionView>('GET', `${doc(id)}/versions/${version}`),
    },
    /** Bulk operations: one control call on every execution a filter matches (docs/api/bulk-operations.md). */
    bulkOperations: {
      /** Stores the matched set and starts the operation (it runs on in the background); `idempotencyKey` replays it. */
      create: (req: CreateBulkOperationRequest, o: { idempotencyKey?: string } = {}) =>
        call<BulkOperationAccepted>('POST', '/bulk-operations', { body: req, ...idem(o.idempotencyKey) }),
      /** What `create` would match (count and 20 ids), changing nothing. */
      preview: (req: CreateBulkOperationRequest) => call<BulkPreview>('POST', '/bulk-operations', { body: { ...req, dryRun: true } }),
      list: (o: ListOptions = {}) => call<Page<BulkOperationView>>('GET', '/bulk-operations', { query: lq(o) }),
      get: (id: string) => call<BulkOperationView>('GET', `/bulk-operations/${seg(id)}`),
      /** Stops it; what was done stays done (409 `bulk_operation_finished` once it ended). */
      cancel: (id: string) => call<BulkOperationView>('POST', `/bulk-operations/${seg(id)}/cancel`, { body: {} }),
      /** Polls it until it is `completed` or `cancelled` (`onProgress` sees every read). */
      wait: (id: string, o: BulkWaitOptions = {}) => waitForBulk((x) => call<BulkOperationView>('GET', `/bulk-operations/${seg(x)}`), id, o),
    },
    apiKeys: {
      create: (req: CreateApiKeyRequest) => call<CreatedApiKey>('POST', '/api-keys', { body: req }),
      list: (o: ListOptions = {}) => call<Page<ApiKeyView>>('GET', '/api-keys', { query: lq(o) }),
      revoke: (id: string) => call<void>('DELETE', `/api-keys/${seg(id)}`),
    },
    /** Tenants and their quotas: admins of tenant `default` only. */
    tenants: {
      list: (o: ListOptions = {}) => call<Page<TenantView>>('GET', '/tenants', { query: lq(o) }),
      /** With `usage`: its open, waiting and total executions and its definitions. */
      get: (slug: string) => call<TenantDetail>('GET', `/tenants/${seg(slug)}`),
      /** 409 `tenant_exists` when the slug is taken. */
      create: (req: CreateTenantRequest) => call<TenantView>('POST', '/tenants', { body: req }),
      /** A limit set to null is removed; an absent one is kept. */
      update: (slug: string, req: UpdateTenantRequest) => call<TenantView>('PATCH', `/tenants/${seg(slug)}`, { body: req }),
    },
    audit: (o: ListOptions & { keyId?: string; route?: string; from?: string; to?: string } = {}) =>
      call<Page<AuditEntry>>('GET', '/audit', { query: { ...lq(o), keyId: o.keyId, route: o.route, from: o.from, to: o.to } }),
    health: () => call<HealthView>('GET', '/health'),
    ready: () => call<{ ready: boolean }>('GET', '/ready'),
    status: () => call<StatusView>('GET', '/status'),
    /**
     * Read-only GraphQL query (POST /graphql). Field errors, and a query that does not parse or
     * validate (or is a mutation), come back in `errors`; a query over the depth or complexity limit
     * throws ActorflowApiError (422).
     */
    graphql: <D = Record<string, unknown>>(query: string, variables?: Record<string, unknown>, o: { operationName?: string } = {}) =>
      call<GraphqlResponse<D>>('POST', '/graphql', { body: { query, ...(variables === undefined ? {} : { variables }), ...(o.operationName === undefined ? {} : { operationName: o.operationName }) } }),
    telemetry: {
      /** Counts, durations and costs of the executions created in the window (default: last 24 h). */
      summary: (w: TelemetryWindow = {}) => call<TelemetrySummaryView>('GET', '/telemetry/summary', { query: { from: w.from, to: w.to } }),
      /** Starts and ends of the window's executions over time, in `buckets` equal buckets (default 24). */
      series: (w: TelemetryWindow & { buckets?: number } = {}) =>
        call<TelemetrySeriesView>('GET', '/telemetry/series', { query: { from: w.from, to: w.to, buckets: w.buckets } }),
      /** Per-step runs, success rate, retries, recoveries and duration percentiles of one workflow. */
      workflowStats: (name: string, w: TelemetryWindow = {}) =>
        call<WorkflowStatsView>('GET', `/telemetry/workflows/${seg(name)}/stats`, { query: { from: w.from, to: w.to } }),
    },
  };
}

/** The client `createClient` returns. */
export type ActorflowClient = ReturnType<typeof createClient>;
