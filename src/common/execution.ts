/** @module execution — execution, event, step views as the API shows them (docs/api/executions.md). */
import type { TemplateInstance, TemplateRef } from './template.ts';

export const ExecutionStatus = {
  pending: 'pending',
  /** Held by its workflow's concurrency limit: accepted and durable, not started yet (docs/flows.md, "Concurrency limits"). */
  queued: 'queued',
  running: 'running',
  waiting: 'waiting',
  paused: 'paused',
  completed: 'completed',
  failed: 'failed',
  cancelled: 'cancelled',
  timedOut: 'timed_out',
} as const;
export type ExecutionStatus = (typeof ExecutionStatus)[keyof typeof ExecutionStatus];

export const TERMINAL_STATUSES: ReadonlySet<ExecutionStatus> = new Set(['completed', 'failed', 'cancelled', 'timed_out']);

/** The events that end an execution (into a terminal status; a failed or timed-out one may still be retried later). */
export const TERMINAL_EVENT_TYPES: ReadonlySet<string> = new Set(['workflow.completed', 'workflow.failed', 'workflow.cancelled', 'workflow.timed_out']);

export interface ExecutionError {
  readonly code: string;
  readonly message: string;
  readonly stepId: string | null;
  readonly compensated: boolean;
}

/** The execution as the API shows it (times as RFC 3339 strings; docs/api/executions.md). */
export interface ExecutionView {
  id: string;
  workflow: string;
  version: number;
  status: ExecutionStatus;
  input: unknown;
  output: unknown;
  error: ExecutionError | null;
  currentSteps: string[];
  parentId: string | null;
  tenant: string;
  labels: Record<string, string>;
  createdAt: string;
  startedAt: string | null;
  updatedAt: string;
  finishedAt: string | null;
  retryAttempt: number;
  lastSeq: number;
  /** −10..10 (default 0): the order of queued executions of a concurrency limit, higher first. */
  priority: number;
  /** Only for an execution started from a template (`POST /executions` with `template`). */
  template?: TemplateRef;
  /** Only when started with one: where its steps' documents are saved by default. */
  scope?: { readonly type: string; readonly id: string };
}

/** Every type of an execution's journaled events (docs/api/executions.md, "Events"). */
export const EVENT_TYPES = [
  'workflow.started',
  'workflow.step.started',
  'workflow.step.completed',
  'workflow.step.failed',
  'workflow.step.retrying',
  'workflow.waiting',
  'workflow.signal.received',
  'workflow.paused',
  'workflow.resumed',
  'workflow.updated',
  'workflow.retried',
  'workflow.completed',
  'workflow.failed',
  'workflow.cancelled',
  'workflow.timed_out',
  'workflow.queued',
  'agent.selected',
  'step.log',
  'document.saved',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** One journaled event (times as epoch ms internally). */
export interface EventRecord {
  readonly executionId: string;
  readonly seq: number;
  readonly type: EventType;
  readonly ts: number;
  readonly stepId: string | null;
  readonly data: Record<string, unknown>;
  /**
   * A task's `workflow.step.started` whose `data.input` is the very value event `inputOf` of the same execution
   * journaled (a `workflow.step.completed`'s output, or the `workflow.started` input): the store may keep the value
   * once, there (store/sqlite/event-refs.ts).
   */
  readonly inputOf?: number;
  /** A `workflow.completed` whose `data.output` is the very output event `outputOf` (a `workflow.step.completed`) journaled: the same. */
  readonly outputOf?: number;
}

export interface EventView {
  seq: number;
  id: string;
  executionId: string;
  workflow: string;
  tenant: string;
  type: EventType;
  timestamp: string;
  stepId?: string;
  data: Record<string, unknown>;
}

export type StepStatus = 'pending' | 'running' | 'waiting' | 'completed' | 'failed' | 'skipped' | 'cancelled';

export interface StepView {
  stepId: string;
  type: string;
  status: StepStatus;
  attempts: number;
  startedAt: string | null;
  finishedAt: string | null;
  output: unknown;
  error: unknown;
  agentId: string | null;
  waitingFor: string | null;
}

export interface AttemptView {
  attempt: number;
  status: 'running' | 'completed' | 'failed' | 'cancelled';
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
  agentId: string | null;
  output: unknown;
  error: unknown;
}

export interface LogView {
  timestamp: string;
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  stepId: string | null;
  attempt: number | null;
  data: unknown;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface DefinitionView {
  name: string;
  version: number;
  /** `template`: registered by `POST /workflow-templates/{name}/instantiate` (see `template`). */
  source: 'document' | 'code' | 'template';
  retired: boolean;
  createdAt: string;
  document: unknown;
  /** Only with `source: template`: the template version and the parameters it was made with. */
  template?: TemplateInstance;
}
