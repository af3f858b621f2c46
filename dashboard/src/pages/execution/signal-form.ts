/** @module dashboard/pages/execution/signal-form — the form that answers a waiting step: one field per question (else a JSON payload), send or reject. */
import type { StepView } from '../../../../src/client/index.ts';
import type { App } from '../../app.ts';
import { errorBox, h, parseJsonField } from '../../dom.ts';

export interface Question {
  readonly id: string;
  readonly text?: string;
}

/** A form answering one waiting step: one field per question (values read as JSON when they parse), else a JSON payload. */
export function signalForm(app: App, executionId: string, step: StepView, qs: readonly Question[], done: () => void): HTMLElement {
  const signal = step.waitingFor ?? '';
  const fields = qs.map((q) => ({ id: q.id, input: h('input', { name: q.id, 'data-question': q.id, placeholder: 'true, 42, "text" or text' }), text: q.text ?? q.id }));
  const payload = h('textarea', { name: 'payload', rows: 3, placeholder: '{ "ok": true }' }, fields.length === 0 ? '{}' : '');
  const reason = h('input', { name: 'reason', placeholder: 'reason (for reject)', 'aria-label': 'Reason (for reject)' });
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
