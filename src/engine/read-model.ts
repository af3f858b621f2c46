/** @module engine/read-model — what reads see: live executions from memory, the rest from the store, histories folded from the journal. */
import { toEventView } from '../common/event-view.ts';
import { SETTLING_EVENTS, STALL_MS, type Supervisor } from './runtime/supervisor.ts';
import { ErrorCode, NotFoundError } from '../common/errors.ts';
import type { EventView, ExecutionView, Page } from '../common/execution.ts';
import { TERMINAL_STATUSES } from '../common/execution.ts';
import type { FlowDocument } from '../common/flow.ts';
import { LIMITS } from '../common/flow.ts';
import type { ExecutionRow } from '../store/types.ts';
import { isMachineDocument } from './code-machines/machine-info.ts';
import { executionMermaid } from './definitions/diagram.ts';
import { foldHistory, levelAtLeast } from './runtime/history.ts';
import { rowToView } from './runtime/live-execution.ts';
import { ID_PREFIX, type ExecutionKind } from './runtime/tasks.ts';
import type { ExecutionFilter, PageRequest } from './types.ts';

export class ReadModel {
  constructor(private readonly sup: Supervisor) {}

  async get(tenant: string, id: string, kind?: ExecutionKind) {
    return rowToView(await this.sup.row(tenant, id, kind));
  }

  async list(tenant: string, f: ExecutionFilter, page: PageRequest): Promise<Page<ExecutionView>> {
    // The queue first: a list right after an acknowledged change sees it.
    await this.sup.queue.flushed();
    const { kind, ...filter } = f;
    let rows = await this.sup.store.listExecutions({ tenant, ...filter, idPrefix: ID_PREFIX[kind ?? 'execution'], beforeId: page.cursor, limit: page.limit + 1 });
    // Running direct executions are not in the store yet: merged in id (creation) order.
    const direct = this.directMatching(tenant, f, page.cursor);
    if (direct.length > 0) rows = [...rows.filter((r) => !direct.some((d) => d.id === r.id)), ...direct].sort((a, b) => (a.id < b.id ? 1 : -1)).slice(0, page.limit + 1);
    const items = rows.slice(0, page.limit).map((r) => this.sup.live.get(r.id)?.toView() ?? rowToView(r));
    return { items, nextCursor: rows.length > page.limit ? (items[items.length - 1]?.id ?? null) : null };
  }

  async settled(tenant: string, id: string, waitMs: number): Promise<ExecutionView> {
    const first = await this.get(tenant, id);
    if (this.isSettled(first)) return first;
    return new Promise<ExecutionView>((resolve, reject) => {
      let done = false;
      const finish = (v: Promise<ExecutionView>) => {
        if (done) return;
        done = true;
        off();
        clearTimeout(timer);
        v.then(resolve, reject);
      };
      const off = this.sup.onEvent((e) => {
        if (e.executionId !== id || !SETTLING_EVENTS.has(e.type)) return;
        void this.get(tenant, id).then((v) => this.isSettled(v) && finish(Promise.resolve(v)), () => undefined);
      });
      const timer = setTimeout(() => finish(this.get(tenant, id)), waitMs);
    });
  }

  /** Finished, or blocked on a signal (a `wait` step is active): what `?wait=` waits for. */
  private isSettled(v: ExecutionView): boolean {
    if (TERMINAL_STATUSES.has(v.status)) return true;
    if (v.status !== 'waiting') return false;
    const types = this.sup.live.get(v.id)?.def.compiled.stepTypes ?? this.stepTypesOf(v);
    return v.currentSteps.some((s) => (types ? types.get(s) === 'wait' : true));
  }

  /** Step types of a passivated execution's registered definition (a one-off document's: unknown, undefined). */
  private stepTypesOf(v: ExecutionView): ReadonlyMap<string, string> | undefined {
    try {
      return this.sup.registry.load1(this.sup.registry.get(v.tenant, v.workflow, v.version)).compiled.stepTypes;
    } catch {
      return undefined;
    }
  }

  private directMatching(tenant: string, f: ExecutionFilter, beforeId: string | undefined): ExecutionRow[] {
    const out: ExecutionRow[] = [];
    const prefix = ID_PREFIX[f.kind ?? 'execution'];
    for (const rec of this.sup.live.values()) {
      if (!rec.direct || rec.committedSeq > 0 || rec.tenant !== tenant || !rec.id.startsWith(prefix)) continue;
      if (beforeId !== undefined && rec.id >= beforeId) continue;
      if (f.status && !f.status.includes(rec.status)) continue;
      if (f.workflow !== undefined && rec.workflow !== f.workflow) continue;
      if (f.parentId !== undefined && rec.parentId !== f.parentId) continue;
      if (f.createdAfter !== undefined && rec.createdAt < f.createdAfter) continue;
      if (f.createdBefore !== undefined && rec.createdAt >= f.createdBefore) continue;
      if (f.labels && Object.entries(f.labels).some(([k, v]) => rec.labels[k] !== v)) continue;
      out.push(rec.toRow());
    }
    return out;
  }

  private async history(tenant: string, id: string, kind?: ExecutionKind) {
    const row = await this.sup.row(tenant, id, kind);
    await this.sup.queue.flushed();
    const events = await this.sup.eventsOf(id, 0, LIMITS.maxEventsPerExecution);
    return { row, events, h: foldHistory(events) };
  }

  async steps(tenant: string, id: string, page: PageRequest) {
    return paginate((await this.history(tenant, id)).h.steps, page);
  }

  async attempts(tenant: string, id: string, stepId: string, page: PageRequest, kind?: ExecutionKind) {
    const { h } = await this.history(tenant, id, kind);
    const list = h.attempts.get(stepId);
    if (!list) throw new NotFoundError(ErrorCode.stepNotFound, `step ${stepId} has not started`);
    return paginate(list, page);
  }

  async stepAttempts(tenant: string, ids: readonly string[], stepId: string) {
    // The queue first, as `list`: a page read right after a change sees its events.
    await this.sup.queue.flushed();
    return this.sup.store.stepAttempts(tenant, ids, stepId);
  }

  async events(tenant: string, id: string, since: number, page: PageRequest): Promise<Page<EventView>> {
    const row = await this.sup.row(tenant, id);
    await this.sup.queue.flushed();
    const after = page.cursor !== undefined && /^\d+$/.test(page.cursor) ? Number(page.cursor) : since;
    const rows = await this.sup.eventsOf(id, after, page.limit + 1);
    const items = rows.slice(0, page.limit).map((e) => toEventView(e, row.workflow, row.tenant));
    return { items, nextCursor: rows.length > page.limit ? String(items[items.length - 1]?.seq) : null };
  }

  async logs(tenant: string, id: string, f: { level?: 'debug' | 'info' | 'warn' | 'error'; stepId?: string }, page: PageRequest) {
    const { h } = await this.history(tenant, id);
    return paginate(h.logs.filter((l) => (!f.level || levelAtLeast(l.level, f.level)) && (!f.stepId || l.stepId === f.stepId)), page);
  }

  async children(tenant: string, id: string, page: PageRequest) {
    await this.sup.row(tenant, id);
    await this.sup.queue.flushed();
    const rows = await this.sup.store.listExecutions({ tenant, parentId: id, beforeId: page.cursor, limit: page.limit + 1 });
    const items = rows.slice(0, page.limit).map((r) => ({ id: r.id, workflow: r.workflow, status: r.status, createdAt: rowToView(r).createdAt }));
    return { items, nextCursor: rows.length > page.limit ? (items[items.length - 1]?.id ?? null) : null };
  }

  async executionDiagram(tenant: string, id: string) {
    const { row, h } = await this.history(tenant, id);
    const stored = row.definition ?? this.sup.registry.get(tenant, row.workflow, row.version).document;
    // A machine's states are not steps: its diagram is the machine's own.
    if (isMachineDocument(stored)) return stored.diagram;
    const doc = stored as FlowDocument;
    const done = h.steps.filter((s) => s.status === 'completed' || s.status === 'skipped').map((s) => s.stepId);
    const active = h.steps.filter((s) => s.status === 'running' || s.status === 'waiting').map((s) => s.stepId);
    const failed = h.steps.filter((s) => s.status === 'failed' || s.status === 'cancelled').map((s) => s.stepId);
    return executionMermaid(doc, { done, active, failed });
  }

  async costs(tenant: string, id: string) {
    return (await this.history(tenant, id)).h.costs;
  }

  async status(tenant?: string) {
    const [counts, tasks] = await Promise.all([this.sup.store.countByStatus(tenant, ID_PREFIX.execution), this.sup.store.countByStatus(tenant, ID_PREFIX.task)]);
    const agents = { online: 0, busy: 0, offline: 0 };
    for (const a of this.sup.bus.agents()) agents[a.status]++;
    // Stalled: a step dispatched more than STALL_MS ago that no agent has taken (no agent of that kind is up).
    // Task ids are `<executionId>:<stepId>:<attempt>`; a passivated execution's tenant is read from its row.
    const now = this.sup.clock.now();
    const stale = [...this.sup.untaken].filter(([, at]) => now - at > STALL_MS).map(([taskId]) => taskId.slice(0, taskId.indexOf(':')));
    const tenantOf = async (id: string) => this.sup.live.get(id)?.tenant ?? (await this.sup.store.getExecution(id))?.tenant;
    const stalled = tenant === undefined ? stale.length : (await Promise.all(stale.map(tenantOf))).filter((t) => t === tenant).length;
    return {
      executions: counts, tasks, stalled, agents, bus: this.sup.bus.state(), store: 'ok', live: this.sup.live.size, passivated: this.sup.passivated, rebuilt: { ...this.sup.rebuilds }, timers: this.sup.timers.size,
      journal: { ...this.sup.queue.stats }, queuedByWorkflow: this.sup.gate.queues.queuedByWorkflow(tenant),
    };
  }

  async usage(tenant: string) {
    return { open: this.sup.open.of(tenant), executions: await this.sup.store.countByStatus(tenant, ID_PREFIX.execution), definitions: this.sup.registry.count(tenant) };
  }
}

function paginate<T>(all: readonly T[], page: PageRequest): Page<T> {
  const start = page.cursor !== undefined && /^\d+$/.test(page.cursor) ? Number(page.cursor) : 0;
  const items = all.slice(start, start + page.limit);
  return { items, nextCursor: start + page.limit < all.length ? String(start + page.limit) : null };
}
