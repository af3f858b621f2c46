/**
 * E2E: the dashboard's resource pages in headless Debian Chromium (playwright-core) against a real server with
 * auth on. A person's actions, each checked over REST: create and disable a schedule, create a webhook and see its
 * delivery (retried once), create an API key (shown once) and revoke it, filter the audit log, open a template's
 * diagram, open a document and an older version, change a tenant's limit, draw the telemetry charts for a chosen
 * window, read an agent's capacity. Then every page at 1280×800 and at 375 px wide (screenshots in
 * test-artifacts/pages/, no sideways scrolling, the nav behind its Menu button), dark mode, keyboard entry and
 * no layout shift while a page refreshes. Any page error, console error or failed request fails the test.
 */
import { type IncomingHttpHeaders, type Server, createServer } from 'node:http';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, type Page, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifySignature } from '../../src/webhooks/signature.ts';
import { closeReceiver } from '../support/arrivals.ts';
import { ensureDashboardBuilt } from '../support/dashboard-build.ts';
import { api } from '../support/http.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { waitForEnd } from '../support/wait.ts';

const CHROMIUM = '/usr/bin/chromium';
const ADMIN = 'e2e-pages-admin-key-0123456789abcdef';
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SHOTS = join(ROOT, 'test-artifacts', 'pages');
/** Bounds every browser wait: a broken page fails with the selector in the message (loose: the CI machine is slow). */
const UI_TIMEOUT = 20_000;

let server: TestServer;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let receiver: { url: string; server: Server; hits: { headers: IncomingHttpHeaders; body: string }[] };
const problems: string[] = [];
/** Dashboard files the browser fetched, in order (the lazy chunks show up only when their page opens). */
const assets: string[] = [];

const auth = { headers: { authorization: `Bearer ${ADMIN}` } };
const rest = () => api(server.url);
let adminKeyId = '';
let documentId = '';

/** A webhook receiver on 127.0.0.1: answers 500 to its first request, 200 after (so a delivery is retried once). */
async function startReceiver(): Promise<typeof receiver> {
  const hits: { headers: IncomingHttpHeaders; body: string }[] = [];
  const s = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      hits.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(hits.length === 1 ? 500 : 200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(s.address() as { port: number }).port}/hook`, server: s, hits };
}

/** Goes to a page through its nav link (a hash change: no reload, nothing in flight is cut off). */
async function open(nav: string, ready: string): Promise<void> {
  await page.click(`#nav a[data-nav="${nav}"]`);
  await page.waitForSelector(ready);
}

/** Goes to a hash route directly (deep links). */
async function route(hash: string, ready: string): Promise<void> {
  await page.evaluate(`location.hash = ${JSON.stringify(hash)}`);
  await page.waitForSelector(ready);
}

/** Accepts the next confirm() the page shows and returns its text. */
function acceptNextDialog(): Promise<string> {
  return new Promise((resolve) => page.once('dialog', (d) => (resolve(d.message()), void d.accept())));
}

function expectClean(): void {
  expect(problems).toEqual([]);
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: the dashboard end-to-end tests need Debian's Chromium (apt-get install chromium; CI installs it).`);
  }
  await ensureDashboardBuilt();
  receiver = await startReceiver();
  server = await startTestServer({ adminKey: ADMIN, webhookAllowPrivate: true, webhookRetryMs: 200 });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
  context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' });
  page = await context.newPage();
  page.setDefaultTimeout(UI_TIMEOUT);
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
  });
  page.on('requestfailed', (req) => problems.push(`request failed: ${req.method()} ${req.url()} ${req.failure()?.errorText ?? ''}`));
  page.on('response', (res) => {
    if (res.status() >= 400) problems.push(`HTTP ${res.status()}: ${res.request().method()} ${res.url()}`);
  });
  page.on('request', (req) => {
    const m = /\/assets\/([^?]+)/.exec(req.url());
    if (m) assets.push(m[1] ?? '');
  });

  // What the pages show: two workflows with costs and a retried step, a template with two versions,
  // a document with two versions, a tenant.
  const r = rest();
  const flows = [
    { name: 'pages-echo', steps: [{ id: 'say', type: 'task', agent: 'echo', input: { cost: { tokens: 50, usd: 0.02 } } }] },
    {
      name: 'pages-flaky',
      steps: [
        { id: 'try', type: 'task', agent: 'fail', input: { times: 1, cost: { tokens: 10, usd: 0.01 } }, retry: { maxAttempts: 2, backoff: 'fixed', initialMs: 5 } },
        { id: 'done', type: 'task', agent: 'echo', input: {} },
      ],
    },
  ];
  for (const f of flows) expect((await r.post('/workflow-definitions', f, auth)).status).toBe(201);
  for (const workflow of ['pages-echo', 'pages-echo', 'pages-flaky']) {
    const started = await r.post('/executions', { workflow }, auth);
    expect(started.status).toBe(201);
    expect((await waitForEnd(server.engine, started.body.id)).status).toBe('completed');
  }
  const tpl = (description: string, steps: unknown[]) => ({
    name: 'pages-tpl',
    description,
    parameters: { type: 'object', properties: { who: { type: 'string', default: 'ada' } } },
    steps,
  });
  expect((await r.post('/workflow-templates', tpl('first', [{ id: 'greet', type: 'task', agent: 'echo', input: { to: '${params.who}' } }]), auth)).status).toBe(201);
  expect((await r.post('/workflow-templates', tpl('second', [{ id: 'greet', type: 'task', agent: 'echo' }, { id: 'audit-trail', type: 'task', agent: 'echo' }]), auth)).status).toBe(201);
  const doc = await r.post('/documents', { scopeType: 'project', scopeId: 'pages', type: 'report', title: 'Pages report', content: { total: 1 } }, auth);
  expect(doc.status).toBe(201);
  documentId = doc.body.id;
  expect((await r.put(`/documents/${documentId}`, { content: { total: 2 }, status: 'final' }, { headers: { ...auth.headers, 'if-match': '1' } })).status).toBe(200);
  expect((await r.post('/tenants', { slug: 'pages-acme', name: 'Acme', limits: { maxRunning: 50 } }, auth)).status).toBe(201);
  adminKeyId = (await r.get('/api-keys', auth)).body.items[0].id;

  mkdirSync(SHOTS, { recursive: true });
  await page.goto(`${server.url}/`);
  await page.fill('#api-key', ADMIN);
  await page.click('button[type=submit]');
  await page.waitForSelector('#live[data-state="live"]');
}, 240_000);

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await server?.close();
  if (receiver) await closeReceiver(receiver.server, []);
});

describe('the dashboard pages', () => {
  it('creates a schedule, shows its next run, disables it, deletes it', async () => {
    await open('schedules', '#schedules tbody tr');
    await page.waitForSelector('#schedule-workflow option[value="pages-echo"]', { state: 'attached' });
    await page.selectOption('#schedule-workflow', 'pages-echo');
    await page.selectOption('#schedule-kind', 'cron');
    await page.fill('#schedule-when', '0 0 1 1 *');
    await page.fill('#schedule-input', '{"from":"dashboard"}');
    await page.click('#schedule-form button[type=submit]');
    const id = (await page.textContent('#schedule-created', { timeout: UI_TIMEOUT })) ?? '';
    expect(id).toMatch(/^sc_/);
    const created = (await rest().get(`/schedules/${id}`, auth)).body;
    expect(created).toMatchObject({ workflow: 'pages-echo', cron: '0 0 1 1 *', enabled: true, input: { from: 'dashboard' } });
    const row = `#schedules tr[data-id="${id}"]`;
    await page.waitForSelector(`${row}[data-enabled="true"]`);
    // The next run is shown relative and absolute: January 1st.
    expect(await page.getAttribute(`${row} time`, 'datetime')).toBe(created.nextRunAt);
    expect(await page.textContent(`${row} .abs`)).toMatch(/-01-01 /);

    await page.click(`${row} button[data-action="disable"]`);
    await page.waitForSelector(`${row}[data-enabled="false"]`);
    expect((await rest().get(`/schedules/${id}`, auth)).body.enabled).toBe(false);

    const asked = acceptNextDialog();
    await page.click(`${row} button[data-action="delete"]`);
    expect(await asked).toContain(id);
    await page.waitForSelector(row, { state: 'detached' });
    expect((await rest().get(`/schedules/${id}`, auth)).status).toBe(404);
    expectClean();
  }, 60_000);

  it('creates a webhook (its secret shown once) and shows a delivery, retried once, with its tries', async () => {
    await open('webhooks', '#webhooks tbody tr');
    await page.fill('#webhook-url', receiver.url);
    await page.fill('#webhook-events', 'workflow.completed');
    await page.click('#webhook-form button[type=submit]');
    const secret = (await page.textContent('#webhook-form .secret-value')) ?? '';
    const link = page.locator('#webhook-form a.mono');
    const id = (await link.textContent()) ?? '';
    expect(id).toMatch(/^wh_/);
    const hook = (await rest().get(`/webhooks/${id}`, auth)).body;
    expect(hook).toMatchObject({ url: receiver.url, events: ['workflow.completed'] });
    expect(secret.endsWith(hook.secretHint.replace('…', ''))).toBe(true);

    await link.click();
    await page.waitForSelector('#deliveries tbody tr');
    const run = await rest().post('/executions', { workflow: 'pages-echo' }, auth);
    expect((await waitForEnd(server.engine, run.body.id)).status).toBe('completed');
    // The receiver refuses the first try (500); the page refreshes until the retry is delivered.
    const delivered = '#deliveries tr[data-status="delivered"]';
    await page.waitForSelector(delivered);
    expect(await page.textContent(`${delivered} .attempts`)).toBe('2');
    const [d] = (await rest().get(`/webhooks/${id}/deliveries`, auth)).body.items;
    expect(d).toMatchObject({ status: 'delivered', attempts: 2, lastStatusCode: 200 });
    expect(await page.getAttribute(delivered, 'data-id')).toBe(d.id);
    // What arrived is the event, signed with the secret the page showed.
    const last = receiver.hits.at(-1);
    expect(JSON.parse(last?.body ?? '{}')).toMatchObject({ type: 'workflow.completed', executionId: run.body.id });
    expect(verifySignature(String(last?.headers['x-actorflow-signature']), last?.body ?? '', secret)).toBe(true);
    expectClean();
  }, 60_000);

  it('creates an API key, shows it once, revokes it: the key is then refused', async () => {
    await open('keys', `#api-keys tr[data-id="${adminKeyId}"]`);
    await page.fill('#key-name', 'pages-ci');
    await page.selectOption('#key-scope', 'write');
    await page.click('#key-form button[type=submit]');
    const key = (await page.textContent('#key-created .secret-value')) ?? '';
    const id = (await page.getAttribute('#key-created', 'data-id')) ?? '';
    expect(key).toMatch(/^afk_/);
    const asKey = { headers: { authorization: `Bearer ${key}` } };
    expect((await rest().get('/executions', asKey)).status).toBe(200);
    const listed = (await rest().get('/api-keys', auth)).body.items.find((k: { id: string }) => k.id === id);
    expect(listed).toMatchObject({ name: 'pages-ci', scopes: ['write'], tenant: 'default' });
    expect(JSON.stringify(listed)).not.toContain(key);
    await page.waitForSelector(`#api-keys tr[data-id="${id}"]`);

    // Shown once: leaving the page and coming back shows the key's row, never the key.
    await open('audit', '#audit tbody tr');
    await open('keys', `#api-keys tr[data-id="${id}"]`);
    expect(await page.locator('.secret-value').count()).toBe(0);
    expect(await page.textContent('#api-keys')).not.toContain(key);

    const asked = acceptNextDialog();
    await page.click(`#api-keys tr[data-id="${id}"] button[data-action="revoke"]`);
    expect(await asked).toContain(id);
    await page.waitForSelector(`#api-keys tr[data-id="${id}"]`, { state: 'detached' });
    expect((await rest().get('/executions', asKey)).status).toBe(401);
    expectClean();
  }, 60_000);

  it('filters the audit log by route and by key, as GET /audit does', async () => {
    await server.flushAudit();
    await open('audit', '#audit tbody tr[data-route]');
    const route = '/api/v1/api-keys/{id}';
    await page.fill('#audit-route', route);
    await page.click('#audit-filters button[type=submit]');
    await page.waitForFunction(`((rows) => rows.length > 0 && rows.every((x) => x.getAttribute('data-route') === ${JSON.stringify(route)}))([...document.querySelectorAll('#audit tbody tr[data-route]')])`);
    const expected = (await rest().get('/audit', { ...auth, query: { route } })).body.items;
    expect(expected.length).toBeGreaterThan(0);
    expect(await page.locator('#audit tbody tr[data-route]').count()).toBe(expected.length);
    expect(await page.textContent('#audit tbody')).toContain('DELETE');

    // And by key (a select of the keys by name): every row is the admin key's.
    await page.fill('#audit-route', '');
    await page.selectOption('#audit-key', adminKeyId);
    await page.waitForFunction(`JSON.parse(document.querySelector('#audit')?.getAttribute('data-filter') ?? '{}').keyId === ${JSON.stringify(adminKeyId)}`);
    const keys = await page.$$eval('#audit tbody tr[data-key]', (rows) => rows.map((r) => r.getAttribute('data-key')));
    expect(keys.length).toBeGreaterThan(0);
    expect(new Set(keys)).toEqual(new Set([adminKeyId]));
    expectClean();
  }, 60_000);

  it("opens a template: its diagram, its versions (an older one's diagram too), and instantiates it", async () => {
    const mermaidBefore = assets.some((a) => a.startsWith('mermaid.core-'));
    await open('templates', '#templates tr[data-name="pages-tpl"]');
    await page.click('#templates tr[data-name="pages-tpl"] a');
    await page.waitForSelector('#diagram[data-rendered="true"] svg');
    const latest = (await page.textContent('#diagram svg')) ?? '';
    expect(latest).toContain('audit-trail');
    expect(await rest().get('/workflow-templates/pages-tpl/diagram', auth).then((x) => x.text)).toContain('audit-trail');
    const versions = await page.$$eval('#template-versions tbody tr', (rows) => rows.map((r) => r.getAttribute('data-version')));
    expect(versions).toEqual(['2', '1']);
    await page.click('#template-versions tr[data-version="1"] a');
    await page.waitForSelector('#template[data-version="1"]');
    await page.waitForFunction(`((t) => t.includes('greet') && !t.includes('audit-trail'))(document.querySelector('#diagram[data-rendered="true"] svg')?.textContent ?? '')`);
    // Mermaid came with the first diagram, not before (unless another page drew one already).
    if (!mermaidBefore) expect(assets.some((a) => a.startsWith('mermaid.core-'))).toBe(true);

    await page.fill('#instantiate-name', 'pages-from-tpl');
    await page.fill('#instantiate-params', '{"who":"grace"}');
    await page.click('#instantiate-form button[type=submit]');
    await page.waitForSelector('#instantiated');
    const def = (await rest().get('/workflow-definitions/pages-from-tpl', auth)).body;
    expect(def).toMatchObject({ source: 'template', template: { name: 'pages-tpl', version: 1, params: { who: 'grace' } } });
    expectClean();
  }, 60_000);

  it('finds a document by its scope, opens it, and shows an older version', async () => {
    await open('documents', '#documents tbody tr');
    await page.fill('#documents-scope-type', 'project');
    await page.fill('#documents-scope-id', 'pages');
    await page.click('#documents-filters button[type=submit]');
    await page.waitForSelector(`#documents tr[data-id="${documentId}"]`);
    expect(await page.locator('#documents tbody tr[data-id]').count()).toBe(1);
    await page.click(`#documents tr[data-id="${documentId}"] a`);
    await page.waitForSelector('#document-content[data-version="2"]');
    expect(await page.textContent('#document-content')).toContain('"total": 2');
    expect(await page.textContent('#document')).toContain('final');
    await page.click('#document-versions button[data-version="1"]');
    await page.waitForSelector('#document-content[data-version="1"]');
    expect(await page.textContent('#document-content')).toContain('"total": 1');
    expect((await rest().get(`/documents/${documentId}/versions/1`, auth)).body.content).toEqual({ total: 1 });
    expect(await page.getAttribute('#document-versions button[data-version="1"]', 'aria-pressed')).toBe('true');
    expectClean();
  }, 60_000);

  it("changes a tenant's limit", async () => {
    await open('tenants', '#tenants tr[data-slug="pages-acme"]');
    expect(await page.textContent('#tenants tr[data-slug="pages-acme"] .max-running')).toBe('50');
    await page.click('#tenants tr[data-slug="pages-acme"] a.button');
    await page.waitForSelector('#tenant-editor');
    expect(await page.inputValue('#tenant-edit-max-running')).toBe('50');
    await page.fill('#tenant-edit-max-running', '7');
    await page.fill('#tenant-edit-rps', '');
    await page.click('#tenant-edit-form button[type=submit]');
    await page.waitForSelector('#tenant-saved');
    const t = (await rest().get('/tenants/pages-acme', auth)).body;
    expect(t.limits).toEqual({ maxRunning: 7, rps: null });
    await page.waitForSelector('#tenants tr[data-slug="pages-acme"] .max-running >> text=7');
    expectClean();
  }, 60_000);

  it('draws the telemetry charts for a chosen window, uPlot loaded only then', async () => {
    expect(assets.some((a) => a.startsWith('charts-'))).toBe(false);
    await open('telemetry', '#chart-series[data-rendered="true"] canvas');
    expect(assets.some((a) => a.startsWith('charts-'))).toBe(true);
    await page.selectOption('#telemetry-window', '1h');
    await page.waitForURL('**/#/telemetry/1h');
    for (const chart of ['series', 'durations', 'cost', 'steps']) await page.waitForSelector(`#chart-${chart}[data-rendered="true"] canvas`);
    const from = (await page.getAttribute('#telemetry-kpis', 'data-from')) ?? '';
    const to = (await page.getAttribute('#telemetry-kpis', 'data-to')) ?? '';
    expect(Date.parse(to) - Date.parse(from)).toBe(3_600_000);
    const summary = (await rest().get('/telemetry/summary', { ...auth, query: { from, to } })).body;
    expect(summary.executions.started).toBeGreaterThanOrEqual(4);
    expect(await page.textContent('#telemetry-kpis [data-kpi="started"] .kpi-value')).toBe(String(summary.executions.started));
    const workflows = await page.$$eval('#telemetry-workflows tbody tr', (rows) => rows.map((r) => r.getAttribute('data-workflow')));
    expect(workflows).toEqual(summary.workflows.map((w: { workflow: string }) => w.workflow));
    // Step success rates of a chosen workflow: pages-flaky's steps, each run succeeding after its retry.
    await page.selectOption('#telemetry-workflow', 'pages-flaky');
    await page.waitForSelector('#chart-steps[data-workflow="pages-flaky"] canvas');
    const steps = await page.$$eval('#telemetry-steps tbody tr', (rows) => rows.map((r) => r.getAttribute('data-step')));
    expect(steps.sort()).toEqual(['done', 'try']);
    expect(await page.textContent('#telemetry-steps tr[data-step="try"]')).toContain('100.0 %');
    expectClean();
  }, 60_000);

  it("shows an agent's capacity: the built-ins' no limit, an HTTP push agent's slots, heartbeats", async () => {
    const registered = await rest().post('/agents/http', { name: 'pages-pusher', kinds: ['pages-kind'], url: receiver.url, concurrency: 3 }, auth);
    expect(registered.status).toBe(201);
    await open('agents', '#agents tr[data-name="builtin-echo"]');
    const listed = (await rest().get('/agents', auth)).body.items as { id: string; name: string; capacity: number; inFlight: number }[];
    const echo = listed.find((a) => a.name === 'builtin-echo');
    expect(echo?.capacity).toBe(10_000);
    expect(await page.getAttribute('#agents tr[data-name="builtin-echo"] .load', 'data-capacity')).toBe('unbounded');
    expect(await page.textContent('#agents tr[data-name="builtin-echo"] .load')).toBe('0 in flight · no limit');
    expect(await page.getAttribute('#agents tr[data-name="builtin-echo"] time', 'datetime')).toMatch(/^\d{4}-/);
    const pusher = '#http-agents tr[data-name="pages-pusher"]';
    await page.waitForSelector(pusher);
    expect(await page.getAttribute(`${pusher} .load`, 'data-capacity')).toBe('3');
    expect(await page.textContent(`${pusher} .load`)).toBe('0 / 3 busy');
    expect(listed.find((a) => a.id === registered.body.id)?.capacity).toBe(3);
    // Its router on the bus is not listed as a second agent.
    expect(await page.locator('#agents tr[data-name^="http-push:"]').count()).toBe(0);
    await page.waitForSelector('#kinds tr[data-kind="pages-kind"]');
    // One agent's stats.
    await page.click('#agents tr[data-name="builtin-echo"] a');
    await page.waitForSelector('#agent');
    expect(await page.textContent('#agent')).toContain('Completed');
    expectClean();
  }, 60_000);

  it('runs a standalone task from the form', async () => {
    await open('tasks', '#task-form');
    await page.waitForSelector('#task-agent option[value="echo"]', { state: 'attached' });
    await page.selectOption('#task-agent', 'echo');
    await page.fill('#task-input', '{"n":7}');
    await page.click('#task-form button[type=submit]');
    const link = page.locator('#task-form a.mono');
    const id = (await link.textContent()) ?? '';
    expect(id).toMatch(/^tk_/);
    await link.click();
    await page.waitForSelector('#task[data-status="completed"]');
    expect((await rest().get(`/tasks/${id}`, auth)).body).toMatchObject({ status: 'completed', output: { n: 7 } });
    expectClean();
  }, 60_000);

  it('keeps still while the agents page refreshes itself (no layout shift)', async () => {
    await route('#/agents', '#agents tr[data-name="builtin-echo"]');
    // The layout-shift score (CLS) of everything that moved without input from now on.
    await page.evaluate(`window.shift = 0; new PerformanceObserver((list) => { for (const e of list.getEntries()) if (!e.hadRecentInput) window.shift += e.value; }).observe({ type: 'layout-shift', buffered: false })`);
    // Two more reads of /agents: the page redraws from them (it refreshes every few seconds).
    for (let i = 0; i < 2; i++) await page.waitForResponse((r) => r.url().includes('/api/v1/agents?'), { timeout: UI_TIMEOUT });
    await page.waitForSelector('#agents tr[data-name="builtin-echo"]');
    expect(await page.evaluate('window.shift')).toBe(0);
    expectClean();
  }, 60_000);

  it('works from the keyboard: the skip link, then the page links', async () => {
    await route('#/schedules', '#schedules tbody tr');
    // The skip link comes first: Enter on it moves the focus to the page (the hash, the router's, stays).
    expect(await page.evaluate(`document.querySelector('a[href], button, input, select, textarea')?.className`)).toBe('skip');
    await page.focus('.skip');
    await page.keyboard.press('Enter');
    expect(await page.evaluate('document.activeElement?.id')).toBe('app');
    expect(await page.evaluate('location.hash')).toBe('#/schedules');
    // Tab from there reaches the page's own controls, first the first row's.
    await page.keyboard.press('Tab');
    expect(await page.evaluate(`document.activeElement?.closest('#schedules, #schedule-form') !== null`)).toBe(true);
    // Every control of the pages has a name a screen reader can read.
    for (const hash of ['#/schedules', '#/webhooks', '#/keys', '#/tenants', '#/agents', '#/telemetry']) {
      await route(hash, 'main h1');
      const unnamed = await page.evaluate(`[...document.querySelectorAll('main button, main input, main select, main textarea')]
        .filter((e) => !([...(e.labels ?? [])].some((l) => l.textContent.trim() !== '') || (e.getAttribute('aria-label') ?? '').trim() || e.textContent.trim()))
        .map((e) => e.outerHTML.slice(0, 80))`);
      expect(unnamed, hash).toEqual([]);
    }
    expectClean();
  }, 60_000);

  it('lays every page out at 1280×800 and at 375 px (menu folded), light and dark, with screenshots', async () => {
    const pages: [string, string][] = [
      ['executions', '#executions'],
      ['definitions', '#definitions'],
      ['templates/pages-tpl', '#diagram[data-rendered="true"] svg'],
      ['schedules', '#schedules'],
      ['webhooks', '#webhooks tbody tr[data-id]'],
      ['tasks', '#tasks tbody tr[data-id]'],
      ['agents', '#agents tr[data-name="builtin-echo"]'],
      [`documents/${documentId}`, '#document-content'],
      ['telemetry/24h', '#chart-steps[data-rendered="true"] canvas'],
      ['keys', '#api-keys tbody tr[data-id]'],
      ['audit', '#audit tbody tr[data-route]'],
      ['tenants/pages-acme', '#tenant-editor'],
    ];
    for (const [width, height] of [
      [1280, 800],
      [375, 800],
    ] as const) {
      await page.setViewportSize({ width, height });
      for (const [hash, ready] of pages) {
        await route(`#/${hash}`, ready);
        const name = hash.split('/')[0] ?? hash;
        // Nothing wider than the screen: tables scroll inside themselves.
        expect(await page.evaluate('document.documentElement.scrollWidth'), `${name} at ${width}`).toBeLessThanOrEqual(width);
        await page.screenshot({ path: join(SHOTS, `${name}-${width}.png`), fullPage: true });
      }
    }
    // At 375 px the page links fold behind the Menu button.
    expect(await page.isVisible('#nav')).toBe(false);
    await page.click('#nav-toggle');
    expect(await page.getAttribute('#nav-toggle', 'aria-expanded')).toBe('true');
    await page.waitForSelector('#nav a[data-nav="schedules"]', { state: 'visible' });
    await page.screenshot({ path: join(SHOTS, 'menu-375.png') });
    await page.click('#nav a[data-nav="schedules"]');
    await page.waitForSelector('#schedules');
    expect(await page.isVisible('#nav')).toBe(false);
    expect(await page.getAttribute('#nav-toggle', 'aria-expanded')).toBe('false');

    // Dark mode follows the system.
    await page.setViewportSize({ width: 1280, height: 800 });
    const background = `getComputedStyle(document.documentElement).backgroundColor`;
    const light = await page.evaluate(background);
    await page.emulateMedia({ colorScheme: 'dark' });
    const dark = await page.evaluate(background);
    expect(dark).not.toBe(light);
    expect(dark).toBe('rgb(13, 17, 23)');
    for (const [hash, ready] of [pages[6], pages[8]] as [string, string][]) {
      await route(`#/${hash}`, ready);
      await page.screenshot({ path: join(SHOTS, `${hash.split('/')[0]}-1280-dark.png`), fullPage: true });
    }
    await page.emulateMedia({ colorScheme: 'light' });
    const png = readFileSync(join(SHOTS, 'telemetry-1280.png'));
    expect([...png.subarray(1, 4)]).toEqual([0x50, 0x4e, 0x47]);
    expectClean();
  }, 150_000);
});
