/**
 * @module dashboard/json-view — a small JSON viewer: objects and arrays fold with native `<details>` (keyboard and
 * screen reader friendly), the first levels open; a copy button puts the whole value on the clipboard as pretty JSON.
 */
import { h } from './dom.ts';

/** Levels open at first; deeper ones start folded. */
const OPEN_LEVELS = 2;
/** Entries drawn per object or array; the rest is summarised (the copy button still copies everything). */
const MAX_ENTRIES = 200;

export function jsonView(value: unknown, label = 'JSON'): HTMLElement {
  return h('div', { class: 'json-view' }, copyButton(() => JSON.stringify(value, null, 2), `Copy ${label}`), h('div', { class: 'json-tree' }, node(value, 0)));
}

/** A button that copies `text()`; says "Copied" (or why not) for a moment. */
export function copyButton(text: () => string, label: string): HTMLButtonElement {
  const button: HTMLButtonElement = h(
    'button',
    {
      type: 'button',
      class: 'copy',
      'aria-label': label,
      title: label,
      onclick: () => {
        copy(text()).then(
          () => flash(button, 'Copied'),
          () => flash(button, 'Copy failed'),
        );
      },
    },
    'Copy',
  );
  return button;
}

function flash(button: HTMLButtonElement, text: string): void {
  button.textContent = text;
  button.dataset['copied'] = text === 'Copied' ? 'true' : 'false';
  setTimeout(() => {
    button.textContent = 'Copy';
    delete button.dataset['copied'];
  }, 1500);
}

/** The async clipboard needs a secure context (https or localhost); elsewhere the older execCommand path. */
async function copy(text: string): Promise<void> {
  if (navigator.clipboard !== undefined && window.isSecureContext) return navigator.clipboard.writeText(text);
  const area = h('textarea', { style: 'position:fixed;opacity:0' }, text);
  document.body.append(area);
  area.select();
  const ok = document.execCommand('copy');
  area.remove();
  if (!ok) throw new Error('copy refused');
}

function node(value: unknown, depth: number): Node {
  if (value === null || typeof value !== 'object') return leaf(value);
  const entries: [string, unknown][] = Array.isArray(value) ? value.map((v, i) => [String(i), v]) : Object.entries(value);
  const isArray = Array.isArray(value);
  if (entries.length === 0) return h('span', { class: 'json-punct' }, isArray ? '[]' : '{}');
  const summary = isArray ? `[…] ${entries.length} item${entries.length === 1 ? '' : 's'}` : `{…} ${entries.length} key${entries.length === 1 ? '' : 's'}`;
  const shown = entries.slice(0, MAX_ENTRIES);
  return h(
    'details',
    { open: depth < OPEN_LEVELS },
    h('summary', { class: 'json-punct' }, summary),
    h(
      'ul',
      {},
      shown.map(([k, v]) => h('li', {}, h('span', { class: isArray ? 'json-index' : 'json-key' }, isArray ? `${k}: ` : `${JSON.stringify(k)}: `), node(v, depth + 1))),
      entries.length > shown.length ? h('li', { class: 'muted' }, `… ${entries.length - shown.length} more (copy to see all)`) : null,
    ),
  );
}

function leaf(value: unknown): HTMLElement {
  const type = value === null ? 'null' : typeof value;
  return h('span', { class: `json-${type}` }, value === undefined ? 'undefined' : JSON.stringify(value));
}
