/** @module dashboard/pages/agents — agents seen on the bus, refreshed live on agent events. */
import type { Page } from '../app.ts';
import { badge, errorBox, fill, h, time } from '../dom.ts';

export const agentsPage: Page = (root, app) => {
  let disposed = false;
  const tbody = h('tbody');
  const message = h('div');

  const load = async (): Promise<void> => {
    try {
      const page = await app.api.agents.list({ limit: 1000 });
      if (disposed) return;
      message.replaceChildren();
      if (page.items.length === 0) {
        fill(tbody, h('tr', {}, h('td', { colspan: 7, class: 'empty' }, 'No agent has been seen.')));
        return;
      }
      fill(
        tbody,
        page.items.map((a) =>
          h(
            'tr',
            { 'data-id': a.id, 'data-status': a.status },
            h('td', { class: 'mono' }, a.id),
            h('td', {}, a.name),
            h('td', { class: 'mono' }, a.kinds.join(', ')),
            h('td', {}, badge(a.status)),
            h('td', {}, `${a.inFlight} / ${a.capacity}`),
            h('td', {}, time(a.lastHeartbeatAt)),
            h('td', { class: 'muted' }, a.version ?? '—'),
          ),
        ),
      );
    } catch (err) {
      app.failed(err);
      if (!disposed) message.replaceChildren(errorBox(err));
    }
  };

  const unsubscribe = app.live.agents(() => void load(), () => void load());
  root.append(
    h('h1', {}, 'Agents'),
    h(
      'div',
      { class: 'panel' },
      message,
      h('table', { id: 'agents' }, h('thead', {}, h('tr', {}, ...['ID', 'Name', 'Kinds', 'Status', 'In flight', 'Last heartbeat', 'Version'].map((t) => h('th', {}, t)))), tbody),
    ),
  );
  void load();
  return () => {
    disposed = true;
    unsubscribe();
  };
};
