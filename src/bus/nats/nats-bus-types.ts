/** @module bus/nats/nats-bus-types — what the NATS bus (nats-bus.ts) offers and takes: its options, result routing and counts. */
import type { Logger } from '../../common/logger.ts';
import type { AgentRegistry } from '../agent-registry.ts';
import type { Bus } from '../types.ts';

export interface NatsBusOptions {
  /** One URL or several, comma-separated. */
  readonly servers: string;
  /** @default 'actorflow' */
  readonly prefix?: string;
  /** @default 10000 */
  readonly ackWaitMs?: number;
  /** A direct request unanswered for this long goes to the JetStream queue; 0 = never dispatch directly. @default 100 */
  readonly directReplyMs?: number;
  readonly logger?: Logger;
  /** Replicas of the task stream (a cluster's: its journal's, so the queue outlives a server). @default 1 */
  readonly replicas?: number;
  /** Runs the JetStream setup (a cluster's retries it while its servers elect leaders). @default once */
  readonly setup?: <T>(attempt: () => Promise<T>) => Promise<T>;
  /**
   * Cluster mode: every dispatch names its partition's results subject (`resultsOf`), which only the node
   * serving the partition listens to (`serveResults`). Unset: one results subject for every engine.
   */
  readonly results?: ResultRouting;
  /**
   * Publish every committed event on `<prefix>.events.…` (docs/agent-protocol.md, "Events"). Off: none are, which
   * spares the main thread ~10% under load when nobody subscribes (bench/RESULTS.md). @default true
   */
  readonly publishEvents?: boolean;
}

/** How results find the node that serves an execution's partition. */
export interface ResultRouting {
  /** The partition of an execution id (or a standalone task's `tk_` id). */
  partitionOf(executionId: string): number;
}

/** How this bus's dispatches went, since it started. */
export interface DispatchCounts {
  /** Taken by an agent on the direct path (core request/reply). */
  readonly direct: number;
  /** Published to the JetStream work queue: every other dispatch, fallback and re-dispatch. */
  readonly queued: number;
  /** Direct requests the agent refused (full, draining, cancelled first): then queued unless cancelled. */
  readonly refused: number;
  /** Direct requests with no answer in time (or no responder): then queued unless cancelled. */
  readonly unanswered: number;
  /** Direct tasks of an agent that left or was lost before reporting them: queued again, same task id and attempt. */
  readonly redispatched: number;
  /** Tasks held directly by agents right now (sent, not reported). */
  readonly holding: number;
}

export interface NatsBus extends Bus {
  readonly registry: AgentRegistry;
  dispatchCounts(): DispatchCounts;
  /** Cluster mode: take the results of `partition` (this node serves it now). Idempotent. */
  serveResults(partition: number): void;
  /** Cluster mode: stop (no longer served here); a result of it still being applied is not answered. Idempotent. */
  stopResults(partition: number): void;
}
