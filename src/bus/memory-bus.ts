/** @module bus/memory-bus — the embedded in-process Bus: same contract as NATS, no network. */
import { type StepError, toStepError } from '../common/errors.ts';
import { type DocumentSave, saveDocumentInto } from '../common/document-save.ts';
import { AgentRegistry } from './agent-registry.ts';
import type {
  AgentEvent, AgentHandle, AgentServeOptions, AgentView, Bus, BusState, CostReport, LogLevel, StepLog, TaskContext, TaskHandler, TaskMessage, TaskResult, TaskTaken,
} from './types.ts';

interface Agent {
  readonly id: string;
  readonly opts: AgentServeOptions;
  readonly handler: TaskHandler;
  inFlight: number;
  lastHeartbeatAt: number;
}

let agentSeq = 0;
const ignore = (): void => undefined;
const RESOLVED = Promise.resolve();

/** What a running task needs of its bus: where its result, log lines and end go. */
interface TaskHost {
  readonly resultHandlers: readonly ((r: TaskResult) => Promise<void> | void)[];
  readonly logHandlers: readonly ((l: StepLog) => void)[];
  closed(): boolean;
  /** The task left its agent (result or not): its slot is free. */
  ended(agent: Agent, task: TaskMessage, r: TaskResult): void;
  /** After its result was handed on: the agent's next queued task may start. */
  next(agent: Agent): void;
}

/**
 * One running task, and the context its handler gets. A class rather than an object literal of closures:
 * this is the in-process hot path (every step of a flow on built-in or in-process agents), and a context
 * of five closures, a getter and spreads was ~4 KB and a tenth of the main thread's allocations per step.
 * The AbortController is made only when a handler reads `signal` (most never do).
 */
class MemoryTask implements TaskContext {
  readonly kind: string;
  readonly tenant: string;
  readonly executionId: string;
  readonly stepId: string;
  readonly attempt: number;
  readonly input: unknown;
  readonly tracestate?: string;
  private ac: AbortController | undefined = undefined;
  private abortReason: unknown = undefined;
  aborted = false;
  private costs: CostReport[] = [];
  private saved: DocumentSave[] | undefined = undefined;
  /** Who waits for the result to be durable (made only when a handler asks: see TaskContext.onReported). */
  private reported: ((durable: boolean) => void)[] | undefined = undefined;
  private readonly started = performance.now();

  constructor(
    private readonly host: TaskHost,
    private readonly agent: Agent,
    private readonly task: TaskMessage,
  ) {
    this.kind = task.agent;
    this.tenant = task.tenant;
    this.executionId = task.executionId;
    this.stepId = task.stepId;
    this.attempt = task.attempt;
    this.input = task.input;
    if (task.tracestate !== undefined) this.tracestate = task.tracestate;
  }

  /** Read from the task when the handler asks (it is derived on first read: task-dispatch.ts). */
  get traceparent(): string | undefined {
    return this.task.traceparent;
  }

  get signal(): AbortSignal {
    if (!this.ac) {
      this.ac = new AbortController();
      if (this.aborted) this.ac.abort(this.abortReason);
    }
    return this.ac.signal;
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.abortReason = reason;
    this.ac?.abort(reason);
  }

  // The context's functions are made on first read, bound: a handler may destructure them (`{ input, log }`),
  // and most handlers read none of them.
  private logFn: TaskContext['log'] | undefined = undefined;
  private costFn: TaskContext['reportCost'] | undefined = undefined;
  private saveFn: TaskContext['saveDocument'] | undefined = undefined;
  private reportedFn: NonNullable<TaskContext['onReported']> | undefined = undefined;

  get log(): TaskContext['log'] {
    return (this.logFn ??= (level: LogLevel, message: string, data?: unknown) => {
      const line: StepLog = { executionId: this.executionId, stepId: this.stepId, attempt: this.attempt, level, message, data: data ?? null };
      for (const h of this.host.logHandlers) h(line);
    });
  }

  get reportCost(): TaskContext['reportCost'] {
    return (this.costFn ??= (c) => void this.costs.push({ model: c.model ?? null, tokens: c.tokens ?? 0, usd: c.usd ?? 0 }));
  }

  get saveDocument(): TaskContext['saveDocument'] {
    return (this.saveFn ??= (d) => saveDocumentInto((this.saved ??= []), d));
  }

  get onReported(): NonNullable<TaskContext['onReported']> {
    return (this.reportedFn ??= (listener) => void (this.reported ??= []).push(listener));
  }

  /** Runs the handler; its result (or failure) is reported once it settles. */
  run(handler: TaskHandler): void {
    let p: Promise<unknown>;
    try {
      p = handler(this);
    } catch (err) {
      p = Promise.reject(err);
    }
    p.then(
      (output) => this.finish(true, output === undefined ? null : output, null),
      (err: unknown) => this.finish(false, null, toStepError(err)),
    );
  }

  private finish(ok: boolean, output: unknown, error: StepError | null): void {
    const t = this.task;
    const durationMs = performance.now() - this.started;
    // Literals without spreads: one result per step of every flow run in process.
    const saved = this.saved !== undefined && this.saved.length > 0 ? this.saved : undefined;
    const r: TaskResult = !ok
      ? { taskId: t.taskId, executionId: t.executionId, stepId: t.stepId, attempt: t.attempt, agentId: this.agent.id, ok: false, error: error as StepError, costs: this.costs, durationMs }
      : saved === undefined
        ? { taskId: t.taskId, executionId: t.executionId, stepId: t.stepId, attempt: t.attempt, agentId: this.agent.id, ok: true, output, costs: this.costs, durationMs }
        : { taskId: t.taskId, executionId: t.executionId, stepId: t.stepId, attempt: t.attempt, agentId: this.agent.id, ok: true, output, costs: this.costs, durationMs, documents: saved };
    this.host.ended(this.agent, t, r);
    // A result whose commit failed is not lost: the engine puts its execution back and dispatches the step again.
    const taken = !this.host.closed() && !this.aborted;
    const handlers = this.host.resultHandlers;
    const reported = this.reported;
    if (reported !== undefined) {
      const tell = (durable: boolean) => reported.forEach((l) => l(durable));
      if (!taken) tell(false);
      else Promise.all(handlers.map((h) => h(r))).then(() => tell(true), () => tell(false));
    } else if (taken) {
      // Nobody waits on these: a failure is the engine's to handle (it dispatches the step again).
      for (const h of handlers) h(r)?.catch(ignore);
    }
    this.host.next(this.agent);
  }
}

export function createMemoryBus(): Bus {
  const agents: Agent[] = [];
  const queues = new Map<string, TaskMessage[]>();
  const running = new Map<string, MemoryTask>();
  const resultHandlers: ((r: TaskResult) => Promise<void> | void)[] = [];
  const takenHandlers: ((t: TaskTaken) => void)[] = [];
  const logHandlers: ((l: StepLog) => void)[] = [];
  let closed = false;
  // In-process agents never miss a heartbeat: the registry only tracks their load and results.
  const registry = new AgentRegistry(() => Date.now(), Number.POSITIVE_INFINITY);
  const beat = (a: Agent, leaving = false) =>
    registry.heartbeat({
      id: a.id, name: a.opts.name, kinds: a.opts.kinds, capacity: a.opts.concurrency, inFlight: a.inFlight, version: a.opts.version ?? '0', startedAt: 0, leaving,
      ...(a.opts.definitions === undefined ? {} : { definitions: a.opts.definitions }),
    });

  const pick = (kind: string): Agent | undefined => {
    let best: Agent | undefined;
    for (const a of agents) {
      if (!a.opts.kinds.includes(kind) || a.inFlight >= a.opts.concurrency) continue;
      if (!best || a.inFlight < best.inFlight) best = a;
    }
    return best;
  };

  const host: TaskHost = {
    resultHandlers,
    logHandlers,
    closed: () => closed,
    ended: (agent, task, r) => {
      agent.inFlight--;
      registry.recordResult(agent.id, r.ok, r.durationMs);
      running.delete(task.taskId);
    },
    next: (agent) => drain(agent),
  };

  const run = (agent: Agent, task: TaskMessage): void => {
    agent.inFlight++;
    const t = new MemoryTask(host, agent, task);
    running.set(task.taskId, t);
    // A microtask boundary keeps agent work out of the engine's current transition. A resolved promise's `then`
    // rather than queueMicrotask, which wraps every callback in an AsyncResource (~0.3 KB each; three per flow).
    // A throw inside still ends the process, as an unhandled rejection instead of an uncaught exception.
    RESOLVED.then(() => {
      for (const h of takenHandlers) h({ taskId: task.taskId, executionId: task.executionId, stepId: task.stepId, attempt: task.attempt, agentId: agent.id });
      t.run(agent.handler);
    });
  };

  const drain = (agent: Agent): void => {
    for (const kind of agent.opts.kinds) {
      const q = queues.get(kind);
      while (q && q.length > 0 && agent.inFlight < agent.opts.concurrency) run(agent, q.shift() as TaskMessage);
    }
  };

  return {
    effectFree(kind) {
      let served = false;
      for (const a of agents) {
        if (!a.opts.kinds.includes(kind)) continue;
        if (a.opts.effectFree !== true) return false;
        served = true;
      }
      return served;
    },
    taskDefinition: (kind) => registry.definition(kind),
    dispatch(task) {
      if (closed) return;
      const agent = pick(task.agent);
      if (agent) return run(agent, task);
      let q = queues.get(task.agent);
      if (!q) queues.set(task.agent, (q = []));
      q.push(task);
    },
    cancel(taskId) {
      running.get(taskId)?.abort(new Error('cancelled'));
      for (const q of queues.values()) {
        const i = q.findIndex((t) => t.taskId === taskId);
        if (i >= 0) q.splice(i, 1);
      }
    },
    onResult: (h) => void resultHandlers.push(h),
    onLog: (h) => void logHandlers.push(h),
    onTaken: (h) => void takenHandlers.push(h),
    publishEvent: () => undefined,
    serve(opts, handler): AgentHandle {
      const agent: Agent = { id: `ag_${opts.name}_${++agentSeq}`, opts, handler, inFlight: 0, lastHeartbeatAt: Date.now() };
      agents.push(agent);
      beat(agent);
      drain(agent);
      return {
        id: agent.id,
        close: async () => {
          const i = agents.indexOf(agent);
          if (i >= 0) agents.splice(i, 1);
          beat(agent, true);
        },
      };
    },
    agents: (): AgentView[] => {
      // Load changes on every task; refresh in-process agents' entries only when asked.
      for (const a of agents) beat(a);
      return registry.list();
    },
    onAgentEvent: (h: (e: AgentEvent) => void) => void registry.onEvent(h),
    state: (): BusState => (closed ? 'closed' : 'embedded'),
    async close() {
      closed = true;
      for (const ac of running.values()) ac.abort(new Error('bus closed'));
      running.clear();
      queues.clear();
    },
  };
}
