/**
 * @module store/types — every store interface (the journal `Store`, auth, schedules, webhooks, telemetry)
 * and the rows they carry. The implementations (SQLite) live in store/sqlite/; only the composition
 * root (cli/serve.ts) imports them.
 */
import type { DocumentStatus } from '../common/document-save.ts';
import type { EventRecord, ExecutionError, ExecutionStatus } from '../common/execution.ts';
import type { TemplateInstance, TemplateRef } from '../common/template.ts';

/** One row of the executions index (times as epoch ms). */
export interface ExecutionRow {
  id: string;
  tenant: string;
  workflow: string;
  version: number;
  status: ExecutionStatus;
  input: unknown;
  output: unknown;
  error: ExecutionError | null;
  currentSteps: string[];
  parentId: string | null;
  parentStepId: string | null;
  labels: Record<string, string>;
  createdAt: number;
  startedAt: number | null;
  updatedAt: number;
  finishedAt: number | null;
  retryAttempt: number;
  lastSeq: number;
  idempotencyKey: string | null;
  requestHash: string | null;
  /** A one-off flow document stored with its execution; null for registered workflows. */
  definition: unknown;
  /** Due time of its earliest durable timer (epoch ms), null when none. */
  nextDueAt: number | null;
  /** The scope its steps' documents are saved under by default (start body `scope`); absent or null: none. */
  scope?: ExecutionScope | null;
  /** −10..10; the order of a concurrency queue (higher first). Absent: 0. */
  priority?: number;
  /**
   * Its concurrency group within its workflow when its definition declares a limit: '' without a
   * `key`, else the key's value as JSON text; null or absent: no limit.
   */
  concurrencyKey?: string | null;
  /** The limit its definition version declared (with `concurrencyKey`). */
  concurrencyLimit?: number | null;
}

/** A non-terminal execution of a workflow with a concurrency limit, as the queues are rebuilt at boot from it. */
export interface ConcurrencyRow {
  readonly id: string;
  readonly tenant: string;
  readonly workflow: string;
  readonly status: ExecutionStatus;
  readonly priority: number;
  readonly concurrencyKey: string;
  readonly concurrencyLimit: number;
}

/** A document scope, e.g. `{ type: 'project', id: 'p-1' }`. */
export interface ExecutionScope {
  readonly type: string;
  readonly id: string;
}

/** A waiting execution as recovery sees it without rebuilding it: its earliest timer and its parent link. */
export interface WaitingRow {
  id: string;
  nextDueAt: number | null;
  parentId: string | null;
  parentStepId: string | null;
}

export interface SnapshotRow {
  executionId: string;
  seq: number;
  /** Encoded persisted actor snapshot. */
  data: Uint8Array;
}

export interface DefinitionRow {
  tenant: string;
  name: string;
  version: number;
  source: 'document' | 'code' | 'template';
  document: unknown;
  createdAt: number;
  retired: boolean;
  /** The template version and parameters a `template` definition was made from. */
  template?: TemplateInstance | null;
}

/** Everything one group commit writes, in one transaction. */
export interface CommitBatch {
  readonly events: readonly EventRecord[];
  readonly executions: readonly ExecutionRow[];
  readonly snapshots: readonly SnapshotRow[];
  /** Document versions, written with the `document.saved` events that announce them (or alone: the documents API). */
  readonly documents?: readonly DocumentWrite[];
  /**
   * Cluster mode: the partition journal entries this batch is made of (and, for those the journal feed
   * applies, the feed's stream cursor), recorded in the same transaction: a restarted node resumes where its copy ends.
   */
  readonly positions?: readonly JournalPosition[];
  /** Someone waits on this commit (a reply, an acknowledgement): the store may take a quicker path that holds the event loop (store/sqlite/fast-commit.ts). */
  readonly waited?: boolean;
}

/** Where a node's local copy of the cluster journal stands (cluster mode; see src/cluster). */
export interface JournalPosition {
  readonly partition: number;
  /** The stream sequence of the batch on the partition's subject. */
  readonly seq: number;
  /** Set by the journal feed (which reads the whole stream in order): its cursor, `seq` too. */
  readonly feed?: boolean;
}

/**
 * Another subsystem's rows written in the journal's own transaction (a transactional outbox): they
 * commit or roll back with the batch's events. Registered with `Store.addCommitParticipant`.
 */
export interface CommitParticipant {
  /**
   * Called synchronously before a batch is sent to the writer, once per batch: its share, or undefined
   * (the common case; it must then cost next to nothing: this is the journal's hot path). Must not throw.
   */
  prepare(batch: CommitBatch): CommitShare | undefined;
}

/**
 * The rows that may ride in a journal batch, by kind: typed rows, which the store implementation
 * turns into its own statements (an interface carries no SQL).
 */
export type CommitWrite = { readonly kind: 'webhook-deliveries'; readonly rows: readonly DeliveryRow[] };

/** One participant's part of one batch: its rows, and whom to tell how the transaction ended. */
export interface CommitShare {
  /** Written inside the batch's transaction, after the journal's own rows; an error rolls the whole batch back. */
  readonly write: CommitWrite;
  /** Told once the transaction is over: `true` after COMMIT (durable), `false` after a rollback. */
  settled(committed: boolean): void;
}

export interface ExecutionQuery {
  readonly tenant: string;
  readonly status?: readonly string[] | undefined;
  readonly workflow?: string | undefined;
  readonly labels?: Readonly<Record<string, string>> | undefined;
  readonly parentId?: string | undefined;
  readonly createdAfter?: number | undefined;
  readonly createdBefore?: number | undefined;
  /** Return ids strictly below this one (newest first). */
  readonly beforeId?: string | undefined;
  /** Only ids with this prefix (`ex_` executions, `tk_` standalone tasks). */
  readonly idPrefix?: string | undefined;
  readonly limit: number;
}

/** What a list shows of one task step's attempts, without its history. */
export interface StepAttempts {
  /** Attempts started (`workflow.step.started` events). */
  readonly count: number;
  /** The latest attempt has not ended and an agent took it (`agent.selected`). */
  readonly taken: boolean;
}

/** The fields of an executions row that a restore reads (the rest is re-derived from the snapshot). */
export type RestorableRow = Pick<
  ExecutionRow,
  'id' | 'tenant' | 'workflow' | 'version' | 'status' | 'input' | 'labels' | 'parentId' | 'parentStepId' | 'createdAt' | 'updatedAt' | 'lastSeq' | 'idempotencyKey' | 'requestHash' | 'definition' | 'scope' | 'startedAt' | 'priority' | 'concurrencyKey' | 'concurrencyLimit'
>;

/** A row of `Store.listRecoverable`: `snapshot` is the encoded snapshot data, null when the execution has none. */
export interface RecoverableRow extends RestorableRow {
  snapshot: Uint8Array | null;
}

export interface Store {
  /** Writes the batch in one transaction; resolves after COMMIT (fsynced when sync = full). */
  commit(batch: CommitBatch): Promise<void>;
  /** Adds rows of `p` to every later commit's transaction. Returns an unregister function. */
  addCommitParticipant(p: CommitParticipant): () => void;
  getExecution(id: string): Promise<ExecutionRow | undefined>;
  findByIdempotencyKey(tenant: string, key: string): Promise<ExecutionRow | undefined>;
  listExecutions(q: ExecutionQuery): Promise<ExecutionRow[]>;
  listEvents(executionId: string, afterSeq: number, limit: number): Promise<EventRecord[]>;
  getSnapshot(executionId: string): Promise<SnapshotRow | undefined>;
  /** What recovery restores, in one read and by id: every pending, running or paused execution with its snapshot data, only the columns a restore needs (waiting ones: listWaiting). */
  listRecoverable(): Promise<RecoverableRow[]>;
  /** One execution as a restore reads it, with its snapshot (any status). */
  getRecoverable(id: string): Promise<RecoverableRow | undefined>;
  /** Waiting executions (every active step a wait or sleep): recovery keeps only their earliest timer and parent link. */
  listWaiting(): Promise<WaitingRow[]>;
  /** Every non-terminal execution with a concurrency limit (queued or holding a slot), in one indexed read (boot). */
  listConcurrencyRows(): Promise<ConcurrencyRow[]>;
  putDefinition(row: DefinitionRow): Promise<void>;
  setRetired(tenant: string, name: string, retired: boolean): Promise<void>;
  /** Every stored definition, all tenants (loaded into memory at boot). */
  listAllDefinitions(): Promise<DefinitionRow[]>;
  /** Counts by status of `tenant`'s rows (every tenant's when undefined), of the ids with `idPrefix` when given; statuses with none are absent. */
  countByStatus(tenant: string | undefined, idPrefix?: string): Promise<Record<string, number>>;
  /** Non-terminal rows by tenant, of the ids with `idPrefix` (read once at boot: the engine counts in memory afterwards). */
  countOpenByTenant(idPrefix: string): Promise<Map<string, number>>;
  /**
   * Attempts of task step `stepId` of many executions of `tenant`, in one statement (a list page
   * must not read each history); an id whose step has not started, or of another tenant, is absent.
   */
  stepAttempts(tenant: string, executionIds: readonly string[], stepId: string): Promise<Map<string, StepAttempts>>;
  /** Cluster mode: the last journal sequence applied per partition, and the feed's cursor under key -1 (FEED_POSITION). */
  journalPositions(): Promise<Map<number, number>>;
  close(): Promise<void>;
}

/** The key of the journal feed's cursor among `Store.journalPositions()`. */
export const FEED_POSITION = -1;

/** One API key as stored: never the key itself, only its SHA-256 (hex). */
export interface ApiKeyRow {
  id: string;
  hash: string;
  name: string;
  tenant: string;
  scopes: string[];
  rateLimit: { rps: number; burst: number } | null;
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

/** One audit entry (a state-changing API call). */
export interface AuditRow {
  at: number;
  keyId: string | null;
  tenant: string;
  method: string;
  route: string;
  targetId: string | null;
  status: number;
  requestId: string;
}

export interface AuditQuery {
  /** Only this tenant's entries; undefined = every tenant. */
  readonly tenant?: string | undefined;
  readonly keyId?: string | undefined;
  readonly route?: string | undefined;
  /** Epoch ms, inclusive. */
  readonly from?: number | undefined;
  /** Epoch ms, exclusive. */
  readonly to?: number | undefined;
  /** Entries with `seq` strictly below this one (newest first). */
  readonly beforeSeq?: number | undefined;
  readonly limit: number;
}

/** Credentials and the audit trail; kept apart from `Store` so the engine never sees them. */
export interface AuthStore {
  /** Every key, revoked ones included (loaded into memory at boot). */
  listKeys(): Promise<ApiKeyRow[]>;
  insertKey(row: ApiKeyRow): Promise<void>;
  revokeKey(id: string, at: number): Promise<void>;
  /** Batched last-used timestamps: one statement group per call. */
  touchKeys(lastUsed: ReadonlyMap<string, number>): Promise<void>;
  /** Appends entries in one transaction. */
  appendAudit(rows: readonly AuditRow[]): Promise<void>;
  /** Newest first, with each entry's `seq` (the cursor). */
  listAudit(q: AuditQuery): Promise<(AuditRow & { seq: number })[]>;
}

/** What a schedule does when its run falls due during downtime. */
export type CatchUpPolicy = 'skip' | 'run-once';
/** What a schedule does when its previous run is still open. */
export type OverlapPolicy = 'skip' | 'allow' | 'cancel-previous';

/** One schedule (times as epoch ms). Exactly one of `cron`, `everyMs`, `at` is set. */
export interface ScheduleRow {
  id: string;
  tenant: string;
  workflow: string;
  input: unknown;
  cron: string | null;
  timezone: string | null;
  everyMs: number | null;
  at: number | null;
  enabled: boolean;
  catchUp: CatchUpPolicy;
  overlap: OverlapPolicy;
  /** The `priority` of its runs (−10..10). */
  priority: number;
  /** Null when disabled or when a one-time schedule has run. */
  nextRunAt: number | null;
  lastRunAt: number | null;
  lastExecutionId: string | null;
  createdAt: number;
  updatedAt: number;
}

/** Schedules in the journal's SQLite file. */
export interface ScheduleStore {
  /** Every schedule of every tenant (the scheduler keeps them in memory). */
  listAll(): Promise<ScheduleRow[]>;
  /** Inserts or replaces the whole row. */
  put(row: ScheduleRow): Promise<void>;
  delete(id: string): Promise<void>;
}

/** One outbound webhook subscription (times as epoch ms). `events` are types or wildcards (`workflow.*`, `*`). */
export interface WebhookRow {
  id: string;
  tenant: string;
  url: string;
  events: string[];
  /** HMAC key of the signatures; never shown by the API after creation. */
  secret: string;
  createdAt: number;
}

/** `pending`: not tried yet; `failed`: last try failed, another is due at `nextAttemptAt`; `dead`: gave up. */
export type DeliveryStatus = 'pending' | 'delivered' | 'failed' | 'dead';

/** One event to deliver to one webhook, with its outcome so far. */
export interface DeliveryRow {
  id: string;
  webhookId: string;
  tenant: string;
  eventId: string;
  eventType: string;
  /** The exact request body (signed as is on every attempt). */
  body: string;
  status: DeliveryStatus;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  /** When the next attempt is due (pending/failed); null once delivered or dead. */
  nextAttemptAt: number | null;
  createdAt: number;
  deliveredAt: number | null;
}

/** Webhook subscriptions and their delivery history. */
export interface WebhookStore {
  /** Every webhook of every tenant (the dispatcher keeps them in memory). */
  listWebhooks(): Promise<WebhookRow[]>;
  insertWebhook(row: WebhookRow): Promise<void>;
  /** Deletes the webhook and its delivery history in one transaction. */
  deleteWebhook(id: string): Promise<void>;
  /** Inserts or updates whole delivery rows, all in one transaction (new ones ride in the journal's: `CommitWrite`). */
  putDeliveries(rows: readonly DeliveryRow[]): Promise<void>;
  /** Deliveries still to attempt (`pending`/`failed`), oldest first: resumed at boot. */
  listOpenDeliveries(): Promise<DeliveryRow[]>;
  /** A webhook's deliveries, newest first, with ids strictly below `beforeId` when given. */
  listDeliveries(webhookId: string, beforeId: string | undefined, limit: number): Promise<DeliveryRow[]>;
}

/** An HTTP push agent: steps of its kinds, of its tenant, are POSTed to `url` (src/http-agents). */
export interface HttpAgentRow {
  id: string;
  tenant: string;
  name: string;
  kinds: string[];
  url: string;
  /** HMAC key of `x-actorflow-signature`; never shown by the API after registration. */
  secret: string;
  /** Tasks it is sent at once at most (answered or not). */
  concurrency: number;
  /** How long an answer, a result or the next heartbeat may take. */
  timeoutMs: number;
  createdAt: number;
}

/** Registrations of HTTP push agents (the service keeps them in memory). */
export interface HttpAgentStore {
  /** Every HTTP agent of every tenant, by id. */
  listHttpAgents(): Promise<HttpAgentRow[]>;
  insertHttpAgent(row: HttpAgentRow): Promise<void>;
  deleteHttpAgent(id: string): Promise<void>;
}

/** A tenant (src/tenants): its display name and quotas; null = no limit. */
export interface TenantRow {
  slug: string;
  name: string;
  /** Non-terminal executions at most; a start past it is refused. */
  maxRunning: number | null;
  /** Requests per second over all its credentials. */
  rps: number | null;
  createdAt: number;
  updatedAt: number;
}

/** Tenants (the registry keeps them in memory). */
export interface TenantStore {
  /** Every tenant, by slug. */
  listTenants(): Promise<TenantRow[]>;
  insertTenant(row: TenantRow): Promise<void>;
  updateTenant(row: TenantRow): Promise<void>;
}

/** One template version as stored: the document as posted (without `version`), its parent pinned at creation. */
export interface TemplateRow {
  tenant: string;
  name: string;
  version: number;
  document: Record<string, unknown>;
  /** The parent version its `extends` named when it was created; null without `extends`. */
  parent: TemplateRef | null;
  createdAt: number;
  /** Set by a delete: hidden from the API, kept so that versions are never reused and children still resolve. */
  deletedAt: number | null;
}

/** Workflow templates (the template service keeps them in memory). */
export interface TemplateStore {
  /** Every version of every tenant, deleted ones included. */
  listAllTemplates(): Promise<TemplateRow[]>;
  insertTemplate(row: TemplateRow): Promise<void>;
  /** Marks versions deleted: one, or every live one when `version` is undefined. */
  markTemplateDeleted(tenant: string, name: string, version: number | undefined, at: number): Promise<void>;
}

/** A half-open window of execution creation times, `[from, to)`, in epoch ms. */
export interface TimeWindow {
  readonly from: number;
  readonly to: number;
}

/** One execution created in a window: what the summary counts and times. */
export interface TelemetryExecutionRow {
  readonly workflow: string;
  readonly status: string;
  readonly createdAt: number;
  readonly finishedAt: number | null;
}

/** Token and USD totals of one workflow's step outcomes. */
export interface WorkflowCostRow {
  readonly workflow: string;
  readonly tokens: number;
  readonly usd: number;
}

/** The step lifecycle events of one workflow's executions, in `seq` order per execution. */
export interface StepEventRow {
  readonly executionId: string;
  readonly type: 'workflow.step.started' | 'workflow.step.completed' | 'workflow.step.failed' | 'workflow.step.retrying';
  readonly ts: number;
  readonly stepId: string;
  /** `recovery` of a `workflow.step.failed` (`fail`, `skip`, `fallback`, `compensate`); null otherwise. */
  readonly recovery: string | null;
}

/**
 * Aggregates for `/telemetry/*`, scoped by tenant, over flow executions only (standalone tasks are
 * not counted).
 */
export interface TelemetryStore {
  /** Executions of `tenant` created in `window`. */
  executions(tenant: string, window: TimeWindow): Promise<TelemetryExecutionRow[]>;
  /** Costs reported on the step attempts (outcomes and retries) of those executions, summed per workflow. */
  costs(tenant: string, window: TimeWindow): Promise<WorkflowCostRow[]>;
  /** Step lifecycle events of `workflow`'s executions created in `window`. */
  stepEvents(tenant: string, workflow: string, window: TimeWindow): Promise<StepEventRow[]>;
}

export type { DocumentStatus };

/** What every version of a document shares, and what its latest version says (times as epoch ms). */
export interface DocumentHead {
  readonly id: string;
  readonly tenant: string;
  readonly scopeType: string;
  readonly scopeId: string;
  readonly type: string;
  readonly title: string;
  readonly status: DocumentStatus;
  /** Its latest version (1, 2, 3 … no gap). */
  readonly version: number;
  /** When version 1 was written. */
  readonly createdAt: number;
}

/** One version to write; version 1 creates the document. `executionId`/`stepId`: the step that saved it, null for the API. */
export interface DocumentWrite extends DocumentHead {
  readonly content: unknown;
  readonly executionId: string | null;
  readonly stepId: string | null;
  readonly at: number;
}

/** A document as stored: its head (latest version), who wrote that version and when. */
export interface DocumentRow extends DocumentHead {
  readonly executionId: string | null;
  readonly stepId: string | null;
  readonly updatedAt: number;
}

/** One version of a document; `content` only where a read asks for it. */
export interface DocumentVersionRow {
  readonly version: number;
  readonly title: string;
  readonly status: DocumentStatus;
  readonly executionId: string | null;
  readonly stepId: string | null;
  readonly createdAt: number;
}

export interface DocumentQuery {
  readonly tenant: string;
  readonly scopeType?: string | undefined;
  readonly scopeId?: string | undefined;
  readonly type?: string | undefined;
  readonly status?: DocumentStatus | undefined;
  /** Documents of which this execution wrote a version. */
  readonly executionId?: string | undefined;
  /** Ids strictly below this one (newest first). */
  readonly beforeId?: string | undefined;
  readonly limit: number;
}

/**
 * Versioned documents. Versions are numbered on the main thread, synchronously: `head` is the latest
 * version as writes see it (a reserved, not yet committed one included), `reserve` claims the next one
 * until `release`. The rows are written in journal commits (`CommitBatch.documents`), by the same
 * committer as the events, so a version and the event that announces it commit or roll back together.
 */
export interface DocumentStore {
  /** The latest version of `tenant`'s document `id`, reserved ones included; undefined when there is none (or it is another tenant's). */
  head(tenant: string, id: string): DocumentHead | undefined;
  /** Marks `w.version` taken (a commit of `w` is on its way). Call `release(w)` once that commit settled or `w` was dropped. */
  reserve(w: DocumentWrite): void;
  release(w: DocumentWrite): void;
  /** The latest version with its content. */
  get(tenant: string, id: string): Promise<(DocumentRow & { readonly content: unknown }) | undefined>;
  /** One version with its content. */
  getVersion(tenant: string, id: string, version: number): Promise<(DocumentVersionRow & { readonly content: unknown }) | undefined>;
  /** Versions after `afterVersion`, in version order, at most `limit`. */
  listVersions(tenant: string, id: string, afterVersion: number, limit: number): Promise<DocumentVersionRow[]>;
  /** Newest first (by id), without content. */
  list(q: DocumentQuery): Promise<DocumentRow[]>;
}

/** What a bulk operation does to each execution it matched: the control call of the execution's own route. */
export type BulkAction = 'cancel' | 'retry' | 'pause' | 'resume' | 'signal';

/** `creating`: its matched set is being written (never shown; dropped at boot if a crash left it so). */
export type BulkStatus = 'creating' | 'running' | 'completed' | 'cancelled';

/** The filter of a bulk operation as the request gave it (times as RFC 3339 text). */
export interface BulkFilter {
  readonly status?: readonly string[];
  readonly workflow?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly createdAfter?: string;
  readonly createdBefore?: string;
  readonly ids?: readonly string[];
}

/** One failed execution of a bulk operation (the first 100 are kept with the operation). */
export interface BulkError {
  readonly executionId: string;
  readonly code: string;
}

/** A bulk operation as stored (times as epoch ms). */
export interface BulkOperationRow {
  readonly id: string;
  readonly tenant: string;
  readonly action: BulkAction;
  readonly filter: BulkFilter;
  /** The signal of a `signal` operation. */
  readonly signal: { readonly name: string; readonly payload: unknown } | null;
  /** `cancel`'s reason, `retry`'s note. */
  readonly reason: string | null;
  readonly status: BulkStatus;
  readonly matched: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly skipped: number;
  readonly errors: readonly BulkError[];
  /** Every item below this seq has its final outcome (where a resume starts). */
  readonly nextSeq: number;
  readonly createdAt: number;
  readonly finishedAt: number | null;
  readonly idempotencyKey: string | null;
  readonly requestHash: string | null;
}

/**
 * Where one matched execution stands: null not acted on yet; `started`: the control call may have been
 * made (recorded durably before it, with `markSeq`, the execution's last journaled seq then); the rest final.
 */
export type BulkItemOutcome = 'started' | 'succeeded' | 'failed' | 'skipped';

export interface BulkItemRow {
  readonly seq: number;
  readonly executionId: string;
  readonly outcome: BulkItemOutcome | null;
  /** With `started`: the execution's `lastSeq` when it was marked (null when it had no stored row). */
  readonly markSeq: number | null;
}

/** The final outcome of one item; `code` for `failed`. */
export interface BulkItemResult {
  readonly seq: number;
  readonly outcome: 'succeeded' | 'failed' | 'skipped';
  readonly code: string | null;
}

/** An operation's counters after a batch, written with the batch's outcomes (one transaction). */
export interface BulkProgress {
  readonly succeeded: number;
  readonly failed: number;
  readonly skipped: number;
  readonly errors: readonly BulkError[];
  readonly nextSeq: number;
}

/**
 * Bulk operations and their matched executions, numbered 1…matched in `seq` order (src/bulk). Writes
 * are durable when they resolve; none of them holds the event loop while it waits for the disk.
 */
export interface BulkStore {
  /** A new operation in status `creating`, before its items. */
  insertOperation(row: BulkOperationRow): Promise<void>;
  /** Matched executions with seq `fromSeq`, `fromSeq + 1`, …, in one transaction. */
  appendItems(operationId: string, fromSeq: number, executionIds: readonly string[]): Promise<void>;
  /**
   * Appends the executions `q` lists (newest first, at most `q.limit`) as items from seq `fromSeq`, in one
   * transaction, without reading them out of the database; the last one appended is where the next page starts.
   */
  appendMatches(operationId: string, q: ExecutionQuery, fromSeq: number): Promise<{ readonly count: number; readonly lastId: string | undefined }>;
  /** How many executions `q` lists (its `limit` aside), and the first `q.limit` ids, newest first. */
  previewMatches(q: ExecutionQuery): Promise<{ readonly count: number; readonly sample: readonly string[] }>;
  /** `creating` → `running` with its count: from here on it is shown and resumed. */
  openOperation(id: string, matched: number): Promise<void>;
  getOperation(id: string): Promise<BulkOperationRow | undefined>;
  /** The newest operation of `tenant` created with this idempotency key, if any. */
  findByIdempotencyKey(tenant: string, key: string): Promise<BulkOperationRow | undefined>;
  /** `tenant`'s operations, newest first, ids strictly below `beforeId` when given. */
  listOperations(tenant: string, beforeId: string | undefined, limit: number): Promise<BulkOperationRow[]>;
  /** At boot: deletes operations a crash left `creating` (and their items); returns the `running` ones. */
  recover(): Promise<BulkOperationRow[]>;
  /** Items from `fromSeq` on, in seq order, at most `limit`. */
  items(operationId: string, fromSeq: number, limit: number): Promise<BulkItemRow[]>;
  /** Marks items `started`, each with its execution's last journaled seq. */
  markStarted(operationId: string, seqs: readonly number[]): Promise<void>;
  /** Final outcomes of items and the operation's counters after them, in one transaction. */
  recordOutcomes(operationId: string, results: readonly BulkItemResult[], progress: BulkProgress): Promise<void>;
  /** `running` → `completed` or `cancelled`. */
  finishOperation(id: string, status: 'completed' | 'cancelled', at: number): Promise<void>;
  /** Deletes a finished operation's items with seq in [`fromSeq`, `fromSeq + count`) (nothing reads them once it ended). */
  pruneItems(operationId: string, fromSeq: number, count: number): Promise<void>;
  /** Finished operations that still have items (a stop or crash came before their pruning ended), with their item count. */
  finishedWithItems(): Promise<{ readonly id: string; readonly matched: number }[]>;
  close(): Promise<void>;
}
