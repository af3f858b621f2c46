/**
 * @module dashboard/pages/execution/waterfall — a Gantt of the steps' attempts over the execution's time, plain DOM:
 * one row per step, one bar per attempt (coloured by outcome), the backoff before a retry as a hatched gap; every bar
 * says its times and outcome in its title and accessible name.
 */
import { fill, h } from '../../dom.ts';
import { clock, span } from './format.ts';
import type { AttemptRun, Runs, StepRun } from './step-runs.ts';

const TICKS = 4;

export function waterfall(): { readonly element: HTMLElement; draw(runs: Runs, now: number): void } {
  const axis = h('div', { class: 'wf-axis', 'aria-hidden': 'true' });
  const rows = h('div', { class: 'wf-rows', role: 'list' });
  const element = h('div', { class: 'waterfall', id: 'waterfall' }, axis, rows);
  const draw = (runs: Runs, now: number): void => {
    if (runs.startMs === null || runs.steps.length === 0) {
      fill(axis);
      fill(rows, h('p', { class: 'empty' }, 'No step has started yet.'));
      return;
    }
    const t0 = runs.startMs;
    const total = Math.max(1, (runs.endMs ?? now) - t0);
    const at = (ms: number): number => (Math.min(Math.max(ms - t0, 0), total) / total) * 100;
    fill(
      axis,
      Array.from({ length: TICKS + 1 }, (_, i) => h('span', { style: `left:${(i / TICKS) * 100}%` }, i === 0 ? clock(t0) : `+${span((total * i) / TICKS)}`)),
    );
    fill(
      rows,
      runs.steps.map((s) => row(s, at, now)),
    );
  };
  return { element, draw };
}

function row(step: StepRun, at: (ms: number) => number, now: number): HTMLElement {
  const segments: HTMLElement[] = [];
  step.attempts.forEach((a, i) => {
    segments.push(bar(step, a, at, now));
    const next = step.attempts[i + 1];
    if (a.retryDelayMs === null || a.endMs === null) return;
    // The backoff: until the next attempt started, or (still waiting) until the retry is due.
    const end = next?.startMs ?? Math.max(now, a.endMs + a.retryDelayMs);
    const due = next === undefined ? ` (retry due ${clock(a.endMs + a.retryDelayMs)})` : '';
    const label = `backoff ${span(end - a.endMs)} after attempt ${a.attempt}${due}`;
    segments.push(h('span', { class: 'wf-gap', role: 'img', 'aria-label': label, title: label, style: position(at(a.endMs), at(end)) }));
  });
  return h(
    'div',
    { class: 'wf-row', role: 'listitem', 'data-step': step.stepId, 'data-attempts': step.attempts.length },
    h('span', { class: 'wf-label mono', title: `${step.stepId} (${step.type}${step.target === null ? '' : `: ${step.target}`})` }, step.stepId, step.attempts.length > 1 ? h('span', { class: 'muted' }, ` ×${step.attempts.length}`) : null),
    h('span', { class: 'wf-track' }, segments),
  );
}

function bar(step: StepRun, a: AttemptRun, at: (ms: number) => number, now: number): HTMLElement {
  const end = a.endMs ?? now;
  const label = [
    `${step.stepId} attempt ${a.attempt}: ${a.status}`,
    `${clock(a.startMs)} → ${a.endMs === null ? 'now' : clock(a.endMs)} (${span(end - a.startMs)})`,
    a.agentId === null ? null : `agent ${a.agentId}`,
  ]
    .filter((x) => x !== null)
    .join(', ');
  return h('span', { class: `wf-bar ${a.status}`, role: 'img', 'aria-label': label, title: label, 'data-attempt': a.attempt, 'data-status': a.status, style: position(at(a.startMs), at(end)) });
}

function position(from: number, to: number): string {
  return `left:${from.toFixed(3)}%;width:${Math.max(0, to - from).toFixed(3)}%`;
}
