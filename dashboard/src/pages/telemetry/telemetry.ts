/**
 * @module dashboard/pages/telemetry/telemetry — what ran in a chosen window (`#/telemetry/:window`, e.g. `6h`):
 * counts, durations and costs; charts of starts/completions/failures over time, p50/p95 duration and cost per
 * workflow, and one workflow's step success rates. The chart code (uPlot) is loaded when this page opens;
 * each chart's numbers are also in a table.
 */
import type { TelemetrySeriesView, TelemetrySummaryView, WorkflowStatsView } from '../../../../src/client/index.ts';
import type { Page } from '../../app.ts';
import { fill, h } from '../../dom.ts';
import { field, select, toolbarForm } from '../../widgets/form.ts';
import { count, ms, usd } from '../../widgets/format.ts';
import { PageScope } from '../../widgets/scope.ts';
import { dataTable, td } from '../../widgets/table.ts';
import type { Chart } from './charts.ts';

type Charts = typeof import('./charts.ts');

/** The windows offered: length and the buckets of the chart over time. */
const WINDOWS: Readonly<Record<string, { label: string; ms: number; buckets: number }>> = {
  '1h': { label: 'last hour', ms: 3_600_000, buckets: 60 },
  '6h': { label: 'last 6 hours', ms: 6 * 3_600_000, buckets: 72 },
  '24h': { label: 'last 24 hours', ms: 24 * 3_600_000, buckets: 96 },
  '7d': { label: 'last 7 days', ms: 7 * 86_400_000, buckets: 84 },
  '30d': { label: 'last 30 days', ms: 30 * 86_400_000, buckets: 120 },
};
const DEFAULT_WINDOW = '24h';
const CUSTOM_BUCKETS = 60;

let chartsModule: Promise<Charts> | undefined;
const charts = (): Promise<Charts> => (chartsModule ??= import('./charts.ts'));

interface Window {
  readonly from: string;
  readonly to: string;
  readonly buckets: number;
}

export const telemetryPage: Page = (root, app, [chosen]) => {
  const scope = new PageScope(app);
  const message = h('div');
  /** The chart drawn in each box, by box id: a redraw destroys the one before. */
  const drawn = new Map<string, Chart>();
  scope.add(() => [...drawn.values()].forEach((c) => c.destroy()));

  const preset = chosen !== undefined && chosen !== '' && (chosen in WINDOWS || chosen === 'custom') ? chosen : DEFAULT_WINDOW;
  const windowSelect = select({ id: 'telemetry-window' }, [...Object.keys(WINDOWS), 'custom'], { ...Object.fromEntries(Object.entries(WINDOWS).map(([k, w]) => [k, w.label])), custom: 'custom…' });
  windowSelect.value = preset;
  const from = h('input', { id: 'telemetry-from', type: 'datetime-local', step: 1, 'aria-label': 'From' });
  const to = h('input', { id: 'telemetry-to', type: 'datetime-local', step: 1, 'aria-label': 'To' });
  const custom = toolbarForm('telemetry-custom', [field('From', from), field('To', to)], 'Show', () => void load());
  custom.hidden = preset !== 'custom';
  windowSelect.addEventListener('change', () => {
    // The window is in the address: a reload or a shared link shows the same one.
    location.hash = `#/telemetry/${windowSelect.value}`;
  });

  const windowOf = (): Window => {
    if (windowSelect.value === 'custom') {
      const f = from.value === '' ? Date.now() - 86_400_000 : new Date(from.value).getTime();
      const t = to.value === '' ? Date.now() : new Date(to.value).getTime();
      return { from: new Date(f).toISOString(), to: new Date(t).toISOString(), buckets: CUSTOM_BUCKETS };
    }
    const w = WINDOWS[windowSelect.value] ?? (WINDOWS[DEFAULT_WINDOW] as (typeof WINDOWS)[string]);
    const now = Date.now();
    return { from: new Date(now - w.ms).toISOString(), to: new Date(now).toISOString(), buckets: w.buckets };
  };

  const kpis = h('section', { class: 'kpis', id: 'telemetry-kpis', 'aria-label': 'Totals of the window' });
  const seriesBox = chartBox('chart-series', 'Executions over time');
  const durationBox = chartBox('chart-durations', 'Duration per workflow (p50 and p95)');
  const costBox = chartBox('chart-cost', 'Cost per workflow (USD)');
  const stepsBox = chartBox('chart-steps', 'Step success rate');
  const stepWorkflow = h('select', { id: 'telemetry-workflow' });
  const workflowsTable = dataTable<TelemetrySummaryView['workflows'][number]>(
    'telemetry-workflows',
    ['Workflow', 'Started', 'Completed', 'Failed', 'p50', 'p95', 'Tokens', 'Cost'],
    (w) => h('tr', { 'data-workflow': w.workflow }, td(w.workflow), td(count(w.started)), td(count(w.completed)), td(count(w.failed)), td(ms(w.p50Ms)), td(ms(w.p95Ms)), td(count(w.tokens)), td(usd(w.usd))),
    (w) => w.workflow,
  );
  const stepsTable = dataTable<WorkflowStatsView['steps'][number]>(
    'telemetry-steps',
    ['Step', 'Runs', 'Success', 'Retries', 'Recovered', 'p50', 'p95', 'p99'],
    (s) =>
      h(
        'tr',
        { 'data-step': s.stepId },
        td(h('code', {}, s.stepId)),
        td(count(s.runs)),
        td(`${(s.successRate * 100).toFixed(1)} %`),
        td(count(s.retries)),
        td(count(s.recoveries.skip + s.recoveries.fallback + s.recoveries.compensate)),
        td(ms(s.p50Ms)),
        td(ms(s.p95Ms)),
        td(ms(s.p99Ms)),
      ),
    (s) => s.stepId,
  );

  /** Draws into the chart area of `box` (or says there is nothing to draw). */
  const put = (box: HTMLElement, draw: ((target: HTMLElement) => Chart) | string): void => {
    const target = box.querySelector('.chart') as HTMLElement;
    drawn.get(target.id)?.destroy();
    drawn.delete(target.id);
    if (typeof draw === 'string') fill(target, h('p', { class: 'empty' }, draw));
    else drawn.set(target.id, draw(target));
  };

  let current: Window | undefined;
  const loadSteps = async (): Promise<void> => {
    const w = current;
    const name = stepWorkflow.value;
    if (w === undefined || name === '') {
      put(stepsBox, 'No workflow ran in this window.');
      stepsTable.show([], 'No steps.');
      return;
    }
    const [stats, c] = (await scope.run(message, () => Promise.all([app.api.telemetry.workflowStats(name, w), charts()]))) ?? [];
    if (stats === undefined || c === undefined || w !== current || name !== stepWorkflow.value) return;
    stepsTable.show(stats.steps, 'No step finished in this window.');
    if (stats.steps.length === 0) return put(stepsBox, 'No step finished in this window.');
    put(stepsBox, (target) => {
      target.dataset['workflow'] = name;
      return c.barChart(target, 'step', stats.steps.map((s) => s.stepId), [{ label: 'success', values: stats.steps.map((s) => s.successRate * 100), color: 'var(--ok)' }], (v) => `${v.toFixed(0)} %`, 100);
    });
  };
  stepWorkflow.addEventListener('change', () => void loadSteps());

  const load = async (): Promise<void> => {
    const w = windowOf();
    current = w;
    const got = await scope.run(message, () => Promise.all([app.api.telemetry.summary(w), app.api.telemetry.series(w), charts()]));
    if (got === undefined || w !== current) return;
    const [summary, series, c] = got;
    kpis.dataset['from'] = summary.from;
    kpis.dataset['to'] = summary.to;
    fill(kpis, ...kpiCards(summary));
    put(seriesBox, (target) => drawSeries(c, target, series));
    const names = summary.workflows.map((x) => x.workflow);
    const none = 'No workflow ran in this window.';
    put(
      durationBox,
      names.length === 0
        ? none
        : (target) =>
            c.barChart(target, 'workflow', names, [
              { label: 'p50', values: summary.workflows.map((x) => x.p50Ms), color: 'var(--accent)' },
              { label: 'p95', values: summary.workflows.map((x) => x.p95Ms), color: '#f59e0b' },
            ], ms),
    );
    put(costBox, names.length === 0 ? none : (target) => c.barChart(target, 'workflow', names, [{ label: 'USD', values: summary.workflows.map((x) => x.usd), color: '#8b5cf6' }], usd));
    workflowsTable.show(summary.workflows, 'No workflow ran in this window.');
    // Keep the chosen workflow of the step chart when it still ran in this window; else the busiest one.
    const keep = stepWorkflow.value;
    const busiest = [...summary.workflows].sort((a, b) => b.started - a.started)[0]?.workflow ?? '';
    fill(stepWorkflow, ...names.map((n) => h('option', { value: n }, n)));
    stepWorkflow.value = names.includes(keep) ? keep : busiest;
    await loadSteps();
  };

  stepsBox.insertBefore(h('div', { class: 'toolbar' }, field('Workflow', stepWorkflow)), stepsBox.querySelector('.chart'));
  root.append(
    h('h1', {}, 'Telemetry'),
    h('div', { class: 'panel' }, h('div', { class: 'toolbar' }, field('Window', windowSelect)), custom, message, kpis),
    seriesBox,
    h('div', { class: 'grid2' }, durationBox, costBox),
    h('div', { class: 'panel' }, h('h2', {}, 'Per workflow'), workflowsTable.element),
    stepsBox,
    h('div', { class: 'panel' }, h('h2', {}, 'Per step'), stepsTable.element),
  );
  void load();
  return scope.dispose;
};

function chartBox(id: string, title: string): HTMLElement {
  return h('section', { class: 'panel chart-panel', 'aria-label': title }, h('h2', {}, title), h('div', { class: 'chart', id, role: 'img', 'aria-label': `${title} (chart; the numbers are in the tables below)` }));
}

function kpiCards(s: TelemetrySummaryView): HTMLElement[] {
  const card = (label: string, value: string, key: string) => h('div', { class: 'kpi', 'data-kpi': key }, h('div', { class: 'kpi-value' }, value), h('div', { class: 'kpi-label' }, label));
  return [
    card('started', count(s.executions.started), 'started'),
    card('completed', count(s.executions.completed), 'completed'),
    card('failed', count(s.executions.failed), 'failed'),
    card('cancelled', count(s.executions.cancelled), 'cancelled'),
    card('p50 duration', ms(s.durationMs.p50), 'p50'),
    card('p95 duration', ms(s.durationMs.p95), 'p95'),
    card('tokens', count(s.cost.tokens), 'tokens'),
    card('cost', usd(s.cost.usd), 'usd'),
  ];
}

function drawSeries(c: Charts, target: HTMLElement, s: TelemetrySeriesView): Chart {
  return c.timeChart(
    target,
    s.buckets.map((b) => Date.parse(b.at)),
    [
      { label: 'started', values: s.buckets.map((b) => b.started), color: 'var(--accent)' },
      { label: 'completed', values: s.buckets.map((b) => b.completed), color: '#22c55e' },
      { label: 'failed', values: s.buckets.map((b) => b.failed), color: '#ef4444' },
    ],
    'executions',
  );
}
