/** @module client/client — `createClient`: a typed method for every REST route (docs/api.md). */
import type { AttemptView, DefinitionView, EventView, ExecutionView, LogView, Page, StepView } from '../shared/execution.ts';
import { type WatchOptions, watchExecution } from './sse.ts';
import { type CallOptions, type Method, Transport, type TransportOptions, seg } from './transport.ts';
import type {
  Accepted,
  AgentView,
  ApiKeyView,
  AuditEntry,
  ChildView,
  CostsView,
  CreateApiKeyRequest,
  CreatedApiKey,
  GraphqlResponse,
  CreateTaskRequest,
  HealthView,
  ListExecutionsOptions,
  ListOptions,
  ListTasksOptions,
  Query,
  SignalRequest,
  StartExecutionRequest,
  StatusView,
  TaskView,
  TelemetrySummaryView,
  TelemetryWindow,
  UpdateExecutionRequest,
  ValidationResult,
  WorkflowStatsView,
} from './types.ts';

export type ClientOptions = TransportOptions;

/** A flow document as an object, or YAML/JSON text. */
export type DefinitionDocument = Readonly<Record<string, unknown>> | string;

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
  const action = (id: string, what: string, body: unknown = {}) => call<Accepted>('POST', `${ex(id)}/${what}`, { body });

  return {
    /** The transport (origin, key, fetch) this client uses. */
    transport: t,
    definitions: {
      list: (o: ListOptions & { name?: string } = {}) => call<Page<DefinitionView>>('GET', '/workflow-definitions', { query: { ...lq(o), name: o.name } }),
      get: (name: string, version?: number) => call<DefinitionView>('GET', def(name), { query: { version } }),
      versions: (name: string, o: ListOptions = {}) => call<Page<DefinitionView>>('GET', `${def(name)}/versions`, { query: lq(o) }),
      create: (doc: DefinitionDocument, o: { idempotencyKey?: string } = {}) =>
        call<DefinitionView>('POST', '/workflow-definitions', { ...docBody(doc), ...(o.idempotencyKey ? { headers: { 'idempotency-key': o.idempotencyKey } } : {}) }),
      validate: (doc: DefinitionDocument) => call<ValidationResult>('POST', '/workflow-definitions/validate', docBody(doc)),
      retire: (name: string) => call<void>('DELETE', def(name)),
      /** Mermaid `stateDiagram-v2` text. */
      diagram: (name: string, version?: number) => call<string>('GET', `${def(name)}/diagram`, { query: { version }, text: true }),
    },
    executions: {
      start: (req: StartExecutionRequest, o: { idempotencyKey?: string } = {}) =>
        call<ExecutionView>('POST', '/executions', { body: req, ...(o.idempotencyKey ? { headers: { 'idempotency-key': o.idempotencyKey } } : {}) }),
      list: (o: ListExecutionsOptions = {}) => call<Page<ExecutionView>>('GET', '/executions', { query: executionQuery(o) }),
      get: (id: string) => call<ExecutionView>('GET', ex(id)),
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
    },
    tasks: {
      /** Durable before the reply; `idempotencyKey` replays the same task for the same request. */
      create: (req: CreateTaskRequest, o: { idempotencyKey?: string } = {}) =>
        call<TaskView>('POST', '/tasks', { body: req, ...(o.idempotencyKey ? { headers: { 'idempotency-key': o.idempotencyKey } } : {}) }),
      list: (o: ListTasksOptions = {}) =>
        call<Page<TaskView>>('GET', '/tasks', { query: { ...lq(o), agent: o.agent, status: o.status === undefined || typeof o.status === 'string' ? o.status : o.status.join(',') } }),
      get: (id: string) => call<TaskView>('GET', `/tasks/${seg(id)}`),
      attempts: (id: string, o: ListOptions = {}) => call<Page<AttemptView>>('GET', `/tasks/${seg(id)}/attempts`, { query: lq(o) }),
      /** Cancels a pending or running task (409 `task_finished` once it ended). */
      cancel: (id: string) => call<TaskView>('DELETE', `/tasks/${seg(id)}`),
    },
    apiKeys: {
      create: (req: CreateApiKeyRequest) => call<CreatedApiKey>('POST', '/api-keys', { body: req }),
      list: (o: ListOptions = {}) => call<Page<ApiKeyView>>('GET', '/api-keys', { query: lq(o) }),
      revoke: (id: string) => call<void>('DELETE', `/api-keys/${seg(id)}`),
    },
    audit: (o: ListOptions & { keyId?: string; route?: string; from?: string; to?: string } = {}) =>
      call<Page<AuditEntry>>('GET', '/audit', { query: { ...lq(o), keyId: o.keyId, route: o.route, from: o.from, to: o.to } }),
    health: () => call<HealthView>('GET', '/health'),
    ready: () => call<{ ready: boolean }>('GET', '/ready'),
    status: () => call<StatusView>('GET', '/status'),
    /**
     * Read-only GraphQL query (POST /graphql). Field errors come back in `errors`; a refused query
     * (syntax, validation, depth/complexity limit, mutation) throws ActorflowApiError (400/422).
     */
    graphql: <D = Record<string, unknown>>(query: string, variables?: Record<string, unknown>, o: { operationName?: string } = {}) =>
      call<GraphqlResponse<D>>('POST', '/graphql', { body: { query, ...(variables === undefined ? {} : { variables }), ...(o.operationName === undefined ? {} : { operationName: o.operationName }) } }),
    telemetry: {
      /** Counts, durations and costs of the executions created in the window (default: last 24 h). */
      summary: (w: TelemetryWindow = {}) => call<TelemetrySummaryView>('GET', '/telemetry/summary', { query: { from: w.from, to: w.to } }),
      /** Per-step runs, success rate, retries, recoveries and duration percentiles of one workflow. */
      workflowStats: (name: string, w: TelemetryWindow = {}) =>
        call<WorkflowStatsView>('GET', `/telemetry/workflows/${seg(name)}/stats`, { query: { from: w.from, to: w.to } }),
    },
  };
}

/** The client `createClient` returns. */
export type ActorflowClient = ReturnType<typeof createClient>;
