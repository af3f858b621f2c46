/** @module dashboard/widgets/secret — a secret the server shows once (a new API key, a generated webhook or agent secret), with a copy button. */
import { h } from '../dom.ts';

/** The secret in a box that says it will not be shown again; Copy puts it on the clipboard (or selects it where that is not allowed). */
export function secretOnce(label: string, secret: string): HTMLElement {
  const code = h('code', { class: 'secret-value', tabindex: '0' }, secret);
  const status = h('span', { class: 'muted', 'aria-live': 'polite' });
  const copy = h(
    'button',
    {
      type: 'button',
      'aria-label': `Copy ${label}`,
      onclick: () => {
        const done = (): void => void (status.textContent = 'Copied.');
        const select = (): void => {
          getSelection()?.selectAllChildren(code);
          status.textContent = 'Selected: press Ctrl+C.';
        };
        if (navigator.clipboard === undefined) select();
        else navigator.clipboard.writeText(secret).then(done, select);
      },
    },
    'Copy',
  );
  return h(
    'div',
    { class: 'secret', role: 'group', 'aria-label': label },
    h('strong', {}, label),
    h('div', { class: 'row' }, code, copy, status),
    h('p', { class: 'muted' }, 'Copy it now: it is not shown again.'),
  );
}
