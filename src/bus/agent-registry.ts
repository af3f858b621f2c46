/** @module bus/agent-registry — agents seen on the bus: heartbeats, status, step counts and failure rate. */
import type { AgentInfo, Heartbeat } from './types.ts';

import type { AgentEvent, AgentStatus, AgentView } from './types.ts';

interface Entry {
  hb: Heartbeat;
  lastAt: number;
  status: AgentStatus;
  completed: number;
  failed: number;
  /** Recent step durations (ring of 256) for p50. */
  durations: number[];
}

export class AgentRegistry {
  private readonly agents = new Map<string, Entry>();
  private readonly listeners = new Set<(e: AgentEvent) => void>();

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

  heartbeat(hb: Heartbeat): void {
    const at = this.now();
    const e = this.agents.get(hb.id);
    const status: AgentStatus = hb.leaving ? 'offline' : hb.inFlight >= hb.capacity ? 'busy' : 'online';
    if (!e) {
      const entry: Entry = { hb, lastAt: at, status, completed: 0, failed: 0, durations: [] };
      this.agents.set(hb.id, entry);
      this.fire({ type: 'agent.registered', agent: this.view(entry) });
      return;
    }
    e.hb = hb;
    e.lastAt = at;
    this.setStatus(e, status);
  }

  private setStatus(e: Entry, status: AgentStatus): void {
    if (e.status === status) return;
    const from = e.status;
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

  private view(e: Entry): AgentView {
    const total = e.completed + e.failed;
    const sorted = e.durations.slice().sort((a, b) => a - b);
    const { leaving: _l, startedAt: _s, ...info } = e.hb;
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
