/**
 * @module bus/nats/nats-worker — the agent side over NATS: take tasks sent to it directly (core request/reply)
 * and pull the rest from JetStream, run the handler under one concurrency limit, report back.
 * The protocol is described in docs/agent-protocol.md.
 */
import { AckPolicy, DeliverPolicy, type Consumer, type ConsumerMessages, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { systemClock } from '../../common/clock.ts';
import { msgpackCodec as codec } from '../../common/codec.ts';
import { ActorflowError, toStepError } from '../../common/errors.ts';
import { type DocumentSave, saveDocumentInto } from '../../common/document-save.ts';
import type { AgentHandle, CostReport, DirectReply, Heartbeat, KindDefinitions, StepLog, TaskHandler, TaskMessage, TaskResult, TaskTaken } from '../types.ts';
import type { AgentLoad } from '../agent-registry.ts';
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
  /** Schemas and descriptions of `kinds`, sent with every heartbeat (an engine that starts later learns them from the next one). */
  readonly definitions?: KindDefinitions | undefined;
  readonly concurrency: number;
  readonly version: string;
  readonly ackWaitMs: number;
  readonly handler: TaskHandler;
  /** Answer direct task requests on `subjects.direct(id)` (the fast path). @default true */
  readonly direct?: boolean;
  /**
   * Called before the first heartbeat with a reader of the live load and the in-process `offer` (an engine's bus
   * reads its own agents' load, and hands them tasks, this way: once the heartbeat is seen, both must work).
   */
  readonly attach?: (live: LiveAgent) => void;
  /**
   * An engine in this process, for the tasks it handed over with `offer`: their log lines go to it directly (over
   * NATS they could arrive after the result they precede), and their results first (true once journaled); false
   * (not its partition any more, a failed commit) sends a result over NATS as any other.
   */
  readonly local?: { readonly result: (result: TaskResult) => Promise<boolean>; readonly log: (line: StepLog) => void };
  /** Reports errors that are not a task's own (lost connection, consumer gone). */
  readonly onError?: (err: unknown) => void;
}

/** What an engine in the same process uses of one of its agents: its load, read live, and `offer`. */
export interface LiveAgent {
  readonly load: () => AgentLoad;
  readonly offer: (task: TaskMessage) => DirectReply;
}

/** Tasks an agent took so far, by the path that brought them. */
export interface TakenCounts {
  /** Sent to it by core request/reply (the fast path). */
  readonly direct: number;
  /** Pulled from the JetStream work queue. */
  readonly queue: number;
}

export interface NatsWorker extends AgentHandle {
  /**
   * A direct task from an engine in this process, answered as a direct request over NATS would be (taken or
   * refused, with the same checks), without the round trip; its result goes to `local` first.
   */
  offer(task: TaskMessage): DirectReply;
  readonly inFlight: () => number;
  readonly taken: () => TakenCounts;
  /** Stops taking tasks, waits for the running ones to report, then announces it is leaving. */
  drain(): Promise<void>;
}

/** Starts consuming every kind; resolves once the consumers exist. */
export async function startNatsWorker(o: NatsWorkerOptions): Promise<NatsWorker> {
  const { nc, js, jsm, subjects: s } = o;
  /** Handlers running (both paths): what the concurrency limit counts, and what a cancel aborts. */
  const running = new Map<string, AbortController>();
  /** Every task from its start until its result was reported (true) or given up (false). */
  const active = new Map<string, Promise<boolean>>();
  // Tasks cancelled before this agent got them: skipped (acked, or refused on the direct path).
  const cancelled = new Set<string>();
  const startedAt = Date.now();
  const counts = { direct: 0, queue: 0 };
  let directRunning = 0;
  /** Results whose first report failed: they keep their slot until reported, so an unreachable engine stops intake. */
  let stuck = 0;
  /** Tasks pulled from JetStream waiting for a slot: direct requests are refused meanwhile (the queue goes first). */
  let queued = 0;
  let stopping = false;
  let idle: (() => void) | null = null;
  const slots: (() => void)[] = [];
  const used = () => running.size + stuck;
  const wake = () => {
    // Every waiter re-checks: a pull of another kind, or a direct task, may take the slot first.
    for (const w of slots.splice(0)) w();
    if (active.size === 0) idle?.();
  };

  const heartbeat = (leaving = false) => {
    const hb: Heartbeat = {
      id: o.id, name: o.name, kinds: o.kinds, capacity: o.concurrency, inFlight: running.size, version: o.version, startedAt, leaving,
      direct: directSub !== null, inFlightDirect: directRunning,
      ...(o.definitions === undefined ? {} : { definitions: o.definitions }),
    };
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

  /** The task's own results subject (cluster mode: its partition's), if it is one of this prefix's; else the shared one. */
  const resultsFor = (task: TaskMessage): string =>
    typeof task.resultSubject === 'string' && task.resultSubject.startsWith(`${s.results}.`) ? task.resultSubject : s.results;

  const report = async (result: TaskResult, subject: string): Promise<boolean> => {
    // The engine answers once the result is journaled; until then a queued task stays un-acked (redelivered if we die)
    // and a direct one stays on the engine's list of this agent's tasks (re-queued if we die). In cluster mode
    // "no responders" also means the partition is changing hands: the next try reaches its new owner.
    let failed = false;
    try {
      for (let i = 0, wait = 100; i < 40 && !nc.isClosed(); i++, wait = Math.min(wait * 2, 2000)) {
        try {
          await nc.request(subject, codec.encode(result), { timeout: 5000 });
          return true;
        } catch {
          if (!failed) {
            failed = true;
            stuck++;
          }
          await new Promise((r) => setTimeout(r, wait));
        }
      }
      return false;
    } finally {
      if (failed) {
        stuck--;
        wake();
      }
    }
  };

  /** To the engine in this process first when it handed the task over, else (or when it says no) over NATS. */
  const reportFrom = async (result: TaskResult, task: TaskMessage, local: boolean): Promise<boolean> => {
    if (local && o.local !== undefined && (await o.local.result(result).catch(() => false))) return true;
    return report(result, resultsFor(task));
  };

  /** Runs the handler for one task and reports its result; `m` is its JetStream message (null: direct). */
  const execute = async (task: TaskMessage, m: JsMsg | null, local = false): Promise<boolean> => {
    const ac = new AbortController();
    const direct = m === null;
    running.set(task.taskId, ac);
    if (direct) directRunning++;
    const working = m ? setInterval(() => m.working(), Math.max(250, o.ackWaitMs / 3)) : null;
    // The step's `timeoutMs` may exceed Node's timer range: the system clock chains its timers.
    const timeout = task.timeoutMs ? systemClock.setTimeout(() => ac.abort(new ActorflowError('step_timeout', 'step timed out', { retryable: true })), task.timeoutMs) : null;
    const costs: CostReport[] = [];
    const saved: DocumentSave[] = [];
    const t0 = performance.now();
    const base = { taskId: task.taskId, executionId: task.executionId, stepId: task.stepId, attempt: task.attempt, agentId: o.id, costs };
    const reportedTo: ((durable: boolean) => void)[] = [];
    let result: TaskResult;
    // Offered in process: the handler runs after the engine's loop that dispatched it, as on the in-process bus.
    if (local) await Promise.resolve();
    try {
      const output = await o.handler({
        kind: task.agent,
        tenant: task.tenant,
        executionId: task.executionId,
        stepId: task.stepId,
        attempt: task.attempt,
        input: task.input,
        ...(typeof task.traceparent === 'string' ? { traceparent: task.traceparent } : {}),
        ...(typeof task.tracestate === 'string' ? { tracestate: task.tracestate } : {}),
        signal: ac.signal,
        log: (level, message, data) => {
          const l: StepLog = { executionId: task.executionId, stepId: task.stepId, attempt: task.attempt, level, message, data: data ?? null };
          if (local && o.local !== undefined) o.local.log(l);
          else nc.publish(s.logs, codec.encode(l));
        },
        reportCost: (c) => costs.push({ model: c.model ?? null, tokens: c.tokens ?? 0, usd: c.usd ?? 0 }),
        saveDocument: (d) => saveDocumentInto(saved, d),
        onReported: (l) => void reportedTo.push(l),
      });
      result = { ...base, ok: true, output: output === undefined ? null : output, durationMs: performance.now() - t0, ...(saved.length > 0 ? { documents: saved } : {}) };
    } catch (err) {
      const reason: unknown = ac.signal.aborted ? ac.signal.reason : err;
      result = { ...base, ok: false, error: toStepError(reason), durationMs: performance.now() - t0 };
    } finally {
      if (working) clearInterval(working);
      if (timeout !== null) systemClock.clearTimeout(timeout);
    }
    // The slot is free once the handler is done: the report only waits for the engine's commit.
    running.delete(task.taskId);
    if (direct) directRunning--;
    wake();
    const reported = reportFrom(result, task, local);
    // The engine answers a result only once it is journaled.
    if (reportedTo.length > 0) void reported.then((ok) => reportedTo.forEach((l) => l(ok)));
    if (m) {
      // JetStream keeps the task until the engine has the result (working() while the report is retried).
      const keep = setInterval(() => m.working(), Math.max(250, o.ackWaitMs / 3));
      const ok = await reported;
      clearInterval(keep);
      if (ok) m.ack();
      else m.nak();
    }
    return reported;
  };

  /** Starts a task: `active` holds it until reported. */
  const start = (task: TaskMessage, m: JsMsg | null, local = false): void => {
    const done = execute(task, m, local).finally(() => {
      active.delete(task.taskId);
      wake();
    });
    active.set(task.taskId, done);
  };

  const run = (m: JsMsg): void => {
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
    const same = active.get(task.taskId);
    if (same) {
      // Already running here (it came directly too): this copy goes when that run has reported.
      const keep = setInterval(() => m.working(), Math.max(250, o.ackWaitMs / 3));
      void same.then((ok) => {
        clearInterval(keep);
        if (ok) m.ack();
        else m.nak();
      });
      return;
    }
    counts.queue++;
    const taken: TaskTaken = { taskId: task.taskId, executionId: task.executionId, stepId: task.stepId, attempt: task.attempt, agentId: o.id };
    nc.publish(s.taken, codec.encode(taken));
    start(task, m);
  };

  /** A direct task: answered taken or refused, with the reason (docs/agent-protocol.md), then started when taken. */
  const takeDirect = (task: TaskMessage, local: boolean, answer: (reply: DirectReply) => void): void => {
    if (stopping) return answer({ taskId: task.taskId, taken: false, reason: 'stopping' });
    if (!o.kinds.includes(task.agent)) return answer({ taskId: task.taskId, taken: false, reason: 'kind' });
    if (cancelled.delete(task.taskId)) return answer({ taskId: task.taskId, taken: false, reason: 'cancelled' });
    // Already here (a second dispatch of the same attempt): its one run reports the result.
    if (active.has(task.taskId)) return answer({ taskId: task.taskId, taken: true, agentId: o.id });
    if (used() >= o.concurrency || queued > 0) return answer({ taskId: task.taskId, taken: false, reason: 'full' });
    answer({ taskId: task.taskId, taken: true, agentId: o.id });
    counts.direct++;
    start(task, null, local);
  };

  /** The fast path: a task sent to this agent alone, answered at once (taken or refused, see docs/agent-protocol.md). */
  const directSub =
    o.direct === false
      ? null
      : nc.subscribe(s.direct(o.id), {
          callback: (_err, msg) => {
            let task: TaskMessage;
            try {
              task = codec.decode<TaskMessage>(msg.data);
            } catch {
              msg.respond(codec.encode({ taskId: '', taken: false, reason: 'invalid' } satisfies DirectReply));
              return;
            }
            takeDirect(task, false, (reply) => void msg.respond(codec.encode(reply)));
          },
        });
  const offer = (task: TaskMessage): DirectReply => {
    let answered: DirectReply = { taskId: task.taskId, taken: false, reason: 'invalid' };
    takeDirect(task, true, (reply) => (answered = reply));
    return answered;
  };
  o.attach?.({ load: () => ({ inFlight: running.size + stuck, inFlightDirect: directRunning }), offer });
  heartbeat();
  const beat = setInterval(() => heartbeat(), HEARTBEAT_MS);

  await ensureTaskStream(jsm, s);
  /** Open fetches, closed on drain. */
  const batches = new Set<ConsumerMessages>();
  const slotFree = async (): Promise<void> => {
    while (used() >= o.concurrency && !stopping) await new Promise<void>((r) => slots.push(r));
  };
  /**
   * Waits for a free slot before `m` runs (another kind's pull took it). Meanwhile JetStream is told
   * the task is in progress: otherwise its ack wait runs out, it is redelivered, and it runs twice.
   */
  const whenFree = async (m: JsMsg): Promise<void> => {
    if (used() < o.concurrency) return;
    const keep = setInterval(() => m.working(), Math.max(250, o.ackWaitMs / 3));
    queued++;
    try {
      await slotFree();
    } finally {
      queued--;
      clearInterval(keep);
    }
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
        batch = await consumer.fetch({ max_messages: Math.max(1, o.concurrency - used()), expires: PULL_EXPIRES_MS });
        batches.add(batch);
        if (stopping) await batch.close();
        for await (const m of batch) {
          backoff = 100;
          await whenFree(m);
          if (stopping) m.nak();
          else run(m);
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
      for (const w of slots.splice(0)) w();
      for (const b of batches) await b.close().catch(() => undefined);
      // Direct requests are refused from now on; every running task finishes and reports first.
      if (active.size > 0) await new Promise<void>((r) => (idle = r));
      clearInterval(beat);
      heartbeat(true);
      cancelSub.unsubscribe();
      directSub?.unsubscribe();
    })());
  return { id: o.id, offer, inFlight: () => running.size, taken: () => ({ ...counts }), drain, close: drain };
}
