/** @module dashboard/pages/login — key entry: the key is checked against the API, then kept in localStorage. */
import { errorBox, h } from '../dom.ts';
import { clientFor, isUnauthorized } from '../session.ts';

export function loginPage(root: HTMLElement, signIn: (key: string) => void): () => void {
  const input = h('input', { id: 'api-key', type: 'password', autocomplete: 'off', spellcheck: 'false', placeholder: 'afk_…', required: true });
  const message = h('div');
  const button = h('button', { class: 'primary', type: 'submit' }, 'Sign in');
  const form = h(
    'form',
    {
      onsubmit: (ev) => {
        ev.preventDefault();
        const key = input.value.trim();
        button.disabled = true;
        message.replaceChildren();
        // Any route that needs `read` tells whether the key is good.
        clientFor(key)
          .status()
          .then(
            () => signIn(key),
            (err: unknown) => {
              button.disabled = false;
              message.replaceChildren(errorBox(isUnauthorized(err) ? new Error('This key is not valid (401).') : err));
            },
          );
      },
    },
    h('label', {}, 'API key', input),
    h('p', { class: 'muted' }, 'The first boot of the server wrote an admin key to ', h('code', {}, 'data/admin.key'), '. The key stays in this browser (localStorage).'),
    message,
    h('div', { class: 'actions' }, button),
  );
  root.append(h('div', { class: 'panel login' }, h('h1', {}, 'Sign in to actorflow'), form));
  input.focus();
  return () => {};
}
