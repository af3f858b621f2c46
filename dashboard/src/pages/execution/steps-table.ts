/**
 * @module dashboard/pages/execution/steps-table — the steps (the server's `/steps` view) with what the events add:
 * cost, and behind a toggle the step's input, output or error and every attempt. A running task step whose agent
 * kind no agent serves says so. Rows are keyed by step and redrawn only when they change: an opened row stays open.
 */
import type { StepView } from '../../../../src/client/index.ts';
import { badge, duration, fill, h, time } from '../../dom.ts';
import { jsonView } from '../../json-view.ts';
import { clock, span } from './format.ts';
import { costText, type AttemptRun, type StepRun } from './step-runs.ts';

const COLUMNS = ['Step', 'Type', 'Status', 'Attempts', 'Agent', 'Started · took', 'Cost', 'Details'];

interface Row {
  readonly main: HTMLTableRowElement;
  readonly details: HTMLTableRowElement;
  readonly toggle: HTMLButtonElement;
  drawn: string;
  detailsDrawn: string;
  /** What the row was last drawn with: opening it draws the details from this. */
  step?: StepView;
  run?: StepRun | undefined;
}

/** `served`: the kinds some agent serves now (null until known: no hint rather than a wrong one). */
export function stepsTable(): { readonly element: HTMLElement; draw(steps: readonly StepView[], runs: readonly StepRun[], served: ReadonlySet<string> | null): void } {
  const body = h('tbody');
  const empty = h('tr', {}, h('td', { colspan: COLUMNS.length, class: 'empty' }, 'No step has started yet.'));
  const rows = new Map<string, Row>();
  body.append(empty);

  const draw = (steps: readonly StepView[], runs: readonly StepRun[], served: ReadonlySet<string> | null): void => {
    empty.hidden = steps.length > 0;
    const byId = new Map(runs.map((r) => [r.stepId, r]));
    for (const s of steps) {
      const run = byId.get(s.stepId);
      let row = rows.get(s.stepId);
      if (row === undefined) rows.set(s.stepId, (row = newRow(s.stepId)));
      const kind = s.type === 'task' ? (run?.target ?? null) : null;
      const unserved = s.status === 'running' && kind !== null && served !== null && !served.has(kind) && run?.attempts.at(-1)?.agentId == null;
      const key = JSON.stringify([s, run?.attempts.length, costText(allCosts(run)), unserved]);
      row.step = s;
      row.run = run;
      if (key !== row.drawn) {
        row.drawn = key;
        drawMain(row, s, run, unserved ? kind : null);
      }
      if (!row.details.hidden) drawDetails(row, s, run);
      // Moves rows into start order; existing nodes keep their state.
      body.append(row.main, row.details);
    }
  };

  const newRow = (stepId: string): Row => {
    const details = h('tr', { class: 'step-details', hidden: true, 'data-details': stepId }, h('td', { colspan: COLUMNS.length }));
    details.id = `step-details-${stepId}`;
    const toggle = h('button', { type: 'button', class: 'link-button', 'aria-expanded': 'false', 'aria-controls': details.id, 'aria-label': `Details of step ${stepId}` }, 'details');
    const row: Row = { main: h('tr', { 'data-step': stepId }), details, toggle, drawn: '', detailsDrawn: '' };
    toggle.addEventListener('click', () => {
      const open = toggle.getAttribute('aria-expanded') !== 'true';
      toggle.setAttribute('aria-expanded', String(open));
      details.hidden = !open;
      if (open && row.step !== undefined) drawDetails(row, row.step, row.run);
    });
    return row;
  };

  const element = h('table', { id: 'steps' }, h('thead', {}, h('tr', {}, COLUMNS.map((t) => h('th', {}, t)))), body);
  return { element, draw };
}

function drawMain(row: Row, s: StepView, run: StepRun | undefined, unservedKind: string | null): void {
  row.main.dataset['status'] = s.status;
  fill(
    row.main,
    h('td', { class: 'mono' }, s.stepId),
    h('td', {}, s.type, run?.target == null ? null : h('span', { class: 'muted' }, ` ${run.target}`)),
    h(
      'td',
      {},
      badge(s.status),
      s.waitingFor === null ? null : h('span', { class: 'muted' }, ` signal ${s.waitingFor}`),
      unservedKind === null
        ? null
        : h(
            'div',
            { class: 'hint', 'data-hint': 'no-agent', role: 'note' },
            'No agent serves kind ',
            h('code', {}, unservedKind),
            ': the step waits until one registers. ',
            h('a', { href: '#/agents' }, 'Agents'),
          ),
    ),
    h('td', {}, String(s.attempts)),
    h('td', { class: 'mono' }, s.agentId ?? '—'),
    h('td', {}, time(s.startedAt), s.startedAt === null ? null : ` · ${duration(s.startedAt, s.finishedAt)}`),
    h('td', { class: 'cost' }, costText(allCosts(run)) ?? h('span', { class: 'muted' }, '—')),
    h('td', {}, row.toggle),
  );
}

function drawDetails(row: Row, s: StepView, run: StepRun | undefined): void {
  const key = JSON.stringify([s, run]);
  if (key === row.detailsDrawn) return;
  row.detailsDrawn = key;
  const latest = run?.attempts.at(-1);
  const cell = row.details.firstElementChild as HTMLElement;
  fill(
    cell,
    h(
      'div',
      { class: 'step-io' },
      h('div', {}, h('h3', {}, 'Input'), latest?.input === undefined ? h('p', { class: 'muted' }, 'No input recorded.') : jsonView(latest.input, `input of ${s.stepId}`)),
      h(
        'div',
        {},
        s.error !== null && s.error !== undefined
          ? [h('h3', {}, 'Error'), jsonView(s.error, `error of ${s.stepId}`)]
          : [h('h3', {}, 'Output'), s.status === 'completed' ? jsonView(s.output, `output of ${s.stepId}`) : h('p', { class: 'muted' }, 'Not finished.')],
      ),
    ),
    run === undefined || run.attempts.length === 0
      ? null
      : h(
          'table',
          { class: 'attempts', 'aria-label': `Attempts of ${s.stepId}` },
          h('thead', {}, h('tr', {}, ['#', 'Status', 'Started', 'Took', 'Agent', 'Error', 'Cost', 'Backoff'].map((t) => h('th', {}, t)))),
          h('tbody', {}, run.attempts.map(attemptRow)),
        ),
  );
}

function attemptRow(a: AttemptRun): HTMLElement {
  const code = typeof a.error === 'object' && a.error !== null && 'code' in a.error ? String((a.error as { code: unknown }).code) : null;
  return h(
    'tr',
    { 'data-attempt': a.attempt },
    h('td', {}, `#${a.attempt}`),
    h('td', {}, badge(a.status)),
    h('td', { class: 'mono' }, clock(a.startMs)),
    h('td', {}, a.endMs === null ? '…' : span(a.endMs - a.startMs)),
    h('td', { class: 'mono' }, a.agentId ?? '—'),
    h('td', { class: 'mono' }, code ?? '—'),
    h('td', {}, costText(a.costs) ?? '—'),
    h('td', {}, a.retryDelayMs === null ? '—' : span(a.retryDelayMs)),
  );
}

function allCosts(run: StepRun | undefined): AttemptRun['costs'] {
  return run === undefined ? [] : run.attempts.flatMap((a) => a.costs);
}
