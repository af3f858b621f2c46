/**
 * @module engine/runtime/task-dispatch — a step's task on its way to an agent and its result on the way back:
 * the task message (trace context included), the input check of its kind, dispatch after the commit that
 * records it (at once for effect-free in-process agents), re-dispatch after a restart, cancel, and an
 * agent's result turned into the actor's STEP_DONE / STEP_FAILED (size, output schema, documents).
 */
import type { TaskMessage, TaskResult } from '../../bus/types.ts';
import { msgpackCodec as codec } from '../../common/codec.ts';
import { ErrorCode, type StepError } from '../../common/errors.ts';
import { LIMITS } from '../../common/flow.ts';
import { stepTraceparentIn } from '../../tracing/trace-context.ts';
import type { FlowEvent, InflightTask } from '../flow/flow-context.ts';
import { saveStepDocuments } from './document-saves.ts';
import { type LiveExecution, type TraceCell, traceOf } from './live-execution.ts';
import type { Supervisor } from './supervisor.ts';
import { checkOutput } from './task-checks.ts';

/**
 * A step leaves for its agent only once its `workflow.step.started` is durable (a crash can never
 * leave a dispatch the journal does not know). In-process agents without outside effects (echo,
 * log, fail, sleep) start at once: their result joins the same commit, so nothing is observable early.
 */
export function dispatchTask(sup: Supervisor, executionId: string, t: InflightTask): void {
  const rec = sup.live.get(executionId);
  const task = rec && outgoing(sup, rec, t);
  if (task === undefined) return;
  if (sup.bus.effectFree?.(t.agent) === true) sup.bus.dispatch(task);
  else sup.queue.afterCommit(() => sup.bus.dispatch(task));
}

/** After a restart: in-flight steps go out again with their attempt numbers (their start is durable). */
export function redispatchInflight(sup: Supervisor, rec: LiveExecution): void {
  for (const t of Object.values(rec.context().inflight)) {
    const task = t.held ? undefined : outgoing(sup, rec, t);
    if (task !== undefined) sup.bus.dispatch(task);
  }
}

/** The task of an attempt about to leave, counted as not yet taken; undefined when its input is refused. */
function outgoing(sup: Supervisor, rec: LiveExecution, t: InflightTask): TaskMessage | undefined {
  if (refusedInput(sup, rec, t)) return undefined;
  const task = taskMessage(rec, t);
  sup.untaken.set(task.taskId, sup.clock.now());
  return task;
}

/** Cancels an attempt at its agent, after the commit, like the dispatch it may follow (effects keep their order). */
export function abortTask(sup: Supervisor, executionId: string, stepId: string, attempt: number): void {
  const taskId = `${executionId}:${stepId}:${attempt}`;
  sup.untaken.delete(taskId);
  sup.queue.afterCommit(() => sup.bus.cancel(taskId));
}

/**
 * An input that fails its kind's declared `inputSchema` is never sent: the attempt fails with
 * `input_invalid`, not retried, delivered as an agent's failure would be (after this transition).
 */
function refusedInput(sup: Supervisor, rec: LiveExecution, t: InflightTask): boolean {
  const error = sup.kindInputs.check(t.agent, t.input);
  if (error === null) return false;
  sup.slicer.run(() =>
    sup.withLive(rec.id, (r) => sup.deliver(r, { type: 'STEP_FAILED', stepId: t.stepId, attempt: t.attempt, error, agentId: null, durationMs: null, costs: [], at: sup.clock.now() })),
  );
  return true;
}

type Writable<T> = { -readonly [K in keyof T]: T[K] };
/** The task's fields, as TaskMessage declares them, merged into the class below (its constructor sets them). */
interface OutgoingTask extends Writable<Omit<TaskMessage, 'traceparent'>> {}

/**
 * The task as agents get it. Its `traceparent` is derived on first read (hashing the execution and attempt ids
 * was ~2% of the main thread at 64 clients): the NATS bus reads it to send the task, an in-process agent only
 * if its handler does (the built-in `http` agent forwards it). A class, not an object literal with a getter:
 * V8 builds such a literal in dictionary mode, with a closure, ~0.9 KB and ~3 µs more per task than this.
 */
class OutgoingTask implements TaskMessage {
  private derived: string | undefined = undefined;

  constructor(rec: LiveExecution, t: InflightTask, private readonly cell: TraceCell) {
    this.taskId = `${rec.id}:${t.stepId}:${t.attempt}`;
    this.executionId = rec.id;
    this.stepId = t.stepId;
    this.attempt = t.attempt;
    this.agent = t.agent;
    this.tenant = rec.tenant;
    this.workflow = rec.workflow;
    this.input = t.input;
    this.timeoutMs = t.timeoutMs;
    const tracestate = rec.context().tracestate;
    if (tracestate !== undefined) this.tracestate = tracestate;
  }

  get traceparent(): string {
    return (this.derived ??= stepTraceparentIn(traceOf(this.cell), this.executionId, this.stepId, this.attempt));
  }
}

const taskMessage = (rec: LiveExecution, t: InflightTask): TaskMessage => new OutgoingTask(rec, t, rec.traceCell());

/** An agent's result as the actor's input: too large or not matching the step's `outputSchema`, it fails the attempt. */
export function deliverResult(sup: Supervisor, r: TaskResult): void {
  sup.untaken.delete(r.taskId);
  const rec = sup.live.get(r.executionId);
  if (!rec) return;
  const at = sup.clock.now();
  if (r.ok && outputTooLarge(r.output)) {
    return sup.deliver(rec, failed(r, { code: ErrorCode.payloadTooLarge, message: `step output over ${LIMITS.maxPayloadBytes} bytes`, retryable: false }, at));
  }
  const invalid = r.ok && rec.def.outputChecks !== null ? checkOutput(rec.def.outputChecks, r.stepId, r.output) : null;
  if (invalid !== null) return sup.deliver(rec, failed(r, invalid, at));
  // Documents only with a result the step takes (a stale attempt's are dropped with it), their events before its completion.
  if (r.ok && r.documents !== undefined && r.documents.length > 0 && rec.context().inflight[r.stepId]?.attempt === r.attempt) {
    const error = saveStepDocuments(sup, sup.documents, rec, r.stepId, r.documents, at);
    if (error !== undefined) return sup.deliver(rec, failed(r, error, at));
  }
  if (!r.ok) return sup.deliver(rec, failed(r, r.error, at));
  // Literals of one shape, not spreads of a shared part: this runs for every step of every flow.
  sup.deliver(rec, { type: 'STEP_DONE', output: r.output, stepId: r.stepId, attempt: r.attempt, agentId: r.agentId, durationMs: roundMs(r.durationMs), costs: [...r.costs], at });
}

function failed(r: TaskResult, error: StepError, at: number): FlowEvent {
  return { type: 'STEP_FAILED', error, stepId: r.stepId, attempt: r.attempt, agentId: r.agentId, durationMs: roundMs(r.durationMs), costs: [...r.costs], at };
}

const roundMs = (ms: number): number => Math.round(ms * 1000) / 1000;

/** Past LIMITS.maxPayloadBytes encoded; output nested too deep to encode counts as too large. */
function outputTooLarge(v: unknown): boolean {
  if (typeof v === 'string') return Buffer.byteLength(v) > LIMITS.maxPayloadBytes;
  if (v === null || typeof v !== 'object') return false;
  // Most outputs are small JSON: a bound of their size, walked without allocating, spares encoding each one only to measure it.
  visits = 0;
  if (sizeBound(v, 0) <= LIMITS.maxPayloadBytes) return false;
  try {
    return codec.encode(v).length > LIMITS.maxPayloadBytes;
  } catch {
    return true;
  }
}

/** Values the bound walks before it gives up (and the output is encoded to measure it). */
const BOUND_VISITS = 2_000;
const BOUND_DEPTH = 32;
let visits = 0;

/**
 * An upper bound of `v`'s MessagePack size for JSON-like values (a header of at most 5 bytes per string, array and map,
 * at most 3 UTF-8 bytes per UTF-16 code unit, 9 per number); Infinity for anything else or past the walk's budget.
 */
function sizeBound(v: unknown, depth: number): number {
  if (++visits > BOUND_VISITS || depth > BOUND_DEPTH) return Infinity;
  if (typeof v === 'string') return 5 + 3 * v.length;
  if (typeof v === 'number') return 9;
  if (typeof v === 'boolean' || v === null) return 1;
  if (typeof v !== 'object') return Infinity;
  let n = 5;
  // Past the budget every further value is Infinity: stop there rather than walk the rest.
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length && n !== Infinity; i++) n += sizeBound(v[i], depth + 1);
    return n;
  }
  const proto: unknown = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return Infinity;
  for (const k in v) {
    if (!Object.hasOwn(v, k)) continue;
    n += 5 + 3 * k.length + sizeBound((v as Record<string, unknown>)[k], depth + 1);
    if (n === Infinity) break;
  }
  return n;
}
