/** @module bus/nats/nats-bus — the Bus over NATS: tasks on a JetStream work queue, results by request/reply, events on core subjects. */
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { AgentRegistry } from '../agent-registry.ts';
import { msgpackCodec as codec } from '../../shared/codec.ts';
import type { EventView } from '../../shared/execution.ts';
import type { Logger } from '../../shared/logger.ts';
import type { AgentEvent, AgentHandle, AgentView, Bus, BusState, Heartbeat, StepLog, TaskMessage, TaskResult, TaskTaken } from '../types.ts';
import { startNatsWorker, type NatsWorker } from './nats-worker.ts';
import { ensureTaskStream } from './stream.ts';
import { DEFAULT_ACK_WAIT_MS, DEFAULT_PREFIX, HEARTBEAT_MS, MISSED_HEARTBEATS, subjects, type Subjects } from './subjects.ts';

export interface NatsBusOptions {
  /** One URL or several, comma-separated. */
  readonly servers: string;
  /** @default 'actorflow' */
  readonly prefix?: string;
  /** @default 10000 */
  readonly ackWaitMs?: number;
  readonly logger?: Logger;
}

export interface NatsBus extends Bus {
  readonly registry: AgentRegistry;
}

/** Connects (retrying until the server answers), makes sure the task stream exists, and subscribes the engine side. */
export async function createNatsBus(o: NatsBusOptions): Promise<NatsBus> {
  const nc = await connect({
    servers: o.servers.split(',').map((x) => x.trim()),
    name: 'actorflow-engine',
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    waitOnFirstConnect: true,
    // No stack capture per request: measurable on the result path (bench/RESULTS.md, NATS section).
    noAsyncTraces: true,
  });
  const s = subjects(o.prefix ?? DEFAULT_PREFIX);
  const jsm = await jetstreamManager(nc);
  await ensureTaskStream(jsm, s);
  return new NatsBusImpl(nc, jetstream(nc), jsm, s, o);
}

class NatsBusImpl implements NatsBus {
  readonly registry: AgentRegistry;
  private state_: BusState = 'connected';
  private readonly resultHandlers: ((r: TaskResult) => Promise<void> | void)[] = [];
  private readonly takenHandlers: ((t: TaskTaken) => void)[] = [];
  private readonly logHandlers: ((l: StepLog) => void)[] = [];
  /** Dispatches that could not be published (connection lost); retried in order. */
  private backlog: TaskMessage[] = [];
  private flushing = false;
  private readonly workers = new Set<NatsWorker>();
  private readonly sweep: NodeJS.Timeout;
  private workerSeq = 0;

  constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly s: Subjects,
    private readonly o: NatsBusOptions,
  ) {
    this.registry = new AgentRegistry(() => Date.now(), HEARTBEAT_MS * MISSED_HEARTBEATS + HEARTBEAT_MS / 2);
    nc.subscribe(s.results, {
      queue: 'engine',
      callback: (_err, msg) => {
        const r = codec.decode<TaskResult>(msg.data);
        this.registry.recordResult(r.agentId, r.ok, r.durationMs);
        const pending = this.resultHandlers.map((h) => h(r));
        // Reply only after the engine journaled the result: then the agent acks its JetStream message.
        Promise.all(pending).then(
          () => msg.respond(codec.encode({ ok: true })),
          (err: unknown) => this.o.logger?.error('result not journaled', { err: String(err) }),
        );
      },
    });
    nc.subscribe(s.taken, { callback: (_e, msg) => this.takenHandlers.forEach((h) => h(codec.decode<TaskTaken>(msg.data))) });
    nc.subscribe(s.logs, { callback: (_e, msg) => this.logHandlers.forEach((h) => h(codec.decode<StepLog>(msg.data))) });
    nc.subscribe(s.heartbeat, { callback: (_e, msg) => this.registry.heartbeat(codec.decode<Heartbeat>(msg.data)) });
    this.sweep = setInterval(() => this.registry.sweep(), HEARTBEAT_MS);
    void this.watch();
  }

  private async watch(): Promise<void> {
    for await (const st of this.nc.status()) {
      if (st.type === 'disconnect' || st.type === 'reconnecting') this.state_ = 'reconnecting';
      else if (st.type === 'reconnect') {
        this.state_ = 'connected';
        void this.flush();
      }
    }
  }

  dispatch(task: TaskMessage): void {
    if (this.backlog.length > 0 || this.state_ !== 'connected') {
      this.backlog.push(task);
      return;
    }
    this.publish(task).catch(() => {
      this.backlog.push(task);
      void this.flush();
    });
  }

  private publish(task: TaskMessage): Promise<unknown> {
    // msgID = the idempotency key: a re-dispatch after a crash inside the dedup window is dropped by the server.
    return this.js.publish(this.s.task(task.tenant, task.agent), codec.encode(task), { msgID: task.taskId });
  }

  /** Publishes the backlog in order, retrying until the connection is back. */
  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.backlog.length > 0 && this.state_ !== 'closed') {
        const task = this.backlog[0] as TaskMessage;
        try {
          await this.publish(task);
          this.backlog.shift();
        } catch {
          await new Promise((r) => setTimeout(r, 250));
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  cancel(taskId: string): void {
    this.backlog = this.backlog.filter((t) => t.taskId !== taskId);
    if (!this.nc.isClosed()) this.nc.publish(this.s.cancel, codec.encode({ taskId }));
  }

  onResult(h: (r: TaskResult) => Promise<void> | void): void {
    this.resultHandlers.push(h);
  }

  onTaken(h: (t: TaskTaken) => void): void {
    this.takenHandlers.push(h);
  }

  onLog(h: (l: StepLog) => void): void {
    this.logHandlers.push(h);
  }

  publishEvent(e: EventView): void {
    if (this.state_ === 'connected') this.nc.publish(this.s.event(e.workflow, e.executionId), codec.encode(e));
  }

  /** Runs an agent in this process over the same connection (the server's built-in agents). */
  serve(opts: { name: string; kinds: readonly string[]; concurrency: number; version?: string }, handler: Parameters<Bus['serve']>[1]): AgentHandle {
    const id = `ag_${opts.name}_${process.pid}_${++this.workerSeq}`;
    const started = startNatsWorker({
      nc: this.nc, js: this.js, jsm: this.jsm, subjects: this.s, id, name: opts.name, kinds: opts.kinds, concurrency: opts.concurrency,
      version: opts.version ?? '0', ackWaitMs: this.o.ackWaitMs ?? DEFAULT_ACK_WAIT_MS, handler,
      onError: (err) => this.o.logger?.warn('agent consumer stopped', { agent: id, err: String(err) }),
    }).then((w) => (this.workers.add(w), w));
    started.catch((err: unknown) => this.o.logger?.error('agent failed to start', { agent: id, err: String(err) }));
    return {
      id,
      close: async () => {
        const w = await started.catch(() => undefined);
        if (w) {
          await w.drain();
          this.workers.delete(w);
        }
      },
    };
  }

  agents(): AgentView[] {
    return this.registry.list();
  }

  onAgentEvent(h: (e: AgentEvent) => void): void {
    this.registry.onEvent(h);
  }

  state(): BusState {
    return this.state_;
  }

  async close(): Promise<void> {
    for (const w of this.workers) await w.drain();
    clearInterval(this.sweep);
    this.state_ = 'closed';
    await this.nc.drain().catch(() => undefined);
  }
}
