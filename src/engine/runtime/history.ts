/** @module engine/runtime/history — steps, attempts, logs and costs folded from an execution's journal. */
import { iso } from '../../common/clock.ts';
import type { AttemptView, EventRecord, LogView, StepView } from '../../common/execution.ts';
import type { CostsView } from '../types.ts';

interface StepAcc {
  view: StepView;
  attempts: AttemptView[];
  startedMs: Map<number, number>;
}

export interface History {
  steps: StepView[];
  attempts: Map<string, AttemptView[]>;
  logs: LogView[];
  costs: CostsView;
}

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;

export function foldHistory(events: readonly EventRecord[]): History {
  const steps = new Map<string, StepAcc>();
  const logs: LogView[] = [];
  const costs: CostsView = { total: { tokens: 0, usd: 0 }, steps: [] };
  const addCosts = (stepId: string, attempt: number, list: unknown) => {
    if (!Array.isArray(list)) return;
    for (const c of list as { model?: string | null; tokens?: number; usd?: number }[]) {
      const tokens = c.tokens ?? 0;
      const usd = c.usd ?? 0;
      costs.steps.push({ stepId, attempt, model: c.model ?? null, tokens, usd });
      costs.total.tokens += tokens;
      costs.total.usd += usd;
    }
  };
  /** An attempt's end (completed, retrying or failed): the step's agent, the attempt's outcome and its costs. */
  const endAttempt = (acc: StepAcc, attempt: number, status: AttemptView['status'], ts: number, d: Record<string, unknown>) => {
    if (typeof d.agentId === 'string') acc.view.agentId = d.agentId;
    addCosts(acc.view.stepId, attempt, d.costs);
    const a = acc.attempts.find((x) => x.attempt === attempt);
    if (!a) return;
    a.status = status;
    a.finishedAt = iso(ts);
    a.durationMs = ts - (acc.startedMs.get(attempt) ?? ts);
    if (typeof d.agentId === 'string') a.agentId = d.agentId;
    if (status === 'completed') a.output = d.output ?? null;
    else a.error = d.error ?? null;
  };
  for (const e of events) {
    const d = e.data;
    const id = e.stepId;
    const attempt = typeof d.attempt === 'number' ? d.attempt : 1;
    if (e.type === 'step.log') {
      logs.push({ timestamp: iso(e.ts) as string, level: d.level as LogView['level'], message: String(d.message ?? ''), stepId: id, attempt, data: d.data ?? null });
      continue;
    }
    if (e.type === 'workflow.cancelled' || e.type === 'workflow.failed' || e.type === 'workflow.timed_out') {
      for (const acc of steps.values()) {
        if (acc.view.status !== 'running' && acc.view.status !== 'waiting') continue;
        acc.view.status = 'cancelled';
        acc.view.finishedAt = iso(e.ts);
        acc.view.waitingFor = null;
        for (const a of acc.attempts) if (a.status === 'running') endAttempt(acc, a.attempt, 'cancelled', e.ts, {});
      }
      continue;
    }
    if (!id) continue;
    let acc = steps.get(id);
    if (e.type === 'workflow.step.started') {
      if (!acc) {
        acc = {
          view: { stepId: id, type: String(d.type), status: 'running', attempts: 0, startedAt: iso(e.ts), finishedAt: null, output: null, error: null, agentId: null, waitingFor: null },
          attempts: [],
          startedMs: new Map(),
        };
        steps.set(id, acc);
      }
      acc.view.status = d.type === 'wait' || d.type === 'sleep' ? 'waiting' : 'running';
      acc.view.attempts = attempt;
      acc.view.finishedAt = null;
      acc.view.waitingFor = d.type === 'wait' ? String(d.signal) : null;
      acc.startedMs.set(attempt, e.ts);
      if (d.type === 'task' || d.type === 'workflow') {
        acc.attempts.push({ attempt, status: 'running', startedAt: iso(e.ts) as string, finishedAt: null, durationMs: null, agentId: null, output: null, error: null });
      }
      continue;
    }
    if (!acc) continue;
    switch (e.type) {
      case 'agent.selected': {
        // The agent that took the attempt (the latest one on a redelivery); a result names it again.
        const a = acc.attempts.find((x) => x.attempt === attempt);
        if (a?.status === 'running' && typeof d.agentId === 'string') {
          a.agentId = d.agentId;
          acc.view.agentId = d.agentId;
        }
        break;
      }
      case 'workflow.step.completed':
        acc.view.status = 'completed';
        acc.view.output = d.output ?? null;
        acc.view.error = null;
        acc.view.finishedAt = iso(e.ts);
        acc.view.waitingFor = null;
        endAttempt(acc, attempt, 'completed', e.ts, d);
        break;
      case 'workflow.step.retrying':
        acc.view.error = d.error ?? null;
        endAttempt(acc, attempt, 'failed', e.ts, d);
        break;
      case 'workflow.step.failed':
        acc.view.status = d.recovery === 'skip' ? 'skipped' : 'failed';
        acc.view.error = d.error ?? null;
        acc.view.finishedAt = iso(e.ts);
        acc.view.waitingFor = null;
        endAttempt(acc, attempt, 'failed', e.ts, d);
        break;
      default:
        break;
    }
  }
  const attempts = new Map<string, AttemptView[]>();
  for (const [id, acc] of steps) attempts.set(id, acc.attempts);
  return { steps: [...steps.values()].map((a) => a.view), attempts, logs, costs };
}

/** Logs at `level` and above. */
export function levelAtLeast(level: LogView['level'], min: LogView['level']): boolean {
  return LEVELS.indexOf(level) >= LEVELS.indexOf(min);
}
