/** @module errors — one error model: a stable snake_case code, a retryable flag, JSON-pointer issues. */

/** One failing location of a request or document, as a JSON Pointer. */
export interface Issue {
  readonly path: string;
  readonly message: string;
}

/** Stable error codes; the API maps each to an HTTP status in one table (src/api/http/problem.ts). */
export const ErrorCode = {
  badRequest: 'bad_request',
  invalidJson: 'invalid_json',
  validationFailed: 'validation_failed',
  invalidDefinition: 'invalid_definition',
  definitionNotFound: 'definition_not_found',
  definitionRetired: 'definition_retired',
  /** A version of an XState machine whose source the machines directory no longer exports (409: it cannot run here). */
  definitionCodeMissing: 'definition_code_missing',
  versionExists: 'version_exists',
  versionConflict: 'version_conflict',
  executionNotFound: 'execution_not_found',
  stepNotFound: 'step_not_found',
  agentNotFound: 'agent_not_found',
  executionFinished: 'execution_finished',
  invalidState: 'invalid_state',
  notRetryable: 'not_retryable',
  /** A retry of an execution whose workflow (and key) is at its concurrency limit: no slot is free (409). */
  concurrencyLimit: 'concurrency_limit',
  unknownSignal: 'unknown_signal',
  signalBufferFull: 'signal_buffer_full',
  idempotencyKeyConflict: 'idempotency_key_conflict',
  payloadTooLarge: 'payload_too_large',
  unsupportedMediaType: 'unsupported_media_type',
  notFound: 'not_found',
  methodNotAllowed: 'method_not_allowed',
  notReady: 'not_ready',
  unauthorized: 'unauthorized',
  forbidden: 'forbidden',
  rateLimited: 'rate_limited',
  apiKeyNotFound: 'api_key_not_found',
  scheduleNotFound: 'schedule_not_found',
  taskNotFound: 'task_not_found',
  /** Cancelling a standalone task that already ended (409 on its route). */
  taskFinished: 'task_finished',
  webhookNotFound: 'webhook_not_found',
  webhookUrlForbidden: 'webhook_url_forbidden',
  /** An HTTP push agent's URL that is not public http(s) (422 on its registration). */
  agentUrlForbidden: 'agent_url_forbidden',
  /** Registering an HTTP push agent for a kind that other agents (built-in, in-process, SDK) serve (409 on its registration). */
  agentKindTaken: 'agent_kind_taken',
  /** A result or heartbeat with a task token that is unknown or stale (404: the attempt has its outcome, or the server restarted). */
  agentTaskNotFound: 'agent_task_not_found',
  /** A kind that no agent serves now (404 on `GET /task-definitions/{kind}`). */
  taskDefinitionNotFound: 'task_definition_not_found',
  /** A step failure, never an API answer: the task's input fails its kind's declared `inputSchema`; the task is not sent, nor retried. */
  inputInvalid: 'input_invalid',
  /** A step failure, never an API answer: an agent's output fails the step's `outputSchema`; not retried. */
  outputInvalid: 'output_invalid',
  requestTimeout: 'request_timeout',
  /** A tenant slug that is unknown (404 on its routes; 422 where a request names it, e.g. `POST /api-keys`). */
  tenantNotFound: 'tenant_not_found',
  /** Creating a tenant whose slug is taken (409). */
  tenantExists: 'tenant_exists',
  /** A start past the tenant's `maxRunning` non-terminal executions (429 with `retry-after`). */
  tenantLimit: 'tenant_limit',
  /** A direct execution (`durability: none`) of a flow with a `wait` step or a long sleep (422). */
  directNotAllowed: 'direct_not_allowed',
  /** The journal could not commit a change (503; nothing of the request was kept, retry it). */
  storeUnavailable: 'store_unavailable',
  /** Cluster mode: the execution's partition has no node serving it right now (its owner died or it is being handed over; 503, retry). */
  partitionUnavailable: 'partition_unavailable',
  /** Cluster mode: a write of a shared resource (definition, key, tenant, schedule, webhook, template) was not acknowledged or applied in time (503; its outcome is unknown, retry it). */
  sharedStateUnavailable: 'shared_state_unavailable',
  /** A stored execution snapshot of a newer format than this build reads (a downgrade): refused, never misread. */
  snapshotFormatUnsupported: 'snapshot_format_unsupported',
  /** A stored snapshot (or a step's journaled input) refers to a step output or task input its journal does not hold (a damaged data directory): the execution is not restored. */
  snapshotOutputMissing: 'snapshot_output_missing',
  /** Replaying an execution's journaled inputs did not give the events its journal holds (a damaged data directory, or a machine that is not deterministic): it is not restored. */
  replayDiverged: 'replay_diverged',
  /** GraphQL (POST /graphql): the query does not parse (`extensions.code` of a request error in a GraphQL answer). */
  graphqlParseFailed: 'graphql_parse_failed',
  /** GraphQL: the query fails validation against the schema, or its variables/operationName do (a request error, as above). */
  graphqlValidationFailed: 'graphql_validation_failed',
  /** GraphQL: a mutation or subscription on the read-only endpoint (a request error, as above). */
  graphqlReadOnly: 'graphql_read_only',
  /** GraphQL: fields nested deeper than the depth limit (422). */
  graphqlDepthLimit: 'graphql_depth_limit',
  /** GraphQL: the estimated cost passes the complexity limit (422). */
  graphqlComplexityLimit: 'graphql_complexity_limit',
  /** A workflow template the tenant does not have (404 on its routes; 422 on a start naming it). */
  templateNotFound: 'template_not_found',
  /** A template that cannot resolve to a valid flow: an unknown parent, a cycle, a chain over 8 levels, bad parameters or placeholders (422). */
  templateInvalid: 'template_invalid',
  /** A document the tenant does not have (404 on its routes; a step that saves a version of it fails with it, not retried). */
  documentNotFound: 'document_not_found',
  /** `PUT /documents/{id}` whose `if-match` is not the latest version (412). */
  versionMismatch: 'version_mismatch',
  /** `PUT /documents/{id}` without `if-match` (428). */
  ifMatchRequired: 'if_match_required',
  /** `POST /bulk-operations` whose filter names no criterion: it would act on every execution of the tenant (422). */
  filterRequired: 'filter_required',
  /** A bulk operation the tenant does not have (404). */
  bulkOperationNotFound: 'bulk_operation_not_found',
  /** Cancelling a bulk operation that already completed or was cancelled (409). */
  bulkOperationFinished: 'bulk_operation_finished',
  internal: 'internal_error',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface ActorflowErrorOptions {
  readonly issues?: readonly Issue[];
  readonly retryable?: boolean;
  /** Seconds after which the same request may succeed (the API's `retry-after`). */
  readonly retryAfterS?: number;
  readonly cause?: unknown;
}

/** Base error: every failure the engine or API reports carries a stable `code`. */
export class ActorflowError extends Error {
  readonly code: string;
  readonly issues: readonly Issue[];
  readonly retryable: boolean;
  readonly retryAfterS: number | undefined;
  constructor(code: string, message: string, options: ActorflowErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ActorflowError';
    this.code = code;
    this.issues = options.issues ?? [];
    this.retryable = options.retryable ?? false;
    this.retryAfterS = options.retryAfterS;
  }
}

/** Request body or query failed its schema: 422 with every failing path. */
export class ValidationError extends ActorflowError {
  constructor(message: string, issues: readonly Issue[], code: string = ErrorCode.validationFailed) {
    super(code, message, { issues });
    this.name = 'ValidationError';
  }
}

export class NotFoundError extends ActorflowError {
  constructor(code: string, message: string) {
    super(code, message);
    this.name = 'NotFoundError';
  }
}

/** The request conflicts with the resource's current state: 409. */
export class ConflictError extends ActorflowError {
  constructor(code: string, message: string) {
    super(code, message);
    this.name = 'ConflictError';
  }
}

/** A step failure as agents report it; `retryable: false` makes it terminal. */
export interface StepError {
  readonly code: string;
  readonly message: string;
  readonly retryable?: boolean;
  readonly data?: unknown;
}

/** Normalise any thrown value into a StepError. */
export function toStepError(err: unknown): StepError {
  if (err instanceof ActorflowError) return { code: err.code, message: err.message, retryable: err.retryable };
  if (err && typeof err === 'object') {
    const e = err as { code?: unknown; message?: unknown; retryable?: unknown };
    return {
      code: typeof e.code === 'string' ? e.code : 'failed',
      message: typeof e.message === 'string' ? e.message : String(err),
      retryable: e.retryable !== false,
    };
  }
  return { code: 'failed', message: String(err), retryable: true };
}
