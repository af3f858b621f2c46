/**
 * The package as a user gets it: `npm pack` (prepack and prepare build dist/), the tarball installed
 * into an empty project, then plain Node imports, a NodeNext type-check, the CLI and a served
 * dashboard from that install, with no tsx and no source file of this repository involved.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');
const run = promisify(execFile);

/** This test may run under `npm test`: its npm_* variables (config, lifecycle) must not steer the npm calls below. */
const ENV: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));

/** What `npm pack` needs of the tree. Packing a copy keeps the build from rewriting dist/ under the other test files. */
const TREE = ['package.json', 'package-lock.json', 'README.md', 'LICENSE', 'tsconfig.json', 'tsconfig.build.json', 'bin', 'src', 'dashboard', 'docs'];

let work: string;
let tarball: string;
let project: string;
let server: ChildProcess | undefined;

const npm = (args: string[], cwd: string) => run('npm', args, { cwd, env: ENV, maxBuffer: 64 << 20 });

/** The URL a `serve` child logs once it listens (it runs with --quiet: a plain `listening on` line). */
function listeningUrl(child: ChildProcess): Promise<string> {
  let stderr = '';
  return new Promise<string>((res, rej) => {
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const m = /listening on (http:\/\/\S+)/.exec(stderr);
      if (m?.[1]) res(m[1]);
    });
    child.once('exit', (code) => rej(new Error(`actorflow serve exited ${code}: ${stderr}`)));
  });
}

/** SIGTERM to the child's process group (npx and the node it started); resolves on exit. */
async function stop(child: ChildProcess): Promise<void> {
  const exited = once(child, 'exit');
  process.kill(-(child.pid as number), 'SIGTERM');
  await exited;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'actorflow-package-'));
  const tree = join(work, 'tree');
  await mkdir(tree);
  const present = new Set(await readdir(ROOT));
  for (const entry of TREE.filter((e) => present.has(e))) await cp(join(ROOT, entry), join(tree, entry), { recursive: true });
  await symlink(join(ROOT, 'node_modules'), join(tree, 'node_modules'), 'dir');
  const packed = await npm(['pack', '--pack-destination', work], tree);
  tarball = join(work, packed.stdout.trim().split('\n').at(-1) ?? '');

  project = join(work, 'project');
  await mkdir(project);
  await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  // Scripts off: better-sqlite3 would compile for minutes on two cores (npm ci already proves that
  // build); it gets the binary this checkout compiled, which fits the same version on the same Node.
  await npm(['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', tarball], project);
  const version = async (dir: string) => (JSON.parse(await readFile(join(dir, 'node_modules/better-sqlite3/package.json'), 'utf8')) as { version: string }).version;
  if ((await version(project)) === (await version(ROOT))) {
    await cp(join(ROOT, 'node_modules/better-sqlite3/build'), join(project, 'node_modules/better-sqlite3/build'), { recursive: true });
  } else {
    await npm(['rebuild', 'better-sqlite3'], project);
  }
}, 300_000);

afterAll(async () => {
  if (server && server.exitCode === null && server.signalCode === null) {
    const exited = once(server, 'exit');
    process.kill(-(server.pid as number), 'SIGKILL');
    await exited;
  }
  if (work) await rm(work, { recursive: true, force: true });
});

describe('the npm package', () => {
  it('ships the compiled library, the CLI and the built dashboard, and no sources, tests, benchmarks or CI', async () => {
    const { stdout } = await run('tar', ['-tzf', tarball]);
    const files = stdout.trim().split('\n').map((f) => f.replace(/^package\//, ''));
    for (const f of ['package.json', 'README.md', 'bin/actorflow.js', 'dist/index.js', 'dist/index.d.ts', 'dist/client/index.js', 'dist/client/index.d.ts', 'dist/agents/create-agent.js', 'dist/agents/create-agent.d.ts', 'dist/cli/main.js', 'dist/dashboard/index.html']) {
      expect(files).toContain(f);
    }
    expect(files.some((f) => f.startsWith('dist/dashboard/assets/') && f.endsWith('.js'))).toBe(true);
    expect(files.filter((f) => /^(tests|bench|\.ci|\.scratch|src|machines|dashboard|node_modules|data)\//.test(f))).toEqual([]);
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
  });

  it('imports actorflow/client, actorflow/agent and actorflow/machine with plain node', async () => {
    const script = [
      "const client = await import('actorflow/client');",
      "const agent = await import('actorflow/agent');",
      "const machine = await import('actorflow/machine');",
      "console.log(JSON.stringify({ createClient: typeof client.createClient, ActorflowApiError: typeof client.ActorflowApiError, createAgent: typeof agent.createAgent, NonRetryableError: typeof agent.NonRetryableError, taskKind: machine.task('resize').config.kind, now: typeof machine.now() }));",
    ].join('\n');
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: project, env: ENV });
    expect(JSON.parse(stdout)).toEqual({ createClient: 'function', ActorflowApiError: 'function', createAgent: 'function', NonRetryableError: 'function', taskKind: 'resize', now: 'number' });
  });

  it('type-checks a NodeNext consumer of the client, the agent SDK and the flow types, and its declarations are real types', async () => {
    await writeFile(
      join(project, 'good.ts'),
      [
        "import { ActorflowApiError, createClient } from 'actorflow/client';",
        "import { createAgent, NonRetryableError, type TaskHandler } from 'actorflow/agent';",
        "import type { ExecutionView, FlowDocument } from 'actorflow';",
        "import { task } from 'actorflow/machine';",
        '',
        "export const resize = task<{ url: string }, { width: number }>('resize', { timeoutMs: 5000, retry: { maxAttempts: 2 } });",
        "export const flow: FlowDocument = { name: 'greet', steps: [{ id: 'hello', type: 'task', agent: 'echo', input: { name: '$.input.name' } }] };",
        'const handler: TaskHandler = async (ctx) => ({ kind: ctx.kind });',
        'export async function main(): Promise<ExecutionView> {',
        "  const af = createClient({ url: 'http://127.0.0.1:8080', key: 'k' });",
        "  const agent = await createAgent({ natsUrl: 'nats://127.0.0.1:4222', kinds: ['greet'], handler });",
        '  await agent.close();',
        "  const ex = await af.executions.start({ workflow: 'greet', input: { name: 'ada' } });",
        "  if (ex.status === 'failed') throw new NonRetryableError('failed', 'it failed');",
        '  return ex;',
        '}',
        'export const isApiError = (e: unknown): boolean => e instanceof ActorflowApiError;',
      ].join('\n'),
    );
    // Wrong on purpose: passes only if the declarations were `any`.
    await writeFile(join(project, 'bad.ts'), "import { createClient } from 'actorflow/client';\nexport const af = createClient({ url: 8080 });\n");
    const tsconfig = (file: string) => ({
      compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true, skipLibCheck: false, types: ['node'], typeRoots: [join(ROOT, 'node_modules/@types')] },
      files: [file],
    });
    await writeFile(join(project, 'tsconfig.json'), JSON.stringify(tsconfig('good.ts')));
    await writeFile(join(project, 'tsconfig.bad.json'), JSON.stringify(tsconfig('bad.ts')));
    const good = await run(process.execPath, [TSC, '-p', 'tsconfig.json'], { cwd: project }).catch((err: { stdout: string }) => ({ stdout: err.stdout }));
    expect(good.stdout).toBe('');
    const bad = await run(process.execPath, [TSC, '-p', 'tsconfig.bad.json'], { cwd: project }).then(
      () => 'no error',
      (err: { stdout: string }) => err.stdout,
    );
    expect(bad).toMatch(/bad\.ts\(2,\d+\): error TS2322/);
  }, 60_000);

  it('runs `npx actorflow --help` from the compiled CLI', async () => {
    const { stdout } = await run('npx', ['--no-install', 'actorflow', '--help'], { cwd: project, env: ENV });
    expect(stdout).toMatch(/^usage: actorflow/m);
    expect(stdout).toContain('serve');
  }, 60_000);

  it('serves /api/v1/health and the dashboard at / with `npx actorflow serve`', async () => {
    const data = join(work, 'data');
    // Its own process group: npx starts node as a child, and both must go at the end.
    server = spawn('npx', ['--no-install', 'actorflow', 'serve', '--port', '0', '--data-dir', data, '--machines', join(work, 'no-machines'), '--quiet'], {
      cwd: project,
      env: ENV,
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const url = await listeningUrl(server);
    const health = await fetch(`${url}/api/v1/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok' });
    const page = await fetch(`${url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).toMatch(/<script[^>]+src="\/assets\/[^"]+\.js"/);
    await stop(server);
  }, 60_000);

  it("refuses to serve on uWebSockets.js's pure-JS fallback: one warning, exit 1, no data written", async () => {
    const data = join(work, 'fallback-data');
    const result = await run('npx', ['--no-install', 'actorflow', 'serve', '--port', '0', '--data-dir', data, '--machines', join(work, 'no-machines')], {
      cwd: project,
      env: { ...ENV, UWS_USE_FALLBACK: '1' },
    }).then(
      () => ({ code: 0, stderr: '' }),
      (err: { code: number; stderr: string }) => err,
    );
    expect(result.code).toBe(1);
    const warnings = result.stderr.split('\n').filter((l) => l.startsWith('{') && (JSON.parse(l) as { level?: string }).level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('cannot serve actorflow');
    expect(result.stderr).toMatch(/^actorflow: UWS_USE_FALLBACK is set/m);
    await expect(readdir(data)).rejects.toThrow(/ENOENT/);
  }, 60_000);

  it('loads a TypeScript machines module through tsx when tsx is installed, and says to install it when not', async () => {
    const machines = join(work, 'machines');
    await mkdir(machines);
    await writeFile(join(work, 'package.json'), JSON.stringify({ type: 'module' }));
    await writeFile(
      join(machines, 'flows.ts'),
      "interface Doc { name: string; steps: unknown[] }\nexport const definitions: Doc[] = [{ name: 'ts-flow', steps: [{ id: 'a', type: 'task', agent: 'echo' }] }];\n",
    );
    const args = ['--no-install', 'actorflow', 'serve', '--port', '0', '--data-dir', join(work, 'ts-data'), '--machines', machines, '--quiet', '--no-auth'];
    const without = await run('npx', args, { cwd: project, env: ENV }).then(
      () => 'started',
      (err: { stderr: string }) => err.stderr,
    );
    expect(without).toMatch(/holds TypeScript modules \(flows\.ts\): install tsx/);

    await npm(['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', 'tsx'], project);
    server = spawn('npx', args, { cwd: project, env: ENV, detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
    const url = await listeningUrl(server);
    const def = await fetch(`${url}/api/v1/workflow-definitions/ts-flow`);
    expect(def.status).toBe(200);
    expect(await def.json()).toMatchObject({ name: 'ts-flow', source: 'code' });
    await stop(server);
  }, 120_000);
});
