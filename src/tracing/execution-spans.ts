/**
 * @module tracing/execution-spans — folds committed execution events into finished spans: one per execution
 * (started → terminal event) and one per step attempt (started → completed/failed/retrying), with the
 * deterministic ids of trace-context.ts. Plain data, no OpenTelemetry types (the exporter converts).
 */
import type { EventView } from '../common/execution.ts';
import { type ExecutionTrace, executionSpanId, executionTrace, stepSpanId } from './trace-context.ts';

export type SpanAttributes = Record<string, string | number | boolean>;

export interface FinishedSpan {
  readonly name: string;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | null;
  /** The parent is the caller's span (another process). */
  readonly parentIsRemote: boolean;
  readonly flags: string;
  readonly tracestate: string | null;
  readonly startMs: number;
  readonly endMs: number;
  readonly error: string | null;
  readonly attributes: SpanAttributes;
}

interface AttemptState {
  readonly startMs: number;
  readonly attributes: SpanAttributes;
}

interface ExecState {
  readonly trace: ExecutionTrace;
  readonly startMs: number;
  readonly attributes: SpanAttributes;
  /** `stepId\0attempt` → open attempt span. */
  readonly attempts: Map<string, AttemptState>;
  /** Its span was ended (a retry after a failure adds step spans under it, never a second execution span). */
  ended: boolean;
  lastSeq: number;
}

const TERMINAL: Readonly<Record<string, { status: string; error: boolean }>> = {
  'workflow.completed': { status: 'completed', error: false },
  'workflow.failed': { status: 'failed', error: true },
  'workflow.timed_out': { status: 'timed_out', error: true },
  'workflow.cancelled': { status: 'cancelled', error: false },
};

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

function errorText(v: unknown): string | null {
  if (v === null || typeof v !== 'object') return null;
  const e = v as { code?: unknown; message?: unknown };
  return [str(e.code), str(e.message)].filter((x) => x !== null).join(': ') || 'error';
}

export class ExecutionSpans {
  private readonly execs = new Map<string, ExecState>();

  /** @param sink receives each span as it ends. */
  constructor(private readonly sink: (span: FinishedSpan) => void) {}

  /** Executions whose state is held. */
  get size(): number {
    return this.execs.size;
  }

  has(executionId: string): boolean {
    return this.execs.has(executionId);
  }

  lastSeq(executionId: string): number {
    return this.execs.get(executionId)?.lastSeq ?? 0;
  }

  /**
   * Applies one committed event. `silent` rebuilds state without emitting (replaying history after a
   * restart: spans that ended then were exported then). Returns false when the execution is unknown
   * and the event is not its start (the caller replays its history first).
   */
  apply(e: EventView, silent = false): boolean {
    const ms = Date.parse(e.timestamp);
    if (e.type === 'workflow.started') {
      const trace = executionTrace(e.executionId, str(e.data['traceparent']), str(e.data['tracestate']));
      const attributes: SpanAttributes = { 'actorflow.workflow': e.workflow, 'actorflow.execution.id': e.executionId, 'actorflow.tenant': e.tenant };
      const version = e.data['version'];
      if (typeof version === 'number') attributes['actorflow.workflow.version'] = version;
      const parentId = str(e.data['parentId']);
      if (parentId !== null) attributes['actorflow.parent.id'] = parentId;
      this.execs.set(e.executionId, { trace, startMs: ms, attributes, attempts: new Map(), ended: false, lastSeq: e.seq });
      return true;
    }
    const x = this.execs.get(e.executionId);
    if (!x) return false;
    if (e.seq <= x.lastSeq) return true;
    x.lastSeq = e.seq;
    const stepId = e.stepId;
    const attempt = typeof e.data['attempt'] === 'number' ? e.data['attempt'] : 1;
    switch (e.type) {
      case 'workflow.step.started': {
        if (stepId === undefined) break;
        const attributes: SpanAttributes = {
          'actorflow.workflow': e.workflow,
          'actorflow.execution.id': e.executionId,
          'actorflow.step.id': stepId,
          'actorflow.step.attempt': attempt,
          'actorflow.step.type': str(e.data['type']) ?? 'task',
        };
        const agent = str(e.data['agent']);
        if (agent !== null) attributes['actorflow.agent.kind'] = agent;
        x.attempts.set(`${stepId}\u0000${attempt}`, { startMs: ms, attributes });
        break;
      }
      case 'agent.selected': {
        const a = stepId === undefined ? undefined : x.attempts.get(`${stepId}\u0000${attempt}`);
        const agentId = str(e.data['agentId']);
        if (a && agentId !== null) a.attributes['actorflow.agent.id'] = agentId;
        break;
      }
      case 'workflow.step.completed':
        if (stepId !== undefined) this.endAttempt(x, e.executionId, stepId, attempt, ms, 'completed', null, silent);
        break;
      case 'workflow.step.retrying':
        if (stepId !== undefined) this.endAttempt(x, e.executionId, stepId, attempt, ms, 'retrying', errorText(e.data['error']), silent);
        break;
      case 'workflow.step.failed': {
        if (stepId === undefined) break;
        const skipped = e.data['recovery'] === 'skip';
        this.endAttempt(x, e.executionId, stepId, attempt, ms, skipped ? 'skipped' : 'failed', errorText(e.data['error']), silent);
        break;
      }
      default: {
        const t = TERMINAL[e.type];
        if (!t) break;
        // Steps still open end with the execution (cancelled with it).
        for (const key of [...x.attempts.keys()]) {
          const [sid = '', att = '1'] = key.split('\u0000');
          this.endAttempt(x, e.executionId, sid, Number(att), ms, 'cancelled', null, silent);
        }
        if (!x.ended && !silent) {
          const error = t.error ? (errorText(e.data['error']) ?? t.status) : null;
          this.sink({
            name: `execution ${e.workflow}`,
            traceId: x.trace.traceId,
            spanId: executionSpanId(e.executionId),
            parentSpanId: x.trace.parentSpanId,
            parentIsRemote: x.trace.parentSpanId !== null,
            flags: x.trace.flags,
            tracestate: x.trace.tracestate,
            startMs: x.startMs,
            endMs: ms,
            error,
            attributes: { ...x.attributes, 'actorflow.execution.status': t.status },
          });
        }
        x.ended = true;
        // A finished execution leaves memory; a later retry replays its history (see otlp-tracing.ts).
        if (!silent) this.execs.delete(e.executionId);
        break;
      }
    }
    return true;
  }

  /** Drops an execution's state (its history could not be read). */
  forget(executionId: string): void {
    this.execs.delete(executionId);
  }

  private endAttempt(x: ExecState, executionId: string, stepId: string, attempt: number, endMs: number, outcome: string, error: string | null, silent: boolean): void {
    const key = `${stepId}\u0000${attempt}`;
    const a = x.attempts.get(key);
    if (!a) return;
    x.attempts.delete(key);
    if (silent) return;
    this.sink({
      name: `step ${stepId}`,
      traceId: x.trace.traceId,
      spanId: stepSpanId(executionId, stepId, attempt),
      parentSpanId: executionSpanId(executionId),
      parentIsRemote: false,
      flags: x.trace.flags,
      tracestate: x.trace.tracestate,
      startMs: a.startMs,
      endMs,
      error,
      attributes: { ...a.attributes, 'actorflow.step.outcome': outcome },
    });
  }
}
