/**
 * @module bus/agent-registry — agents seen on the bus: heartbeats, status, step counts and failure rate;
 * for the direct dispatch path, which agent has a free slot for a kind right now; and what the agents
 * of a kind declare about it (its schemas).
 */
import { readKindDefinitions } from './kind-definitions.ts';
import type { AgentEvent, AgentStatus, AgentView, Heartbeat, KindDefinition } from './types.ts';

interface Entry {
  hb: Heartbeat;
  lastAt: number;
  status: AgentStatus;
  completed: number;
  failed: number;
  /** Recent step durations (ring of 256) for p50. */
  durations: number[];
  /** Tasks this bus sent the agent directly and has no result of yet (counted at send time). */
  held: number;
  /** No direct task until its next heartbeat (it refused one, or did not answer). */
  suspended: boolean;
  /** Queue-path tasks it took (`taken`) minus those reported, since its last heartbeat. */
  queueDelta: number;
  /** The heartbeat `definitions` as received (an in-process agent sends the same object every time), and their JSON once read. */
  rawDefinitions: unknown;
  definitionsJson: string;
}

/** What an agent runs right now, by the path that brought it. */
export interface AgentLoad {
  readonly inFlight: number;
  readonly inFlightDirect: number;
}

export class AgentRegistry {
  private readonly agents = new Map<string, Entry>();
  private readonly listeners = new Set<(e: AgentEvent) => void>();
  /** Agents in this process: their load read live instead of from the last heartbeat. */
  private readonly live = new Map<string, () => AgentLoad>();
  /** Kind → its declaration (see definition()); rebuilt on first use after a change. */
  private byKind = new Map<string, KindDefinition>();
  private byKindStale = false;

  constructor(
    private readonly now: () => number,
    private readonly offlineAfterMs: number,
  ) {}

  onEvent(l: (e: AgentEvent) => void): () => void {
    this.listeners.add(l);
    return () => void this.listeners.delete(l);
  }

  private fire(e: AgentEvent): void {
    for (const l of this.listeners) l(e);
  }

  heartbeat(received: Heartbeat): void {
    const at = this.now();
    const e = this.agents.get(received.id);
    const hb = this.withDefinitions(received, e);
    const status: AgentStatus = hb.leaving ? 'offline' : hb.inFlight >= hb.capacity ? 'busy' : 'online';
    if (!e) {
      const entry: Entry = {
        hb, lastAt: at, status, completed: 0, failed: 0, durations: [], held: 0, suspended: false, queueDelta: 0,
        rawDefinitions: received.definitions, definitionsJson: JSON.stringify(hb.definitions ?? null),
      };
      this.agents.set(hb.id, entry);
      this.byKindStale = true;
      this.fire({ type: 'agent.registered', agent: this.view(entry) });
      return;
    }
    e.hb = hb;
    e.lastAt = at;
    e.suspended = false;
    e.queueDelta = 0;
    this.setStatus(e, status);
  }

  /**
   * The heartbeat with its `definitions` read defensively, and the same object as before while they are
   * unchanged: the engine's compiled validators are keyed by it (engine/kind-inputs.ts).
   */
  private withDefinitions(hb: Heartbeat, e: Entry | undefined): Heartbeat {
    const { definitions: raw, ...rest } = hb;
    if (e !== undefined && raw === e.rawDefinitions) return e.hb.definitions === undefined ? rest : { ...rest, definitions: e.hb.definitions };
    const read = readKindDefinitions(raw, hb.kinds);
    if (e !== undefined) {
      const json = JSON.stringify(read ?? null);
      e.rawDefinitions = raw;
      if (json === e.definitionsJson) return e.hb.definitions === undefined ? rest : { ...rest, definitions: e.hb.definitions };
      e.definitionsJson = json;
      this.byKindStale = true;
    }
    return read === undefined ? rest : { ...rest, definitions: read };
  }

  /**
   * What is declared about `kind`: by the most recently started agent of the kind that declares it,
   * among the agents not offline; when none serves the kind now, as its agents last declared it (a
   * queued task is checked against that). Undefined when nothing is declared.
   */
  definition(kind: string): KindDefinition | undefined {
    if (this.byKindStale) this.rebuildDefinitions();
    return this.byKind.get(kind);
  }

  private rebuildDefinitions(): void {
    const best = new Map<string, { e: Entry; def: KindDefinition }>();
    const rank = (e: Entry) => (e.status === 'offline' ? 0 : 1);
    // Map order is first-seen order: among equals the later agent wins.
    for (const e of this.agents.values()) {
      const defs = e.hb.definitions;
      if (defs === undefined) continue;
      for (const [kind, def] of Object.entries(defs)) {
        const cur = best.get(kind);
        if (cur === undefined || rank(e) > rank(cur.e) || (rank(e) === rank(cur.e) && e.hb.startedAt >= cur.e.hb.startedAt)) best.set(kind, { e, def });
      }
    }
    // A kind that agents not offline serve without declaring anything has no declaration.
    for (const e of this.agents.values()) {
      if (e.status === 'offline') continue;
      for (const kind of e.hb.kinds) {
        const cur = best.get(kind);
        if (cur !== undefined && cur.e.status === 'offline') best.delete(kind);
      }
    }
    this.byKind = new Map([...best].map(([kind, { def }]) => [kind, def]));
    this.byKindStale = false;
  }

  private setStatus(e: Entry, status: AgentStatus): void {
    if (e.status === status) return;
    const from = e.status;
    if ((from === 'offline') !== (status === 'offline')) this.byKindStale = true;
    e.status = status;
    this.fire({ type: 'agent.status.changed', agent: this.view(e), from });
  }

  /** Marks agents whose heartbeats stopped as offline (`agent.lost`). */
  sweep(): void {
    const at = this.now();
    for (const e of this.agents.values()) {
      if (e.status === 'offline' || at - e.lastAt <= this.offlineAfterMs) continue;
      this.setStatus(e, 'offline');
      this.fire({ type: 'agent.lost', agent: this.view(e) });
    }
  }

  remove(id: string): void {
    const e = this.agents.get(id);
    if (e) this.setStatus(e, 'offline');
  }

  recordResult(agentId: string, ok: boolean, durationMs: number): void {
    const e = this.agents.get(agentId);
    if (!e) return;
    if (ok) e.completed++;
    else e.failed++;
    if (e.durations.length >= 256) e.durations.shift();
    e.durations.push(durationMs);
  }

  /**
   * The agent to send a `kind` task to directly: online (not offline by heartbeats), announcing the direct
   * path, not suspended, with a free slot by this count: what it runs from the queue (at its last heartbeat,
   * `inFlight - inFlightDirect`, plus `taken` minus results since; read live for an agent in this process)
   * plus what this bus holds on it now. An agent of this process with a free slot comes first: it takes the
   * task without a network hop, and an agent elsewhere may be stopped without having missed a heartbeat yet
   * (a paused node's agent left a task unanswered, then its pending fetch held it for the ack wait). Then
   * least loaded (in-flight / capacity) first; among equals the first seen (a warm process).
   */
  pickDirect(kind: string): string | undefined {
    let best: Entry | undefined;
    let bestLoad = 1;
    let bestLocal = false;
    for (const e of this.agents.values()) {
      if (e.status === 'offline' || e.suspended || e.hb.direct !== true || e.hb.capacity <= 0 || !e.hb.kinds.includes(kind)) continue;
      const live = this.live.get(e.hb.id)?.();
      const fromQueue = live ? live.inFlight - live.inFlightDirect : Math.max(0, e.hb.inFlight - (e.hb.inFlightDirect ?? 0) + e.queueDelta);
      const used = e.held + fromQueue;
      if (used >= e.hb.capacity) continue;
      const load = used / e.hb.capacity;
      const local = live !== undefined;
      if ((local && !bestLocal) || (local === bestLocal && load < bestLoad)) {
        best = e;
        bestLoad = load;
        bestLocal = local;
      }
    }
    return best?.hb.id;
  }

  /** One more (`+1`) or one fewer (`-1`) task held directly on an agent. */
  hold(id: string, delta: 1 | -1): void {
    const e = this.agents.get(id);
    if (e) e.held = Math.max(0, e.held + delta);
  }

  /** A task it took from the queue (`+1`, its `taken`) or reported (`-1`, its result). */
  queueTaken(id: string, delta: 1 | -1): void {
    const e = this.agents.get(id);
    if (e) e.queueDelta += delta;
  }

  /** An agent of this process: `load` is read at each pick (null: forget it). */
  attachLive(id: string, load: (() => AgentLoad) | null): void {
    if (load) this.live.set(id, load);
    else this.live.delete(id);
  }

  /** No direct task to this agent until it sends another heartbeat. */
  suspend(id: string): void {
    const e = this.agents.get(id);
    if (e) e.suspended = true;
  }

  private view(e: Entry): AgentView {
    const total = e.completed + e.failed;
    const sorted = e.durations.slice().sort((a, b) => a - b);
    const { leaving: _l, startedAt: _s, direct: _d, inFlightDirect: _i, ...info } = e.hb;
    return {
      ...info,
      lastHeartbeatAt: e.lastAt,
      status: e.status,
      stats: {
        completed: e.completed,
        failed: e.failed,
        failureRate: total === 0 ? 0 : e.failed / total,
        p50Ms: sorted.length === 0 ? null : (sorted[Math.floor((sorted.length - 1) / 2)] as number),
      },
    };
  }

  list(): AgentView[] {
    return [...this.agents.values()].map((e) => this.view(e));
  }

  get(id: string): AgentView | undefined {
    const e = this.agents.get(id);
    return e && this.view(e);
  }
}
