/** @module dashboard/pages/execution/children — the executions this one started (its `workflow` steps), each a link. */
import type { ChildView } from '../../../../src/client/index.ts';
import { badge, fill, h, time } from '../../dom.ts';

export function childrenList(): { readonly element: HTMLElement; draw(children: readonly ChildView[]): void } {
  const body = h('tbody');
  let drawn = '';
  const draw = (children: readonly ChildView[]): void => {
    const key = JSON.stringify(children);
    if (key === drawn) return;
    drawn = key;
    fill(
      body,
      children.length === 0
        ? h('tr', {}, h('td', { colspan: 4, class: 'empty' }, 'This execution started no child execution.'))
        : children.map((c) =>
            h(
              'tr',
              { 'data-child': c.id, 'data-status': c.status },
              h('td', {}, h('a', { class: 'mono', href: `#/executions/${encodeURIComponent(c.id)}` }, c.id)),
              h('td', {}, c.workflow),
              h('td', {}, badge(c.status)),
              h('td', {}, time(c.createdAt)),
            ),
          ),
    );
  };
  draw([]);
  return { element: h('table', { id: 'children' }, h('thead', {}, h('tr', {}, ['Child', 'Workflow', 'Status', 'Created'].map((t) => h('th', {}, t)))), body), draw };
}
