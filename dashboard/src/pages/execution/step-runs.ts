/**
 * @module dashboard/pages/execution/step-runs — an execution's events folded into its steps' attempts: when each
 * started and ended, the backoff before the next one, input, output, error, agent and cost. The waterfall and the
 * steps' details draw from it, so they need no request of their own and follow the live events.
 */
import type { EventView } from '../../../../src/client/index.ts';

export interface Cost {
  readonly model: string | null;
  readonly tokens: number;
  readonly usd: number;
}

export type AttemptStatus = 'running' | 'waiting' | 'completed' | 'failed' | 'cancelled';

export interface AttemptRun {
  readonly attempt: number;
  readonly startMs: number;
  endMs: number | null;
  status: AttemptStatus;
  agentId: string | null;
  input: unknown;
  output: unknown;
  error: unknown;
  costs: Cost[];
  /** A failed attempt that is retried: the backoff before the next attempt (`workflow.step.retrying`). */
  retryDelayMs: number | null;
}

export interface StepRun {
  readonly stepId: string;
  readonly type: string;
  /** Task steps: the agent kind; workflow steps: the child workflow; wait steps: the signal. */
  target: string | null;
  readonly attempts: AttemptRun[];
}

export interface Runs {
  /** In start order. */
  readonly steps: readonly StepRun[];
  /** The first event's time, and the terminal event's (null while the execution is open). */
  readonly startMs: number | null;
  readonly endMs: number | null;
}

const TERMINAL = new Set(['workflow.completed', 'workflow.failed', 'workflow.cancelled', 'workflow.timed_out']);

export function foldRuns(events: readonly EventView[]): Runs {
  const steps = new Map<string, StepRun>();
  let startMs: number | null = null;
  let endMs: number | null = null;
  for (const e of events) {
    const at = Date.parse(e.timestamp);
    startMs ??= at;
    const d = e.data;
    if (TERMINAL.has(e.type)) {
      endMs = at;
      // What still ran was cancelled with the execution (as the server's step view says).
      for (const s of steps.values()) for (const a of s.attempts) if (a.endMs === null) Object.assign(a, { endMs: at, status: 'cancelled' });
      continue;
    }
    if (e.type === 'workflow.retried' || e.type === 'workflow.started') endMs = null;
    if (e.stepId === undefined) continue;
    const attempt = typeof d['attempt'] === 'number' ? d['attempt'] : 1;
    let step = steps.get(e.stepId);
    if (e.type === 'workflow.step.started') {
      const type = String(d['type'] ?? 'task');
      if (step === undefined) steps.set(e.stepId, (step = { stepId: e.stepId, type, target: null, attempts: [] }));
      step.target = str(d['agent']) ?? str(d['workflow']) ?? str(d['signal']) ?? step.target;
      step.attempts.push({
        attempt,
        startMs: at,
        endMs: null,
        status: type === 'wait' || type === 'sleep' ? 'waiting' : 'running',
        agentId: null,
        input: d['input'],
        output: undefined,
        error: undefined,
        costs: [],
        retryDelayMs: null,
      });
      continue;
    }
    const run = step?.attempts.findLast((a) => a.attempt === attempt);
    if (run === undefined) continue;
    if (typeof d['agentId'] === 'string') run.agentId = d['agentId'];
    switch (e.type) {
      case 'workflow.step.completed':
        Object.assign(run, { endMs: at, status: 'completed', output: d['output'] });
        run.costs.push(...costs(d['costs']));
        break;
      case 'workflow.step.retrying':
        Object.assign(run, { endMs: at, status: 'failed', error: d['error'], retryDelayMs: typeof d['delayMs'] === 'number' ? d['delayMs'] : null });
        run.costs.push(...costs(d['costs']));
        break;
      case 'workflow.step.failed':
        Object.assign(run, { endMs: at, status: 'failed', error: d['error'] });
        run.costs.push(...costs(d['costs']));
        break;
      default:
        break;
    }
  }
  return { steps: [...steps.values()], startMs, endMs };
}

/** The sum of costs (tokens and dollars). */
export function totalCost(list: readonly Cost[]): { tokens: number; usd: number } {
  return list.reduce((t, c) => ({ tokens: t.tokens + c.tokens, usd: t.usd + c.usd }), { tokens: 0, usd: 0 });
}

/** "1,200 tokens · $0.0042", or null when nothing was spent. */
export function costText(list: readonly Cost[]): string | null {
  if (list.length === 0) return null;
  const t = totalCost(list);
  const parts = [t.tokens > 0 ? `${t.tokens.toLocaleString('en')} tokens` : null, t.usd > 0 ? `$${t.usd.toFixed(t.usd < 1 ? 4 : 2)}` : null].filter((p) => p !== null);
  return parts.length === 0 ? null : parts.join(' · ');
}

function costs(value: unknown): Cost[] {
  if (!Array.isArray(value)) return [];
  return value.map((c: { model?: unknown; tokens?: unknown; usd?: unknown }) => ({
    model: typeof c.model === 'string' ? c.model : null,
    tokens: typeof c.tokens === 'number' ? c.tokens : 0,
    usd: typeof c.usd === 'number' ? c.usd : 0,
  }));
}

function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}
