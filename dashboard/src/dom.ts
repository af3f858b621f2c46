/** @module dashboard/dom — a tiny element builder and the formatting helpers every page uses. */

export type Child = Node | string | number | null | undefined | false | readonly Child[];
type Handler = (ev: Event) => void;
export type Attrs = Readonly<Record<string, string | number | boolean | Handler | undefined | null>>;

/** `h('a', { href: '#/x', class: 'mono' }, 'text')`; `on<event>` attributes become listeners; false/null attributes are left out. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'value' && 'value' in el) (el as HTMLInputElement).value = String(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el: Node, children: readonly Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c as readonly Child[]);
    else el.appendChild(typeof c === 'object' ? (c as Node) : document.createTextNode(String(c)));
  }
}

/** Replaces the children of `el`. */
export function fill(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

/** A status badge (`class="badge <status>"`, `data-status` for tests and styles). */
export function badge(status: string): HTMLSpanElement {
  return h('span', { class: `badge ${status}`, 'data-status': status }, status.replace('_', ' '));
}

/** "12s ago", "3m ago", "2h ago", "4d ago"; times ahead (next runs) read "in 3m"; the full time is in the title. */
export function relTime(iso: string | null | undefined, now = Date.now()): string {
  if (iso === null || iso === undefined) return '—';
  const signed = Math.round((now - Date.parse(iso)) / 1000);
  if (!Number.isFinite(signed)) return iso;
  const s = Math.abs(signed);
  if (s < 5) return 'just now';
  const span = s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m` : s < 86_400 ? `${Math.floor(s / 3600)}h` : `${Math.floor(s / 86_400)}d`;
  return signed < 0 ? `in ${span}` : `${span} ago`;
}

/** A `<time>` with a relative label, refreshed by `tickTimes`. */
export function time(iso: string | null | undefined): HTMLElement {
  if (iso === null || iso === undefined) return h('span', { class: 'muted' }, '—');
  return h('time', { datetime: iso, title: iso }, relTime(iso));
}

/** Refreshes every relative `<time>` under `root`. */
export function tickTimes(root: ParentNode): void {
  const now = Date.now();
  for (const t of root.querySelectorAll('time[datetime]')) t.textContent = relTime(t.getAttribute('datetime'), now);
}

/** "1.2 s" / "340 ms" between two instants (or until now). */
export function duration(from: string | null, to: string | null): string {
  if (from === null) return '—';
  const ms = (to === null ? Date.now() : Date.parse(to)) - Date.parse(from);
  return ms < 1000 ? `${ms} ms` : ms < 60_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.floor(ms / 60_000)}m ${Math.round((ms % 60_000) / 1000)}s`;
}

/** Pretty JSON in a `<pre>`, or a dash. */
export function jsonBlock(value: unknown): HTMLElement {
  if (value === undefined || value === null) return h('span', { class: 'muted' }, '—');
  return h('pre', {}, JSON.stringify(value, null, 2));
}

/** The message of an API error (problem `detail` and every failing path). */
export function errorText(err: unknown): string {
  if (err instanceof Error) {
    const errors = (err as { errors?: readonly { path: string; message: string }[] }).errors ?? [];
    return [err.message, ...errors.map((e) => `${e.path || '/'} ${e.message}`)].join('\n');
  }
  return String(err);
}

export function errorBox(err: unknown): HTMLElement {
  return h('div', { class: 'error', role: 'alert' }, errorText(err));
}

/** Parses a JSON text field; empty means `undefined`. Throws with a readable message. */
export function parseJsonField(text: string, what: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new Error(`${what} is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
}
