/**
 * @module tests/support/dashboard-browser — headless Debian Chromium (playwright-core) on the dashboard for the
 * e2e tests: one page whose page errors, console errors and failed requests (network failures and 4xx/5xx
 * answers) are collected, so that a test can say none happened; and key entry.
 */
import { existsSync } from 'node:fs';
import { type Browser, type BrowserContext, type Page, type Response, chromium } from 'playwright-core';
import { expect } from 'vitest';

export const CHROMIUM = '/usr/bin/chromium';

export interface DashboardBrowserOptions {
  readonly viewport?: { readonly width: number; readonly height: number };
  /** Bounds every browser wait (loose: the CI machine is slow). */
  readonly timeoutMs?: number;
  /** An answer of 400 or more that the test provokes on purpose (not a problem). */
  readonly expectedFailure?: (res: Response) => boolean;
}

export interface DashboardBrowser {
  readonly browser: Browser;
  readonly context: BrowserContext;
  readonly page: Page;
  /** Page errors, console errors and failed requests so far. */
  readonly problems: string[];
  /** Fails the test if anything went wrong on the page so far. */
  expectClean(): void;
  close(): Promise<void>;
}

export async function launchDashboardBrowser(origin: string, opts: DashboardBrowserOptions = {}): Promise<DashboardBrowser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: the dashboard end-to-end tests need Debian's Chromium (apt-get install chromium; CI installs it).`);
  }
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
  const context = await browser.newContext({ viewport: opts.viewport ?? { width: 1400, height: 1100 } });
  // The JSON viewer's copy button writes to the clipboard; tests read it back.
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
  const page = await context.newPage();
  page.setDefaultTimeout(opts.timeoutMs ?? 15_000);
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  // A resource that failed to load is reported below with its request, which knows the expected failures.
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) problems.push(`console error: ${msg.text()}`);
  });
  // A request cut by a reload is not a failure of the page.
  page.on('requestfailed', (req) => {
    if (req.failure()?.errorText !== 'net::ERR_ABORTED') problems.push(`request failed: ${req.method()} ${req.url()} ${req.failure()?.errorText ?? ''}`);
  });
  page.on('response', (res) => {
    if (res.status() >= 400 && opts.expectedFailure?.(res) !== true) problems.push(`HTTP ${res.status()}: ${res.request().method()} ${res.url()}`);
  });
  return {
    browser,
    context,
    page,
    problems,
    expectClean: () => expect(problems).toEqual([]),
    close: async () => {
      await context.close();
      await browser.close();
    },
  };
}

/** Opens the dashboard and signs in with `key`; resolves once the executions table is subscribed to live events. */
export async function signIn(page: Page, origin: string, key: string): Promise<void> {
  await page.goto(`${origin}/`);
  await page.fill('#api-key', key);
  await page.click('button[type=submit]');
  await page.waitForSelector('#executions[data-subscribed="true"]');
}
