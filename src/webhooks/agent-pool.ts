/** @module webhooks/agent-pool — one keep-alive agent per webhook whose sockets are pooled per checked address set (SSRF: a socket is reused only for the addresses it was checked for). */
import { Agent as HttpAgent, type AgentOptions } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';

/** Idle sockets are closed after this long (below the 5 s keep-alive of Node servers, which also send a hint the agent honours). */
export const WEBHOOK_FREE_SOCKET_TIMEOUT_MS = 4_000;

/**
 * The request option naming the addresses the guard checked for one attempt (sorted, comma-joined).
 * Node's agent serves a request a free socket of the same name, and creates a socket for a queued
 * request with the options of the socket that closed (`removeSocket`), so the name must carry the
 * checked set: then a pooled socket never serves an attempt whose check did not include its address.
 */
export const PINNED_OPTION = 'actorflowPinned';

export type PinnedAgent = HttpAgent;

export interface AgentPool {
  /** The webhook's agent for the protocol (created on first use); undefined once the pool is closed. */
  get(webhookId: string, https: boolean): PinnedAgent | undefined;
  /** Closes every socket of the webhook's agents (idle and in use). */
  drop(webhookId: string): void;
  /** Drops every agent; later `get` answers undefined (one connection per attempt). */
  close(): void;
}

export interface AgentPoolOptions {
  /** Sockets per webhook at most: its delivery concurrency. */
  readonly maxSockets: number;
  readonly freeSocketTimeoutMs?: number;
}

function pinnedName(base: string, options: object | undefined): string {
  const pinned = (options as Record<string, unknown> | undefined)?.[PINNED_OPTION];
  // No checked set: a name no pinned request shares.
  return `${base}|${typeof pinned === 'string' ? pinned : '-'}`;
}

function pinnedAgent(https: boolean, options: AgentOptions): PinnedAgent {
  const agent = https ? new HttpsAgent(options) : new HttpAgent(options);
  // Bound before Node's own getName: both the http and the https name gain the checked set.
  const base = agent.getName.bind(agent);
  agent.getName = (o) => pinnedName(base(o), o);
  return agent;
}

export function createAgentPool(opts: AgentPoolOptions): AgentPool {
  const options: AgentOptions = {
    keepAlive: true,
    maxSockets: opts.maxSockets,
    maxFreeSockets: opts.maxSockets,
    // Applies to idle sockets only (the agent destroys a free socket on timeout; an attempt has its own deadline).
    timeout: opts.freeSocketTimeoutMs ?? WEBHOOK_FREE_SOCKET_TIMEOUT_MS,
    scheduling: 'lifo',
  };
  const agents = new Map<string, { http?: PinnedAgent; https?: PinnedAgent }>();
  let closed = false;

  const drop = (webhookId: string): void => {
    const a = agents.get(webhookId);
    agents.delete(webhookId);
    a?.http?.destroy();
    a?.https?.destroy();
  };

  return {
    get: (webhookId, https) => {
      if (closed) return undefined;
      let a = agents.get(webhookId);
      if (a === undefined) agents.set(webhookId, (a = {}));
      if (https) return (a.https ??= pinnedAgent(true, options));
      return (a.http ??= pinnedAgent(false, options));
    },
    drop,
    close: () => {
      closed = true;
      for (const id of [...agents.keys()]) drop(id);
    },
  };
}
