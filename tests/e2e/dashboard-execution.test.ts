/**
 * E2E: the execution page's depth and the executions list's search and filters, in headless Debian Chromium
 * (playwright-core) against a real server with auth on: the step waterfall of a step retried after a failure
 * (bars, the backoff gap, times), cost per step and in total, a step's details, an event payload opened in the
 * JSON viewer and copied, parent and child links, the hint on a step no agent serves, search by id and label,
 * the `queued` status chip with its count and a bulk cancel on it, choice edges labelled with their conditions.
 * Each action that changes state is checked over REST; any page error, console error or failed request fails
 * the test. Screenshots (wide, phone width, dark) go to test-artifacts/.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DashboardBrowser, launchDashboardBrowser, signIn } from '../support/dashboard-browser.ts';
import { ensureDashboardBuilt } from '../support/dashboard-build.ts';
import { api } from '../support/http.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { waitForExecution, waitForStatus } from '../support/wait.ts';

const ADMIN = 'e2e-execution-admin-key-0123456789abcdef';
const ARTIFACTS = join(fileURLToPath(new URL('../../', import.meta.url)), 'test-artifacts');

let server: TestServer;
let chrome: DashboardBrowser;
let page: Page;

const auth = { headers: { authorization: `Bearer ${ADMIN}` } };
const rest = () => api(server.url);
const expectClean = (): void => chrome.expectClean();
const row = (id: string, status?: string) => `#executions tr[data-id="${id}"]${status === undefined ? '' : `[data-status="${status}"]`}`;
/** A page expression: the executions table has rows and every one passes `test` (an expression of `r`, the row). */
const onlyRows = (test: string) => `((rs) => rs.length > 0 && rs.every((r) => ${test}))([...document.querySelectorAll('#executions tbody tr[data-id]')])`;

beforeAll(async () => {
  await ensureDashboardBuilt();
  server = await startTestServer({ adminKey: ADMIN });
  chrome = await launchDashboardBrowser(server.url);
  page = chrome.page;
  expect((await rest().post('/workflow-definitions', { name: 'e2e-echo', steps: [{ id: 'say', type: 'task', agent: 'echo', input: { hi: '$.input.name' } }] }, auth)).status).toBe(201);
  await signIn(page, server.url, ADMIN);
  mkdirSync(ARTIFACTS, { recursive: true });
}, 180_000);

afterAll(async () => {
  await chrome?.close();
  await server?.close();
});

describe('the execution page and the executions list', () => {
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

    await page.screenshot({ path: join(ARTIFACTS, 'execution-waterfall.png'), fullPage: true });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: join(ARTIFACTS, 'execution-waterfall-dark.png'), fullPage: true });
    await page.emulateMedia({ colorScheme: 'light' });
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
});
