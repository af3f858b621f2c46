/** A server started on a port another server already listens on exits with a clear error, instead of sharing it (uWS's default). */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Runs `actorflow serve` on `port` and resolves with its exit code and stderr (or kills it once it listens). */
function serveOn(port: number, dataDir: string, env: Record<string, string> = {}): Promise<{ code: number | null; stderr: string; listened: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--port', String(port), '--data-dir', dataDir, '--machines', join(dataDir, 'none'), '--no-auth', '--quiet'], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    let listened = false;
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (!listened && /listening on/.test(stderr)) {
        listened = true;
        child.kill('SIGTERM');
      }
    });
    child.once('exit', (code) => resolve({ code, stderr, listened }));
  });
}

describe('a busy port', () => {
  let server: TestServer;
  let dir: string;
  beforeAll(async () => {
    server = await startTestServer();
    dir = await mkdtemp(join(tmpdir(), 'actorflow-busy-'));
  });
  afterAll(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('makes a second server exit non-zero with a message that says so, and the first keeps answering', async () => {
    const second = await serveOn(server.port, dir);
    expect(second.listened).toBe(false);
    expect(second.code).not.toBe(0);
    expect(second.stderr).toContain(`cannot listen on 127.0.0.1:${server.port}`);
    expect(second.stderr).toContain('ACTORFLOW_REUSE_PORT');
    expect((await fetch(`${server.url}/api/v1/health`)).status).toBe(200);
  }, 30_000);

  it('listens on a free port as before', async () => {
    const ok = await serveOn(0, dir);
    expect(ok.listened).toBe(true);
  }, 30_000);
});
