/**
 * E2E: the web dashboard in headless Debian Chromium (playwright-core) against a real server with auth on:
 * key entry, live executions table (WebSocket), execution page with the Mermaid diagram, a signal answered
 * through the form, the documents an execution saved, a bulk action on the list's filter; the execution page's
 * depth (step waterfall with a retry and its backoff, cost, step details, event payloads with copy, the hint on a
 * step no agent serves, parent and child links), search by id and label, status chips with counts (`queued`),
 * choice edges labelled with their conditions. Every test fails on a page error or a failed request; screenshots
 * go to test-artifacts/.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type Browser, type BrowserContext, type Page, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { DASHBOARD_DIST, dashboardHandlers, loadDashboard } from '../../src/api/static/dashboard-handlers.ts';
import type { RouteInputOf } from '../../src/api/routing/route-spec.ts';
import type { DASHBOARD_ROUTES } from '../../src/api/static/dashboard-routes.ts';
import { api } from '../support/http.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { waitForExecution, waitForStatus } from '../support/wait.ts';

const CHROMIUM = '/usr/bin/chromium';
const ADMIN = 'e2e-admin-key-0123456789abcdef';
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCREENSHOT = join(ROOT, 'test-artifacts', 'dashboard.png');
const SCREENSHOT_WAITING = join(ROOT, 'test-artifacts', 'dashboard-waiting.png');
const ARTIFACTS = join(ROOT, 'test-artifacts');
/** The deliberate wrong key of the sign-in step: its 401 is the one failed request expected. */
const WRONG_KEY = 'afk_wrong_key';
/** Bounds every browser wait: a broken page fails fast with the selector in the message. */
const UI_TIMEOUT = 15_000;

let server: TestServer;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const pageErrors: string[] = [];
/** Requests that failed (network) or were answered 4xx/5xx, but the wrong key's 401. */
const failedRequests: string[] = [];
/** Every request the page sent to the API, with the time it was sent. */
const apiRequests: { url: string; at: number; authorization: string | undefined }[] = [];
/** URLs of the WebSockets the page opened. */
const sockets: string[] = [];

/** Newest modification time of the files under `dir` (recursively). */
function newest(dir: string): number {
  let max = 0;
  for (const name of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, name.name);
    max = Math.max(max, name.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return max;
}

/** Builds the dashboard (vite) when the build is missing or older than its sources (dashboard/, src/client/). */
async function ensureBuilt(): Promise<void> {
  const index = join(DASHBOARD_DIST, 'index.html');
  const sources = Math.max(newest(join(ROOT, 'dashboard')), newest(join(ROOT, 'src', 'client')));
  if (existsSync(index) && statSync(index).mtimeMs >= sources) return;
  await promisify(execFile)(join(ROOT, 'node_modules', '.bin', 'vite'), ['build', '--config', 'dashboard/vite.config.ts', '--logLevel', 'warn'], { cwd: ROOT, timeout: 170_000 });
}

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
/** No page error, console error or failed request so far. */
function expectClean(): void {
  expect(pageErrors).toEqual([]);
  expect(failedRequests).toEqual([]);
}
/** A page expression: the executions table has rows and every one passes `test` (an expression of `r`, the row). */
const onlyRows = (test: string) => `((rs) => rs.length > 0 && rs.every((r) => ${test}))([...document.querySelectorAll('#executions tbody tr[data-id]')])`;
const row = (id: string, status?: string) => `#executions tr[data-id="${id}"]${status === undefined ? '' : `[data-status="${status}"]`}`;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: the dashboard end-to-end test needs Debian's Chromium (apt-get install chromium; CI installs it).`);
  }
  await ensureBuilt();
  // An in-process agent that saves a document, for the execution page's documents panel.
  machinesDir = await mkdtemp(join(tmpdir(), 'actorflow-e2e-machines-'));
  await writeFile(join(machinesDir, 'writer.ts'), WRITER_AGENT);
  server = await startTestServer({ adminKey: ADMIN, machinesDir });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
  context = await browser.newContext({ viewport: { width: 1400, height: 1100 } });
  page = await context.newPage();
  page.setDefaultTimeout(UI_TIMEOUT);
  page.on('pageerror', (err) => pageErrors.push(err.message));
  // Console errors too; a resource that failed to load is one of failedRequests (which knows the expected 401).
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) pageErrors.push(`console: ${msg.text()}`);
  });
  // A request cut by a reload is not a failure of the page.
  page.on('requestfailed', (req) => {
    if (req.failure()?.errorText !== 'net::ERR_ABORTED') failedRequests.push(`${req.method()} ${req.url()}: ${req.failure()?.errorText}`);
  });
  page.on('response', (res) => {
    if (res.status() < 400) return;
    if (res.status() === 401 && res.request().headers()['authorization'] === `Bearer ${WRONG_KEY}`) return;
    failedRequests.push(`${res.request().method()} ${res.url()}: ${res.status()}`);
  });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
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
  await context?.close();
  await browser?.close();
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

  it('draws the step waterfall of a step that failed once and was retried, with its backoff, cost, details and payloads', async () => {
    const cost = { model: 'e2e-model', tokens: 120, usd: 0.0042 };
    const flow = {
      name: 'e2e-flaky',
      steps: [
        { id: 'flaky', type: 'task', agent: 'fail', input: { times: 1, cost }, retry: { maxAttempts: 3, initialMs: 400 } },
        { id: 'after', type: 'task', agent: 'echo', input: { ok: true } },
      ],
    };
    expect((await rest().post('/workflow-definitions', flow, auth)).status).toBe(201);
    const started = await rest().post('/executions', { workflow: 'e2e-flaky' }, { ...auth, query: { wait: 15_000 } });
    expect(started.body.status).toBe('completed');
    const id: string = started.body.id;
    // The server's own record: two attempts of `flaky`, the first failed; each reported the input's cost.
    const attempts = (await rest().get(`/executions/${id}/steps/flaky/attempts`, auth)).body.items;
    expect(attempts.map((a: { status: string }) => a.status)).toEqual(['failed', 'completed']);
    expect((await rest().get(`/executions/${id}/costs`, auth)).body.total).toEqual({ tokens: 240, usd: 0.0084 });

    await page.goto(`${server.url}/#/executions/${id}`);
    const flakyRow = '#waterfall .wf-row[data-step="flaky"]';
    await page.waitForSelector(`${flakyRow} .wf-bar[data-attempt="1"][data-status="failed"]`);
    await page.waitForSelector(`${flakyRow} .wf-bar[data-attempt="2"][data-status="completed"]`);
    await page.waitForSelector('#waterfall .wf-row[data-step="after"] .wf-bar[data-attempt="1"][data-status="completed"]');
    // The backoff between the attempts is drawn, named, and lies between the two bars.
    const gap = page.locator(`${flakyRow} .wf-gap`);
    expect(await gap.getAttribute('title')).toMatch(/^backoff \d+(\.\d+)? (ms|s) after attempt 1$/);
    const box = async (sel: string) => (await page.locator(sel).boundingBox()) ?? { x: NaN, width: NaN };
    const [first, hole, second] = [await box(`${flakyRow} .wf-bar[data-attempt="1"]`), await box(`${flakyRow} .wf-gap`), await box(`${flakyRow} .wf-bar[data-attempt="2"]`)];
    expect(hole.x).toBeGreaterThanOrEqual(first.x);
    expect(second.x).toBeGreaterThanOrEqual(hole.x + hole.width - 1);
    expect(await page.getAttribute(`${flakyRow} .wf-bar[data-attempt="1"]`, 'aria-label')).toMatch(/^flaky attempt 1: failed, \d\d:\d\d:\d\d\.\d{3} → \d\d:\d\d:\d\d\.\d{3}/);

    // Cost: per step and in total, as GET /costs says.
    await page.waitForSelector('#execution-cost >> text=240 tokens · $0.0084');
    expect(await page.textContent('#steps tr[data-step="flaky"] td.cost')).toBe('240 tokens · $0.0084');

    // The step's details: its input, output and both attempts (the first with its error code).
    await page.click('#steps button[aria-controls="step-details-flaky"]');
    const details = page.locator('#steps tr[data-details="flaky"]');
    await details.locator('table.attempts tbody tr').nth(1).waitFor();
    expect(await details.locator('table.attempts tbody tr').count()).toBe(2);
    expect(await details.locator('table.attempts tr[data-attempt="1"]').textContent()).toContain('failed');
    expect(await details.locator('.step-io').textContent()).toContain('"times"');
    expect(await page.getAttribute('#steps button[aria-controls="step-details-flaky"]', 'aria-expanded')).toBe('true');

    // A payload: the retry event's data, opened in the JSON viewer, copied whole to the clipboard.
    const retrying = page.locator('#timeline li[data-type="workflow.step.retrying"]');
    expect(await retrying.locator('.tl-delta').textContent()).toMatch(/^\+\d/);
    await retrying.locator('button.tl-toggle').click();
    expect(await retrying.locator('button.tl-toggle').getAttribute('aria-expanded')).toBe('true');
    await retrying.locator('.tl-payload .json-view .json-key >> text=/"delayMs"/').waitFor();
    await retrying.locator('.tl-payload button.copy').click();
    await retrying.locator('.tl-payload button.copy[data-copied="true"]').waitFor();
    const copied = JSON.parse(await page.evaluate('navigator.clipboard.readText()'));
    const events = (await rest().get(`/executions/${id}/events`, auth)).body.items;
    expect(copied).toEqual(events.find((e: { type: string }) => e.type === 'workflow.step.retrying').data);
    // Folding a level of the viewer is a native <details>.
    await retrying.locator('.tl-payload details > summary').first().click();
    expect(await retrying.locator('.tl-payload details').first().getAttribute('open')).toBeNull();

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'execution-waterfall.png'), fullPage: true });
    // At phone width the page still fits: nothing wider than the screen but inside its own scroller.
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      await page.screenshot({ path: join(ARTIFACTS, 'execution-waterfall-phone.png'), fullPage: true });
      const wide = `[...document.querySelectorAll('main *')].filter((e) => !e.closest('.scroll-x, .diagram, .json-view') && e.getBoundingClientRect().right > 391)`;
      expect(await page.evaluate(`${wide}.map((e) => e.tagName + '.' + e.className + '#' + e.id)`)).toEqual([]);
      expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    } finally {
      await page.setViewportSize({ width: 1400, height: 1100 });
    }
    expectClean();
  }, 60_000);

  it('links a parent execution to its child and back', async () => {
    const flow = { name: 'e2e-parent', steps: [{ id: 'kid', type: 'workflow', workflow: 'e2e-echo', input: { name: 'kid' } }] };
    expect((await rest().post('/workflow-definitions', flow, auth)).status).toBe(201);
    const started = await rest().post('/executions', { workflow: 'e2e-parent' }, { ...auth, query: { wait: 10_000 } });
    expect(started.body.status).toBe('completed');
    const [child] = (await rest().get(`/executions/${started.body.id}/children`, auth)).body.items;
    await page.goto(`${server.url}/#/executions/${started.body.id}`);
    await page.click(`#children tr[data-child="${child.id}"] a`);
    await page.waitForSelector(`#execution-id >> text=${child.id}`);
    await page.click('#parent-link');
    await page.waitForSelector(`#execution-id >> text=${started.body.id}`);
    expectClean();
  }, 60_000);

  it('says that no agent serves the kind of a step that waits for one, and cancels it', async () => {
    const flow = { name: 'e2e-unserved', steps: [{ id: 'orphan', type: 'task', agent: 'e2e-nobody' }] };
    expect((await rest().post('/workflow-definitions', flow, auth)).status).toBe(201);
    const id: string = (await rest().post('/executions', { workflow: 'e2e-unserved' }, auth)).body.id;
    await waitForExecution(server.engine, id, (x) => x.currentSteps.includes('orphan'));
    const kinds = (await rest().get('/task-definitions', auth)).body.items.map((d: { kind: string }) => d.kind);
    expect(kinds).toContain('echo');
    expect(kinds).not.toContain('e2e-nobody');
    await page.goto(`${server.url}/#/executions/${id}`);
    const hint = page.locator('#steps tr[data-step="orphan"][data-status="running"] [data-hint="no-agent"]');
    await hint.waitFor();
    expect(await hint.textContent()).toContain('No agent serves kind e2e-nobody');
    // A step some agent serves has no hint.
    expect(await page.locator('#steps [data-hint]').count()).toBe(1);
    await page.screenshot({ path: join(ARTIFACTS, 'execution-no-agent.png'), fullPage: true });
    await page.click('#controls button[data-action="cancel"]:not([disabled])');
    await page.waitForSelector('#execution-status [data-status="cancelled"]');
    expect((await rest().get(`/executions/${id}`, auth)).body.status).toBe('cancelled');
    await page.waitForSelector('#steps [data-hint]', { state: 'detached' });
    expectClean();
  }, 60_000);

  it('finds an execution by id and by label', async () => {
    const labelled = await rest().post('/executions', { workflow: 'e2e-echo', input: { name: 'l' }, labels: { team: 'e2e-search' } }, { ...auth, query: { wait: 10_000 } });
    const other = await rest().post('/executions', { workflow: 'e2e-echo', input: { name: 'o' } }, { ...auth, query: { wait: 10_000 } });
    expect((await rest().get(`/executions/${other.body.id}`, auth)).body.id).toBe(other.body.id);
    expect((await rest().get('/executions', { ...auth, query: { 'label.team': 'e2e-search' } })).body.items.map((x: { id: string }) => x.id)).toEqual([labelled.body.id]);
    await page.click('#nav a[data-nav="executions"]');
    await page.waitForSelector(row(labelled.body.id));
    const rows = page.locator('#executions tbody tr[data-id]');

    await page.fill('#search', other.body.id);
    await page.press('#search', 'Enter');
    await page.waitForFunction(onlyRows(`r.dataset.id === ${JSON.stringify(other.body.id)}`));
    expect(await rows.evaluateAll((rs) => rs.map((r) => r.getAttribute('data-id')))).toEqual([other.body.id]);

    await page.fill('#search', 'team=e2e-search');
    await page.click('#search-form button[type=submit]');
    await page.waitForSelector(row(labelled.body.id));
    await page.waitForFunction(onlyRows(`r.dataset.id === ${JSON.stringify(labelled.body.id)}`));
    expect(await page.textContent(`${row(labelled.body.id)} .labels`)).toBe('team=e2e-search');

    // Neither an id nor labels: said so, and the list is left as it was.
    await page.fill('#search', 'not a search');
    await page.press('#search', 'Enter');
    await page.waitForSelector('#search-message .error >> text=/neither/');
    await page.fill('#search', '');
    await page.press('#search', 'Enter');
    await page.waitForSelector(row(other.body.id));
    expectClean();
  }, 60_000);

  it('counts queued executions on a status chip, lists them, and cancels them with a bulk action on the chip', async () => {
    const flow = { name: 'e2e-limited', concurrency: { limit: 1 }, steps: [{ id: 'hold', type: 'wait', signal: 'go' }] };
    expect((await rest().post('/workflow-definitions', flow, auth)).status).toBe(201);
    const running = (await rest().post('/executions', { workflow: 'e2e-limited' }, auth)).body.id;
    await waitForStatus(server.engine, running, 'waiting');
    const queued = await rest().post('/executions', { workflow: 'e2e-limited' }, auth);
    expect(queued.body.status).toBe('queued');
    const status = (await rest().get('/status', auth)).body;
    expect(status.executions.queued).toBe(1);

    await page.click('#nav a[data-nav="executions"]');
    const chip = page.locator('#status-chips button[data-status="queued"]');
    await chip.locator('.count >> text="1"').waitFor();
    await chip.click();
    expect(await chip.getAttribute('aria-pressed')).toBe('true');
    expect(await page.getAttribute('#status-chips button[data-status="all"]', 'aria-pressed')).toBe('false');
    await page.waitForSelector(row(queued.body.id, 'queued'));
    await page.waitForFunction(onlyRows(`r.dataset.status === 'queued'`));
    await page.screenshot({ path: join(ARTIFACTS, 'executions-queued.png'), fullPage: true });

    // The chip is the bulk action's filter: cancel every queued execution.
    await page.selectOption('#bulk-action', 'cancel');
    const asked = new Promise<string>((resolve) => page.once('dialog', (d) => (resolve(d.message()), void d.accept())));
    await page.click('#bulk-apply');
    expect(await asked).toBe('cancel 1 execution?');
    await page.waitForSelector('#bulk-progress[data-status="completed"]');
    expect((await rest().get(`/executions/${queued.body.id}`, auth)).body.status).toBe('cancelled');
    expect((await rest().get(`/executions/${running}`, auth)).body.status).toBe('waiting');
    // The row leaves the queued list live, and the count follows.
    await page.waitForSelector(row(queued.body.id), { state: 'detached' });
    await chip.locator('.count >> text="0"').waitFor();
    await page.click('#status-chips button[data-status="all"]');
    await page.waitForSelector(row(running, 'waiting'));
    expect((await rest().post(`/executions/${running}/cancel`, {}, auth)).status).toBe(202);
    expectClean();
  }, 60_000);

  it('labels the edges of a choice with their conditions', async () => {
    const flow = {
      name: 'e2e-choice',
      steps: [
        {
          id: 'route',
          type: 'choice',
          when: [
            { if: { path: '$.input.total', gte: 100 }, next: 'big' },
            { if: { path: '$.input.tier', in: ['gold', 'vip'] }, next: 'big' },
            { if: { all: [{ path: '$.input.total', lt: 5 }, { path: '$.input.note', equals: '<b>rush</b>' }] }, next: 'small' },
          ],
          default: 'small',
        },
        { id: 'big', type: 'task', agent: 'echo', end: true },
        { id: 'small', type: 'task', agent: 'echo' },
      ],
    };
    expect((await rest().post('/workflow-definitions', flow, auth)).status).toBe(201);
    expect((await rest().get('/workflow-definitions/e2e-choice/diagram', auth)).text).toContain('route --> big : $.input.total >= 100');
    await page.goto(`${server.url}/#/definitions/e2e-choice`);
    await page.waitForSelector('#diagram[data-rendered="true"] svg');
    const labels = await page.locator('#diagram svg .edgeLabel').allTextContents();
    // Quotes, brackets and `<` come through Mermaid as text (a tag-like `<b` as its look-alike `‹b`).
    expect([...new Set(labels.map((l) => l.trim()).filter((l) => l !== ''))].sort()).toEqual(['$.input.tier in ["gold","vip"]', '$.input.total < 5 and $.input.note == "‹b>rush‹/b>"', '$.input.total >= 100', 'otherwise']);
    expect(labels.map((l) => l.trim())).not.toContain('next');
    await page.screenshot({ path: join(ARTIFACTS, 'definition-choice.png'), fullPage: true });
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
