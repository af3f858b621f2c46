/** @module dashboard/main — boot: key entry, then hash routing between the pages (#/executions, #/executions/:id, #/schedules, …: ROUTES). */
import type { App, Page } from './app.ts';
import { tickTimes } from './dom.ts';
import { LiveSocket } from './live.ts';
import { wireNav } from './nav.ts';
import { apiKeysPage } from './pages/admin/api-keys.ts';
import { auditPage } from './pages/admin/audit.ts';
import { tenantsPage } from './pages/admin/tenants.ts';
import { agentsPage } from './pages/agents.ts';
import { schedulesPage } from './pages/automation/schedules.ts';
import { tasksPage } from './pages/automation/tasks.ts';
import { webhooksPage } from './pages/automation/webhooks.ts';
import { definitionsPage } from './pages/definitions.ts';
import { documentsPage } from './pages/library/documents.ts';
import { templatesPage } from './pages/library/templates.ts';
import { telemetryPage } from './pages/telemetry/telemetry.ts';
import { executionPage } from './pages/execution.ts';
import { executionsPage } from './pages/executions.ts';
import { loginPage } from './pages/login.ts';
import { clientFor, isUnauthorized, storeKey, storedKey } from './session.ts';

const root = document.getElementById('app') as HTMLElement;
const liveBadge = document.getElementById('live') as HTMLElement;
const signOutButton = document.getElementById('sign-out') as HTMLButtonElement;

const ROUTES: readonly { readonly pattern: RegExp; readonly nav: string; readonly page: Page }[] = [
  { pattern: /^\/executions\/?$/, nav: 'executions', page: executionsPage },
  { pattern: /^\/executions\/([^/]+)$/, nav: 'executions', page: executionPage },
  { pattern: /^\/definitions\/?$/, nav: 'definitions', page: definitionsPage },
  { pattern: /^\/definitions\/([^/]+)$/, nav: 'definitions', page: definitionsPage },
  { pattern: /^\/agents(?:\/([^/]+))?\/?$/, nav: 'agents', page: agentsPage },
  { pattern: /^\/templates(?:\/([^/]+)(?:\/(\d+))?)?\/?$/, nav: 'templates', page: templatesPage },
  { pattern: /^\/schedules\/?$/, nav: 'schedules', page: schedulesPage },
  { pattern: /^\/webhooks(?:\/([^/]+))?\/?$/, nav: 'webhooks', page: webhooksPage },
  { pattern: /^\/tasks(?:\/([^/]+))?\/?$/, nav: 'tasks', page: tasksPage },
  { pattern: /^\/documents(?:\/([^/]+))?\/?$/, nav: 'documents', page: documentsPage },
  { pattern: /^\/telemetry(?:\/([^/]+))?\/?$/, nav: 'telemetry', page: telemetryPage },
  { pattern: /^\/keys\/?$/, nav: 'keys', page: apiKeysPage },
  { pattern: /^\/audit\/?$/, nav: 'audit', page: auditPage },
  { pattern: /^\/tenants(?:\/([^/]+))?\/?$/, nav: 'tenants', page: tenantsPage },
];

let app: App | undefined;
let cleanup: (() => void) | undefined;

function signIn(key: string): void {
  storeKey(key);
  const live = new LiveSocket(key, (state) => {
    liveBadge.dataset['state'] = state;
    liveBadge.textContent = state;
  });
  app = { api: clientFor(key), live, failed: (err) => (isUnauthorized(err) ? signOut() : undefined) };
  signOutButton.hidden = false;
  render();
}

function signOut(): void {
  storeKey(null);
  cleanup?.();
  cleanup = undefined;
  app?.live.close();
  app = undefined;
  signOutButton.hidden = true;
  render();
}

function render(): void {
  cleanup?.();
  cleanup = undefined;
  root.replaceChildren();
  const path = decodeURIComponent(location.hash.replace(/^#/, '')) || '/executions';
  if (app === undefined) {
    cleanup = loginPage(root, signIn);
    return;
  }
  const route = ROUTES.find((r) => r.pattern.test(path));
  for (const a of document.querySelectorAll<HTMLAnchorElement>('#nav a')) {
    a.classList.toggle('current', a.dataset['nav'] === route?.nav);
    if (a.dataset['nav'] === route?.nav) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (route === undefined) {
    location.hash = '#/executions';
    return;
  }
  const params = (route.pattern.exec(path) ?? []).slice(1).map((p) => p ?? '');
  cleanup = route.page(root, app, params);
}

signOutButton.addEventListener('click', signOut);
window.addEventListener('hashchange', render);
wireNav(root);
// Relative times ("12s ago") stay true without re-rendering.
setInterval(() => tickTimes(root), 5000);

const key = storedKey();
if (key !== null && key !== '') signIn(key);
else render();
