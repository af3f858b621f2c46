/**
 * @module agents/create-agent — the worker SDK (`actorflow/agent`): run a handler for agent kinds over NATS.
 * Tasks arrive two ways under one concurrency limit: sent to this agent directly by an engine (core NATS
 * request/reply, while it has a free slot) and pulled from the JetStream work queue (the backlog); the
 * protocol is described in src/bus/nats/subjects.ts.
 */
import { hostname } from 'node:os';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { splitKinds, type KindsOption } from '../bus/kind-definitions.ts';
import { startNatsWorker, type TakenCounts } from '../bus/nats/nats-worker.ts';
import { DEFAULT_ACK_WAIT_MS, DEFAULT_PREFIX, subjects } from '../bus/nats/subjects.ts';
import type { TaskHandler } from '../bus/types.ts';
import { ActorflowError } from '../common/errors.ts';
import { createPinoLogger, isLogLevel, type Logger } from '../common/logger.ts';

export type { KindDefinition, TaskContext, TaskHandler } from '../bus/types.ts';
export type { KindsOption } from '../bus/kind-definitions.ts';
export type { TakenCounts } from '../bus/nats/nats-worker.ts';
// Types of the machines dir's `agents` export (the same handlers, run inside the server).
export type { InProcessAgent, InProcessAgents, InProcessHandler } from './in-process-agents.ts';

export interface AgentOptions {
  /** NATS server(s), comma-separated. */
  readonly natsUrl: string;
  /**
   * Agent kinds served (a flow's `task` step names one in `agent`): a list, or each kind with what it
   * declares, `{ <kind>: { inputSchema?, outputSchema?, description? } }` (JSON Schemas, draft-07). The
   * declarations go with every heartbeat: `GET /task-definitions` shows them, and a step whose input
   * fails `inputSchema` fails with `input_invalid` before it is sent.
   */
  readonly kinds: KindsOption;
  /** Tasks run at once, whichever way they came (direct or from the queue). @default 16 */
  readonly concurrency?: number;
  /** Take tasks engines send directly (the fast path); false: only pull from the JetStream queue. @default true */
  readonly direct?: boolean;
  readonly handler: TaskHandler;
  /** @default `<hostname>-<pid>` */
  readonly name?: string;
  /** @default '0.0.0' */
  readonly version?: string;
  /** Subject prefix; must match the server's. @default 'actorflow' */
  readonly prefix?: string;
  /** A task whose agent stops answering is redelivered after this long. @default 10000 */
  readonly ackWaitMs?: number;
  /** Drain on SIGTERM/SIGINT, then exit 0. @default false */
  readonly handleSignals?: boolean;
  /** Where connection and consumer errors go. @default pino JSON lines on stderr at ACTORFLOW_LOG_LEVEL (info) */
  readonly logger?: Logger;
}

export interface Agent {
  readonly id: string;
  inFlight(): number;
  /** Tasks taken so far: directly from an engine, and from the JetStream queue. */
  taken(): TakenCounts;
  /** Stops taking tasks, finishes the running ones, then closes the connection. */
  close(): Promise<void>;
}

/** Thrown by a handler to fail the step at once, without retries. */
export class NonRetryableError extends ActorflowError {
  constructor(code: string, message: string) {
    super(code, message, { retryable: false });
    this.name = 'NonRetryableError';
  }
}

/**
 * Connects to NATS and serves `kinds`. The handler receives `{ executionId, stepId, attempt, input, signal, log, reportCost, traceparent }`;
 * `(executionId, stepId, attempt)` is the same on redelivery, so it can deduplicate side effects. `traceparent`
 * (W3C) puts the handler's own outgoing calls in the execution's trace, under the step attempt.
 * @example
 * const agent = await createAgent({ natsUrl: 'nats://127.0.0.1:4222', kinds: ['resize'], handler: async ({ input }) => resize(input) });
 * @example
 * await createAgent({ natsUrl, kinds: { resize: { inputSchema: { type: 'object', required: ['url'] }, description: 'Resizes an image' } }, handler });
 */
export async function createAgent(o: AgentOptions): Promise<Agent> {
  // A malformed declaration throws before anything connects.
  const { kinds, definitions } = splitKinds(o.kinds);
  const nc = await connect({ servers: o.natsUrl.split(',').map((x) => x.trim()), maxReconnectAttempts: -1, reconnectTimeWait: 250, waitOnFirstConnect: true, noAsyncTraces: true, name: 'actorflow-agent' });
  const name = o.name ?? `${hostname()}-${process.pid}`;
  const level = process.env.ACTORFLOW_LOG_LEVEL;
  const logger = o.logger ?? createPinoLogger({ level: isLogLevel(level) ? level : 'info', base: { agent: name } });
  const worker = await startNatsWorker({
    nc,
    js: jetstream(nc),
    jsm: await jetstreamManager(nc),
    subjects: subjects(o.prefix ?? DEFAULT_PREFIX),
    id: `ag_${name}_${Date.now().toString(36)}`,
    name,
    kinds,
    definitions,
    concurrency: o.concurrency ?? 16,
    version: o.version ?? '0.0.0',
    ackWaitMs: o.ackWaitMs ?? DEFAULT_ACK_WAIT_MS,
    handler: o.handler,
    ...(o.direct === undefined ? {} : { direct: o.direct }),
    onError: (err) => logger.error('agent error', { err: String(err) }),
  });
  logger.info('agent started', { agentId: worker.id, kinds });
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      await worker.drain();
      await nc.drain().catch(() => undefined);
    })());
  if (o.handleSignals) {
    const stop = () => void close().then(() => process.exit(0));
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  }
  return { id: worker.id, inFlight: worker.inFlight, taken: worker.taken, close };
}
