/** @module bus/nats/nats-worker — the agent side over NATS: pull tasks from JetStream, run the handler, report back. */
import { AckPolicy, DeliverPolicy, type ConsumerMessages, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { msgpackCodec as codec } from '../../shared/codec.ts';
import { ActorflowError, toStepError } from '../../shared/errors.ts';
import type { AgentHandle, CostReport, Heartbeat, StepLog, TaskHandler, TaskMessage, TaskResult, TaskTaken } from '../types.ts';
import { ensureTaskStream } from './stream.ts';
import { HEARTBEAT_MS, type Subjects } from './subjects.ts';

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
    const timeout = task.timeoutMs ? setTimeout(() => ac.abort(new ActorflowError('step_timeout', 'step timed out', { retryable: true })), task.timeoutMs) : null;
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
      if (timeout) clearTimeout(timeout);
    }
    if (await report(result)) m.ack();
    else m.nak();
    running.delete(task.taskId);
    slots.shift()?.();
    if (running.size === 0) idle?.();
  };

  await ensureTaskStream(jsm, s);
  const consumers: ConsumerMessages[] = [];
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
    const consumer = await js.consumers.get(s.stream, durable);
    const messages = await consumer.consume({ max_messages: o.concurrency });
    consumers.push(messages);
    void (async () => {
      try {
        for await (const m of messages) {
          if (stopping) {
            m.nak();
            continue;
          }
          if (running.size >= o.concurrency) await new Promise<void>((r) => slots.push(r));
          void run(m);
        }
      } catch (err) {
        o.onError?.(err);
      }
    })();
  }

  let closing: Promise<void> | undefined;
  const drain = () =>
    (closing ??= (async () => {
      stopping = true;
      for (const c of consumers) await c.close().catch(() => undefined);
      if (running.size > 0) await new Promise<void>((r) => (idle = r));
      clearInterval(beat);
      heartbeat(true);
      cancelSub.unsubscribe();
    })());
  return { id: o.id, inFlight: () => running.size, drain, close: drain };
}
