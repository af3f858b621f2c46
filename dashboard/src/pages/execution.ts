/**
 * @module dashboard/pages/execution — one execution: status and controls, Mermaid diagram (current step
 * highlighted by the server's classes), signal forms of waiting steps, steps and attempts, the documents its steps saved,
 * event timeline, logs.
 */
import type { EventView, ExecutionView, LogView, StepView } from '../../../src/client/index.ts';
import type { App, Page } from '../app.ts';
import { drawDiagram } from '../diagram.ts';
import { badge, duration, errorBox, fill, h, jsonBlock, parseJsonField, time } from '../dom.ts';
import { documentsPanel } from './execution-documents.ts';

interface Question {
  readonly id: string;
  readonly text?: string;
}

export const executionPage: Page = (root, app, [id = '']) => {
  let disposed = false;
  let lastDiagram = '';
  /** Questions of each waiting step, from its `workflow.waiting` event. */
  const questions = new Map<string, readonly Question[]>();

  const title = h('h1', {}, 'Execution ', h('code', { id: 'execution-id' }, id), ' ', h('span', { id: 'execution-status' }));
  const message = h('div');
  const summary = h('dl', { class: 'kv' });
  const actions = h('div', { class: 'actions', id: 'controls' });
  const diagram = h('div', { class: 'diagram', id: 'diagram' }, h('span', { class: 'muted' }, 'Loading diagram…'));
  const signals = h('div', { id: 'signals' });
  const data = h('div');
  const stepsBody = h('tbody');
  const timeline = h('ol', { class: 'timeline', id: 'timeline' });
  const logsBody = h('tbody');
  const documents = documentsPanel(app);

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
    const open = x.status === 'pending' || x.status === 'queued' || x.status === 'running' || x.status === 'waiting' || x.status === 'paused';
    fill(
      actions,
      act('Pause', () => app.api.executions.pause(id), x.status === 'running' || x.status === 'waiting'),
      act('Resume', () => app.api.executions.resume(id), x.status === 'paused'),
      act('Retry', () => app.api.executions.retry(id), x.status === 'failed' || x.status === 'timed_out'),
      act('Cancel', () => app.api.executions.cancel(id, 'cancelled from the dashboard'), open, 'danger'),
    );
    fill(
      summary,
      h('dt', {}, 'Workflow'),
      h('dd', {}, h('a', { href: `#/definitions/${encodeURIComponent(x.workflow)}` }, x.workflow), h('span', { class: 'muted' }, ` v${x.version}`)),
      h('dt', {}, 'Current steps'),
      h('dd', { class: 'mono' }, x.currentSteps.join(', ') || '—'),
      h('dt', {}, 'Created'),
      h('dd', {}, time(x.createdAt)),
      h('dt', {}, 'Finished'),
      h('dd', {}, time(x.finishedAt)),
      h('dt', {}, 'Duration'),
      h('dd', {}, duration(x.startedAt ?? x.createdAt, x.finishedAt)),
      x.parentId === null ? null : [h('dt', {}, 'Parent'), h('dd', {}, h('a', { class: 'mono', href: `#/executions/${x.parentId}` }, x.parentId))],
      Object.keys(x.labels).length === 0 ? null : [h('dt', {}, 'Labels'), h('dd', { class: 'mono' }, Object.entries(x.labels).map(([k, v]) => `${k}=${v}`).join(' '))],
      x.retryAttempt === 0 ? null : [h('dt', {}, 'Retries'), h('dd', {}, x.retryAttempt)],
    );
    fill(
      data,
      h('h2', {}, 'Input'),
      jsonBlock(x.input),
      x.output === null || x.output === undefined ? null : [h('h2', { style: 'margin-top:12px' }, 'Output'), jsonBlock(x.output)],
      x.error === null ? null : [h('h2', { style: 'margin-top:12px' }, 'Error'), h('div', { class: 'error' }, `${x.error.code}: ${x.error.message}${x.error.stepId === null ? '' : ` (step ${x.error.stepId})`}`)],
    );
  };

  const drawSteps = (steps: readonly StepView[]): void => {
    const waiting = steps.filter((s) => s.status === 'waiting' && s.waitingFor !== null);
    // Keep a form the user is typing in: rebuild only when the set of waiting signals changes.
    const key = waiting.map((s) => `${s.stepId}:${s.waitingFor ?? ''}`).join(',');
    if (signals.dataset['key'] !== key) {
      signals.dataset['key'] = key;
      fill(signals, waiting.length === 0 ? h('p', { class: 'muted' }, 'No step is waiting for a signal.') : waiting.map((s) => signalForm(app, id, s, questions.get(s.stepId) ?? [], refresh)));
    }
    if (steps.length === 0) {
      fill(stepsBody, h('tr', {}, h('td', { colspan: 7, class: 'empty' }, 'No step has started yet.')));
      return;
    }
    fill(
      stepsBody,
      steps.map((s) => {
        const attemptsCell = h('td', {});
        const toggle = h('button', { type: 'button', class: 'link-button', onclick: () => void showAttempts(app, id, s.stepId, attemptsCell) }, String(s.attempts));
        attemptsCell.append(toggle);
        return h(
          'tr',
          { 'data-step': s.stepId, 'data-status': s.status },
          h('td', { class: 'mono' }, s.stepId),
          h('td', {}, s.type),
          h('td', {}, badge(s.status), s.waitingFor === null ? null : h('span', { class: 'muted' }, ` signal ${s.waitingFor}`)),
          attemptsCell,
          h('td', { class: 'mono' }, s.agentId ?? '—'),
          h('td', {}, time(s.startedAt), ' · ', duration(s.startedAt, s.finishedAt)),
          h('td', {}, s.error !== null && s.error !== undefined ? jsonBlock(s.error) : jsonBlock(s.output)),
        );
      }),
    );
  };

  const drawLogs = (logs: readonly LogView[]): void => {
    if (logs.length === 0) {
      fill(logsBody, h('tr', {}, h('td', { colspan: 4, class: 'empty' }, 'No logs.')));
      return;
    }
    fill(
      logsBody,
      logs.map((l) => h('tr', {}, h('td', {}, time(l.timestamp)), h('td', {}, badge(l.level)), h('td', { class: 'mono' }, l.stepId ?? '—'), h('td', {}, l.message))),
    );
  };

  const addEvent = (e: EventView): void => {
    if (e.type === 'workflow.waiting' && e.stepId !== undefined && Array.isArray(e.data['questions'])) questions.set(e.stepId, e.data['questions'] as Question[]);
    timeline.prepend(
      h(
        'li',
        { 'data-type': e.type },
        h('span', { class: 'seq' }, `#${e.seq}`),
        h('span', {}, h('code', {}, e.type), e.stepId === undefined ? null : h('span', { class: 'muted' }, ` ${e.stepId}`)),
        time(e.timestamp),
      ),
    );
  };

  let refreshing: Promise<void> | undefined;
  let again = false;
  /** Re-reads the execution, its steps, logs and diagram; calls during a refresh fold into one more. */
  const refresh = (): void => {
    if (refreshing !== undefined) {
      again = true;
      return;
    }
    refreshing = (async () => {
      try {
        const [x, steps, logs, mermaid, docs] = await Promise.all([
          app.api.executions.get(id),
          app.api.executions.steps(id, { limit: 1000 }),
          app.api.executions.logs(id, { limit: 200 }),
          app.api.executions.diagram(id),
          app.api.documents.list({ executionId: id, limit: 100 }),
        ]);
        if (disposed) return;
        drawHeader(x);
        drawSteps(steps.items);
        drawLogs(logs.items);
        documents.draw(docs.items);
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

  root.append(
    h('p', {}, h('a', { href: '#/executions' }, '← Executions')),
    title,
    message,
    h('div', { class: 'panel' }, h('div', { class: 'row', style: 'justify-content:space-between;align-items:flex-start' }, summary, actions)),
    h(
      'div',
      { class: 'grid2' },
      h('div', { class: 'panel' }, h('h2', {}, 'Diagram'), diagram),
      h('div', { class: 'panel' }, h('h2', {}, 'Signals'), signals, h('div', { style: 'margin-top:12px' }, data)),
    ),
    h(
      'div',
      { class: 'panel' },
      h('h2', {}, 'Steps'),
      h('table', { id: 'steps' }, h('thead', {}, h('tr', {}, ...['Step', 'Type', 'Status', 'Attempts', 'Agent', 'Started', 'Output / error'].map((t) => h('th', {}, t)))), stepsBody),
    ),
    h('div', { class: 'panel' }, h('h2', {}, 'Documents'), documents.element),
    h(
      'div',
      { class: 'grid2' },
      h('div', { class: 'panel' }, h('h2', {}, 'Events'), timeline),
      h('div', { class: 'panel' }, h('h2', {}, 'Logs'), h('table', {}, h('thead', {}, h('tr', {}, ...['Time', 'Level', 'Step', 'Message'].map((t) => h('th', {}, t)))), logsBody)),
    ),
  );
  refresh();
  return () => {
    disposed = true;
    clearTimeout(timer);
    unsubscribe();
  };
};

/** A form answering one waiting step: one field per question (values read as JSON when they parse), else a JSON payload. */
function signalForm(app: App, executionId: string, step: StepView, qs: readonly Question[], done: () => void): HTMLElement {
  const signal = step.waitingFor ?? '';
  const fields = qs.map((q) => ({ id: q.id, input: h('input', { name: q.id, 'data-question': q.id, placeholder: 'true, 42, "text" or text' }), text: q.text ?? q.id }));
  const payload = h('textarea', { name: 'payload', rows: 3, placeholder: '{ "ok": true }' }, fields.length === 0 ? '{}' : '');
  const reason = h('input', { name: 'reason', placeholder: 'reason (for reject)' });
  const message = h('div');
  const send = (body: { payload?: unknown; reject?: boolean; reason?: string }, form: HTMLFormElement): void => {
    for (const b of form.querySelectorAll('button')) b.disabled = true;
    app.api.executions.signal(executionId, signal, body).then(
      () => {
        message.replaceChildren(h('p', { class: 'muted' }, body.reject === true ? 'Rejected.' : 'Signal sent.'));
        done();
      },
      (err: unknown) => {
        app.failed(err);
        message.replaceChildren(errorBox(err));
        for (const b of form.querySelectorAll('button')) b.disabled = false;
      },
    );
  };
  const form: HTMLFormElement = h(
    'form',
    {
      class: 'signal-form',
      'data-signal': signal,
      onsubmit: (ev) => {
        ev.preventDefault();
        message.replaceChildren();
        try {
          const value = fields.length === 0 ? parseJsonField(payload.value, 'Payload') : Object.fromEntries(fields.map((f) => [f.id, readValue(f.input.value)]));
          send(value === undefined ? {} : { payload: value }, form);
        } catch (err) {
          message.replaceChildren(errorBox(err));
        }
      },
    },
    h('div', {}, 'Step ', h('code', {}, step.stepId), ' waits for signal ', h('code', {}, signal)),
    fields.length === 0 ? h('label', {}, 'Payload (JSON)', payload) : fields.map((f) => h('label', {}, f.text, f.input)),
    h(
      'div',
      { class: 'actions' },
      h('button', { class: 'primary', type: 'submit' }, 'Send signal'),
      reason,
      h('button', { type: 'button', class: 'danger', onclick: () => send({ reject: true, ...(reason.value.trim() === '' ? {} : { reason: reason.value.trim() }) }, form) }, 'Reject'),
    ),
    message,
  );
  return form;
}

/** `true`, `42`, `{"a":1}` as JSON; anything else as the text typed. */
function readValue(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** Lists a step's attempts under its row (toggles). */
async function showAttempts(app: App, executionId: string, stepId: string, cell: HTMLElement): Promise<void> {
  const open = cell.querySelector('table');
  if (open !== null) {
    open.remove();
    return;
  }
  try {
    const page = await app.api.executions.attempts(executionId, stepId, { limit: 100 });
    cell.append(
      h(
        'table',
        { class: 'attempts' },
        h('tbody', {}, page.items.map((a) => h('tr', {}, h('td', {}, `#${a.attempt}`), h('td', {}, badge(a.status)), h('td', {}, a.durationMs === null ? '—' : `${a.durationMs} ms`), h('td', { class: 'mono' }, a.agentId ?? '—')))),
      ),
    );
  } catch (err) {
    app.failed(err);
    cell.append(errorBox(err));
  }
}
