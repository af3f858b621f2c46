/**
 * @module http-agents/endpoints — the registered HTTP push agents by tenant and kind: which one a task
 * goes to (the least loaded with a free slot), the tasks waiting for one (FIFO per tenant and kind),
 * and each agent's keep-alive sockets and counts.
 */
import type { Agent } from 'node:http';
import type { AgentStatus } from '../bus/types.ts';
import type { HttpAgentRow } from '../store/types.ts';
import { type AgentPool, createAgentPool } from '../webhooks/agent-pool.ts';
import type { UrlVerdict } from '../webhooks/url-guard.ts';
import { HttpAgentErrorCode, type HttpAgentView, type PushOutcome } from './types.ts';

/** Outcomes that say nothing about the agent having answered. */
const UNANSWERED: ReadonlySet<string> = new Set([HttpAgentErrorCode.unreachable, HttpAgentErrorCode.timeout]);

/** One registered agent: its row, its load, its sockets, what it did since the server started. */
export class Endpoint {
  inFlight = 0;
  removed = false;
  private completed = 0;
  private failed = 0;
  /** Recent attempt durations (ring of 256) for p50. */
  private readonly durations: number[] = [];
  /** When it last answered (an answer, a posted result); its registration before that. */
  private lastSeenAt: number;
  /** False while its last attempt found no one answering (it is then listed `offline`). */
  private reachable = true;
  /** Keep-alive sockets, as many as it may have tasks in flight (per checked address set: agent-pool.ts). */
  private readonly pool: AgentPool;
  /** The SSRF guard's verdict when it cannot change (the URL's host is an IP address); else checked per task. */
  checked: UrlVerdict | undefined;

  constructor(readonly row: HttpAgentRow) {
    this.lastSeenAt = row.createdAt;
    this.pool = createAgentPool({ maxSockets: row.concurrency });
  }

  agentFor(https: boolean): Agent | undefined {
    return this.pool.get(this.row.id, https);
  }

  closeSockets(): void {
    this.pool.close();
  }

  record(o: PushOutcome, durationMs: number, now = Date.now()): void {
    if (o.ok) this.completed++;
    else this.failed++;
    if (this.durations.length >= 256) this.durations.shift();
    this.durations.push(durationMs);
    this.reachable = o.ok || !UNANSWERED.has(o.error.code);
    if (this.reachable) this.lastSeenAt = now;
  }

  view(): HttpAgentView {
    const r = this.row;
    const total = this.completed + this.failed;
    const sorted = this.durations.slice().sort((a, b) => a - b);
    const status: AgentStatus = !this.reachable ? 'offline' : this.inFlight >= r.concurrency ? 'busy' : 'online';
    return {
      id: r.id,
      name: r.name,
      kinds: [...r.kinds],
      capacity: r.concurrency,
      inFlight: this.inFlight,
      version: 'http',
      lastHeartbeatAt: this.lastSeenAt,
      status,
      stats: {
        completed: this.completed,
        failed: this.failed,
        failureRate: total === 0 ? 0 : this.failed / total,
        p50Ms: sorted.length === 0 ? null : (sorted[Math.floor((sorted.length - 1) / 2)] as number),
      },
      url: r.url,
      concurrency: r.concurrency,
      timeoutMs: r.timeoutMs,
      secretHint: `…${r.secret.slice(-4)}`,
      createdAt: r.createdAt,
    };
  }
}

interface Waiter {
  readonly resolve: (ep: Endpoint) => void;
  readonly reject: (reason: unknown) => void;
  readonly signal: AbortSignal;
  readonly onAbort: () => void;
}

const keyOf = (tenant: string, kind: string): string => `${tenant}\u0000${kind}`;

export class Endpoints {
  private readonly byId = new Map<string, Endpoint>();
  private readonly byKey = new Map<string, Endpoint[]>();
  private readonly kindCount = new Map<string, number>();
  private readonly waiting = new Map<string, Waiter[]>();

  get(id: string): Endpoint | undefined {
    return this.byId.get(id);
  }

  /** The tenant's agents, by id. */
  ofTenant(tenant: string): Endpoint[] {
    return [...this.byId.values()].filter((e) => e.row.tenant === tenant).sort((a, b) => (a.row.id < b.row.id ? -1 : 1));
  }

  /** Some tenant has an agent of `kind`. */
  serves(kind: string): boolean {
    return (this.kindCount.get(kind) ?? 0) > 0;
  }

  add(ep: Endpoint): void {
    this.byId.set(ep.row.id, ep);
    for (const kind of ep.row.kinds) {
      const key = keyOf(ep.row.tenant, kind);
      this.byKey.set(key, [...(this.byKey.get(key) ?? []), ep]);
      this.kindCount.set(kind, (this.kindCount.get(kind) ?? 0) + 1);
      this.serveWaiting(key);
    }
  }

  /** It gets no more tasks; its sockets close once the tasks it has ended. */
  remove(id: string): Endpoint | undefined {
    const ep = this.byId.get(id);
    if (ep === undefined) return undefined;
    this.byId.delete(id);
    ep.removed = true;
    for (const kind of ep.row.kinds) {
      const key = keyOf(ep.row.tenant, kind);
      const rest = (this.byKey.get(key) ?? []).filter((e) => e !== ep);
      if (rest.length === 0) this.byKey.delete(key);
      else this.byKey.set(key, rest);
      const n = (this.kindCount.get(kind) ?? 1) - 1;
      if (n === 0) this.kindCount.delete(kind);
      else this.kindCount.set(kind, n);
    }
    if (ep.inFlight === 0) ep.closeSockets();
    return ep;
  }

  /**
   * A slot of the least loaded agent of the tenant for the kind (in-flight / concurrency), at once or
   * when one frees up or registers; rejects with the signal's reason when it aborts first.
   */
  acquire(tenant: string, kind: string, signal: AbortSignal): Promise<Endpoint> {
    const key = keyOf(tenant, kind);
    const ep = this.waiting.has(key) ? undefined : this.pick(key);
    if (ep !== undefined) {
      ep.inFlight++;
      return Promise.resolve(ep);
    }
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      const w: Waiter = {
        resolve,
        reject,
        signal,
        onAbort: () => {
          const q = this.waiting.get(key);
          const i = q?.indexOf(w) ?? -1;
          if (q !== undefined && i >= 0) q.splice(i, 1);
          if (q?.length === 0) this.waiting.delete(key);
          reject(signal.reason);
        },
      };
      signal.addEventListener('abort', w.onAbort, { once: true });
      const q = this.waiting.get(key);
      if (q === undefined) this.waiting.set(key, [w]);
      else q.push(w);
    });
  }

  /** The slot is free again: the tasks waiting for an agent of its tenant and kinds get it first. */
  release(ep: Endpoint): void {
    ep.inFlight--;
    if (ep.removed) {
      if (ep.inFlight === 0) ep.closeSockets();
      return;
    }
    for (const kind of ep.row.kinds) this.serveWaiting(keyOf(ep.row.tenant, kind));
  }

  /** Closes every agent's sockets (shutdown; waiting tasks were aborted by their signals). */
  closeAll(): void {
    for (const ep of this.byId.values()) ep.closeSockets();
  }

  private pick(key: string): Endpoint | undefined {
    let best: Endpoint | undefined;
    let bestLoad = 1;
    for (const e of this.byKey.get(key) ?? []) {
      const load = e.inFlight / e.row.concurrency;
      if (load < bestLoad) {
        best = e;
        bestLoad = load;
      }
    }
    return best;
  }

  private serveWaiting(key: string): void {
    const q = this.waiting.get(key);
    while (q !== undefined && q.length > 0) {
      const ep = this.pick(key);
      if (ep === undefined) return;
      const w = q.shift() as Waiter;
      w.signal.removeEventListener('abort', w.onAbort);
      ep.inFlight++;
      w.resolve(ep);
    }
    this.waiting.delete(key);
  }
}
