/**
 * @module dashboard/pages/executions-filters — the executions list's filters: search (an execution id, or labels
 * `k=v`), status chips with the tenant's counts per status (`GET /status`, `queued` included), workflow.
 * One state feeds the list query, the test of live rows and the bulk action's filter.
 */
import type { BulkFilter, ExecutionStatus, ExecutionView, ListExecutionsOptions, StatusView } from '../../../src/client/index.ts';
import { fill, h } from '../dom.ts';

const STATUSES: readonly ExecutionStatus[] = ['pending', 'queued', 'running', 'waiting', 'paused', 'completed', 'failed', 'cancelled', 'timed_out'];
const ID_RE = /^ex_[0-9A-Za-z]+$/;
const LABEL_RE = /^([^=\s,]+)=([^\s,]*)$/;

export type Search = { readonly id: string } | { readonly labels: Readonly<Record<string, string>> } | { readonly invalid: string } | null;

/** `ex_…` is an id; `k=v` words (space or comma separated) are labels; empty is no search. */
export function parseSearch(text: string): Search {
  const t = text.trim();
  if (t === '') return null;
  if (ID_RE.test(t)) return { id: t };
  const labels: Record<string, string> = {};
  for (const word of t.split(/[\s,]+/)) {
    const m = LABEL_RE.exec(word);
    if (m === null) return { invalid: `Search takes an execution id (ex_…) or labels as key=value; "${word}" is neither.` };
    labels[m[1] ?? ''] = m[2] ?? '';
  }
  return { labels };
}

export interface Filters {
  readonly element: HTMLElement;
  search(): Search;
  status(): ExecutionStatus | null;
  workflow(): string | null;
  /** The list query (without paging); undefined in id mode (the list is one GET). */
  query(): ListExecutionsOptions;
  matches(x: ExecutionView): boolean;
  /** What a bulk action acts on: undefined while nothing narrows the list. */
  bulk(): BulkFilter | undefined;
  /** The chips' counts, from `GET /status` (the tenant's executions of every workflow). */
  counts(status: StatusView): void;
}

export function executionFilters(changed: () => void): Filters {
  let status: ExecutionStatus | null = null;
  const searchInput = h('input', { id: 'search', type: 'search', placeholder: 'ex_… or key=value', 'aria-label': 'Search by execution id or label (key=value)', autocomplete: 'off' });
  const searchMessage = h('div', { id: 'search-message', role: 'status' });
  const workflowInput = h('input', { id: 'filter-workflow', placeholder: 'workflow name', onchange: () => changed() });
  const chips = new Map<ExecutionStatus | 'all', HTMLButtonElement>();
  const counts = new Map<ExecutionStatus, HTMLElement>();
  const chip = (s: ExecutionStatus | null): HTMLButtonElement => {
    const count = h('span', { class: 'count' });
    if (s !== null) counts.set(s, count);
    const b = h(
      'button',
      {
        type: 'button',
        class: 'chip',
        'data-status': s ?? 'all',
        'aria-pressed': String(s === status),
        onclick: () => {
          status = s;
          for (const [k, c] of chips) c.setAttribute('aria-pressed', String(k === (s ?? 'all')));
          changed();
        },
      },
      s === null ? 'all' : s.replace('_', ' '),
      count,
    );
    chips.set(s ?? 'all', b);
    return b;
  };
  const search = (): Search => parseSearch(searchInput.value);
  const form = h(
    'form',
    {
      id: 'search-form',
      role: 'search',
      onsubmit: (ev) => {
        ev.preventDefault();
        const s = search();
        fill(searchMessage, s !== null && 'invalid' in s ? h('p', { class: 'error' }, s.invalid) : null);
        if (s === null || !('invalid' in s)) changed();
      },
    },
    h('label', {}, 'Search', searchInput),
    h('button', { type: 'submit' }, 'Search'),
  );
  const element = h(
    'div',
    { class: 'filters' },
    h('div', { class: 'toolbar' }, form, h('label', {}, 'Workflow', workflowInput)),
    searchMessage,
    h('div', { class: 'chips', id: 'status-chips', role: 'group', 'aria-label': 'Filter by status (counts: executions of every workflow)' }, chip(null), STATUSES.map(chip)),
  );

  const workflow = (): string | null => (workflowInput.value.trim() === '' ? null : workflowInput.value.trim());
  const labels = (): Readonly<Record<string, string>> | undefined => {
    const s = search();
    return s !== null && 'labels' in s ? s.labels : undefined;
  };
  return {
    element,
    search,
    status: () => status,
    workflow,
    query: () => {
      const w = workflow();
      const l = labels();
      return { ...(status === null ? {} : { status }), ...(w === null ? {} : { workflow: w }), ...(l === undefined ? {} : { labels: l }) };
    },
    matches: (x) => {
      const s = search();
      if (s !== null && 'id' in s) return x.id === s.id;
      const w = workflow();
      const l = labels() ?? {};
      return (status === null || x.status === status) && (w === null || x.workflow === w) && Object.entries(l).every(([k, v]) => x.labels[k] === v);
    },
    bulk: () => {
      const s = search();
      if (s !== null && 'id' in s) return { ids: [s.id] };
      const w = workflow();
      const l = labels();
      if (status === null && w === null && l === undefined) return undefined;
      return { ...(status === null ? {} : { status: [status] }), ...(w === null ? {} : { workflow: w }), ...(l === undefined ? {} : { labels: l }) };
    },
    counts: (view) => {
      for (const [s, el] of counts) {
        const n = view.executions[s];
        el.textContent = n === undefined ? '' : String(n);
        el.hidden = n === undefined;
      }
    },
  };
}
