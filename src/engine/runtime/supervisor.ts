/**
 * @module engine/runtime/supervisor — the engine's core (engine-internal): one XState actor per live
 * execution; its inputs (results, timers, signals), its journal (group commit, effects released
 * after their commit), passivation, and the way back to the last durable state after a failed commit.
 * Commands (commands.ts), reads (read-model.ts) and recovery (recovery.ts) work through it; tasks to and
 * results from agents are task-dispatch.ts, passivation passivation.ts, commit outcomes commit-outcomes.ts.
 * Past 400 lines on purpose: actors, their journal and passivation share one state (the live map,
 * the commit queue, the timer queue) that must change together within one event-loop turn.
 */
import { createActor, type AnyStateMachine, type Snapshot } from 'xstate';
import type { AgentEvent, Bus, TaskResult } from '../../bus/types.ts';
import { systemClock, type Clock } from '../../common/clock.ts';
import { ActorflowError, ConflictError, ErrorCode, NotFoundError } from '../../common/errors.ts';
import type { EventRecord, EventView, ExecutionView } from '../../common/execution.ts';
import { TERMINAL_STATUSES } from '../../common/execution.ts';
import { toEventView } from '../../common/event-view.ts';
import type { FlowDocument } from '../../common/flow.ts';
import { LIMITS } from '../../common/flow.ts';
import { newExecutionId, parseExecutionId } from '../../common/ids.ts';
import { createConsoleLogger, type Logger } from '../../common/logger.ts';
import type { DocumentStore, ExecutionRow, ExecutionScope, RecoverableRow, RestorableRow, Store } from '../../store/types.ts';
import { CommitQueue } from '../journal/commit-queue.ts';
import { ConcurrencyGate } from '../concurrency/concurrency-gate.ts';
import type { SlotGroup } from '../concurrency/concurrency-queues.ts';
import { DefinitionRegistry, type LoadedDefinition } from '../definitions/definitions.ts';
import type { FlowEffects, FlowEvent, FlowInput, InflightTask } from '../flow/flow-context.ts';
import { type ConcurrencyMembership, LiveExecution, type LiveInit } from './live-execution.ts';
import { QueuedExecution } from '../concurrency/queued-execution.ts';
import { OpenCounts } from './open-counts.ts';
import { cancelChild, childEnded, startChild } from './child-executions.ts';
import { commitFailed, commitSucceeded } from './commit-outcomes.ts';
import { activate, readSnapshot, restoreFrom, sweep } from './passivation.ts';
import { isStepBudgetError } from '../flow/compile-flow.ts';
import type { SharedWrites } from '../../common/shared-writes.ts';
import { loadMachinesDir } from '../definitions/machines-dir.ts';
import { concurrencyPlacement, storeJournal, type IdHint, type Journal, type Ownership } from '../journal/journal.ts';
import { recover } from '../journal/recovery.ts';
import { persistFlow, type RestorableSnapshot, restoreFlow } from '../flow/flow-snapshot.ts';
import { SNAPSHOT_EVERY_INPUTS } from './replay.ts';
import { InputSlicer } from './input-slicer.ts';
import { KindInputs } from './task-checks.ts';
import { abortTask, deliverResult, dispatchTask, redispatchInflight } from './task-dispatch.ts';
import { TimerQueue } from './timer-queue.ts';
import { ID_PREFIX, kindOfId, newTaskId, parseTaskId, type ExecutionKind } from './tasks.ts';
import type { CommitObservation, RecoveryStats } from '../types.ts';

export const STALL_MS = 30_000;
/** Events after which `settled()` looks again (the execution may have finished or started waiting for a signal). */
export const SETTLING_EVENTS: ReadonlySet<string> = new Set(['workflow.completed', 'workflow.failed', 'workflow.cancelled', 'workflow.timed_out', 'workflow.waiting']);
/** Timer key of a waiting execution recovered without its actor: when due, the actor is rebuilt and re-arms its own timers. */
export const RECOVERED_TIMER = '*';

export interface EngineOptions {
  readonly store: Store;
  readonly bus: Bus;
  /** @default systemClock */
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Flow documents and code-first definitions registered at boot (tenant `default`). */
  readonly machinesDir?: string;
  /**
   * A waiting execution leaves memory after this long without input (`ACTORFLOW_PASSIVATE_MS`) while something is
   * due to wake it soon: a step in flight at an agent, a timer due within this time. @default 1000
   */
  readonly passivateMs?: number;
  /**
   * One that nothing wakes soon (it waits for a signal, or for a timer due later than `passivateMs`) leaves after
   * this long without input (`ACTORFLOW_PASSIVATE_QUIET_MS`); at most `passivateMs`. @default 100
   */
  readonly passivateQuietMs?: number;
  /** At most this many executions stay in memory; past it the least recently active waiting ones leave first. @default 50000 */
  readonly maxLive?: number;
  /**
   * An execution of a flow document writes a snapshot every this many inputs (`ACTORFLOW_SNAPSHOT_EVERY`), and at
   * shutdown; its commits journal its inputs meanwhile, which a restore replays (replay.ts). @default 64
   */
  readonly snapshotEveryInputs?: number;
  /** Where the documents steps save are numbered and read; without it a result that saves one fails `documents_unavailable`. */
  readonly documents?: DocumentStore;
  /**
   * The most non-terminal executions `tenant` may have (its quota); undefined = no limit. A start past
   * it fails `tenant_limit`. Child executions count but are never refused (their parent would fail
   * mid-flight); standalone tasks neither count nor are refused.
   */
  readonly maxOpen?: (tenant: string) => number | undefined;
  /** Where histories become durable. @default the store's own (single-node mode) */
  readonly journal?: Journal;
  /** Cluster mode: which executions this node runs and where new ones go. @default every execution is this node's */
  readonly ownership?: Ownership;
  /** Where writes of definitions are applied (cluster mode: on every node, through the shared-state log). @default localWrites */
  readonly sharedWrites?: SharedWrites;
}

/** Seconds a start refused by a tenant's quota is told to wait (no slot frees on a schedule). */
export const TENANT_LIMIT_RETRY_S = 1;

export const DEFAULT_PASSIVATE_MS = 1000;
export const DEFAULT_PASSIVATE_QUIET_MS = 100;
export const DEFAULT_MAX_LIVE = 50_000;

/** A new actor from its input, or a restored one from its persisted snapshot (and the bytes it was decoded from). */
type StartFrom = { input: FlowInput } | { snapshot: Snapshot<unknown>; encoded?: readonly Uint8Array[] };

/** What `spawn` starts. `slot`: the concurrency slot it was admitted with (its group's `running` already counts it). */
export interface SpawnRequest extends Omit<LiveInit, 'id' | 'createdAt' | 'startedAt'> {
  traceparent: string | null;
  tracestate: string | null;
  kind?: ExecutionKind;
  slot?: SlotGroup | null;
}

/** Engine-internal: its members are shared with commands.ts, read-model.ts and recovery.ts, never exported from the package. */
export class Supervisor implements FlowEffects {
  readonly store: Store;
  readonly bus: Bus;
  /** Histories become durable here (commits, event reads, snapshots); the store serves the indexes. */
  readonly journal: Journal;
  readonly clock: Clock;
  readonly log: Logger;
  readonly live = new Map<string, LiveExecution>();
  readonly registry: DefinitionRegistry;
  readonly queue: CommitQueue<LiveExecution | QueuedExecution>;
  /** Concurrency limits: slots held, queued executions, their starts. */
  readonly gate: ConcurrencyGate;
  readonly listeners = new Set<(e: EventView) => void>();
  readonly commitListeners = new Set<(c: CommitObservation) => void>();
  readonly agentListeners = new Set<(e: AgentEvent) => void>();
  /** Idempotency keys of starts in progress: `tenant\0key` → the row it created (undefined when it failed). */
  readonly pendingKeys = new Map<string, Promise<ExecutionRow | undefined>>();
  /** Dispatched tasks no agent has taken yet: task id → dispatch time (the watchdog's input for `stalled`). */
  readonly untaken = new Map<string, number>();
  recovery: Promise<void> = Promise.resolve();
  /** Agent results and timer fires are applied a few ms per event-loop turn. */
  readonly slicer: InputSlicer;
  /** Task inputs checked against the `inputSchema` their kind's agents declare, before dispatch. */
  readonly kindInputs: KindInputs;
  /** Every durable timer, live or passivated executions alike. */
  readonly timers: TimerQueue;
  /** Executions being rebuilt from their snapshot: inputs for them wait on the same promise. */
  readonly activating = new Map<string, Promise<LiveExecution | undefined>>();
  /** The execution whose journaled inputs are being replayed (replay.ts): its effects are suppressed. */
  replaying: LiveExecution | null = null;
  /** Executions rebuilt from the store since boot, the journaled inputs replayed for them, and rebuilds refused (`/status`, `/metrics`). */
  readonly rebuilds = { executions: 0, inputsReplayed: 0, refused: 0 };
  /** Executions with agents' results waiting for their slice (how many each): they are not passivated meanwhile. */
  readonly awaitingInput = new Map<string, number>();
  readonly passivateMs: number;
  readonly passivateQuietMs: number;
  readonly maxLive: number;
  readonly snapshotEveryInputs: number;
  /** Non-terminal executions (not tasks) per tenant: seeded from the store at boot, moved by spawn and sync. */
  open = new OpenCounts();
  sweeper: NodeJS.Timeout | undefined;
  passivated = 0;
  closed = false;
  recovered = false;
  lastRecovery: RecoveryStats | null = null;

  /** Recovery done and the bus connected (or embedded). */
  /** Where the documents steps save are numbered and read (none: a result that saves one fails). */
  get documents(): DocumentStore | undefined {
    return this.opts.documents;
  }

  get ready(): boolean {
    const bus = this.bus.state();
    return this.recovered && (bus === 'embedded' || bus === 'connected');
  }

  constructor(private readonly opts: EngineOptions) {
    this.store = opts.store;
    this.bus = opts.bus;
    this.clock = opts.clock ?? systemClock;
    this.log = opts.logger ?? createConsoleLogger(true);
    this.registry = new DefinitionRegistry(this.store, this, () => this.clock.now(), opts.sharedWrites);
    this.journal = opts.journal ?? storeJournal(this.store);
    this.queue = new CommitQueue(
      this.journal,
      (events, execs, rows) => this.committed(events, execs, rows),
      (err, execs) => this.commitFailed(err, execs),
      (err) => this.log.error('an effect failed after its commit', { err: String(err) }),
    );
    if (opts.documents) {
      const documents = opts.documents;
      this.queue.releaseDocument = (w) => documents.release(w);
    }
    this.gate = new ConcurrencyGate(this);
    this.timers = new TimerQueue(this.clock, (id, key) => this.fire(id, key));
    this.slicer = new InputSlicer((err) => this.log.error('an input could not be applied', { err: String(err) }));
    const bus = this.bus;
    this.kindInputs = new KindInputs(bus.taskDefinition && ((kind) => bus.taskDefinition?.(kind)), (message, data) => this.log.warn(message, data));
    this.passivateMs = opts.passivateMs ?? DEFAULT_PASSIVATE_MS;
    this.passivateQuietMs = Math.min(opts.passivateQuietMs ?? DEFAULT_PASSIVATE_QUIET_MS, this.passivateMs);
    this.maxLive = opts.maxLive ?? DEFAULT_MAX_LIVE;
    this.snapshotEveryInputs = opts.snapshotEveryInputs ?? SNAPSHOT_EVERY_INPUTS;
  }

  async boot(): Promise<void> {
    await this.registry.load(await this.store.listAllDefinitions());
    // Before recovery and before any start: from here on the counts move with every status change.
    this.open = new OpenCounts(await this.store.countOpenByTenant(ID_PREFIX.execution));
    await this.gate.load();
    if (this.opts.machinesDir) await loadMachinesDir(this.opts.machinesDir, this.registry, this.log);
    this.bus.onResult((r) => {
      // Closing: not journaled, so not acknowledged; the next boot dispatches the attempt again (at least once)
      // rather than record the failure an agent reports because the server is stopping.
      if (this.closed) return Promise.reject(new ActorflowError(ErrorCode.storeUnavailable, 'the engine is closing'));
      // The bus acks only once the result is durable.
      return this.applyResult(r);
    });
    this.bus.onAgentEvent((e) => this.agentListeners.forEach((l) => l(e)));
    this.bus.onTaken((t) => {
      this.untaken.delete(t.taskId);
      // A redelivery to another agent can come long after the execution was passivated: it is rebuilt to record who took it.
      this.withLive(t.executionId, (rec) => {
        if (rec.context().inflight[t.stepId]?.attempt === t.attempt) {
          this.record(rec, 'agent.selected', t.stepId, { attempt: t.attempt, agentId: t.agentId }, this.clock.now(), 5);
        }
      });
    });
    this.bus.onLog((l) =>
      this.withLive(l.executionId, (rec) => this.record(rec, 'step.log', l.stepId, { level: l.level, message: l.message, data: l.data, attempt: l.attempt }, this.clock.now())),
    );
    this.sweeper = setInterval(() => this.sweep(), Math.max(50, Math.min(250, this.passivateQuietMs)));
    this.sweeper.unref();
    const ownership = this.opts.ownership;
    this.recovery = recover(this, ownership && ((id) => ownership.owns(id))).then(
      (stats) => {
        this.lastRecovery = stats;
        this.recovered = true;
        this.gate.startAll();
      },
      (err: unknown) => this.log.error('recovery failed', { err: String(err) }),
    );
  }

  whenReady(): Promise<void> {
    return this.recovery;
  }

  emit(executionId: string, type: string, stepId: string | null, data: Record<string, unknown>, at: number): void {
    const r = this.replaying;
    // Replayed: the journal holds this event already; only its seq is counted.
    if (r !== null && r.id === executionId) {
      r.lastSeq += 1;
      return;
    }
    const rec = this.live.get(executionId);
    if (rec) this.record(rec, type as EventRecord['type'], stepId, data, at);
  }

  /** Appends the next event of an execution; with `lingerMs` it needs no commit of its own. */
  record(rec: LiveExecution, type: EventRecord['type'], stepId: string | null, data: Record<string, unknown>, at: number, lingerMs?: number): void {
    rec.lastSeq += 1;
    rec.updatedAt = at;
    // A value journaled just before is written once: a step's input that is the previous step's output
    // (`$.steps.<id>.output`) or the execution's input (`$.input`), the execution's output that is its last step's.
    let inputOf: number | undefined;
    let outputOf: number | undefined;
    if (type === 'workflow.step.started') inputOf = rec.valueSeqOf(data.input, rec.lastSeq);
    else if (type === 'workflow.completed') outputOf = rec.valueSeqOf(data.output, rec.lastSeq);
    else if (type === 'workflow.step.completed') rec.noteValue(data.output, rec.lastSeq);
    else if (type === 'workflow.started') rec.noteValue(data.input, rec.lastSeq);
    // Literals of fixed shapes: one per event of every flow.
    const event: EventRecord =
      inputOf !== undefined
        ? { executionId: rec.id, seq: rec.lastSeq, type, ts: at, stepId, data, inputOf }
        : outputOf !== undefined
          ? { executionId: rec.id, seq: rec.lastSeq, type, ts: at, stepId, data, outputOf }
          : { executionId: rec.id, seq: rec.lastSeq, type, ts: at, stepId, data };
    if (rec.direct) return this.publishDirect(rec, event);
    if (lingerMs !== undefined) return this.queue.appendSoon(event, rec, lingerMs);
    this.queue.append(event);
    this.queue.touch(rec);
  }

  /** A direct execution's event: kept in memory and published at once (no journal while it runs). */
  publishDirect(rec: LiveExecution, event: EventRecord): void {
    rec.buffer.push(event);
    if (this.listeners.size === 0 && this.bus.state() === 'embedded') return;
    const view = toEventView(event, rec.workflow, rec.tenant);
    // After the transition that made it, as committed events are.
    queueMicrotask(() => {
      for (const l of this.listeners) l(view);
      this.bus.publishEvent(view);
    });
  }

  /** A direct execution ended: its row and events go to the journal once, in a later batch nobody waits for. */
  persistDirect(rec: LiveExecution): void {
    this.queue.appendDeferred(rec, rec.id, rec.buffer, rec.documents.splice(0));
  }

  /** Events of an execution after `after` (exclusive): a running direct execution's from memory. */
  async eventsOf(id: string, after: number, limit: number): Promise<EventRecord[]> {
    const rec = this.live.get(id);
    if (rec?.direct && rec.committedSeq === 0) return rec.buffer.filter((e) => e.seq > after).slice(0, limit);
    return this.journal.readSince(id, after, limit);
  }

  /** A step's task to its agent, after the commit that records it (task-dispatch.ts). */
  dispatch(executionId: string, t: InflightTask): void {
    if (this.replaying?.id !== executionId) dispatchTask(this, executionId, t);
  }

  abort(executionId: string, stepId: string, attempt: number): void {
    if (this.replaying?.id !== executionId) abortTask(this, executionId, stepId, attempt);
  }

  // Replayed timers are not armed: the restore arms those of the context it ends with (armTimers).
  armTimer(executionId: string, key: string, dueAt: number): void {
    if (this.replaying?.id !== executionId && this.live.has(executionId)) this.timers.set(executionId, key, dueAt);
  }

  clearTimer(executionId: string, key: string): void {
    if (this.replaying?.id !== executionId) this.timers.delete(executionId, key);
  }

  startChild(executionId: string, stepId: string, workflow: string, version: number | null, input: unknown, at: number): void {
    if (this.replaying?.id !== executionId) startChild(this, executionId, stepId, workflow, version, input, at);
  }

  cancelChild(executionId: string, stepId: string): void {
    if (this.replaying?.id !== executionId) cancelChild(this, executionId, stepId);
  }

  spawn(p: SpawnRequest): LiveExecution {
    const now = this.clock.now();
    const group = p.concurrency ? concurrencyPlacement(p.def.row.name, p.concurrency.key) : null;
    const id = this.newId(p.kind ?? 'execution', now, { tenant: p.tenant, parentId: p.parentId, idempotencyKey: p.idempotencyKey, group });
    const rec = new LiveExecution({
      id, tenant: p.tenant, def: p.def, input: p.input, labels: p.labels, parentId: p.parentId, parentStepId: p.parentStepId, createdAt: now,
      idempotencyKey: p.idempotencyKey, requestHash: p.requestHash, dynamicDoc: p.dynamicDoc, direct: p.direct === true, scope: p.scope ?? null, priority: p.priority ?? 0,
      concurrency: p.concurrency ?? null,
    });
    rec.slot = p.slot ?? null;
    if (p.kind !== 'task') this.open.add(p.tenant, 1);
    this.begin(rec, p.traceparent, p.tracestate, now);
    return rec;
  }

  /**
   * Starts a queued execution whose slot was taken (concurrency-gate.ts): its actor from the stored row,
   * `workflow.started` after its `workflow.queued` (whose data kept the caller's trace context).
   */
  startQueued(row: RestorableRow, def: LoadedDefinition, queued: Record<string, unknown>, slot: SlotGroup): LiveExecution {
    const now = this.clock.now();
    const concurrency = row.concurrencyKey == null || row.concurrencyLimit == null ? null : { key: row.concurrencyKey, limit: row.concurrencyLimit };
    const rec = new LiveExecution({
      id: row.id, tenant: row.tenant, def, input: row.input, labels: row.labels, parentId: row.parentId, parentStepId: row.parentStepId, createdAt: row.createdAt,
      idempotencyKey: row.idempotencyKey, requestHash: row.requestHash, dynamicDoc: row.definition, scope: row.scope ?? null, priority: row.priority ?? 0, concurrency, startedAt: now,
    });
    rec.lastSeq = row.lastSeq;
    rec.committedSeq = row.lastSeq;
    rec.queuedSeq = row.lastSeq;
    rec.stored = true;
    rec.status = 'queued';
    rec.slot = slot;
    const traceparent = typeof queued['traceparent'] === 'string' ? queued['traceparent'] : null;
    const tracestate = typeof queued['tracestate'] === 'string' ? queued['tracestate'] : null;
    this.begin(rec, traceparent, tracestate, now);
    return rec;
  }

  /** A new actor for `rec` (live from now on), entered by its `workflow.started`. */
  private begin(rec: LiveExecution, traceparent: string | null, tracestate: string | null, now: number): void {
    rec.lastActiveAt = now;
    rec.snapshotEvery = this.snapshotEvery(rec);
    this.live.set(rec.id, rec);
    // Only a caller's trace context is stored; without one the trace id derives from the execution id.
    const trace = traceparent === null ? {} : tracestate === null ? { traceparent } : { traceparent, tracestate };
    this.emit(rec.id, 'workflow.started', null, { input: rec.input, version: rec.version, labels: rec.labels, parentId: rec.parentId, ...trace }, now);
    const input: FlowInput = { executionId: rec.id, input: rec.input, at: now, ...trace };
    this.attach(rec, rec.def.machine, { input });
  }

  attach(rec: LiveExecution, machine: AnyStateMachine, options: StartFrom, writeUnchanged = true): void {
    rec.actor = this.startActor(rec, machine, options);
    // A new execution enters its first step by an ordinary transition (a failure there is recoverable).
    if ('input' in options) this.send(rec, { type: 'START', at: options.input.at }, options.input);
    this.sync(rec, writeUnchanged);
  }

  startActor(rec: LiveExecution, machine: AnyStateMachine, options: StartFrom): LiveExecution['actor'] {
    const actor = 'input' in options ? createActor(machine, options) : restoreFlow(machine, options.snapshot, options.encoded);
    // An exception inside an action fails this execution (send() recovers it), never the process.
    actor.subscribe({ error: () => undefined });
    actor.start();
    return actor;
  }

  deliver(rec: LiveExecution, event: FlowEvent): void {
    // A runaway execution (a loop through waits) ends at the history cap instead of growing without
    // bound; the last 100 events are kept for its end.
    if (rec.lastSeq >= LIMITS.maxEventsPerExecution - 100 && event.type !== 'ABORT' && !TERMINAL_STATUSES.has(rec.status)) {
      event = { type: 'ABORT', code: 'history_limit_exceeded', message: `the execution reached its history limit (${LIMITS.maxEventsPerExecution} events, the last ${LIMITS.maxEventsPerExecution - rec.lastSeq} kept for its end)`, at: event.at };
    }
    this.touchLive(rec);
    this.send(rec, event);
    this.sync(rec);
  }

  /**
   * One input to an actor, within the step budget. When a transition throws (an action failed, or the
   * budget was spent), XState keeps the state from before the input: the events that transition
   * journaled are dropped, and the execution restarts from that state and fails with a reason.
   */
  send(rec: LiveExecution, event: FlowEvent, start?: FlowInput): void {
    // A late input (a step result after a cancel) for an actor in its final state changes nothing; XState would log a warning for it.
    if (rec.actor.getSnapshot().status === 'done') return;
    const seq = rec.lastSeq;
    rec.actor.send(event);
    const snap = rec.actor.getSnapshot() as { status: string; error?: unknown };
    if (snap.status !== 'error') {
      // Journaled with the events it made (replay.ts); an input whose transition failed is not: the ABORT below is.
      if (rec.replayable) rec.noteInput(event, seq, rec.lastSeq, start);
      return;
    }
    const err = snap.error;
    this.queue.dropEvents(rec.id, seq);
    rec.forgetValuesAfter(seq);
    rec.lastSeq = seq;
    const persisted = persistFlow(rec.actor);
    rec.actor.stop();
    rec.actor = this.startActor(rec, rec.def.machine, { snapshot: { ...persisted, status: 'active', error: undefined } as Snapshot<unknown> });
    const abort: FlowEvent = isStepBudgetError(err)
      ? { type: 'ABORT', code: 'step_budget_exceeded', message: `one input advanced the execution more than ${LIMITS.maxStepsPerInput} steps`, at: event.at }
      : { type: 'ABORT', code: 'action_failed', message: `a step action failed: ${err instanceof Error ? err.message : String(err)}`, at: event.at };
    this.log.error('execution failed in a transition', { executionId: rec.id, code: abort.code, err: String(err) });
    rec.actor.send(abort);
    if ((rec.actor.getSnapshot() as { status: string }).status === 'error') this.log.error('execution could not be failed', { executionId: rec.id });
    else if (rec.replayable) rec.noteInput(abort, seq, rec.lastSeq, start);
  }

  /** `writeUnchanged` false: a restored execution whose status did not move is not written back (its row and snapshot are what was read). */
  sync(rec: LiveExecution, writeUnchanged = true): void {
    const prev = rec.sync();
    if (rec.status !== prev && kindOfId(rec.id) === 'execution') this.open.moved(rec.tenant, prev, rec.status);
    if (rec.direct) {
      if (rec.status !== prev && TERMINAL_STATUSES.has(rec.status)) this.persistDirect(rec);
    } else if (writeUnchanged || rec.status !== prev) this.queue.touch(rec);
    if (rec.status !== prev && TERMINAL_STATUSES.has(rec.status)) childEnded(this, rec);
  }

  fire(executionId: string, key: string): void {
    this.slicer.run(() => this.applyTimer(executionId, key));
  }

  applyTimer(executionId: string, key: string): void {
    this.withLive(executionId, (rec) => {
      // After a light recovery only the earliest due time is known: the restored actor re-arms its own timers.
      if (key !== RECOVERED_TIMER) this.deliver(rec, { type: 'TIMER', key, at: this.clock.now() });
    });
  }

  /**
   * Applies an agent's result in its slice; resolves once it is durable. Whether the execution is live
   * is asked in the slice, not before it: a result that waited for its slice may find its execution
   * passivated meanwhile (a step in flight is passivable), and is then applied to the rebuilt one.
   */
  applyResult(r: TaskResult): Promise<void> {
    const id = r.executionId;
    // Held in memory until its slice: evicted meanwhile, a rebuilt execution could be evicted again while
    // the result waits anew (under a backlog longer than passivateMs, for ever).
    this.awaitingInput.set(id, (this.awaitingInput.get(id) ?? 0) + 1);
    return new Promise<void>((resolve, reject) =>
      this.slicer.run(() => {
        const left = (this.awaitingInput.get(id) ?? 1) - 1;
        if (left === 0) this.awaitingInput.delete(id);
        else this.awaitingInput.set(id, left);
        if (!this.live.has(id)) {
          this.activate(id).then((rec) => (rec === undefined ? undefined : this.applyResult(r))).then(resolve, reject);
          return;
        }
        const direct = this.live.get(id)?.direct === true;
        this.onResult(r);
        // A direct execution journals nothing while it runs: its result is applied, nothing to wait for.
        if (direct) resolve();
        else this.queue.flushed().then(resolve, reject);
      }),
    );
  }

  /** Runs `fn` on the live execution, rebuilding it first when it was passivated; nothing when it has finished. */
  withLive(id: string, fn: (rec: LiveExecution) => void): void {
    const rec = this.live.get(id);
    if (rec) return fn(rec);
    this.activate(id).then(
      (r) => r && fn(r),
      (err: unknown) => this.log.error('could not activate execution', { executionId: id, err: String(err) }),
    );
  }

  /** The live execution, rebuilt from its snapshot when it was passivated (passivation.ts). */
  activate(id: string, finished = false, read?: RecoverableRow): Promise<LiveExecution | undefined> {
    return activate(this, id, finished, read);
  }

  /** Evicts idle waiting executions and those past `maxLive` (passivation.ts). */
  sweep(): void {
    this.passivated += sweep(this);
  }

  /** Marks an execution active now: it moves to the end of the passivation order. */
  touchLive(rec: LiveExecution): void {
    rec.lastActiveAt = this.clock.now();
    if (this.live.get(rec.id) === rec) {
      this.live.delete(rec.id);
      this.live.set(rec.id, rec);
    }
  }

  onResult(r: TaskResult): void {
    deliverResult(this, r);
  }

  committed(events: EventRecord[], execs: (LiveExecution | QueuedExecution)[], rows: ExecutionRow[]): void {
    commitSucceeded(this, events, execs, rows);
  }

  recoveryStats(): RecoveryStats | null {
    return this.lastRecovery;
  }

  /** Re-arms durable timers (past-due ones fire at once) and re-dispatches in-flight steps with their attempt numbers (their start is durable). */
  rearm(rec: LiveExecution): void {
    this.armTimers(rec);
    if (!rec.context().paused) redispatchInflight(this, rec);
  }

  /** A commit failed: its executions go back to their last durable state (commit-outcomes.ts). */
  commitFailed(err: unknown, execs: (LiveExecution | QueuedExecution)[]): void {
    commitFailed(this, err, execs);
  }

  /** Refuses a start of `tenant` at its quota of non-terminal executions (synchronous: checked and counted in one turn). */
  admitStart(tenant: string): void {
    const max = this.opts.maxOpen?.(tenant);
    if (max === undefined) return;
    const open = this.open.of(tenant);
    if (open < max) return;
    throw new ActorflowError(ErrorCode.tenantLimit, `tenant ${tenant} has ${open} unfinished executions, its limit (maxRunning ${max}); retry when one has finished`, {
      retryable: true,
      retryAfterS: TENANT_LIMIT_RETRY_S,
    });
  }

  /** After a commit: a request whose execution went back to its durable state (a failed commit) did not happen. */
  assertKept(rec: LiveExecution): void {
    if (rec.discarded) throw new ActorflowError(ErrorCode.storeUnavailable, 'the journal could not commit this change; nothing of it was kept', { retryable: true });
  }

  armTimers(rec: LiveExecution): void {
    this.timers.delete(rec.id, RECOVERED_TIMER);
    for (const [key, due] of Object.entries(rec.context().timers)) this.armTimer(rec.id, key, due);
  }

  definitionOf(row: RestorableRow): LoadedDefinition {
    if (row.definition) return this.registry.loadDynamic(row.tenant, row.definition as FlowDocument, row.createdAt);
    return this.registry.load1(this.registry.get(row.tenant, row.workflow, row.version));
  }

  /** A live actor from the stored row and its snapshot (passivation.ts). */
  restoreFrom(row: RestorableRow, stored: RestorableSnapshot): LiveExecution {
    return restoreFrom(this, row, stored);
  }

  /** A stored row's snapshot, with the large values it left to the journal read back (passivation.ts). */
  readSnapshot(row: RecoverableRow): RestorableSnapshot | Promise<RestorableSnapshot> {
    return readSnapshot(this, row);
  }

  async row(tenant: string, id: string, kind: ExecutionKind = 'execution'): Promise<ExecutionRow> {
    const rec = this.live.get(id);
    if (rec && rec.tenant === tenant && kindOfId(id) === kind) return rec.toRow();
    const row = isIdOf(id, kind) ? await this.store.getExecution(id) : undefined;
    if (!row || row.tenant !== tenant) throw notFound(id, kind);
    return row;
  }

  /** The live execution, restored from its snapshot when it had left memory (failed executions, for retry). */
  async liveOf(tenant: string, id: string, finishedCode: string, kind: ExecutionKind = 'execution'): Promise<LiveExecution> {
    await this.recovery;
    const rec = this.live.get(id);
    if (rec && rec.tenant === tenant && kindOfId(id) === kind) return rec;
    if (!this.owns(id)) throw new ActorflowError(ErrorCode.partitionUnavailable, `execution ${id} is run by another node of the cluster right now; retry`, { retryable: true, retryAfterS: 1 });
    // One read serves the checks and the rebuild of a passivated execution (its row and snapshot).
    const row = isIdOf(id, kind) ? await this.journal.loadRestorable(id) : undefined;
    if (!row || row.tenant !== tenant) throw notFound(id, kind);
    if (row.status === 'queued') {
      const code = finishedCode === ErrorCode.notRetryable ? ErrorCode.notRetryable : ErrorCode.invalidState;
      throw new ConflictError(code, `execution ${id} is queued: its workflow's concurrency limit holds it, it has not started`);
    }
    const terminal = TERMINAL_STATUSES.has(row.status);
    // Only a retry brings a finished execution back into memory (failed and timed_out ones).
    if (terminal && (row.status === 'completed' || row.status === 'cancelled' || finishedCode !== ErrorCode.notRetryable)) {
      throw new ConflictError(finishedCode, `execution ${id} is ${row.status}`);
    }
    const restored = await this.activate(id, terminal, row);
    if (!restored) throw new ConflictError(finishedCode, `execution ${id} is ${row.status}`);
    return restored;
  }

  async act(tenant: string, id: string, fn: (rec: LiveExecution) => void, finishedCode: string = ErrorCode.executionFinished, kind: ExecutionKind = 'execution'): Promise<ExecutionView> {
    const rec = await this.liveOf(tenant, id, finishedCode, kind);
    if (rec.status === 'completed' || rec.status === 'cancelled') throw new ConflictError(finishedCode, `execution ${id} is ${rec.status}`);
    fn(rec);
    if (!rec.direct) await this.queue.flushed();
    this.assertKept(rec);
    return rec.toView();
  }

  /** A new execution's (or task's) id; in cluster mode one of the partition `hint` names (Ownership.newId). */
  newId(kind: ExecutionKind, now: number, hint: IdHint): string {
    const make = kind === 'task' ? () => newTaskId(now) : () => newExecutionId(now);
    return this.opts.ownership ? this.opts.ownership.newId(make, hint) : make();
  }

  /**
   * Every how many inputs `rec` writes a snapshot; 0: with every commit, its inputs not journaled (a code machine, a
   * direct execution, a journal that keeps no inputs). Otherwise a restore replays its inputs since (replay.ts).
   */
  snapshotEvery(rec: LiveExecution): number {
    return rec.def.replayable && !rec.direct && this.journal.keepsInputs === true ? this.snapshotEveryInputs : 0;
  }

  /** Cluster mode: this node runs the execution (always true on a single node). */
  owns(id: string): boolean {
    return this.opts.ownership?.owns(id) ?? true;
  }

  requireActive(rec: LiveExecution): void {
    if (TERMINAL_STATUSES.has(rec.status)) throw new ConflictError(ErrorCode.executionFinished, `execution ${rec.id} is ${rec.status}`);
  }

  agents() {
    return this.bus.agents();
  }

  onAgentEvent(listener: (e: AgentEvent) => void) {
    this.agentListeners.add(listener);
    return () => void this.agentListeners.delete(listener);
  }

  onEvent(listener: (e: EventView) => void) {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  onCommit(listener: (c: CommitObservation) => void) {
    this.commitListeners.add(listener);
    this.queue.observer ??= (ms, events) => {
      for (const l of this.commitListeners) l({ ms, events });
    };
    return () => void this.commitListeners.delete(listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.recovery;
    // A snapshot of each live execution whose inputs are journaled: the next start rebuilds it without a replay.
    for (const rec of this.live.values()) {
      if (rec.replayable && !TERMINAL_STATUSES.has(rec.status) && !rec.discarded) {
        rec.snapshotDue = true;
        this.queue.touch(rec);
      }
    }
    await this.queue.flushed();
    clearInterval(this.sweeper);
    await Promise.allSettled([...this.activating.values()]);
    this.timers.close();
    for (const rec of this.live.values()) rec.actor.stop();
    this.live.clear();
  }
}

const isIdOf = (id: string, kind: ExecutionKind): boolean => (kind === 'task' ? parseTaskId(id) : parseExecutionId(id)) !== undefined;
const notFound = (id: string, kind: ExecutionKind): NotFoundError =>
  kind === 'task' ? new NotFoundError(ErrorCode.taskNotFound, `no task ${id}`) : new NotFoundError(ErrorCode.executionNotFound, `no execution ${id}`);
