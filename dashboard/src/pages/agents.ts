/**
 * @module dashboard/pages/agents — who runs steps: agents on the bus (built-in, in-process, NATS), HTTP push agents
 * (register with a secret shown once, remove), the kinds served now; `#/agents/:id` adds one agent's stats.
 * Refreshed on agent events and every few seconds (heartbeats).
 */
import type { AgentView, TaskDefinitionView } from '../../../src/client/index.ts';
import type { App, Page } from '../app.ts';
import { badge, fill, h } from '../dom.ts';
import { actionForm, field, optionalNumber } from '../widgets/form.ts';
import { tags, count, ms, stamp } from '../widgets/format.ts';
import { PageScope } from '../widgets/scope.ts';
import { secretOnce } from '../widgets/secret.ts';
import { dataTable, td, textTd } from '../widgets/table.ts';

/** Built-in agents serve up to this many tasks at once (the server's in-process ceiling): in effect no limit. */
const UNBOUNDED = 10_000;
/** Each kind of an HTTP push agent has a router on the bus named so; the agent itself is listed instead. */
const ROUTER_PREFIX = 'http-push:';
const HEARTBEAT_REFRESH_MS = 5000;

const isHttp = (a: AgentView): boolean => a.url !== undefined;

function where(a: AgentView): string {
  if (a.name.startsWith('builtin-')) return 'built-in';
  if (a.name.startsWith('in-process-')) return 'in-process';
  return 'NATS';
}

/** In flight against capacity: a meter, or "no limit" for the built-ins' ceiling. */
function load(a: AgentView): HTMLElement {
  if (a.capacity >= UNBOUNDED) {
    return h('span', { class: 'load', 'data-capacity': 'unbounded', title: `takes up to ${count(a.capacity)} tasks at once` }, `${count(a.inFlight)} in flight · no limit`);
  }
  return h(
    'span',
    { class: 'load', 'data-capacity': String(a.capacity) },
    h('meter', { min: 0, max: a.capacity, value: a.inFlight, 'aria-label': `${a.name}: ${a.inFlight} of ${a.capacity} slots busy` }),
    h('span', { class: 'load-text' }, `${count(a.inFlight)} / ${count(a.capacity)} busy`),
  );
}

export const agentsPage: Page = (root, app, [selected]) => {
  const scope = new PageScope(app);
  const message = h('div');
  const detail = h('div');

  const remove = (a: AgentView): void => {
    if (!confirm(`Remove HTTP push agent ${a.name} (${a.id})? Steps of its kinds wait for another agent.`)) return;
    void scope.run(message, () => app.api.agents.deleteHttp(a.id)).then(() => void reload());
  };

  const bus = dataTable<AgentView>('agents', ['Agent', 'Kinds', 'Runs in', 'Status', 'Load', 'Last heartbeat', 'Version'], (a) =>
    h(
      'tr',
      { 'data-id': a.id, 'data-name': a.name, 'data-status': a.status, class: a.id === selected ? 'selected' : undefined },
      td(h('a', { href: `#/agents/${encodeURIComponent(a.id)}` }, a.name), h('div', { class: 'muted mono small' }, a.id)),
      td(tags(a.kinds)),
      td(where(a)),
      td(badge(a.status)),
      td(load(a)),
      td(stamp(a.lastHeartbeatAt)),
      td(h('span', { class: 'muted' }, a.version ?? '—')),
    ),
  );
  const http = dataTable<AgentView>('http-agents', ['Agent', 'Kinds', 'URL', 'Status', 'Load', 'Timeout', 'Secret', 'Last answer', ''], (a) =>
    h(
      'tr',
      { 'data-id': a.id, 'data-name': a.name, 'data-status': a.status, class: a.id === selected ? 'selected' : undefined },
      td(h('a', { href: `#/agents/${encodeURIComponent(a.id)}` }, a.name), h('div', { class: 'muted mono small' }, a.id)),
      td(tags(a.kinds)),
      td(h('span', { class: 'mono wrap' }, a.url ?? '')),
      td(badge(a.status)),
      td(load(a)),
      td(ms(a.timeoutMs)),
      td(h('code', {}, a.secretHint ?? '')),
      td(stamp(a.lastHeartbeatAt)),
      td(h('button', { type: 'button', class: 'danger', 'aria-label': `Remove HTTP push agent ${a.name}`, onclick: () => remove(a) }, 'Remove')),
    ),
  );
  const kinds = dataTable<TaskDefinitionView>('kinds', ['Kind', 'Agents online', 'Busy', 'Input schema', 'Description'], (k) =>
    h(
      'tr',
      { 'data-kind': k.kind },
      td(h('code', {}, k.kind)),
      td(String(k.agents.online)),
      td(String(k.agents.busy)),
      td(k.inputSchema === null ? h('span', { class: 'muted' }, 'none') : 'declared'),
      textTd(h('span', { class: 'muted' }, k.description ?? '')),
    ),
  );

  const reload = async (): Promise<void> => {
    const got = await scope.run(message, () => Promise.all([app.api.agents.list({ limit: 1000 }), app.api.taskDefinitions.list({ limit: 1000 })]));
    if (got === undefined) return;
    const [agents, defs] = got;
    bus.show(agents.items.filter((a) => !isHttp(a) && !a.name.startsWith(ROUTER_PREFIX)), 'No agent has been seen.');
    http.show(agents.items.filter(isHttp), 'No HTTP push agents: register one below.');
    kinds.show(defs.items, 'No kind is served now.');
    if (selected) void loadDetail(selected);
  };

  const loadDetail = async (id: string): Promise<void> => {
    const a = await scope.run(message, () => app.api.agents.get(id));
    if (a !== undefined) fill(detail, agentDetail(a));
  };

  const unsubscribe = app.live.agents(() => void reload(), () => void reload());
  scope.add(unsubscribe);
  scope.every(HEARTBEAT_REFRESH_MS, () => void reload());
  root.append(
    h('h1', {}, 'Agents'),
    message,
    detail,
    h('section', { class: 'panel', 'aria-labelledby': 'agents-bus-title' }, h('h2', { id: 'agents-bus-title' }, 'On the bus'), bus.element),
    h('section', { class: 'panel', 'aria-labelledby': 'agents-http-title' }, h('h2', { id: 'agents-http-title' }, 'HTTP push agents'), http.element),
    h('section', { class: 'panel', 'aria-labelledby': 'kinds-title' }, h('h2', { id: 'kinds-title' }, 'Kinds served now'), kinds.element),
    h('section', { class: 'panel' }, h('h2', {}, 'Register an HTTP push agent'), registerForm(app, () => void reload())),
  );
  void reload();
  return scope.dispose;
};

function agentDetail(a: AgentView): HTMLElement {
  const s = a.stats;
  return h(
    'section',
    { class: 'panel', id: 'agent', 'aria-label': `Agent ${a.name}` },
    h('div', { class: 'row' }, h('h2', {}, a.name), badge(a.status), h('code', { class: 'muted' }, a.id)),
    h(
      'dl',
      { class: 'kv' },
      h('dt', {}, 'Kinds'),
      h('dd', {}, tags(a.kinds)),
      h('dt', {}, 'Load'),
      h('dd', {}, load(a)),
      h('dt', {}, 'Completed'),
      h('dd', {}, s === undefined ? '—' : count(s.completed)),
      h('dt', {}, 'Failed'),
      h('dd', {}, s === undefined ? '—' : `${count(s.failed)} (${(s.failureRate * 100).toFixed(1)} %)`),
      h('dt', {}, 'Median task'),
      h('dd', {}, ms(s?.p50Ms)),
      h('dt', {}, 'Last heartbeat'),
      h('dd', {}, stamp(a.lastHeartbeatAt)),
    ),
  );
}

function registerForm(app: App, registered: () => void): HTMLFormElement {
  const name = h('input', { id: 'http-agent-name', required: true, autocomplete: 'off' });
  const kinds = h('input', { id: 'http-agent-kinds', required: true, placeholder: 'summarize, translate', autocomplete: 'off' });
  const url = h('input', { id: 'http-agent-url', type: 'url', required: true, placeholder: 'https://example.com/actorflow', autocomplete: 'off' });
  const concurrency = h('input', { id: 'http-agent-concurrency', type: 'number', min: 1, max: UNBOUNDED, placeholder: '16', inputmode: 'numeric' });
  return actionForm(app, {
    id: 'http-agent-form',
    submit: 'Register',
    inline: true,
    fields: [field('Name', name), field('Kinds (comma-separated)', kinds), field('URL', url, { class: 'grow' }), field('At once at most', concurrency)],
    action: async () => {
      const c = optionalNumber(concurrency, 'At once at most');
      const a = await app.api.agents.registerHttp({
        name: name.value.trim(),
        kinds: kinds.value.split(',').map((k) => k.trim()).filter((k) => k !== ''),
        url: url.value.trim(),
        ...(c === undefined ? {} : { concurrency: c }),
      });
      registered();
      return h('div', {}, h('p', {}, 'Registered ', h('code', {}, a.id), '.'), a.secret === undefined ? null : secretOnce('Signing secret', a.secret));
    },
  });
}
