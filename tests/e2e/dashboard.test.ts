/**
 * E2E: the web dashboard in headless Debian Chromium (playwright-core) against a real server with auth on:
 * key entry, live executions table (WebSocket), execution page with the Mermaid diagram, a signal answered
 * through the form (what the reader opened stays open through the live updates), the documents an execution
 * saved, a bulk action on the list's filter, agents and definitions. Every test fails on a page error, a console
 * error or a failed request; screenshots go to test-artifacts/. The execution page's depth, the list's search and
 * status chips are dashboard-execution.test.ts; the other pages dashboard-pages.test.ts.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dashboardHandlers, loadDashboard } from '../../src/api/static/dashboard-handlers.ts';
import type { RouteInputOf } from '../../src/api/routing/route-spec.ts';
import type { DASHBOARD_ROUTES } from '../../src/api/static/dashboard-routes.ts';
import { type DashboardBrowser, launchDashboardBrowser } from '../support/dashboard-browser.ts';
import { ensureDashboardBuilt } from '../support/dashboard-build.ts';
import { api } from '../support/http.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { waitForStatus } from '../support/wait.ts';

const ADMIN = 'e2e-admin-key-0123456789abcdef';
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCREENSHOT = join(ROOT, 'test-artifacts', 'dashboard.png');
const SCREENSHOT_WAITING = join(ROOT, 'test-artifacts', 'dashboard-waiting.png');
/** The deliberate wrong key of the sign-in step: its 401 is the one failed request expected. */
const WRONG_KEY = 'afk_wrong_key';

let server: TestServer;
let chrome: DashboardBrowser;
let page: Page;
/** Every request the page sent to the API, with the time it was sent. */
const apiRequests: { url: string; at: number; authorization: string | undefined }[] = [];
/** URLs of the WebSockets the page opened. */
const sockets: string[] = [];

const auth = { headers: { authorization: `Bearer ${ADMIN}` } };
const WRITER_AGENT = `export const agents = {
  'e2e-writer': async (ctx: { saveDocument(d: unknown): void }) => {
    ctx.saveDocument({ type: 'report', title: 'E2E report', content: { total: 42 } });
    return { ok: true };
  },
};
`;
let machinesDir = '';
const rest = () => api(server.url);
const expectClean = (): void => chrome.expectClean();
const row = (id: string, status?: string) => `#executions tr[data-id="${id}"]${status === undefined ? '' : `[data-status="${status}"]`}`;

beforeAll(async () => {
  await ensureDashboardBuilt();
  // An in-process agent that saves a document, for the execution page's documents panel.
  machinesDir = await mkdtemp(join(tmpdir(), 'actorflow-e2e-machines-'));
  await writeFile(join(machinesDir, 'writer.ts'), WRITER_AGENT);
  server = await startTestServer({ adminKey: ADMIN, machinesDir });
  chrome = await launchDashboardBrowser(server.url, {
    expectedFailure: (res) => res.status() === 401 && res.request().headers()['authorization'] === `Bearer ${WRONG_KEY}`,
  });
  page = chrome.page;
  page.on('websocket', (ws) => sockets.push(ws.url()));
  page.on('request', (req) => {
    if (req.url().includes('/api/v1/')) apiRequests.push({ url: req.url(), at: Date.now(), authorization: req.headers()['authorization'] });
  });
  // Two flows: one that runs straight through, one that waits for a signal with a question.
  expect((await rest().post('/workflow-definitions', { name: 'e2e-echo', steps: [{ id: 'say', type: 'task', agent: 'echo', input: { hi: '$.input.name' } }] }, auth)).status).toBe(201);
  const approval = {
    name: 'e2e-approval',
    steps: [
      { id: 'prepare', type: 'task', agent: 'echo', input: { order: '$.input.order' } },
      { id: 'approve', type: 'wait', signal: 'approval', questions: [{ id: 'ok', text: 'Ship it?' }] },
      { id: 'ship', type: 'task', agent: 'echo', input: { approved: '$.steps.approve.output.ok' } },
    ],
  };
  expect((await rest().post('/workflow-definitions', approval, auth)).status).toBe(201);
}, 180_000);

afterAll(async () => {
  await chrome?.close();
  await server?.close();
  if (machinesDir) await rm(machinesDir, { recursive: true, force: true });
});

describe('the dashboard', () => {
  it('is served without a credential, assets are cached, the API still needs one', async () => {
    const index = await fetch(`${server.url}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toMatch(/^text\/html/);
    expect(index.headers.get('cache-control')).toBe('no-cache');
    const html = await index.text();
    const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1] ?? '');
    expect(assets.length).toBeGreaterThanOrEqual(2);
    for (const a of assets) {
      const res = await fetch(server.url + a);
      expect(res.status, a).toBe(200);
      expect(res.headers.get('cache-control'), a).toContain('immutable');
      expect(res.headers.get('content-type'), a).toMatch(a.endsWith('.css') ? /^text\/css/ : /^text\/javascript/);
    }
    for (const bad of ['..%2Fpackage.json', 'index.html', 'nope-12345678.js', '%2e%2e%2fsrc%2fcli%2fmain.ts']) {
      const res = await fetch(`${server.url}/assets/${bad}`);
      expect(res.status, bad).toBe(404);
      expect(res.headers.get('content-type'), bad).toMatch(/problem\+json/);
    }
    expect((await fetch(`${server.url}/api/v1/executions`)).status).toBe(401);
  });

  it('signs in with a key, shows executions live, draws the diagram and answers a signal through the form', async () => {
    await page.goto(`${server.url}/`);
    // Key entry: a wrong key is refused, the admin key gets in.
    await page.fill('#api-key', WRONG_KEY);
    await page.click('button[type=submit]');
    await page.waitForSelector('.login .error >> text=/not valid/');
    const signedInAt = Date.now();
    await page.fill('#api-key', ADMIN);
    await page.click('button[type=submit]');
    // Subscribed to the firehose: from here on a new execution must show up without a reload.
    await page.waitForSelector('#executions[data-subscribed="true"]');
    await page.waitForSelector('#live[data-state="live"]');
    expect(await page.evaluate("localStorage.getItem('actorflow.apiKey')")).toBe(ADMIN);

    // 1. A flow that runs straight through: its row appears and turns completed live.
    const startedAt = Date.now();
    const echo = await rest().post('/executions', { workflow: 'e2e-echo', input: { name: 'ada' } }, auth);
    expect(echo.status).toBe(201);
    await page.waitForSelector(row(echo.body.id, 'completed'));

    // 2. A flow that waits: its row appears live with status waiting.
    const started = await rest().post('/executions', { workflow: 'e2e-approval', input: { order: 'o-1' } }, auth);
    expect(started.status).toBe(201);
    const id: string = started.body.id;
    await page.waitForSelector(row(id, 'waiting'));
    // Live means WebSocket: the table was not listed again after the starts, only those executions fetched.
    const lists = apiRequests.filter((r) => r.at >= startedAt && /\/api\/v1\/executions(\?|$)/.test(r.url));
    expect(lists.map((r) => r.url)).toEqual([]);
    // The key goes as `authorization: Bearer` on REST and as `?token=` on the WebSocket.
    const since = apiRequests.filter((r) => r.at >= signedInAt);
    expect(since.length).toBeGreaterThan(2);
    expect(since.filter((r) => r.authorization !== `Bearer ${ADMIN}`).map((r) => r.url)).toEqual([]);
    expect(sockets).toContain(`ws://127.0.0.1:${server.port}/api/v1/ws?token=${ADMIN}`);

    // 3. Open it: the Mermaid diagram is an SVG with the steps, the waiting step highlighted.
    await page.click(`${row(id)} a`);
    await page.waitForURL(`**/#/executions/${id}`);
    await page.waitForSelector('#execution-status [data-status="waiting"]');
    await page.waitForSelector('#diagram[data-rendered="true"] svg');
    const diagramText = await page.textContent('#diagram svg');
    for (const step of ['prepare', 'approve', 'ship']) expect(diagramText).toContain(step);
    expect(await page.locator('#diagram svg .active').count()).toBeGreaterThan(0);
    await page.waitForSelector('#timeline li[data-type="workflow.waiting"]');
    await page.waitForSelector('#steps tr[data-step="prepare"][data-status="completed"]');

    mkdirSync(join(ROOT, 'test-artifacts'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT_WAITING, fullPage: true });
    // What a reader opened stays open through the live updates to come: a step's details, an event's payload.
    await page.click('#steps button[aria-controls="step-details-prepare"]');
    await page.click('#timeline li[data-seq="1"] button.tl-toggle');
    await page.waitForSelector('#timeline li[data-seq="1"] .tl-payload .json-view');

    // 4. Answer the waiting step through its form; the page turns completed live.
    const form = page.locator('form.signal-form[data-signal="approval"]');
    await form.locator('input[data-question="ok"]').fill('true');
    await form.locator('button[type=submit]').click();
    await page.waitForSelector('#execution-status [data-status="completed"]');
    await page.waitForSelector('#steps tr[data-step="ship"][data-status="completed"]');
    await page.waitForSelector('#timeline li[data-type="workflow.completed"]');
    await page.waitForSelector('#signals >> text=No step is waiting');
    const done = await waitForStatus(server.engine, id, 'completed');
    expect(done.status).toBe('completed');
    const steps = await rest().get(`/executions/${id}/steps`, auth);
    expect(steps.body.items.find((s: { stepId: string }) => s.stepId === 'approve').output).toEqual({ ok: true });
    // The diagram was redrawn with the visited states: no step is active any more.
    await page.waitForFunction("document.querySelectorAll('#diagram svg .active').length === 0");
    expect(await page.isVisible('#steps tr[data-details="prepare"] .step-io')).toBe(true);
    expect(await page.getAttribute('#steps button[aria-controls="step-details-prepare"]', 'aria-expanded')).toBe('true');
    expect(await page.isVisible('#timeline li[data-seq="1"] .tl-payload .json-view')).toBe(true);

    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    const png = readFileSync(SCREENSHOT);
    expect([...png.subarray(1, 4)]).toEqual([0x50, 0x4e, 0x47]);
    expect(png.length).toBeGreaterThan(20_000);

    // 5. Back to the table: both rows completed; a reload keeps the key (localStorage).
    await page.click('#nav a[data-nav="executions"]');
    await page.waitForSelector(row(id, 'completed'));
    await page.reload();
    await page.waitForSelector(row(echo.body.id, 'completed'));
    expectClean();
  }, 120_000);

  it('starts an execution from the form, then pauses, resumes and cancels it with the buttons', async () => {
    await page.click('#nav a[data-nav="executions"]');
    await page.waitForSelector('#start-workflow option[value="e2e-approval"]', { state: 'attached' });
    await page.selectOption('#start-workflow', 'e2e-approval');
    await page.fill('#start-input', '{"order":"o-2"}');
    await page.click('#start-form button[type=submit]');
    const link = page.locator('#start-form a.mono');
    await link.waitFor();
    const id = (await link.textContent()) ?? '';
    expect(id).toMatch(/^ex_/);
    expect((await rest().get(`/executions/${id}`, auth)).body.input).toEqual({ order: 'o-2' });
    await link.click();
    await page.waitForSelector('#execution-status [data-status="waiting"]');
    await page.click('#controls button[data-action="pause"]:not([disabled])');
    await page.waitForSelector('#execution-status [data-status="paused"]');
    await page.click('#controls button[data-action="resume"]:not([disabled])');
    await page.waitForSelector('#execution-status [data-status="waiting"]');
    await page.click('#controls button[data-action="cancel"]:not([disabled])');
    await page.waitForSelector('#execution-status [data-status="cancelled"]');
    expect((await waitForStatus(server.engine, id, 'cancelled')).status).toBe('cancelled');
    await page.waitForSelector('#controls button[data-action="cancel"][disabled]');
    expectClean();
  }, 60_000);

  it('shows the documents an execution saved, and opens one', async () => {
    const flow = { name: 'e2e-documents', steps: [{ id: 'write', type: 'task', agent: 'e2e-writer' }] };
    expect((await rest().post('/workflow-definitions', flow, auth)).status).toBe(201);
    const started = await rest().post('/executions', { workflow: 'e2e-documents', scope: { type: 'project', id: 'e2e' } }, { ...auth, query: { wait: 10_000 } });
    expect(started.body.status).toBe('completed');
    const [doc] = (await rest().get('/documents', { ...auth, query: { executionId: started.body.id } })).body.items;
    await page.goto(`${server.url}/#/executions/${started.body.id}`);
    await page.waitForSelector(`#documents tr[data-document-id="${doc.id}"]`);
    expect(await page.textContent(`#documents tr[data-document-id="${doc.id}"]`)).toContain('project/e2e');
    await page.click(`#documents button[data-document="${doc.id}"]`);
    await page.waitForSelector(`#documents tr[data-document-id="${doc.id}"] .document-content pre >> text=/"total": 42/`);
    expectClean();
  }, 60_000);

  it('pauses the executions of the list\'s filter with a bulk action, after confirming the count, its progress line fed live', async () => {
    const flow = { name: 'e2e-bulk', steps: [{ id: 'w', type: 'wait', signal: 'go' }] };
    expect((await rest().post('/workflow-definitions', flow, auth)).status).toBe(201);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await rest().post('/executions', { workflow: 'e2e-bulk' }, auth)).body.id);
    await page.click('#nav a[data-nav="executions"]');
    await page.fill('#filter-workflow', 'e2e-bulk');
    await page.press('#filter-workflow', 'Enter');
    await page.selectOption('#bulk-action', 'pause');
    const asked = new Promise<string>((resolve) => page.once('dialog', (d) => (resolve(d.message()), void d.accept())));
    await page.click('#bulk-apply');
    expect(await asked).toBe('pause 3 executions?');
    await page.waitForSelector('#bulk-progress[data-status="completed"]');
    expect(await page.textContent('#bulk-progress')).toMatch(/^bk_\w+ pause: 3\/3 — succeeded 3, skipped 0, failed 0 \(completed\)$/);
    for (const id of ids) expect((await rest().get(`/executions/${id}`, auth)).body.status).toBe('paused');
    expectClean();
  }, 60_000);

  it('lists agents and definitions, and draws a definition diagram', async () => {
    await page.click('#nav a[data-nav="agents"]');
    await page.waitForSelector('#agents tr[data-status="online"]');
    await page.click('#nav a[data-nav="definitions"]');
    await page.click('#definitions tr[data-name="e2e-approval"] a');
    await page.waitForSelector('#diagram[data-rendered="true"] svg');
    expect(await page.textContent('#diagram svg')).toContain('approve');
    // Signing out forgets the key and shows key entry again.
    await page.click('#sign-out');
    await page.waitForSelector('#api-key');
    expect(await page.evaluate("localStorage.getItem('actorflow.apiKey')")).toBeNull();
    expectClean();
  }, 60_000);
});

describe('the dashboard handlers', () => {
  const input = (file: string): RouteInputOf<Extract<(typeof DASHBOARD_ROUTES)[number], { id: 'dashboardAsset' }>> => ({ ctx: { tenant: 'default', requestId: 'r', principal: undefined as never }, params: { file }, query: {}, body: undefined, headers: {} });

  it('answer 503 not_ready naming `npm run build:ui` when there is no build', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'actorflow-ui-'));
    try {
      expect(loadDashboard(dir)).toBeUndefined();
      const h = dashboardHandlers(dir);
      expect(() => h.dashboard.handle()).toThrow(/npm run build:ui/);
      expect(() => h.dashboardAsset.handle(input('index-abc.js'))).toThrow(expect.objectContaining({ code: 'not_ready' }));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('serve only the files of assets/ listed at boot, with content types; source maps are left out', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'actorflow-ui-'));
    try {
      mkdirSync(join(dir, 'assets'));
      await writeFile(join(dir, 'index.html'), '<!doctype html><title>t</title>');
      await writeFile(join(dir, 'assets', 'index-Ab_1.js'), 'export {};');
      await writeFile(join(dir, 'assets', 'index-Ab_1.js.map'), '{}');
      const h = dashboardHandlers(dir);
      expect(h.dashboard.handle()).toMatchObject({ status: 200, contentType: 'text/html; charset=utf-8' });
      expect(h.dashboardAsset.handle(input('index-Ab_1.js'))).toMatchObject({ status: 200, contentType: 'text/javascript; charset=utf-8' });
      // Files added after boot are not served: the set is fixed when the server starts.
      await writeFile(join(dir, 'assets', 'later-1.js'), 'export {};');
      for (const name of ['index-Ab_1.js.map', 'later-1.js']) expect(() => h.dashboardAsset.handle(input(name))).toThrow(expect.objectContaining({ code: 'not_found' }));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
