/**
 * @module bus/nats/nats-bus — the Bus over NATS: a task goes straight to an agent with a free slot by core
 * request/reply, else to the JetStream work queue; results by request/reply, events on core subjects.
 * The protocol is described in docs/agent-protocol.md.
 */
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { connect, createInbox, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { AgentRegistry } from '../agent-registry.ts';
import { msgpackCodec as codec } from '../../common/codec.ts';
import type { EventView } from '../../common/execution.ts';
import type {
  AgentEvent, AgentHandle, AgentServeOptions, AgentView, Bus, BusState, DirectReply, Heartbeat, KindDefinition, StepLog, TaskMessage, TaskResult, TaskTaken,
} from '../types.ts';
import { startNatsWorker, type NatsWorker } from './nats-worker.ts';
import { ensureTaskStream } from './stream.ts';
import { readTaskResult } from './wire-result.ts';
import { DEFAULT_ACK_WAIT_MS, DEFAULT_PREFIX, DIRECT_REPLY_MS, HEARTBEAT_MS, MISSED_HEARTBEATS, subjects, type Subjects } from './subjects.ts';

export type * from './nats-bus-types.ts';
import type { DispatchCounts, NatsBus, NatsBusOptions, ResultRouting } from './nats-bus-types.ts';

/** How long a result relayed from the shared subject waits for the owner's answer (under the SDK's 5 s request timeout). */
const RELAY_MS = 4000;

/** A task sent to one agent directly, kept until that agent reports its result. */
interface DirectTask {
  readonly task: TaskMessage;
  readonly agentId: string;
  /** The request's reply token until the agent answered; null once it took the task. */
  pending: string | null;
  timer: NodeJS.Timeout | null;
  cancelled: boolean;
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
  const setup = o.setup ?? ((f) => f());
  let jsm: JetStreamManager;
  try {
    jsm = await setup(async () => {
      const m = await jetstreamManager(nc);
      await ensureTaskStream(m, s, o.replicas ?? 1);
      return m;
    });
  } catch (err) {
    await nc.close();
    throw err;
  }
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
  /** This process's agents (the built-ins) by id: a direct task for one is handed over without NATS. */
  private readonly localWorkers = new Map<string, Pick<NatsWorker, 'offer' | 'drain'>>();
  private readonly sweep: NodeJS.Timeout;
  private workerSeq = 0;
  /** Tasks sent directly, by task id, until their agent's result (or its loss). */
  private readonly direct = new Map<string, DirectTask>();
  /** Direct requests without an answer yet, by reply token. */
  private readonly awaiting = new Map<string, DirectTask>();
  /** Replies to direct requests come to `<inbox>.<token>` (one subscription, handled in order with results). */
  private readonly inbox = createInbox();
  private replySeq = 0;
  private readonly directReplyMs: number;
  /** Cluster mode: the results subscriptions of the partitions this node serves. */
  private readonly partitionSubs = new Map<number, Subscription>();
  private readonly counts = { direct: 0, queued: 0, refused: 0, unanswered: 0, redispatched: 0 };
  private readonly publishEvents: boolean;

  constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly s: Subjects,
    private readonly o: NatsBusOptions,
  ) {
    this.registry = new AgentRegistry(() => Date.now(), HEARTBEAT_MS * MISSED_HEARTBEATS + HEARTBEAT_MS / 2);
    this.directReplyMs = o.directReplyMs ?? DIRECT_REPLY_MS;
    this.publishEvents = o.publishEvents !== false;
    // An agent that left (drained) or was lost: its unreported direct tasks go to the queue.
    this.registry.onEvent((e) => {
      if (e.type === 'agent.status.changed' && e.agent.status === 'offline') this.orphaned(e.agent.id);
    });
    nc.subscribe(`${this.inbox}.*`, { callback: (_err, msg) => this.answered(msg) });
    // Cluster mode: an agent that ignores `resultSubject` (an older one) still sends here; relayed to the owner.
    nc.subscribe(s.results, { queue: 'engine', callback: (_err, msg) => (o.results ? this.relay(msg) : this.received(msg, () => true)) });
    // `taken` comes only on the queue path (a direct task's answer says it).
    nc.subscribe(s.taken, {
      callback: (_e, msg) => {
        const t = codec.decode<TaskTaken>(msg.data);
        this.registry.queueTaken(t.agentId, 1);
        for (const h of this.takenHandlers) h(t);
      },
    });
    nc.subscribe(s.logs, { callback: (_e, msg) => this.logHandlers.forEach((h) => h(codec.decode<StepLog>(msg.data))) });
    nc.subscribe(s.heartbeat, { callback: (_e, msg) => this.registry.heartbeat(codec.decode<Heartbeat>(msg.data)) });
    this.sweep = setInterval(() => this.registry.sweep(), HEARTBEAT_MS);
    void this.watch();
  }

  /** A result from an agent: applied, then answered once journaled, and only while `current()` (the partition is still served here). */
  private received(msg: Msg, current: () => boolean): void {
    const read = readTaskResult(msg.data);
    if ('invalid' in read) return this.refuse(msg, read.invalid);
    this.apply(msg, read.result, current);
  }

  /** Answered, so the agent stops resending it; its task comes back by redelivery or timeout. */
  private refuse(msg: Msg, reason: string): void {
    this.o.logger?.warn('invalid result from an agent', { reason });
    msg.respond(codec.encode({ ok: false, error: `invalid result: ${reason}` }));
  }

  private apply(msg: Msg, r: TaskResult, current: () => boolean): void {
    void this.journal(r, current).then((answered) => (answered ? msg.respond(codec.encode({ ok: true })) : undefined));
  }

  /**
   * A result of one of this process's agents, handed over without NATS: true once journaled while its
   * partition is still served here; false sends it over NATS (to the partition's owner now, or again).
   */
  private local(r: TaskResult): Promise<boolean> {
    const routing = this.o.results;
    if (routing === undefined) return this.journal(r, () => true);
    const p = routing.partitionOf(r.executionId);
    const sub = this.partitionSubs.get(p);
    return sub === undefined ? Promise.resolve(false) : this.journal(r, () => this.partitionSubs.get(p) === sub);
  }

  /** Applies a result; true once the engine journaled it and `current()` still holds (the agent's answer is then due). */
  private journal(r: TaskResult, current: () => boolean): Promise<boolean> {
    this.registry.recordResult(r.agentId, r.ok, r.durationMs);
    const d = this.direct.get(r.taskId);
    if (d && d.agentId === r.agentId) {
      // The answer comes first on the wire; should it ever not, the result says who took it.
      if (d.pending !== null) this.accepted(d);
      this.release(d);
    } else this.registry.queueTaken(r.agentId, -1);
    const pending = this.resultHandlers.map((h) => h(r));
    // Answered only after the engine journaled the result: then the agent acks its JetStream message. A partition
    // lost meanwhile may have dropped it unwritten: unanswered, the agent sends it again, to the new owner.
    return Promise.all(pending).then(
      () => current(),
      (err: unknown) => {
        this.o.logger?.error('result not journaled', { err: String(err) });
        return false;
      },
    );
  }

  /** On the shared subject in cluster mode: applied here if this node serves the partition, else passed to the subject of the one that does. */
  private relay(msg: Msg): void {
    const read = readTaskResult(msg.data);
    if ('invalid' in read) return this.refuse(msg, read.invalid);
    const p = (this.o.results as ResultRouting).partitionOf(read.result.executionId);
    const sub = this.partitionSubs.get(p);
    if (sub) return this.apply(msg, read.result, () => this.partitionSubs.get(p) === sub);
    // No answer (no owner yet, a slow one): none to the agent either, which sends the result again.
    this.nc.request(this.s.resultsOf(p), msg.data, { timeout: RELAY_MS }).then(
      (reply) => msg.respond(reply.data),
      () => undefined,
    );
  }

  serveResults(partition: number): void {
    if (this.partitionSubs.has(partition) || this.nc.isClosed()) return;
    // Not a queue group: a former owner that hangs (paused, swapping) keeps its subscription until the server
    // drops it, and would swallow a share of the results, each costing the agent a 5 s timeout. Every listener
    // gets the result; only the owner's commit passes the partition fence, and only a current owner answers.
    const sub: Subscription = this.nc.subscribe(this.s.resultsOf(partition), {
      callback: (_err, msg) => this.received(msg, () => this.partitionSubs.get(partition) === sub),
    });
    this.partitionSubs.set(partition, sub);
  }

  stopResults(partition: number): void {
    const sub = this.partitionSubs.get(partition);
    if (sub === undefined) return;
    this.partitionSubs.delete(partition);
    sub.unsubscribe();
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

  /**
   * Straight to the least-loaded agent with a free slot for the kind (core request/reply), else to the
   * JetStream work queue. A second dispatch of a task still held directly goes to the queue.
   */
  dispatch(routed: TaskMessage): void {
    // What goes on the wire, as a plain object: the engine's task derives `traceparent` in a getter, which a
    // spread or msgpack does not see. Cluster mode: the result goes to the partition's subject, whichever node
    // serves it when the agent is done.
    const results = this.o.results;
    const traceparent = routed.traceparent;
    const task: TaskMessage = { ...routed, ...(traceparent === undefined ? {} : { traceparent }), ...(results ? { resultSubject: this.s.resultsOf(results.partitionOf(routed.executionId)) } : {}) };
    if (this.directReplyMs > 0 && this.backlog.length === 0 && this.state_ === 'connected' && !this.direct.has(task.taskId)) {
      const agentId = this.registry.pickDirect(task.agent);
      if (agentId !== undefined) return this.sendDirect(task, agentId);
    }
    this.enqueue(task);
  }

  /** To the JetStream work queue (in order behind the backlog while the connection is down). */
  private enqueue(task: TaskMessage): void {
    this.counts.queued++;
    if (this.backlog.length > 0 || this.state_ !== 'connected') {
      this.backlog.push(task);
      return;
    }
    this.publish(task).catch(() => {
      this.backlog.push(task);
      void this.flush();
    });
  }

  /** Requests `agentId` to take the task; its slot counts as taken from now until its result. */
  private sendDirect(task: TaskMessage, agentId: string): void {
    const token = (++this.replySeq).toString(36);
    const d: DirectTask = { task, agentId, pending: token, timer: null, cancelled: false };
    this.direct.set(task.taskId, d);
    this.awaiting.set(token, d);
    this.registry.hold(agentId, 1);
    // One of this process's agents: the same request and answer, without the round trip through the server.
    const local = this.localWorkers.get(agentId);
    if (local !== undefined) {
      const reply = local.offer(task);
      return reply.taken ? this.accepted(d) : this.declined(d, reply);
    }
    try {
      this.nc.publish(this.s.direct(agentId), codec.encode(task), { reply: `${this.inbox}.${token}` });
    } catch {
      return this.declined(d, null);
    }
    d.timer = setTimeout(() => this.declined(d, null), this.directReplyMs);
  }

  /** An agent answered a direct request: taken, refused, or "no responders" (a status message without data). */
  private answered(msg: Msg): void {
    const d = this.awaiting.get(msg.subject.slice(this.inbox.length + 1));
    if (!d) return; // too late: it is in the queue already
    let reply: DirectReply | null = null;
    if (msg.data.length > 0) {
      try {
        reply = codec.decode<DirectReply>(msg.data);
      } catch {
        reply = null;
      }
    }
    if (reply?.taken === true) this.accepted(d);
    else this.declined(d, reply);
  }

  /** The agent took it: that is its `taken` (→ `agent.selected`). */
  private accepted(d: DirectTask): void {
    if (d.pending !== null) this.awaiting.delete(d.pending);
    d.pending = null;
    if (d.timer) clearTimeout(d.timer);
    d.timer = null;
    this.counts.direct++;
    const t = d.task;
    const taken: TaskTaken = { taskId: t.taskId, executionId: t.executionId, stepId: t.stepId, attempt: t.attempt, agentId: d.agentId };
    for (const h of this.takenHandlers) h(taken);
  }

  /** Refused, unanswered in time, or not sendable: no direct task to that agent until its next heartbeat; the task goes to the queue. */
  private declined(d: DirectTask, reply: DirectReply | null): void {
    if (d.pending === null || this.awaiting.get(d.pending) !== d) return;
    this.awaiting.delete(d.pending);
    d.pending = null;
    if (d.timer) clearTimeout(d.timer);
    d.timer = null;
    this.release(d);
    this.registry.suspend(d.agentId);
    if (reply) this.counts.refused++;
    else this.counts.unanswered++;
    if (!d.cancelled && this.state_ !== 'closed') this.enqueue(d.task);
  }

  /** The task leaves its agent's count (result in, refused, or re-queued). */
  private release(d: DirectTask): void {
    if (this.direct.get(d.task.taskId) !== d) return;
    this.direct.delete(d.task.taskId);
    this.registry.hold(d.agentId, -1);
  }

  /** The agent is gone: what it took and did not report is queued again (same task id and attempt). Unanswered requests time out on their own. */
  private orphaned(agentId: string): void {
    for (const d of [...this.direct.values()]) {
      if (d.agentId !== agentId || d.pending !== null) continue;
      this.release(d);
      if (d.cancelled || this.state_ === 'closed') continue;
      this.counts.redispatched++;
      this.o.logger?.warn('agent gone: its direct task goes to the queue', { agent: agentId, taskId: d.task.taskId });
      this.enqueue(d.task);
    }
  }

  dispatchCounts(): DispatchCounts {
    return { ...this.counts, holding: this.direct.size - this.awaiting.size };
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

  /** Drops it from the backlog, and tells every agent (the one running it, directly or from the queue, aborts it). */
  cancel(taskId: string): void {
    this.backlog = this.backlog.filter((t) => t.taskId !== taskId);
    // Held until the agent reports the aborted run; never queued again.
    const d = this.direct.get(taskId);
    if (d) d.cancelled = true;
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
    if (this.publishEvents && this.state_ === 'connected') this.nc.publish(this.s.event(e.workflow, e.executionId), codec.encode(e));
  }

  /** Runs an agent in this process over the same connection (the server's built-in agents). */
  serve(opts: AgentServeOptions, handler: Parameters<Bus['serve']>[1]): AgentHandle {
    const id = `ag_${opts.name}_${process.pid}_${++this.workerSeq}`;
    const started = startNatsWorker({
      nc: this.nc, js: this.js, jsm: this.jsm, subjects: this.s, id, name: opts.name, kinds: opts.kinds, definitions: opts.definitions, concurrency: opts.concurrency,
      version: opts.version ?? '0', ackWaitMs: this.o.ackWaitMs ?? DEFAULT_ACK_WAIT_MS, handler,
      // Its load is read live for the direct path (no heartbeat lag within one process), and a task for it is
      // handed over in process; both from before its first heartbeat makes it eligible.
      attach: (live) => {
        this.registry.attachLive(id, live.load);
        this.localWorkers.set(id, { offer: live.offer, drain: () => started.then((w) => w.drain(), () => undefined) });
      },
      local: { result: (r) => this.local(r), log: (l) => this.logHandlers.forEach((h) => h(l)) },
      onError: (err) => this.o.logger?.warn('agent consumer stopped', { agent: id, err: String(err) }),
    });
    started.catch((err: unknown) => {
      this.localWorkers.delete(id);
      this.registry.attachLive(id, null);
      this.o.logger?.error('agent failed to start', { agent: id, err: String(err) });
    });
    return {
      id,
      close: async () => {
        const w = await started.catch(() => undefined);
        if (w) {
          await w.drain();
          this.localWorkers.delete(id);
        }
        this.registry.attachLive(id, null);
      },
    };
  }

  agents(): AgentView[] {
    return this.registry.list();
  }

  taskDefinition(kind: string): KindDefinition | undefined {
    return this.registry.definition(kind);
  }

  onAgentEvent(h: (e: AgentEvent) => void): void {
    this.registry.onEvent(h);
  }

  state(): BusState {
    return this.state_;
  }

  async close(): Promise<void> {
    for (const w of this.localWorkers.values()) await w.drain();
    clearInterval(this.sweep);
    this.state_ = 'closed';
    for (const d of this.awaiting.values()) if (d.timer) clearTimeout(d.timer);
    await this.nc.drain().catch(() => undefined);
  }
}
