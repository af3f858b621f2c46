/**
 * @module dashboard/pages/execution — one execution: status and controls, Mermaid diagram (current step highlighted
 * by the server's classes), signal forms of waiting steps, the step waterfall, steps with their input, output, cost
 * and attempts, child executions, the documents its steps saved, event timeline with payloads, logs.
 * The parts live in pages/execution/; this file lays them out and keeps them fed (live events, then one refresh).
 */
import type { ChildView, EventView, ExecutionView, LogView, StepView } from '../../../src/client/index.ts';
import type { Page } from '../app.ts';
import { drawDiagram } from '../diagram.ts';
import { badge, duration, errorBox, fill, h, time } from '../dom.ts';
import { jsonView } from '../json-view.ts';
import { childrenList } from './execution/children.ts';
import { documentsPanel } from './execution/documents.ts';
import { signalForm, type Question } from './execution/signal-form.ts';
import { costText, foldRuns, type Runs } from './execution/step-runs.ts';
import { stepsTable } from './execution/steps-table.ts';
import { timeline } from './execution/timeline.ts';
import { waterfall } from './execution/waterfall.ts';

const OPEN = new Set(['pending', 'queued', 'running', 'waiting', 'paused']);

export const executionPage: Page = (root, app, [id = '']) => {
  let disposed = false;
  let lastDiagram = '';
  /** Questions of each waiting step, from its `workflow.waiting` event. */
  const questions = new Map<string, readonly Question[]>();
  const events: EventView[] = [];
  let runs: Runs = foldRuns([]);
  let open = true;

  const title = h('h1', {}, 'Execution ', h('code', { id: 'execution-id' }, id), ' ', h('span', { id: 'execution-status' }));
  const message = h('div');
  const summary = h('dl', { class: 'kv' });
  const actions = h('div', { class: 'actions', id: 'controls', role: 'group', 'aria-label': 'Execution controls' });
  const diagram = h('div', { class: 'diagram', id: 'diagram' }, h('span', { class: 'muted' }, 'Loading diagram…'));
  const signals = h('div', { id: 'signals' });
  const data = h('div');
  const logsBody = h('tbody');
  const documents = documentsPanel(app);
  const steps = stepsTable();
  const gantt = waterfall();
  const eventList = timeline(id);
  const children = childrenList();
  const childrenPanel = h('div', { class: 'panel', hidden: true }, h('h2', {}, 'Child executions'), h('div', { class: 'scroll-x' }, children.element));
  /** Input, output and error as last drawn: redrawn only when they change (a reader may have folded parts). */
  let dataKey = '';
  /** A task step runs that no agent took: agents coming or going may change its hint. */
  let stuck = false;

  const act = (label: string, run: () => Promise<unknown>, enabled: boolean, cls = ''): HTMLButtonElement =>
    h(
      'button',
      {
        type: 'button',
        class: cls,
        'data-action': label.toLowerCase(),
        disabled: !enabled,
        onclick: (ev) => {
          const b = ev.currentTarget as HTMLButtonElement;
          b.disabled = true;
          message.replaceChildren();
          run().then(
            () => refresh(),
            (err: unknown) => {
              app.failed(err);
              message.replaceChildren(errorBox(err));
              b.disabled = false;
            },
          );
        },
      },
      label,
    );

  const drawHeader = (x: ExecutionView): void => {
    fill(document.getElementById('execution-status') ?? title, badge(x.status));
    fill(
      actions,
      act('Pause', () => app.api.executions.pause(id), x.status === 'running' || x.status === 'waiting'),
      act('Resume', () => app.api.executions.resume(id), x.status === 'paused'),
      act('Retry', () => app.api.executions.retry(id), x.status === 'failed' || x.status === 'timed_out'),
      act('Cancel', () => app.api.executions.cancel(id, 'cancelled from the dashboard'), OPEN.has(x.status), 'danger'),
    );
    const cost = costText(runs.steps.flatMap((s) => s.attempts.flatMap((a) => a.costs)));
    fill(
      summary,
      h('dt', {}, 'Workflow'),
      h('dd', {}, h('a', { href: `#/definitions/${encodeURIComponent(x.workflow)}` }, x.workflow), h('span', { class: 'muted' }, ` v${x.version}`)),
      h('dt', {}, 'Current steps'),
      h('dd', { class: 'mono' }, x.currentSteps.join(', ') || '—'),
      h('dt', {}, 'Created'),
      h('dd', {}, time(x.createdAt), h('span', { class: 'muted mono' }, ` ${x.createdAt}`)),
      h('dt', {}, 'Finished'),
      h('dd', {}, time(x.finishedAt)),
      h('dt', {}, 'Duration'),
      h('dd', {}, duration(x.startedAt ?? x.createdAt, x.finishedAt)),
      h('dt', {}, 'Cost'),
      h('dd', { id: 'execution-cost' }, cost ?? h('span', { class: 'muted' }, '—')),
      x.parentId === null ? null : [h('dt', {}, 'Parent'), h('dd', {}, h('a', { class: 'mono', id: 'parent-link', href: `#/executions/${encodeURIComponent(x.parentId)}` }, x.parentId))],
      Object.keys(x.labels).length === 0 ? null : [h('dt', {}, 'Labels'), h('dd', { class: 'mono' }, Object.entries(x.labels).map(([k, v]) => `${k}=${v}`).join(' '))],
      x.retryAttempt === 0 ? null : [h('dt', {}, 'Retries'), h('dd', {}, x.retryAttempt)],
    );
    const key = JSON.stringify([x.input, x.output, x.error]);
    if (key === dataKey) return;
    dataKey = key;
    fill(
      data,
      h('h2', {}, 'Input'),
      jsonView(x.input, 'input'),
      x.output === null || x.output === undefined ? null : [h('h2', { class: 'spaced' }, 'Output'), jsonView(x.output, 'output')],
      x.error === null ? null : [h('h2', { class: 'spaced' }, 'Error'), h('div', { class: 'error' }, `${x.error.code}: ${x.error.message}${x.error.stepId === null ? '' : ` (step ${x.error.stepId})`}`)],
    );
  };

  const drawSignals = (list: readonly StepView[]): void => {
    const waiting = list.filter((s) => s.status === 'waiting' && s.waitingFor !== null);
    // Keep a form the user is typing in: rebuild only when the set of waiting signals changes.
    const key = waiting.map((s) => `${s.stepId}:${s.waitingFor ?? ''}`).join(',');
    if (signals.dataset['key'] === key) return;
    signals.dataset['key'] = key;
    fill(signals, waiting.length === 0 ? h('p', { class: 'muted' }, 'No step is waiting for a signal.') : waiting.map((s) => signalForm(app, id, s, questions.get(s.stepId) ?? [], refresh)));
  };

  const drawLogs = (logs: readonly LogView[]): void => {
    fill(
      logsBody,
      logs.length === 0
        ? h('tr', {}, h('td', { colspan: 4, class: 'empty' }, 'No logs.'))
        : logs.map((l) => h('tr', {}, h('td', {}, time(l.timestamp)), h('td', {}, badge(l.level)), h('td', { class: 'mono' }, l.stepId ?? '—'), h('td', {}, l.message))),
    );
  };

  /** The kinds agents serve now, asked only while a task step runs that no agent took (the hint's input). */
  const servedKinds = async (list: readonly StepView[]): Promise<ReadonlySet<string> | null> => {
    stuck = list.some((s) => s.status === 'running' && s.type === 'task' && s.agentId === null);
    if (!stuck) return null;
    const defs = await app.api.taskDefinitions.list({ limit: 1000 });
    return new Set(defs.items.map((d) => d.kind));
  };

  /** Children come from `workflow` steps: asked once, then whenever the execution has such steps. */
  let childrenAsked = false;
  const childList = async (): Promise<readonly ChildView[] | null> => {
    if (childrenAsked && !runs.steps.some((s) => s.type === 'workflow')) return null;
    childrenAsked = true;
    return (await app.api.executions.children(id, { limit: 1000 })).items;
  };

  const drawRuns = (): void => {
    gantt.draw(runs, Date.now());
  };

  const addEvent = (e: EventView): void => {
    if (e.type === 'workflow.waiting' && e.stepId !== undefined && Array.isArray(e.data['questions'])) questions.set(e.stepId, e.data['questions'] as Question[]);
    events.push(e);
    eventList.add(e);
  };

  let refreshing: Promise<void> | undefined;
  let again = false;
  /** Re-reads the execution, its steps, logs, documents, children and diagram; calls during a refresh fold into one more. */
  const refresh = (): void => {
    if (refreshing !== undefined) {
      again = true;
      return;
    }
    refreshing = (async () => {
      try {
        runs = foldRuns(events);
        const [x, stepPage, logs, mermaid, docs, kids] = await Promise.all([
          app.api.executions.get(id),
          app.api.executions.steps(id, { limit: 1000 }),
          app.api.executions.logs(id, { limit: 200 }),
          app.api.executions.diagram(id),
          app.api.documents.list({ executionId: id, limit: 100 }),
          childList(),
        ]);
        const served = await servedKinds(stepPage.items);
        if (disposed) return;
        open = OPEN.has(x.status);
        drawHeader(x);
        drawSignals(stepPage.items);
        steps.draw(stepPage.items, runs.steps, served);
        drawRuns();
        drawLogs(logs.items);
        documents.draw(docs.items);
        if (kids !== null) {
          children.draw(kids);
          childrenPanel.hidden = kids.length === 0;
        }
        if (mermaid !== lastDiagram) {
          lastDiagram = mermaid;
          await drawDiagram(diagram, mermaid);
        }
      } catch (err) {
        app.failed(err);
        if (!disposed) message.replaceChildren(errorBox(err));
      }
    })().finally(() => {
      refreshing = undefined;
      if (again && !disposed) {
        again = false;
        refresh();
      }
    });
  };

  let timer: ReturnType<typeof setTimeout> | undefined;
  const unsubscribe = app.live.execution(
    id,
    (e) => {
      addEvent(e);
      // History arrives as a burst of events: one refresh after it settles.
      clearTimeout(timer);
      timer = setTimeout(refresh, 50);
    },
    refresh,
  );
  // An agent that comes or goes changes the "no agent serves" hint; nothing else on the page depends on agents.
  const unsubscribeAgents = app.live.agents(() => {
    if (!stuck) return;
    clearTimeout(timer);
    timer = setTimeout(refresh, 300);
  });
  // Running bars grow with the clock.
  const ticker = setInterval(() => {
    if (open) drawRuns();
  }, 1000);

  root.append(
    h('p', {}, h('a', { href: '#/executions' }, '← Executions')),
    title,
    message,
    h('div', { class: 'panel' }, h('div', { class: 'row split' }, summary, actions)),
    h(
      'div',
      { class: 'grid2' },
      h('div', { class: 'panel' }, h('h2', {}, 'Diagram'), diagram),
      h('div', { class: 'panel' }, h('h2', {}, 'Signals'), signals, h('div', { class: 'spaced' }, data)),
    ),
    h('div', { class: 'panel' }, h('h2', {}, 'Waterfall'), gantt.element),
    h('div', { class: 'panel' }, h('h2', {}, 'Steps'), h('div', { class: 'scroll-x' }, steps.element)),
    childrenPanel,
    h('div', { class: 'panel' }, h('h2', {}, 'Documents'), h('div', { class: 'scroll-x' }, documents.element)),
    h(
      'div',
      { class: 'grid2' },
      h('div', { class: 'panel' }, h('h2', {}, 'Events'), eventList.element),
      h('div', { class: 'panel' }, h('h2', {}, 'Logs'), h('div', { class: 'logs scroll-x' }, h('table', {}, h('thead', {}, h('tr', {}, ...['Time', 'Level', 'Step', 'Message'].map((t) => h('th', {}, t)))), logsBody))),
    ),
  );
  refresh();
  return () => {
    disposed = true;
    clearTimeout(timer);
    clearInterval(ticker);
    unsubscribe();
    unsubscribeAgents();
  };
};
