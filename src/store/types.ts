/**
 * @module store/types — the store interfaces and the rows they carry: here the journal's (`Store`: executions,
 * events, snapshots, definitions, commits), and, re-exported, those of every other resource (store/resources/,
 * one file each). The implementations (SQLite) live in store/sqlite/; only the composition root (cli/serve.ts)
 * imports them: everyone else imports this file.
 */
import type { EventRecord, ExecutionError, ExecutionStatus } from '../common/execution.ts';
import type { TemplateInstance } from '../common/template.ts';
import type { DocumentWrite } from './resources/documents.ts';
import type { DeliveryRow } from './resources/webhooks.ts';

export type * from './resources/auth.ts';
export type * from './resources/schedules.ts';
export type * from './resources/webhooks.ts';
export type * from './resources/http-agents.ts';
export type * from './resources/tenants.ts';
export type * from './resources/templates.ts';
export type * from './resources/telemetry.ts';
export type * from './resources/documents.ts';
export type * from './resources/bulk.ts';

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

/** The data of each step's latest `workflow.step.completed` and `workflow.step.started` event up to a seq, by step id. */
export interface StepEventData {
  readonly completed: ReadonlyMap<string, Uint8Array>;
  readonly started: ReadonlyMap<string, Uint8Array>;
}

export interface SnapshotRow {
  executionId: string;
  seq: number;
  /** Encoded persisted actor snapshot. */
  data: Uint8Array;
  /** The inputs it covers (numbered from 0): the journal drops the execution's input rows numbered below this in the same transaction. */
  inputs?: number;
}

/**
 * One input applied to an execution's actor (a step result, a signal, a timer…), numbered from 0 (its START) and
 * journaled with the events it made: a restore replays those its snapshot does not cover (engine/runtime/replay.ts).
 */
export interface InputRow {
  executionId: string;
  n: number;
  /** The execution's last seq before the input was applied. */
  seq: number;
  /** Its last seq once the input was applied: a replay must make exactly the events in between. */
  end: number;
  /** Encoded input (engine/flow/flow-inputs.ts). */
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
  /** Inputs applied since the executions' snapshots (only journals that keep inputs get them: `Journal.keepsInputs`). */
  readonly inputs?: readonly InputRow[];
  /** Executions that ended for good (completed, cancelled): their input rows and snapshot are dropped, nothing will restore them. */
  readonly inputsDone?: readonly string[];
  /** Document versions, written with the `document.saved` events that announce them (or alone: the documents API). */
  readonly documents?: readonly DocumentWrite[];
  /**
   * Cluster mode: the partition journal entries this batch is made of (and, for those the journal feed
   * applies, the feed's stream cursor), recorded in the same transaction: a restarted node resumes where its copy ends.
   */
  readonly positions?: readonly JournalPosition[];
  /** Someone waits on this commit (a reply, an acknowledgement): the store may take a quicker path that holds the event loop (store/sqlite/fast-commit.ts). */
  readonly waited?: boolean;
  /**
   * Cluster mode: the rows of this batch that this node's engine wrote (the rest copies other nodes'
   * journal commits into the read model). Participants add effects of their own (webhook deliveries)
   * for these only: the node that wrote a commit sends its deliveries. Absent: the whole batch.
   */
  readonly originated?: CommitBatch;
  /**
   * Only writes that need no fsync of their own (a direct execution's end, API.md): committed with
   * `synchronous=NORMAL` even when the store runs FULL. WAL stays consistent; a power loss may lose
   * this batch, and the next durable commit's fsync covers it.
   */
  readonly relaxed?: boolean;
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
  /** Its input rows in order (those the snapshot does not cover): absent or empty when it has none. */
  inputs?: readonly InputRow[];
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
  /** Each step's latest `workflow.step.completed` and `workflow.step.started` event data with seq ≤ `uptoSeq` (the values a snapshot left to the journal). */
  stepEventData(executionId: string, uptoSeq: number): Promise<StepEventData>;
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
  /** Cluster mode: the last journal sequence applied per partition, the feed's cursor under key -1 (FEED_POSITION), the shared-state log's under -2 (SHARED_POSITION). */
  journalPositions(): Promise<Map<number, number>>;
  close(): Promise<void>;
}

/** The key of the journal feed's cursor among `Store.journalPositions()`. */
export const FEED_POSITION = -1;
/** The key of the shared-state log's position (cluster/shared-state) among `Store.journalPositions()`. */
export const SHARED_POSITION = -2;

/**
 * The local store as a file, for cluster mode's read-model snapshots (src/cluster/read-model-snapshots.ts):
 * the store knows its file format, the cluster only moves the bytes.
 */
export interface ReadModelFiles {
  /** A consistent copy of the store at `dbPath` in `dest`, without this node's own rows (its audit, webhook deliveries, bulk operations, HTTP push agents). */
  copy(dbPath: string, dest: string): Promise<void>;
  /** The journal positions the store file at `path` holds (JournalPosition keys, FEED_POSITION and SHARED_POSITION included); none when it has no such table. */
  positions(path: string): ReadonlyMap<number, number>;
}
