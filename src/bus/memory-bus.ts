/** @module bus/memory-bus — the embedded in-process Bus: same contract as NATS, no network. */
import { toStepError } from '../common/errors.ts';
import { type DocumentSave, saveDocumentInto } from '../common/document-save.ts';
import { AgentRegistry } from './agent-registry.ts';
import type {
  AgentEvent, AgentHandle, AgentServeOptions, AgentView, Bus, BusState, CostReport, StepLog, TaskHandler, TaskMessage, TaskResult, TaskTaken,
} from './types.ts';

interface Agent {
  readonly id: string;
  readonly opts: AgentServeOptions;
  readonly handler: TaskHandler;
  inFlight: number;
  lastHeartbeatAt: number;
}

let agentSeq = 0;

/** An AbortController made only when a handler reads `signal` (most in-process tasks never do: it is a hot-path allocation). */
class LazyAbort {
  private ac: AbortController | undefined;
  private reason: unknown;
  aborted = false;

  get signal(): AbortSignal {
    if (!this.ac) {
      this.ac = new AbortController();
      if (this.aborted) this.ac.abort(this.reason);
    }
    return this.ac.signal;
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.ac?.abort(reason);
  }
}

export function createMemoryBus(): Bus {
  const agents: Agent[] = [];
  const queues = new Map<string, TaskMessage[]>();
  const running = new Map<string, LazyAbort>();
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

  const run = (agent: Agent, task: TaskMessage): void => {
    agent.inFlight++;
    const ac = new LazyAbort();
    running.set(task.taskId, ac);
    const costs: CostReport[] = [];
    const saved: DocumentSave[] = [];
    const started = performance.now();
    const base = { taskId: task.taskId, executionId: task.executionId, stepId: task.stepId, attempt: task.attempt, agentId: agent.id };
    /** Who waits for the result to be durable (made only when a handler asks: see TaskContext.onReported). */
    let reported: ((durable: boolean) => void)[] | undefined;
    const finish = (r: TaskResult) => {
      agent.inFlight--;
      registry.recordResult(agent.id, r.ok, r.durationMs);
      running.delete(task.taskId);
      // A result whose commit failed is not lost: the engine puts its execution back and dispatches the step again.
      const taken = !closed && !ac.aborted;
      if (reported === undefined) {
        if (taken) for (const h of resultHandlers) void Promise.resolve(h(r)).catch(() => undefined);
      } else {
        const tell = (durable: boolean) => reported?.forEach((l) => l(durable));
        if (!taken) tell(false);
        else Promise.all(resultHandlers.map((h) => h(r))).then(() => tell(true), () => tell(false));
      }
      drain(agent);
    };
    // A microtask boundary keeps agent work out of the engine's current transition.
    queueMicrotask(() => {
      for (const h of takenHandlers) h(base);
      let p: Promise<unknown>;
      try {
        p = agent.handler({
          kind: task.agent,
          tenant: task.tenant,
          executionId: task.executionId,
          stepId: task.stepId,
          attempt: task.attempt,
          input: task.input,
          ...(task.traceparent === undefined ? {} : { traceparent: task.traceparent }),
          ...(task.tracestate === undefined ? {} : { tracestate: task.tracestate }),
          get signal() {
            return ac.signal;
          },
          log: (level, message, data) => {
            for (const h of logHandlers) h({ executionId: task.executionId, stepId: task.stepId, attempt: task.attempt, level, message, data: data ?? null });
          },
          reportCost: (c) => costs.push({ model: c.model ?? null, tokens: c.tokens ?? 0, usd: c.usd ?? 0 }),
          saveDocument: (d) => saveDocumentInto(saved, d),
          onReported: (l) => void (reported ??= []).push(l),
        });
      } catch (err) {
        p = Promise.reject(err);
      }
      p.then(
        (output) => finish({ ...base, ok: true, output: output === undefined ? null : output, costs, durationMs: performance.now() - started, ...(saved.length > 0 ? { documents: saved } : {}) }),
        (err: unknown) => finish({ ...base, ok: false, error: toStepError(err), costs, durationMs: performance.now() - started }),
      );
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
