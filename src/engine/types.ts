/** @module engine/types — the Engine interface the API talks to (the API never reaches into actors). */
import type { AgentEvent, AgentView, KindDefinition } from '../bus/types.ts';
import type { Issue } from '../common/errors.ts';
import type {
  AttemptView,
  DefinitionView,
  EventView,
  ExecutionStatus,
  ExecutionView,
  LogView,
  Page,
  StepView,
} from '../common/execution.ts';
import type { StepSchemas } from './definitions/step-schemas.ts';
import type { ExecutionKind } from './runtime/tasks.ts';
import type { Durability } from '../common/flow.ts';
import type { TemplateInstance, TemplateRef } from '../common/template.ts';
import type { ExecutionScope, StepAttempts } from '../store/types.ts';

export interface PageRequest {
  readonly limit: number;
  readonly cursor?: string | undefined;
}

export interface StartRequest {
  readonly tenant: string;
  readonly workflow?: string | undefined;
  readonly version?: number | undefined;
  /** A one-off flow document, validated like a definition and stored with the execution. */
  readonly definition?: unknown;
  /** The template `definition` was instantiated from: stored with it, shown as the execution's `template`. */
  readonly template?: TemplateRef | undefined;
  readonly input?: unknown;
  readonly labels?: Record<string, string> | undefined;
  readonly idempotencyKey?: string | undefined;
  /** Hash of the request body, compared when the idempotency key was seen before. */
  readonly requestHash?: string | undefined;
  /** W3C trace context of the caller; an invalid value is ignored (the execution then starts a new trace). */
  readonly traceparent?: string | undefined;
  readonly tracestate?: string | undefined;
  /** `task`: a standalone task (`tk_` id, see engine/runtime/tasks.ts). @default 'execution' */
  readonly kind?: ExecutionKind | undefined;
  /** `none`: a direct execution (no file I/O while it runs). @default the definition's `durability`, else 'journal' */
  readonly durability?: Durability | undefined;
  /** Where its steps' documents are saved unless they name a scope (`{ type, id }`, e.g. project p-1). */
  readonly scope?: ExecutionScope | undefined;
  /** −10..10 (validated by the caller): the order of a concurrency queue, higher first. @default 0 */
  readonly priority?: number | undefined;
}

export interface StartResult {
  readonly execution: ExecutionView;
  /** True when an earlier start with the same idempotency key answered. */
  readonly replayed: boolean;
}

export interface ExecutionFilter {
  readonly status?: readonly ExecutionStatus[] | undefined;
  readonly workflow?: string | undefined;
  readonly labels?: Readonly<Record<string, string>> | undefined;
  readonly parentId?: string | undefined;
  /** Epoch ms, inclusive. */
  readonly createdAfter?: number | undefined;
  /** Epoch ms, exclusive. */
  readonly createdBefore?: number | undefined;
  /** Executions (default) or standalone tasks: a list never mixes them. */
  readonly kind?: ExecutionKind | undefined;
}

export type SignalRequest =
  | { readonly payload?: unknown; readonly reject?: false | undefined }
  | { readonly reject: true; readonly reason?: string | undefined };

export interface RegisterResult {
  readonly definition: DefinitionView;
  /** false when an identical explicit version already existed (API answers 200, not 201). */
  readonly created: boolean;
}

export interface EngineStatus {
  readonly executions: Record<string, number>;
  readonly stalled: number;
  readonly agents: { online: number; busy: number; offline: number };
  readonly bus: string;
  readonly store: string;
  /** Standalone tasks by (execution) status; `executions` counts flow executions only. */
  readonly tasks?: Record<string, number>;
  /** System-wide only (never a tenant's figure): executions held in memory. */
  readonly live?: number;
  /** System-wide only: journal group commits so far, events written, duration of the last one. */
  readonly journal?: { readonly commits: number; readonly rows: number; readonly lastMs: number };
  /** Queued executions per workflow (held by concurrency limits); workflows with none are absent. */
  readonly queuedByWorkflow?: Record<string, number>;
}

/** What a tenant holds (its quota figures). */
export interface TenantUsage {
  /** Non-terminal executions, as `maxOpen` counts them (in memory, exact). */
  readonly open: number;
  /** Its executions by status (statuses with none absent). */
  readonly executions: Record<string, number>;
  /** Workflow definitions (names) it registered. */
  readonly definitions: number;
}

/** What the boot-time recovery did. */
export interface RecoveryStats {
  readonly durationMs: number;
  /** Unfinished executions brought back into memory. */
  readonly executions: number;
  /** Waiting executions left in the store (only their earliest timer is armed). */
  readonly waiting?: number;
}

/** Executions rebuilt from the store since the start (passivation, retries, recovery), and those refused. */
export interface RebuildStats {
  readonly executions: number;
  /** Journaled inputs replayed by those rebuilds. */
  readonly inputsReplayed: number;
  /** Rebuilds refused for what the store holds: `replay_diverged`, `snapshot_format_unsupported`, `snapshot_output_missing`. */
  readonly refused: number;
}

/** One journal group commit. */
export interface CommitObservation {
  readonly ms: number;
  readonly events: number;
}

export interface CostsView {
  total: { tokens: number; usd: number };
  steps: { stepId: string; attempt: number; model: string | null; tokens: number; usd: number }[];
}

/**
 * Every operation is tenant-scoped: another tenant's resource is `*_not_found`.
 * Mutations resolve only after their events are committed to the journal.
 * Errors are ActorflowError subclasses with stable codes (src/common/errors.ts).
 */
export interface Engine {
  /** True once recovery finished. */
  readonly ready: boolean;

  /** Issues of a flow document as `tenant` would register it (its `workflow` steps name that tenant's definitions). */
  validateDefinition(tenant: string, doc: unknown): Issue[];
  /** With `template`: a definition made from that template (`source: template`), always a new version. */
  registerDefinition(tenant: string, doc: unknown, template?: TemplateInstance): Promise<RegisterResult>;
  getDefinition(tenant: string, name: string, version?: number): Promise<DefinitionView>;
  listDefinitions(tenant: string, prefix: string | undefined, page: PageRequest): Promise<Page<DefinitionView>>;
  listDefinitionVersions(tenant: string, name: string, page: PageRequest): Promise<Page<DefinitionView>>;
  retireDefinition(tenant: string, name: string): Promise<void>;
  definitionDiagram(tenant: string, name: string, version?: number): Promise<string>;

  start(req: StartRequest): Promise<StartResult>;
  /**
   * Cluster mode: the key a start must run with, hashed to its partition: its idempotency key (as stored),
   * else its workflow's concurrency group; null when any partition will do (or the request is refused anyway).
   */
  startPlacement(req: StartRequest): string | null;
  /** `kind` (default `execution`) must match the id's kind, else `*_not_found`: tasks and executions never alias. */
  get(tenant: string, id: string, kind?: ExecutionKind): Promise<ExecutionView>;
  list(tenant: string, filter: ExecutionFilter, page: PageRequest): Promise<Page<ExecutionView>>;
  /** The execution once it is finished or waiting for a signal, or as it is after `waitMs` (a long poll; `*_not_found` as `get`). */
  settled(tenant: string, id: string, waitMs: number): Promise<ExecutionView>;
  update(tenant: string, id: string, patch: { labels?: Record<string, string>; context?: Record<string, unknown> }): Promise<ExecutionView>;
  cancel(tenant: string, id: string, reason?: string, kind?: ExecutionKind): Promise<ExecutionView>;
  pause(tenant: string, id: string): Promise<ExecutionView>;
  resume(tenant: string, id: string): Promise<ExecutionView>;
  retry(tenant: string, id: string, note?: string): Promise<ExecutionView>;
  retryStep(tenant: string, id: string, stepId: string): Promise<ExecutionView>;
  signal(tenant: string, id: string, name: string, signal: SignalRequest): Promise<ExecutionView>;

  steps(tenant: string, id: string, page: PageRequest): Promise<Page<StepView>>;
  attempts(tenant: string, id: string, stepId: string, page: PageRequest, kind?: ExecutionKind): Promise<Page<AttemptView>>;
  /** Attempt counts of task step `stepId` of many executions (ids from a `list` page), in one store read; ids whose step has not started are absent. */
  stepAttempts(tenant: string, ids: readonly string[], stepId: string): Promise<Map<string, StepAttempts>>;
  events(tenant: string, id: string, since: number, page: PageRequest): Promise<Page<EventView>>;
  logs(tenant: string, id: string, filter: { level?: LogView['level']; stepId?: string }, page: PageRequest): Promise<Page<LogView>>;
  children(tenant: string, id: string, page: PageRequest): Promise<Page<Pick<ExecutionView, 'id' | 'workflow' | 'status' | 'createdAt'>>>;
  executionDiagram(tenant: string, id: string): Promise<string>;
  costs(tenant: string, id: string): Promise<CostsView>;

  /**
   * Counts of `tenant` (its executions, tasks and stalled steps); every tenant's without one. Agents,
   * bus and store are shared by all tenants; `live` and `journal` are system-wide figures.
   */
  status(tenant?: string): Promise<EngineStatus>;
  /** What `tenant` holds: its open executions (counted in memory), its executions by status, its definitions. */
  usage(tenant: string): Promise<TenantUsage>;
  /** Queued executions (held by concurrency limits) per workflow of `tenant`, of every tenant without one; from memory, workflows with none absent. */
  queuedByWorkflow?(tenant?: string): Record<string, number>;
  /** Agents seen on the bus (in-process ones included), with status and step stats. */
  agents(): AgentView[];
  /** What the agents of `kind` declare about it (schemas, description); undefined when nothing. */
  taskDefinition(kind: string): KindDefinition | undefined;
  /** The input and output schemas of one step of a definition. @throws NotFoundError `definition_not_found`, `step_not_found` */
  stepSchemas(tenant: string, name: string, stepId: string, version?: number): Promise<StepSchemas>;
  /** Agent events (`agent.registered`, `agent.status.changed`, `agent.lost`); not in any execution's log. */
  onAgentEvent(listener: (e: AgentEvent) => void): () => void;
  /** Committed events, in seq order per execution. Returns an unsubscribe function. */
  onEvent(listener: (event: EventView) => void): () => void;
  /** The boot-time recovery, once it has finished (null before). */
  recoveryStats?(): RecoveryStats | null;
  /** Rebuilds from the store since the start (metrics). */
  rebuildStats?(): RebuildStats;
  /** Every journal group commit: its latency and how many events it wrote (metrics). Returns an unsubscribe function. */
  onCommit?(listener: (commit: CommitObservation) => void): () => void;
  close(): Promise<void>;
}
