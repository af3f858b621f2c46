/** @module bus/nats/nats-worker — the agent side over NATS: pull tasks from JetStream, run the handler, report back. */
import { AckPolicy, DeliverPolicy, type Consumer, type ConsumerMessages, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { systemClock } from '../../shared/clock.ts';
import { msgpackCodec as codec } from '../../shared/codec.ts';
import { ActorflowError, toStepError } from '../../shared/errors.ts';
import type { AgentHandle, CostReport, Heartbeat, StepLog, TaskHandler, TaskMessage, TaskResult, TaskTaken } from '../types.ts';
import { ensureTaskStream } from './stream.ts';
import { HEARTBEAT_MS, type Subjects } from './subjects.ts';

/** How long one pull waits for tasks before the next is sent (JetStream's minimum is 1 s). */
const PULL_EXPIRES_MS = 5000;

export interface NatsWorkerOptions {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly subjects: Subjects;
  readonly id: string;
  readonly name: string;
  readonly kinds: readonly string[];
  readonly concurrency: number;
  readonly version: string;
  readonly ackWaitMs: number;
  readonly handler: TaskHandler;
  /** Reports errors that are not a task's own (lost connection, consumer gone). */
  readonly onError?: (err: unknown) => void;
}

export interface NatsWorker extends AgentHandle {
  readonly inFlight: () => number;
  /** Stops taking tasks, waits for the running ones to report, then announces it is leaving. */
  drain(): Promise<void>;
}

/** Starts consuming every kind; resolves once the consumers exist. */
export async function startNatsWorker(o: NatsWorkerOptions): Promise<NatsWorker> {
  const { nc, js, jsm, subjects: s } = o;
  const running = new Map<string, AbortController>();
  // Tasks cancelled before this agent pulled them: acked without running.
  const cancelled = new Set<string>();
  const startedAt = Date.now();
  let stopping = false;
  let idle: (() => void) | null = null;
  const slots: (() => void)[] = [];

  const heartbeat = (leaving = false) => {
    const hb: Heartbeat = { id: o.id, name: o.name, kinds: o.kinds, capacity: o.concurrency, inFlight: running.size, version: o.version, startedAt, leaving };
    if (!nc.isClosed()) nc.publish(s.heartbeat, codec.encode(hb));
  };
  const cancelSub = nc.subscribe(s.cancel, {
    callback: (_err, msg) => {
      const { taskId } = codec.decode<{ taskId: string }>(msg.data);
      const ac = running.get(taskId);
      if (ac) ac.abort(new ActorflowError('cancelled', 'the step was cancelled'));
      else {
        cancelled.add(taskId);
        if (cancelled.size > 10_000) cancelled.delete(cancelled.values().next().value as string);
      }
    },
  });
  heartbeat();
  const beat = setInterval(() => heartbeat(), HEARTBEAT_MS);

  const report = async (result: TaskResult): Promise<boolean> => {
    // The engine answers once the result is journaled; until then the task stays un-acked (redelivered if we die).
    for (let i = 0, wait = 100; i < 40 && !nc.isClosed(); i++, wait = Math.min(wait * 2, 2000)) {
      try {
        await nc.request(s.results, codec.encode(result), { timeout: 5000 });
        return true;
      } catch {
        await new Promise((r) => setTimeout(r, wait));
      }
    }
    return false;
  };

  const run = async (m: JsMsg): Promise<void> => {
    let task: TaskMessage;
    try {
      task = codec.decode<TaskMessage>(m.data);
    } catch {
      m.term();
      return;
    }
    if (cancelled.delete(task.taskId)) {
      m.ack();
      return;
    }
    const ac = new AbortController();
    running.set(task.taskId, ac);
    const taken: TaskTaken = { taskId: task.taskId, executionId: task.executionId, stepId: task.stepId, attempt: task.attempt, agentId: o.id };
    nc.publish(s.taken, codec.encode(taken));
    const working = setInterval(() => m.working(), Math.max(250, o.ackWaitMs / 3));
    // The step's `timeoutMs` may exceed Node's timer range: the system clock chains its timers.
    const timeout = task.timeoutMs ? systemClock.setTimeout(() => ac.abort(new ActorflowError('step_timeout', 'step timed out', { retryable: true })), task.timeoutMs) : null;
    const costs: CostReport[] = [];
    const t0 = performance.now();
    const base = { taskId: task.taskId, executionId: task.executionId, stepId: task.stepId, attempt: task.attempt, agentId: o.id, costs };
    let result: TaskResult;
    try {
      const output = await o.handler({
        kind: task.agent,
        executionId: task.executionId,
        stepId: task.stepId,
        attempt: task.attempt,
        input: task.input,
        ...(typeof task.traceparent === 'string' ? { traceparent: task.traceparent } : {}),
        ...(typeof task.tracestate === 'string' ? { tracestate: task.tracestate } : {}),
        signal: ac.signal,
        log: (level, message, data) => {
          const l: StepLog = { executionId: task.executionId, stepId: task.stepId, attempt: task.attempt, level, message, data: data ?? null };
          nc.publish(s.logs, codec.encode(l));
        },
        reportCost: (c) => costs.push({ model: c.model ?? null, tokens: c.tokens ?? 0, usd: c.usd ?? 0 }),
      });
      result = { ...base, ok: true, output: output === undefined ? null : output, durationMs: performance.now() - t0 };
    } catch (err) {
      const reason: unknown = ac.signal.aborted ? ac.signal.reason : err;
      result = { ...base, ok: false, error: toStepError(reason), durationMs: performance.now() - t0 };
    } finally {
      clearInterval(working);
      if (timeout !== null) systemClock.clearTimeout(timeout);
    }
    if (await report(result)) m.ack();
    else m.nak();
    running.delete(task.taskId);
    // Every waiter re-checks: a pull of another kind may take the slot first.
    for (const wake of slots.splice(0)) wake();
    if (running.size === 0) idle?.();
  };

  await ensureTaskStream(jsm, s);
  /** Open fetches, closed on drain. */
  const batches = new Set<ConsumerMessages>();
  const slotFree = async (): Promise<void> => {
    while (running.size >= o.concurrency && !stopping) await new Promise<void>((r) => slots.push(r));
  };
  /**
   * Waits for a free slot before `m` runs (another kind's pull took it). Meanwhile JetStream is told
   * the task is in progress: otherwise its ack wait runs out, it is redelivered, and it runs twice.
   */
  const whenFree = async (m: JsMsg): Promise<void> => {
    if (running.size < o.concurrency) return;
    const keep = setInterval(() => m.working(), Math.max(250, o.ackWaitMs / 3));
    await slotFree();
    clearInterval(keep);
  };
  /**
   * Pulls only what this agent can run: each fetch, sent once a slot is free, asks for the free
   * slots. A `consume()` keeps pulling while every slot is busy and so hoards the queue: other
   * agents of the kind starve, and hoarded tasks outlive their ack wait and run twice.
   */
  const pull = async (consumer: Consumer): Promise<void> => {
    let backoff = 100;
    while (!stopping && !nc.isClosed()) {
      let batch: ConsumerMessages | undefined;
      try {
        await slotFree();
        if (stopping) break;
        batch = await consumer.fetch({ max_messages: Math.max(1, o.concurrency - running.size), expires: PULL_EXPIRES_MS });
        batches.add(batch);
        if (stopping) await batch.close();
        for await (const m of batch) {
          backoff = 100;
          await whenFree(m);
          if (stopping) m.nak();
          else void run(m);
        }
      } catch (err) {
        if (stopping || nc.isClosed()) break;
        o.onError?.(err);
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(backoff * 2, 2000);
      } finally {
        if (batch) batches.delete(batch);
      }
    }
  };
  for (const kind of o.kinds) {
    const durable = s.durable(kind);
    const config = {
      durable_name: durable,
      filter_subject: s.kindFilter(kind),
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: o.ackWaitMs * 1_000_000,
      max_deliver: -1,
      max_ack_pending: 100_000,
    };
    // Every agent of a kind shares one durable consumer (work-queue semantics); the latest settings win.
    await jsm.consumers.add(s.stream, config).catch(() => jsm.consumers.update(s.stream, durable, { ack_wait: config.ack_wait, max_ack_pending: config.max_ack_pending }));
    void pull(await js.consumers.get(s.stream, durable));
  }

  let closing: Promise<void> | undefined;
  const drain = () =>
    (closing ??= (async () => {
      stopping = true;
      // Tasks waiting for a slot go back to the queue (nak) at once.
      for (const wake of slots.splice(0)) wake();
      for (const b of batches) await b.close().catch(() => undefined);
      if (running.size > 0) await new Promise<void>((r) => (idle = r));
      clearInterval(beat);
      heartbeat(true);
      cancelSub.unsubscribe();
    })());
  return { id: o.id, inFlight: () => running.size, drain, close: drain };
}
