/** @module bus/types — the Bus contract: task dispatch, results, step logs, events, agent heartbeats. */
import type { StepError } from '../common/errors.ts';
import type { EventView } from '../common/execution.ts';
import type { DocumentSave } from '../common/document-save.ts';

/** One step attempt sent to an agent kind. `taskId` = `<executionId>:<stepId>:<attempt>` is the idempotency key. */
export interface TaskMessage {
  readonly taskId: string;
  readonly executionId: string;
  readonly stepId: string;
  readonly attempt: number;
  readonly agent: string;
  readonly tenant: string;
  readonly workflow: string;
  readonly input: unknown;
  readonly timeoutMs: number | null;
  /** W3C trace context of this attempt: the execution's trace id, the attempt's span as parent (src/tracing/trace-context.ts). */
  readonly traceparent?: string;
  readonly tracestate?: string;
  /**
   * Where the agent sends this attempt's result (NATS: a subject). Set in cluster mode, where it names the
   * subject of the execution's partition, served by whichever node owns it when the result comes; absent:
   * the bus's one results subject.
   */
  readonly resultSubject?: string;
}

export interface CostReport {
  readonly model: string | null;
  readonly tokens: number;
  readonly usd: number;
}

export type TaskResult =
  | { readonly taskId: string; readonly executionId: string; readonly stepId: string; readonly attempt: number; readonly agentId: string; readonly ok: true; readonly output: unknown; readonly costs: readonly CostReport[]; readonly durationMs: number; readonly documents?: readonly DocumentSave[] }
  | { readonly taskId: string; readonly executionId: string; readonly stepId: string; readonly attempt: number; readonly agentId: string; readonly ok: false; readonly error: StepError; readonly costs: readonly CostReport[]; readonly durationMs: number };

export interface TaskTaken {
  readonly taskId: string;
  readonly executionId: string;
  readonly stepId: string;
  readonly attempt: number;
  readonly agentId: string;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface StepLog {
  readonly executionId: string;
  readonly stepId: string;
  readonly attempt: number;
  readonly level: LogLevel;
  readonly message: string;
  readonly data: unknown;
}

/** What an agent's handler receives for one task. */
export interface TaskContext {
  /** The agent kind this task was sent to (an agent may serve several). */
  readonly kind: string;
  /** The tenant of the execution (HTTP push agents route by it: src/http-agents). */
  readonly tenant: string;
  readonly executionId: string;
  readonly stepId: string;
  readonly attempt: number;
  readonly input: unknown;
  /** Aborted when the execution is cancelled or the step times out. */
  readonly signal: AbortSignal;
  /** W3C `traceparent` of this attempt (forward it on outgoing calls to join the execution's trace). */
  readonly traceparent?: string | undefined;
  readonly tracestate?: string;
  log(level: LogLevel, message: string, data?: unknown): void;
  reportCost(cost: { model?: string; tokens?: number; usd?: number }): void;
  /**
   * Saves a document with this attempt's result (docs/agents.md, "Documents"): written, with a
   * `document.saved` event, in the same commit as the step's completion, and only if the attempt
   * completes. Without `id` a new document; with `id` a new version of it. Throws `document_invalid`.
   */
  saveDocument(doc: DocumentSave): void;
  /**
   * Calls `listener` once the result of this task has been reported: `true` when the engine has it
   * durably, `false` when it was not taken (cancelled, shutdown, the commit or the report failed).
   * What an agent that acknowledges results to someone else waits for. Absent: the bus never tells.
   */
  onReported?(listener: (durable: boolean) => void): void;
}

export type TaskHandler = (ctx: TaskContext) => Promise<unknown>;

/** What an agent declares about one kind it serves: shown by `GET /task-definitions`; `inputSchema` is checked before dispatch. */
export interface KindDefinition {
  /** JSON Schema (draft-07) of the task input. */
  readonly inputSchema?: Record<string, unknown>;
  /** JSON Schema of the output (documentation; a step's own `outputSchema` is what is checked). */
  readonly outputSchema?: Record<string, unknown>;
  readonly description?: string;
}

/** Kind → what is declared about it (only kinds with something declared). */
export type KindDefinitions = Readonly<Record<string, KindDefinition>>;

export interface AgentInfo {
  readonly id: string;
  readonly name: string;
  readonly kinds: readonly string[];
  readonly capacity: number;
  readonly inFlight: number;
  readonly version: string;
  readonly lastHeartbeatAt: number;
  /** Declared schemas and descriptions of its kinds; absent for an agent that declares none (older agents). */
  readonly definitions?: KindDefinitions;
}

export type AgentStatus = 'online' | 'busy' | 'offline';

export interface AgentView extends AgentInfo {
  readonly status: AgentStatus;
  readonly stats: { completed: number; failed: number; failureRate: number; p50Ms: number | null };
}

/** Agent events: not part of any execution's log. */
export type AgentEvent =
  | { type: 'agent.registered'; agent: AgentView }
  | { type: 'agent.status.changed'; agent: AgentView; from: AgentStatus }
  | { type: 'agent.lost'; agent: AgentView };

/** What an agent announces every heartbeat interval (the registry stamps `lastHeartbeatAt` on receipt). */
export interface Heartbeat extends Omit<AgentInfo, 'lastHeartbeatAt'> {
  readonly startedAt: number;
  /** True on the last heartbeat of a draining agent. */
  readonly leaving?: boolean;
  /** The agent answers direct task requests (NATS: `<prefix>.direct.<id>`, src/bus/nats/subjects.ts); absent: queue only. */
  readonly direct?: boolean;
  /** Of `inFlight`, the tasks it took on the direct path. */
  readonly inFlightDirect?: number;
}

/** An agent's answer to a direct task request, sent before it runs anything. */
export type DirectReply =
  | { readonly taskId: string; readonly taken: true; readonly agentId: string }
  | { readonly taskId: string; readonly taken: false; readonly reason: 'full' | 'stopping' | 'kind' | 'cancelled' | 'invalid' };

export interface AgentServeOptions {
  readonly name: string;
  readonly kinds: readonly string[];
  readonly concurrency: number;
  readonly version?: string;
  /** Schemas and descriptions of `kinds`, announced with the agent's heartbeats. */
  readonly definitions?: KindDefinitions;
  /**
   * The handler has no effect outside this process (echo, log, fail, sleep): on the in-process bus
   * its tasks may start before their dispatch is durable. @default false
   */
  readonly effectFree?: boolean;
}

export interface AgentHandle {
  readonly id: string;
  close(): Promise<void>;
}

export type BusState = 'embedded' | 'connected' | 'reconnecting' | 'closed';

/**
 * Engine side: dispatch/cancel tasks, receive results and logs, publish committed events.
 * Agent side: serve kinds with a handler. A task whose kind has no agent waits until one serves it.
 */
export interface Bus {
  dispatch(task: TaskMessage): void;
  /** True when every agent serving `kind` runs in this process without outside effects (see AgentServeOptions.effectFree). */
  effectFree?(kind: string): boolean;
  /**
   * What the agents of `kind` declare about it (AgentRegistry.definition), undefined when none does.
   * Called on every dispatch: a map lookup, the same object while the declaration is unchanged.
   */
  taskDefinition?(kind: string): KindDefinition | undefined;
  /** Abort an in-flight task (cancel or timeout); a queued one is dropped. */
  cancel(taskId: string): void;
  /** The handler's promise settles once the result is durable; only then may the bus ack the task. */
  onResult(handler: (result: TaskResult) => Promise<void> | void): void;
  /** An agent took a task (→ `agent.selected`). */
  onTaken(handler: (taken: TaskTaken) => void): void;
  onLog(handler: (log: StepLog) => void): void;
  publishEvent(event: EventView): void;
  serve(opts: AgentServeOptions, handler: TaskHandler): AgentHandle;
  agents(): AgentView[];
  onAgentEvent(handler: (e: AgentEvent) => void): void;
  state(): BusState;
  close(): Promise<void>;
}
