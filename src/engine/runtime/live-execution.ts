/** @module engine/runtime/live-execution — one supervised execution: its actor plus the index fields derived from it. */
import type { Actor, AnyStateMachine } from 'xstate';
import { iso } from '../../common/clock.ts';
import type { EventRecord, ExecutionError, ExecutionStatus, ExecutionView } from '../../common/execution.ts';
import type { TemplateRef } from '../../common/template.ts';
import type { DocumentWrite, ExecutionRow, ExecutionScope, InputRow, SnapshotRow } from '../../store/types.ts';
import type { Committable } from '../journal/commit-queue.ts';
import type { SlotGroup } from '../concurrency/concurrency-queues.ts';
import type { LoadedDefinition } from '../definitions/definitions.ts';
import type { FlowContext, FlowEvent, FlowInput } from '../flow/flow-context.ts';
import { encodeInput } from '../flow/flow-inputs.ts';
import { executionTrace, type ExecutionTrace } from '../../tracing/trace-context.ts';
import { encodeSnapshot, persistFlow } from '../flow/flow-snapshot.ts';

const TOP_STATUS: Readonly<Record<string, ExecutionStatus>> = {
  completed: 'completed',
  failed: 'failed',
  timed_out: 'timed_out',
  cancelled: 'cancelled',
};

export interface LiveInit {
  id: string;
  tenant: string;
  def: LoadedDefinition;
  input: unknown;
  labels: Record<string, string>;
  parentId: string | null;
  parentStepId: string | null;
  createdAt: number;
  idempotencyKey: string | null;
  requestHash: string | null;
  dynamicDoc: unknown;
  /** A direct execution: its events stay in `buffer` until it ends. */
  direct?: boolean;
  /** Where its steps' documents are saved by default (start body `scope`). */
  scope?: ExecutionScope | null;
  /** −10..10. @default 0 */
  priority?: number;
  /** Its concurrency group and limit when its definition declares one (the row's `concurrency_key`, `concurrency_limit`). */
  concurrency?: ConcurrencyMembership | null;
  /** When it really started (later than `createdAt` after a wait in a concurrency queue). @default createdAt */
  startedAt?: number;
}

/** The concurrency group an execution belongs to: '' without a `key`, else the key's value as JSON text. */
export interface ConcurrencyMembership {
  readonly key: string;
  readonly limit: number;
}

/** An execution's trace, derived on first need (hashing its id is not free) and then kept. */
export interface TraceCell {
  readonly executionId: string;
  /** The caller's `traceparent` at the start, if it sent one. */
  readonly parent: string | undefined;
  derived?: ExecutionTrace;
}

/** An input applied and not yet committed (LiveExecution.noteInput). */
interface PendingInput {
  readonly n: number;
  readonly seq: number;
  readonly end: number;
  readonly event: FlowEvent;
  readonly start: FlowInput | undefined;
}

export const traceOf = (cell: TraceCell): ExecutionTrace => (cell.derived ??= executionTrace(cell.executionId, cell.parent));

export class LiveExecution implements Committable {
  readonly id: string;
  readonly tenant: string;
  readonly def: LoadedDefinition;
  readonly input: unknown;
  labels: Record<string, string>;
  readonly parentId: string | null;
  readonly parentStepId: string | null;
  readonly createdAt: number;
  readonly idempotencyKey: string | null;
  readonly requestHash: string | null;
  readonly dynamicDoc: unknown;
  /** Direct (`durability: none`): no file I/O while it runs; `buffer` holds its events until it ends. */
  readonly direct: boolean;
  readonly buffer: EventRecord[] = [];
  /** A direct execution's saved document versions, written with its events when it ends. */
  readonly documents: DocumentWrite[] = [];
  readonly scope: ExecutionScope | null;
  readonly priority: number;
  readonly concurrency: ConcurrencyMembership | null;
  readonly startedAt: number;
  /** The group whose `running` count includes it (it holds a slot); null when it holds none. */
  slot: SlotGroup | null = null;
  /** The seq of its durable `queued` state when it was started from a concurrency queue (0: never queued): a failed commit returns it there. */
  queuedSeq = 0;
  actor!: Actor<AnyStateMachine>;
  status: ExecutionStatus = 'running';
  currentSteps: string[] = [];
  output: unknown = null;
  error: ExecutionError | null = null;
  retryAttempt = 0;
  updatedAt: number;
  finishedAt: number | null = null;
  lastSeq = 0;
  /** Its executions row exists in the store (later commits update it without rewriting the input). */
  stored = false;
  /** Went back to its last durable state after a failed commit: this object is dead, requests on it failed. */
  discarded = false;
  /** The last seq known durable (committed or restored). */
  committedSeq = 0;
  /** Clock time of the last input (passivation picks the longest idle). */
  lastActiveAt = 0;
  /** Its trace (from the caller's traceparent, kept in the context): see traceCell(). */
  private trace: TraceCell | undefined = undefined;
  /** stepId → id of the child execution a `workflow` step started. */
  readonly children = new Map<string, string>();
  /**
   * Its inputs are journaled and a restore replays them (replay.ts), with a snapshot every this many inputs: a flow
   * document's execution, unless direct. 0: a snapshot with every commit (a code machine, a direct execution).
   */
  snapshotEvery = 0;
  /** Inputs applied so far, numbered from 0 (the next input's number). */
  inputCount = 0;
  /** Inputs applied and not yet taken into a commit, as applied: encoded only if a commit writes them. */
  private pendingInputs: PendingInput[] = [];
  /** Inputs the last durable snapshot covers. */
  private snapshotInputs = 0;
  /** Inputs durable (committed or restored): passivation waits for all of them. */
  inputsDurable = 0;
  /** The commit in flight holds inputs up to this number… */
  private takenInputs = 0;
  /** …and a snapshot covering this many (-1: none). */
  private takenSnapshot = -1;
  /** Some of its input rows or a snapshot may be in the store (dropped once it completes). */
  private stateStored = false;
  /** Write a snapshot with the next commit whatever the count (shutdown). */
  snapshotDue = false;
  /** The last large-able value journaled (an object or a string): a step's output, or the execution's input, and its event's seq. */
  private lastValue: unknown = undefined;
  private lastValueSeq = 0;

  constructor(i: LiveInit) {
    this.id = i.id;
    this.tenant = i.tenant;
    this.def = i.def;
    this.input = i.input;
    this.labels = i.labels;
    this.parentId = i.parentId;
    this.parentStepId = i.parentStepId;
    this.createdAt = i.createdAt;
    this.updatedAt = i.createdAt;
    this.idempotencyKey = i.idempotencyKey;
    this.requestHash = i.requestHash;
    this.dynamicDoc = i.dynamicDoc;
    this.direct = i.direct === true;
    this.scope = i.scope ?? null;
    this.priority = i.priority ?? 0;
    this.concurrency = i.concurrency ?? null;
    this.startedAt = i.startedAt ?? i.createdAt;
  }

  get replayable(): boolean {
    return this.snapshotEvery > 0;
  }

  /** Inputs a rebuild would replay now (applied since its last durable snapshot). */
  get inputsSinceSnapshot(): number {
    return this.inputCount - this.snapshotInputs;
  }

  get workflow(): string {
    return this.def.row.name;
  }

  get version(): number {
    return this.def.row.version;
  }

  /** Its trace's cell, made once: tasks hold the cell, never the execution (a queued task must not keep a passivated one in memory). */
  traceCell(): TraceCell {
    return (this.trace ??= { executionId: this.id, parent: this.context().traceparent });
  }

  context(): FlowContext {
    return this.actor.getSnapshot().context as FlowContext;
  }

  /** Re-derives the index fields from the actor's snapshot; returns the previous status. */
  sync(): ExecutionStatus {
    const prev = this.status;
    const snap = this.actor.getSnapshot();
    const ctx = snap.context as FlowContext;
    const value = snap.value as string | Record<string, unknown>;
    const top = typeof value === 'string' ? value : (Object.keys(value)[0] ?? 'run');
    let status = TOP_STATUS[top];
    const leaves: string[] = [];
    let allWaiting = true;
    for (const [id, type] of Object.entries(ctx.active)) {
      if (type === 'parallel') continue;
      leaves.push(id);
      if (type !== 'wait' && type !== 'sleep') allWaiting = false;
    }
    if (!status) status = ctx.paused ? 'paused' : leaves.length > 0 && allWaiting ? 'waiting' : 'running';
    this.status = status;
    this.currentSteps = leaves;
    this.output = ctx.output;
    this.error = ctx.error;
    this.retryAttempt = ctx.retryAttempt;
    if (TOP_STATUS[top] && this.finishedAt === null) this.finishedAt = ctx.lastAt;
    if (!TOP_STATUS[top]) this.finishedAt = null;
    return prev;
  }

  toRow(): ExecutionRow {
    return {
      id: this.id,
      tenant: this.tenant,
      workflow: this.workflow,
      version: this.version,
      status: this.status,
      input: this.input,
      output: this.output,
      error: this.error,
      currentSteps: this.currentSteps,
      parentId: this.parentId,
      parentStepId: this.parentStepId,
      labels: this.labels,
      createdAt: this.createdAt,
      startedAt: this.startedAt,
      updatedAt: this.updatedAt,
      finishedAt: this.finishedAt,
      retryAttempt: this.retryAttempt,
      lastSeq: this.lastSeq,
      idempotencyKey: this.idempotencyKey,
      requestHash: this.requestHash,
      definition: this.dynamicDoc,
      nextDueAt: this.nextDue(),
      scope: this.scope,
      priority: this.priority,
      concurrencyKey: this.concurrency?.key ?? null,
      concurrencyLimit: this.concurrency?.limit ?? null,
    };
  }

  /** Earliest due time of the actor's durable timers, or null (no array: the passivation sweep asks it of many executions). */
  nextDue(): number | null {
    const timers = this.context().timers;
    let min: number | null = null;
    for (const key in timers) {
      const due = timers[key] as number;
      if (min === null || due < min) min = due;
    }
    return min;
  }

  /** The row for a commit: input and definition are written once, with the first commit. */
  toCommitRow(): ExecutionRow {
    const row = this.toRow();
    if (this.stored) {
      row.input = null;
      row.definition = null;
    }
    return row;
  }

  /**
   * The persisted actor snapshot without the input (it lives in the executions row; restore puts it back). A
   * replayable execution writes one only every `snapshotEvery` inputs (or when due): its inputs are journaled
   * meanwhile (takeInputs), and one that finishes within a few commits never writes any.
   */
  toSnapshot(): SnapshotRow | null {
    // Only failed and timed-out executions come back (a retry); completed and cancelled ones never do.
    if (this.status === 'completed' || this.status === 'cancelled') return null;
    if (!this.replayable) {
      this.stateStored = true;
      return { executionId: this.id, seq: this.lastSeq, data: encodeSnapshot(persistFlow(this.actor), this.lastSeq) };
    }
    if (!this.snapshotDue && this.inputCount - this.snapshotInputs < this.snapshotEvery) return null;
    this.snapshotDue = false;
    this.takenSnapshot = this.inputCount;
    this.stateStored = true;
    // The snapshot covers every input applied so far: those not yet written never need to be.
    this.pendingInputs = [];
    return { executionId: this.id, seq: this.lastSeq, data: encodeSnapshot(persistFlow(this.actor), this.lastSeq, this.inputCount), inputs: this.inputCount };
  }

  /**
   * A value journaled by event `seq` (a step's output in its `workflow.step.completed`, the execution's input in
   * `workflow.started`): a later step's input or the execution's output may be that very value (EventRecord.inputOf,
   * outputOf).
   */
  noteValue(value: unknown, seq: number): void {
    if (value === null || (typeof value !== 'object' && typeof value !== 'string')) return;
    this.lastValue = value;
    this.lastValueSeq = seq;
  }

  /** The seq of the event that journaled `value`, if it is the last value noted and before `seq`; else undefined. */
  valueSeqOf(value: unknown, seq: number): number | undefined {
    return value !== undefined && value === this.lastValue && this.lastValueSeq < seq ? this.lastValueSeq : undefined;
  }

  /** Its events after `seq` were dropped (a failed transition): a value they journaled is no longer in the journal. */
  forgetValuesAfter(seq: number): void {
    if (this.lastValueSeq > seq) {
      this.lastValue = undefined;
      this.lastValueSeq = 0;
    }
  }

  /** An input applied to the actor: the execution's seq was `seq` before it, `end` after the events it made; `start`: a START's creation input. */
  noteInput(event: FlowEvent, seq: number, end: number, start?: FlowInput): void {
    this.pendingInputs.push({ n: this.inputCount++, seq, end, event, start });
  }

  /** For a commit (after toSnapshot): its inputs not yet written into `out`, or its id into `done` when none will ever be replayed. */
  takeInputs(out: InputRow[], done: string[]): void {
    this.takenInputs = this.inputCount;
    if (this.status === 'completed' || this.status === 'cancelled') {
      this.pendingInputs = [];
      if (this.stateStored) done.push(this.id);
      this.stateStored = false;
      return;
    }
    if (this.pendingInputs.length === 0) return;
    for (const p of this.pendingInputs) out.push({ executionId: this.id, n: p.n, seq: p.seq, end: p.end, data: encodeInput(p.event, p.start) });
    this.pendingInputs = [];
    this.stateStored = true;
  }

  /** The commit that took its inputs (and maybe a snapshot) is durable. */
  inputsCommitted(): void {
    this.inputsDurable = Math.max(this.inputsDurable, this.takenInputs);
    if (this.takenSnapshot >= 0) this.snapshotInputs = Math.max(this.snapshotInputs, this.takenSnapshot);
    this.takenSnapshot = -1;
  }

  /** Rebuilt from a snapshot covering `covered` inputs and `count` inputs in all (replay.ts): all durable; `stored`: input rows or a snapshot were read. */
  restoredInputs(covered: number, count: number, stored: boolean): void {
    this.snapshotInputs = covered;
    this.inputCount = count;
    this.inputsDurable = count;
    this.takenInputs = count;
    this.stateStored = stored;
  }

  toView(): ExecutionView {
    return rowToView(this.toRow());
  }
}

export function rowToView(r: ExecutionRow): ExecutionView {
  const view: ExecutionView = {
    id: r.id,
    workflow: r.workflow,
    version: r.version,
    status: r.status,
    input: r.input ?? null,
    output: r.output ?? null,
    error: r.error,
    currentSteps: r.currentSteps,
    parentId: r.parentId,
    tenant: r.tenant,
    labels: r.labels,
    createdAt: iso(r.createdAt) as string,
    startedAt: iso(r.startedAt),
    updatedAt: iso(r.updatedAt) as string,
    finishedAt: iso(r.finishedAt),
    retryAttempt: r.retryAttempt,
    lastSeq: r.lastSeq,
    priority: r.priority ?? 0,
    ...(r.scope ? { scope: r.scope } : {}),
  };
  // An execution started from a template: commands.ts stores the template version in its one-off document.
  const template = r.definition === null || typeof r.definition !== 'object' ? undefined : (r.definition as { template?: TemplateRef }).template;
  if (template !== undefined) view.template = template;
  return view;
}
