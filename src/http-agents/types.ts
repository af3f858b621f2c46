/** @module http-agents/types — HTTP push agents: options, defaults, step error codes and the service interface (docs/agents.md, "HTTP push agents"). */
import type { AgentView, Bus } from '../bus/types.ts';
import type { StepError } from '../common/errors.ts';
import { LIMITS } from '../common/flow.ts';
import type { Logger } from '../common/logger.ts';
import type { HttpAgentRow, HttpAgentStore } from '../store/types.ts';

/** Tasks sent to one agent at once (answered or not) unless it says otherwise. */
export const DEFAULT_HTTP_AGENT_CONCURRENCY = 16;
/** How long an answer, a posted result or the next heartbeat may take unless the agent says otherwise. */
export const DEFAULT_HTTP_AGENT_TIMEOUT_MS = 30_000;
/**
 * Tasks the router of one kind takes from the bus at once, for every tenant's agents together: the
 * agents' own `concurrency` is what limits the POSTs; the rest wait in the router (src/http-agents/endpoints.ts).
 */
export const ROUTER_CAPACITY = 10_000;
/** Bytes of an agent's answer read at most: an output at the payload limit, with room for logs and costs. */
export const MAX_ANSWER_BYTES = 2 * LIMITS.maxPayloadBytes;
/** Name of the bus agent through which one kind's HTTP agents are served (listed in `/agents` as `http-push:<kind>`). */
export const ROUTER_PREFIX = 'http-push:';
export const routerName = (kind: string): string => `${ROUTER_PREFIX}${kind}`;

/** Codes of the step errors an attempt sent to an HTTP push agent fails with when the agent itself names none. */
export const HttpAgentErrorCode = {
  /** A 3xx, 4xx or 5xx answer (4xx other than 408/429: not retryable). */
  status: 'http_agent_status',
  /** No answer, result or heartbeat within the agent's `timeoutMs` (retryable). */
  timeout: 'http_agent_timeout',
  /** Connection refused or broken, the URL no longer resolves or is refused by the SSRF guard (retryable). */
  unreachable: 'http_agent_unreachable',
  /** A 2xx answer that is not `{ output, … }` JSON, or is over the size limit (not retryable). */
  badAnswer: 'http_agent_bad_answer',
  /** The server is shutting down: the attempt is sent again after the restart (retryable). */
  stopping: 'http_agent_stopping',
} as const;

/** A new HTTP agent (shape already validated by the route schema). */
export interface HttpAgentSpec {
  readonly name: string;
  readonly kinds: readonly string[];
  readonly url: string;
  readonly secret: string;
  readonly concurrency: number;
  readonly timeoutMs: number;
}

/** An HTTP agent as the agent list shows it: the registry's view, plus what was registered. */
export interface HttpAgentView extends AgentView {
  readonly url: string;
  readonly concurrency: number;
  readonly timeoutMs: number;
  /** The last characters of its secret (the secret itself is never shown again). */
  readonly secretHint: string;
  readonly createdAt: number;
}

/** A step log line or cost an agent sends with its answer or result. */
export interface PushedLog {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly message: string;
  readonly data?: unknown;
}
export interface PushedCost {
  readonly model?: string;
  readonly tokens?: number;
  readonly usd?: number;
}

/** The body of `POST /agent-tasks/{taskId}/result` (validated by its route): exactly one of `output` and `error`. */
export interface PushedResult {
  readonly output?: unknown;
  readonly error?: { readonly code: string; readonly message: string; readonly retryable?: boolean };
  readonly logs?: readonly PushedLog[];
  readonly costs?: readonly PushedCost[];
  /** Documents saved with an `output` (as `ctx.saveDocument` of the SDK). */
  readonly documents?: readonly unknown[];
}

/** How one attempt ended, from an answer or a posted result. */
export type PushOutcome = (
  | { readonly ok: true; readonly output: unknown; readonly documents?: unknown }
  | { readonly ok: false; readonly error: StepError }
) & { readonly logs?: readonly PushedLog[] | undefined; readonly costs?: readonly PushedCost[] | undefined };

export interface HttpAgentsOptions {
  readonly bus: Bus;
  readonly store: HttpAgentStore;
  readonly logger: Logger;
  /** URLs may point at private/loopback addresses (as webhooks: `ACTORFLOW_WEBHOOK_ALLOW_PRIVATE`). @default false */
  readonly allowPrivate?: boolean | undefined;
}

/**
 * HTTP push agents: registrations (tenant-scoped; another tenant's is `agent_not_found`), one bus
 * router per kind that POSTs each task of a tenant to one of that tenant's agents of the kind, and
 * the task tokens with which agents post results and heartbeats later.
 */
export interface HttpAgents {
  /** Loads the registrations and serves their kinds on the bus. Call it before the engine recovers (it dispatches). */
  start(): Promise<void>;
  /**
   * @throws ValidationError `agent_url_forbidden` (path `/url`) for a refused URL.
   * @throws ConflictError `agent_kind_taken` for a kind other agents serve (the router would take their tasks).
   */
  register(tenant: string, spec: HttpAgentSpec): Promise<HttpAgentView>;
  /** The tenant's HTTP agents, by id. */
  list(tenant: string): HttpAgentView[];
  get(tenant: string, id: string): HttpAgentView | undefined;
  /** Deletes it: tasks not sent yet wait for another agent; those it has keep their tokens until they end. @throws NotFoundError `agent_not_found` */
  remove(tenant: string, id: string): Promise<void>;
  /**
   * The result of a task, with the token it was sent with. Undefined for a stale or unknown token;
   * else resolves once the result is durable (true), or was not taken (false: the attempt ended meanwhile, or the commit failed).
   */
  complete(taskId: string, token: string, result: PushedResult): Promise<boolean> | undefined;
  /** Extends the task's deadline by its agent's `timeoutMs`: the new deadline (epoch ms), or undefined for a stale or unknown token. */
  heartbeat(taskId: string, token: string): number | undefined;
  /** Aborts what is in flight (those attempts are sent again after a restart), stops the routers. */
  close(): Promise<void>;
}

export type { HttpAgentRow };
