/**
 * @module dashboard/widgets/form — a form whose submit runs one async action: the button is disabled while it
 * runs, an error (bad JSON, an API problem with its paths) is shown under the fields, a result replaces it.
 */
import type { App } from '../app.ts';
import { type Child, errorBox, h } from '../dom.ts';

export interface ActionFormOptions {
  readonly id: string;
  readonly submit: string;
  /** The labelled fields (and any text) above the button. */
  readonly fields: readonly Child[];
  /** Does the work; what it returns is shown under the form (a link to what was made, a secret…). */
  readonly action: () => Promise<Child>;
  /** Put the fields side by side (a toolbar) instead of one per line. */
  readonly inline?: boolean;
}

export function actionForm(app: App, o: ActionFormOptions): HTMLFormElement {
  const message = h('div', { class: 'form-result', 'aria-live': 'polite' });
  const button = h('button', { class: 'primary', type: 'submit' }, o.submit);
  return h(
    'form',
    {
      id: o.id,
      class: o.inline === true ? 'toolbar' : 'stack',
      onsubmit: (ev) => {
        ev.preventDefault();
        button.disabled = true;
        message.replaceChildren();
        o.action()
          .then(
            (shown) => message.replaceChildren(h('div', { class: 'ok' }, shown)),
            (err: unknown) => {
              app.failed(err);
              message.replaceChildren(errorBox(err));
            },
          )
          .finally(() => (button.disabled = false));
      },
    },
    ...o.fields,
    h('div', { class: 'actions' }, button),
    message,
  );
}

/** A toolbar form that runs `submit` (no page load) on Enter or its button: filters, "open by id". */
export function toolbarForm(id: string, fields: readonly Child[], button: string, submit: () => void, role?: 'search'): HTMLFormElement {
  return h(
    'form',
    {
      id,
      class: 'toolbar',
      role,
      onsubmit: (ev) => {
        ev.preventDefault();
        submit();
      },
    },
    ...fields,
    h('button', { type: 'submit', class: role === 'search' ? 'primary' : undefined }, button),
  );
}

/** A labelled control: `<label>Text <control></label>`. */
export const field = (label: string, control: HTMLElement, extra: Readonly<Record<string, string>> = {}): HTMLLabelElement => h('label', extra, label, control);

/** The value of an optional number input: undefined when empty. @throws when it is not a number */
export function optionalNumber(input: HTMLInputElement, what: string): number | undefined {
  const text = input.value.trim();
  if (text === '') return undefined;
  const n = Number(text);
  if (!Number.isFinite(n)) throw new Error(`${what} must be a number`);
  return n;
}

/** `<select>` of `values` (value = label unless `labels` says otherwise). */
export function select(attrs: Readonly<Record<string, string>>, values: readonly string[], labels: Readonly<Record<string, string>> = {}): HTMLSelectElement {
  return h('select', attrs, ...values.map((v) => h('option', { value: v }, labels[v] ?? v)));
}
