/**
 * @module dashboard/pages/execution/timeline — the event timeline, newest first: type and step, the time since the
 * previous event, relative and wall-clock time, and each payload behind a toggle (the JSON viewer, with copy).
 * Rows are added one by one as events arrive, never redrawn: an opened payload stays open, and a reader scrolled
 * down the list keeps their place when newer events come in above.
 */
import type { EventView } from '../../../../src/client/index.ts';
import { h, time } from '../../dom.ts';
import { jsonView } from '../../json-view.ts';
import { clock, fullTime, span } from './format.ts';

/** Rows kept on the page; older ones stay readable over the API. */
const MAX_ROWS = 1000;

export function timeline(executionId: string): { readonly element: HTMLElement; add(e: EventView): void } {
  const list = h('ol', { class: 'timeline', id: 'timeline', 'aria-label': 'Events, newest first' });
  const note = h('p', { class: 'muted', hidden: true }, `Only the latest ${MAX_ROWS} events are shown; GET /api/v1/executions/${executionId}/events has them all.`);
  let previousMs: number | null = null;

  const add = (e: EventView): void => {
    const at = Date.parse(e.timestamp);
    const delta = previousMs === null ? null : at - previousMs;
    previousMs = at;
    const hasData = Object.keys(e.data).length > 0;
    const payload = h('div', { class: 'tl-payload', id: `payload-${e.seq}`, hidden: true });
    const toggle = hasData
      ? h(
          'button',
          {
            type: 'button',
            class: 'tl-toggle',
            'aria-expanded': 'false',
            'aria-controls': payload.id,
            'aria-label': `Payload of event #${e.seq} ${e.type}`,
            onclick: (ev) => {
              const b = ev.currentTarget as HTMLButtonElement;
              const open = b.getAttribute('aria-expanded') !== 'true';
              b.setAttribute('aria-expanded', String(open));
              // Built on first open: most payloads are never looked at.
              if (open && payload.childElementCount === 0) payload.append(jsonView(e.data, `payload of event #${e.seq}`));
              payload.hidden = !open;
            },
          },
          'payload',
        )
      : h('span');
    const row = h(
      'li',
      { 'data-type': e.type, 'data-seq': e.seq },
      h(
        'div',
        { class: 'tl-head' },
        h('span', { class: 'seq' }, `#${e.seq}`),
        h('span', { class: 'tl-what' }, h('code', {}, e.type), e.stepId === undefined ? null : h('span', { class: 'muted mono' }, ` ${e.stepId}`)),
        h('span', { class: 'tl-delta mono', title: 'since the previous event' }, delta === null ? '' : `+${span(delta)}`),
        h('span', { class: 'tl-time', title: fullTime(at) }, time(e.timestamp), ' ', h('span', { class: 'mono muted' }, clock(at))),
        toggle,
      ),
      payload,
    );
    // Keep a reader's place: newer rows go above, so whoever scrolled down is moved down by the new row's height.
    const scrolled = list.scrollTop > 0;
    list.prepend(row);
    if (scrolled) list.scrollTop += row.offsetHeight;
    if (list.childElementCount > MAX_ROWS) {
      list.lastElementChild?.remove();
      note.hidden = false;
    }
  };
  return { element: h('div', {}, list, note), add };
}
