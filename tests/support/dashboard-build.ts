/**
 * @module tests/support/dashboard-build — the dashboard's vite build for the browser tests: built when missing
 * or older than its sources (dashboard/, src/client/). Test files run in parallel: a lock directory keeps two
 * of them from building into dist/dashboard at once (vite empties it first).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DASHBOARD_DIST } from '../../src/api/static/dashboard-handlers.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const LOCK = join(ROOT, 'dist', '.dashboard-build.lock');
/** A lock older than this was left by a killed run. */
const STALE_LOCK_MS = 300_000;
const BUILD_TIMEOUT_MS = 170_000;

/** Newest modification time of the files under `dir` (recursively). */
function newest(dir: string): number {
  let max = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    max = Math.max(max, entry.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return max;
}

const fresh = (): boolean => {
  const index = join(DASHBOARD_DIST, 'index.html');
  return existsSync(index) && statSync(index).mtimeMs >= Math.max(newest(join(ROOT, 'dashboard')), newest(join(ROOT, 'src', 'client')));
};

/** Takes the lock (waiting for another build to finish, up to the build's timeout); false if it never came free. */
async function lock(): Promise<boolean> {
  const deadline = Date.now() + BUILD_TIMEOUT_MS;
  mkdirSync(join(ROOT, 'dist'), { recursive: true });
  for (;;) {
    try {
      mkdirSync(LOCK);
      return true;
    } catch {
      if (existsSync(LOCK) && Date.now() - statSync(LOCK).mtimeMs > STALE_LOCK_MS) rmSync(LOCK, { recursive: true, force: true });
      if (Date.now() > deadline) return false;
      // Another test file is building: look again shortly (a poll on a condition with a deadline).
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/** Builds the dashboard into dist/dashboard unless the build there is up to date. */
export async function ensureDashboardBuilt(): Promise<string> {
  if (fresh()) return DASHBOARD_DIST;
  if (!(await lock())) throw new Error(`another dashboard build held ${LOCK} for ${BUILD_TIMEOUT_MS} ms`);
  try {
    if (!fresh()) await promisify(execFile)(join(ROOT, 'node_modules', '.bin', 'vite'), ['build', '--config', 'dashboard/vite.config.ts', '--logLevel', 'warn'], { cwd: ROOT, timeout: BUILD_TIMEOUT_MS });
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
  return DASHBOARD_DIST;
}
