/**
 * @module dashboard/widgets/table — a table whose body is redrawn from items: one row per item, or one "empty" row.
 * Rows are keyed: a redraw keeps the rows whose item did not change (no flicker, hover and focus stay), and
 * focus inside a changed row moves to the same control in its new row (pages refresh while people use them).
 */
import { type Child, fill, h } from '../dom.ts';

export interface DataTable<T> {
  /** The table in a horizontally scrolling box (narrow screens). */
  readonly element: HTMLElement;
  readonly table: HTMLTableElement;
  /** Redraws the body: one row per item, or `empty` across every column. */
  show(items: readonly T[], empty: string): void;
}

/** What identifies a focused control across redraws of its row. */
const controlKey = (el: Element): string => `${el.tagName}|${el.getAttribute('aria-label') ?? ''}|${el.getAttribute('href') ?? ''}|${el.textContent ?? ''}`;

/**
 * `row` draws one `<tr>`; `key` names an item across redraws (default: its `id`); `headers` name the
 * columns (an empty header is the actions column, labelled for screen readers).
 */
export function dataTable<T>(id: string, headers: readonly string[], row: (item: T) => HTMLTableRowElement, key: (item: T) => string = (item) => String((item as { id?: unknown }).id)): DataTable<T> {
  const tbody = h('tbody');
  const table = h('table', { id }, h('thead', {}, h('tr', {}, ...headers.map((t) => h('th', { scope: 'col' }, t || h('span', { class: 'sr-only' }, 'Actions'))))), tbody);
  let drawn = new Map<string, { json: string; tr: HTMLTableRowElement }>();
  return {
    element: h('div', { class: 'scroll-x' }, table),
    table,
    show(items, empty) {
      const focused = document.activeElement;
      const focusedRow = focused !== null && tbody.contains(focused) ? focused.closest('tr') : null;
      const refocus = focused !== null && focusedRow !== null ? controlKey(focused) : undefined;
      if (items.length === 0) {
        drawn = new Map();
        fill(tbody, h('tr', {}, h('td', { colspan: headers.length, class: 'empty' }, empty)));
        return;
      }
      const next = new Map<string, { json: string; tr: HTMLTableRowElement }>();
      const rows = items.map((item) => {
        const k = key(item);
        const json = JSON.stringify(item);
        const old = drawn.get(k);
        const entry = old !== undefined && old.json === json ? old : { json, tr: row(item) };
        next.set(k, entry);
        return entry.tr;
      });
      drawn = next;
      // Only rows that changed place or content are touched.
      rows.forEach((tr, i) => {
        if (tbody.children[i] !== tr) tbody.insertBefore(tr, tbody.children[i] ?? null);
      });
      while (tbody.children.length > rows.length) tbody.lastElementChild?.remove();
      if (refocus !== undefined && focused !== null && !tbody.contains(focused)) {
        const same = [...tbody.querySelectorAll('a, button, input, select, textarea')].find((el) => controlKey(el) === refocus);
        (same as HTMLElement | undefined)?.focus();
      }
    },
  };
}

/** A `<td>` (shorthand for tables drawn row by row). */
export const td = (...children: Child[]): HTMLTableCellElement => h('td', {}, ...children);

/** A `<td>` of running text (a description, an error): it wraps where other cells keep one line (phone width). */
export const textTd = (...children: Child[]): HTMLTableCellElement => h('td', { class: 'text' }, ...children);
