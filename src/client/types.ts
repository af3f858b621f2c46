/** @module client/types — request and response shapes of the API beyond the shared views. */
import type { ExecutionStatus } from '../common/execution.ts';

export type Query = Readonly<Record<string, string | number | boolean | undefined>>;

export interface ListOptions {
  readonly limit?: number;
  readonly cursor?: string;
}

export interface StartExecutionRequest {
  readonly workflow?: string;
  readonly version?: number;
  readonly input?: unknown;
  readonly labels?: Readonly<Record<string, string>>;
  readonly idempotencyKey?: string;
  /** A one-off flow document instead of `workflow`. */
  readonly definition?: Readonly<Record<string, unknown>>;
  /** A workflow template instead of `workflow`: run like a one-off definition made with `params` (defaults filled in). */
  readonly template?: string;
  /** With `template`: that version (default the latest). */
  readonly templateVersion?: number;
  /** With `template`: its parameters. */
  readonly params?: Readonly<Record<string, unknown>>;
  /** `none`: a direct execution (no file I/O while it runs, lost on a crash before it ends). */
  readonly durability?: 'journal' | 'none';
  /** Where its steps' documents are saved unless they name a scope, e.g. `{ type: 'project', id: 'p-1' }`. */
  readonly scope?: { readonly type: string; readonly id: string };
  /** −10..10 (default 0): its order when its workflow's concurrency limit queues it, higher first. */
  readonly priority?: number;
}

export interface ListExecutionsOptions extends ListOptions {
  /** One status or several. */
  readonly status?: ExecutionStatus | readonly ExecutionStatus[];
  readonly workflow?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly parentId?: string;
  readonly createdAfter?: string;
  readonly createdBefore?: string;
}

export interface UpdateExecutionRequest {
  readonly labels?: Readonly<Record<string, string>>;
  readonly context?: Readonly<Record<string, unknown>>;
}

export interface SignalRequest {
  readonly payload?: unknown;
  readonly reject?: boolean;
  readonly reason?: string;
}

/** The answer of an action on an execution (202). */
export type Accepted = Record<string, unknown>;

export interface ChildView {
  id: string;
  workflow: string;
  status: ExecutionStatus;
  createdAt: string;
}

export interface CostsView {
  total: { tokens: number; usd: number };
  steps: { stepId: string; attempt: number; model: string | null; tokens: number; usd: number }[];
}

export interface ValidationResult {
  valid: boolean;
}

/** Body of `POST /workflow-templates/{name}/instantiate`. */
export interface InstantiateTemplateRequest {
  /** The definition to register (a new version of it); default: the template's name. */
  readonly name?: string;
  readonly params?: Readonly<Record<string, unknown>>;
}

export interface AgentView {
  id: string;
  name: string;
  kinds: string[];
  status: 'online' | 'busy' | 'offline';
  capacity: number;
  inFlight: number;
  lastHeartbeatAt: string | null;
  version: string | null;
  stats?: { completed: number; failed: number; failureRate: number; p50Ms: number | null };
  /** HTTP push agents only (see HttpAgentView). */
  url?: string;
  concurrency?: number;
  timeoutMs?: number;
  secretHint?: string;
  createdAt?: string;
}

/** An agent kind served now and what its agents declare about it (`GET /task-definitions`). */
export interface TaskDefinitionView {
  kind: string;
  /** Its agents that are online and busy (offline ones are not counted). */
  agents: { online: number; busy: number };
  /** JSON Schema of the input; a step whose input fails it fails with `input_invalid` before it is sent. */
  inputSchema: Record<string, unknown> | null;
  outputSchema: Record<string, unknown> | null;
  description: string | null;
}

/** The JSON Schemas of one step of a definition (`GET /workflow-definitions/{name}/steps/{stepId}/schema`); null where none is declared. */
export interface StepSchemasView {
  input: Record<string, unknown> | null;
  output: Record<string, unknown> | null;
}

/** An HTTP push agent of your tenant (`GET /agents` lists them with the bus's agents). */
export interface HttpAgentView extends AgentView {
  url: string;
  concurrency: number;
  timeoutMs: number;
  /** The last characters of its secret. */
  secretHint: string;
  createdAt: string;
}

/** The answer of a registration: with the generated `secret` when none was given. */
export interface RegisteredHttpAgent extends HttpAgentView {
  secret?: string;
}

export interface RegisterHttpAgentRequest {
  readonly name: string;
  /** Agent kinds it runs; steps of these kinds, of your tenant, are POSTed to `url`. */
  readonly kinds: readonly string[];
  readonly url: string;
  /** HMAC-SHA256 key of `x-actorflow-signature` (16-256 characters); generated when omitted. */
  readonly secret?: string;
  /** Tasks sent to it at once at most. @default 16 */
  readonly concurrency?: number;
  /** How long an answer, a posted result or the next heartbeat may take. @default 30000 */
  readonly timeoutMs?: number;
}

/** The result an HTTP push agent posts for a task it answered 202: exactly one of `output` and `error`. */
export type AgentTaskResult = (
  | { readonly output: unknown; readonly error?: never }
  | { readonly error: { readonly code: string; readonly message: string; readonly retryable?: boolean }; readonly output?: never }
) & {
  readonly logs?: readonly { readonly level: 'debug' | 'info' | 'warn' | 'error'; readonly message: string; readonly data?: unknown }[];
  readonly costs?: readonly { readonly model?: string; readonly tokens?: number; readonly usd?: number }[];
};

export type Scope = 'read' | 'write' | 'admin';

export interface CreateApiKeyRequest {
  readonly name: string;
  readonly tenant?: string;
  readonly scopes: readonly Scope[];
  readonly rateLimit?: { readonly rps: number; readonly burst: number };
}

export interface ApiKeyView {
  id: string;
  name: string;
  tenant: string;
  scopes: Scope[];
  createdAt?: string;
  [k: string]: unknown;
}

export interface CreatedApiKey extends ApiKeyView {
  key: string;
}

/** A tenant's quotas; null: no limit. */
export interface TenantLimits {
  /** Non-terminal executions at most; a start past it is 429 `tenant_limit`. */
  readonly maxRunning: number | null;
  /** Requests per second over all the tenant's credentials; past it 429 `rate_limited`. */
  readonly rps: number | null;
}

export interface TenantView {
  slug: string;
  name: string;
  limits: TenantLimits;
  createdAt: string;
  updatedAt: string;
}

/** `GET /tenants/{slug}`: the tenant and what it holds. */
export interface TenantDetail extends TenantView {
  usage: {
    /** Non-terminal executions: what `limits.maxRunning` caps. */
    running: number;
    /** Of them, those waiting for a signal or a timer. */
    waiting: number;
    /** Executions of every status. */
    executions: number;
    /** Workflow definitions (by name). */
    definitions: number;
  };
}

export interface CreateTenantRequest {
  /** `^[a-z0-9][a-z0-9-]{1,62}$`. */
  readonly slug: string;
  readonly name: string;
  readonly limits?: Partial<TenantLimits>;
}

/** A limit set to null is removed; an absent one is kept. */
export interface UpdateTenantRequest {
  readonly name?: string;
  readonly limits?: Partial<TenantLimits>;
}

export interface AuditEntry {
  at: string;
  keyId: string | null;
  tenant: string;
  method: string;
  route: string;
  targetId: string | null;
  status: number;
  requestId: string;
}

export interface HealthView {
  status: 'ok';
  version: string;
  uptimeS: number;
}

export interface StatusView {
  executions: Record<string, number>;
  stalled: number;
  /** Queued executions (held by concurrency limits) per workflow; workflows with none absent. */
  queuedByWorkflow: Record<string, number>;
  agents: Record<string, number>;
  bus: unknown;
  store: unknown;
  [k: string]: unknown;
}

/** `?from&to` of the telemetry calls (RFC 3339); default: the last 24 h. */
export interface TelemetryWindow {
  from?: string;
  to?: string;
}

/** `GET /telemetry/summary`: executions created in `[from, to)`; `failed` includes `timed_out`. */
export interface TelemetrySummaryView {
  from: string;
  to: string;
  executions: { started: number; completed: number; failed: number; cancelled: number };
  durationMs: { p50: number | null; p95: number | null };
  cost: { tokens: number; usd: number };
  workflows: { workflow: string; started: number; completed: number; failed: number; p50Ms: number | null; p95Ms: number | null; tokens: number; usd: number }[];
}

/**
 * `GET /telemetry/series`: the executions created in `[from, to)` in equal buckets of `bucketMs`: `started` counts
 * those created in a bucket, `completed`, `failed` (with `timed_out`) and `cancelled` those of them that ended in it.
 */
export interface TelemetrySeriesView {
  from: string;
  to: string;
  bucketMs: number;
  buckets: { at: string; started: number; completed: number; failed: number; cancelled: number }[];
}

/** `GET /telemetry/workflows/{name}/stats`: per step, `runs` counts runs with an outcome (not attempts). */
export interface WorkflowStatsView {
  workflow: string;
  from: string;
  to: string;
  steps: {
    stepId: string;
    runs: number;
    successRate: number;
    retries: number;
    recoveries: { skip: number; fallback: number; compensate: number };
    p50Ms: number | null;
    p95Ms: number | null;
    p99Ms: number | null;
  }[];
}

/** `status` of a standalone task. */
export type TaskStatus = 'pending' | 'running' | 'completed' | 'failed' | 'cancelled';

/** A step's retry policy (docs/flows.md, "Retries"): defaults `{ maxAttempts: 3, backoff: exponential, initialMs: 200, factor: 2, maxMs: 30000, jitter: false }`. */
export interface RetryPolicyInput {
  maxAttempts?: number;
  backoff?: 'exponential' | 'fixed';
  initialMs?: number;
  factor?: number;
  maxMs?: number;
  jitter?: boolean;
}

/** `POST /tasks`: one step on an agent kind, without a flow. */
export interface CreateTaskRequest {
  agent: string;
  input: unknown;
  retry?: RetryPolicyInput;
  /** Per attempt; a timed-out attempt fails with `step_timeout` (retryable). */
  timeoutMs?: number;
}

export interface ListTasksOptions extends ListOptions {
  status?: TaskStatus | readonly TaskStatus[];
  agent?: string;
}

/** A standalone task (`tk_…`). */
export interface TaskView {
  id: string;
  agent: string;
  status: TaskStatus;
  input: unknown;
  output: unknown;
  error: { code: string; message: string } | null;
  attempts: number;
  retry: Required<RetryPolicyInput>;
  timeoutMs: number | null;
  createdAt: string;
  updatedAt: string;
  completedAt: string | null;
}

/** One error of a GraphQL answer; `extensions.code` is the REST error code (e.g. `execution_not_found`). */
export interface GraphqlError {
  message: string;
  locations?: { line: number; column: number }[];
  path?: (string | number)[];
  extensions: { code: string; [k: string]: unknown };
}

/**
 * A GraphQL answer (200). Fields that failed are null, with their errors (`path` says which); a query
 * that did not parse or validate ran nothing: no `data`, only `errors` (with `locations`).
 */
export interface GraphqlResponse<D = Record<string, unknown>> {
  data?: D | null;
  errors?: GraphqlError[];
}

/** What a schedule does when a run is due while the previous one is still open. */
export type ScheduleOverlap = 'skip' | 'allow' | 'cancel-previous';

/** A schedule (`sc_…`): cron, fixed interval or one-time starts of a workflow. */
export interface ScheduleView {
  id: string;
  workflow: string;
  input: unknown;
  cron: string | null;
  timezone: string | null;
  everyMs: number | null;
  at: string | null;
  enabled: boolean;
  catchUp: 'skip' | 'run-once';
  overlap: ScheduleOverlap;
  /** The `priority` of its runs (−10..10). */
  priority: number;
  nextRunAt: string | null;
  lastRunAt: string | null;
  lastExecutionId: string | null;
  createdAt: string;
  updatedAt: string;
}

/** The fields of a schedule; a create gives `workflow` and exactly one of `cron`, `everyMs`, `at` (RFC 3339). */
export interface UpdateScheduleRequest {
  readonly workflow?: string;
  readonly input?: unknown;
  readonly cron?: string;
  /** IANA zone of `cron` (default UTC). */
  readonly timezone?: string;
  readonly everyMs?: number;
  readonly at?: string;
  readonly enabled?: boolean;
  readonly catchUp?: 'skip' | 'run-once';
  readonly overlap?: ScheduleOverlap;
  /** The `priority` of its runs (−10..10, default 0). */
  readonly priority?: number;
}

export interface CreateScheduleRequest extends UpdateScheduleRequest {
  readonly workflow: string;
}

/** An outbound webhook (`wh_…`); its secret is never shown again, `secretHint` tells secrets apart. */
export interface WebhookView {
  id: string;
  url: string;
  events: string[];
  secretHint: string;
  createdAt: string;
}

/** The answer of a create: with the generated `secret` when none was given. */
export interface CreatedWebhook extends WebhookView {
  secret?: string;
}

export interface CreateWebhookRequest {
  readonly url: string;
  /** Event types; `workflow.*`, `workflow.step.*` and `*` are wildcards. */
  readonly events: readonly string[];
  /** HMAC-SHA256 key of `x-actorflow-signature` (16-256 characters). */
  readonly secret?: string;
}

/** One delivery of an event to a webhook. */
export interface DeliveryView {
  id: string;
  webhookId: string;
  eventId: string;
  eventType: string;
  status: 'pending' | 'delivered' | 'failed' | 'dead';
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  nextAttemptAt: string | null;
  createdAt: string;
  deliveredAt: string | null;
}
