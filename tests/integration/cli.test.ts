/** The real `actorflow` binary (bin/actorflow.js) against a real server: output and exit codes of each command. */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.ts';
import { waitForStatus } from '../support/wait.ts';

const BIN = resolve(import.meta.dirname, '../../bin/actorflow.js');
const ADMIN = 'af_test_admin_key_cli_0123456789abcdef';

let server: TestServer;
let dir: string;

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `actorflow …` in a temp dir with ACTORFLOW_URL/ACTORFLOW_KEY set (unless overridden). */
function cli(args: readonly string[], env: Readonly<Record<string, string | undefined>> = {}): Promise<Run> {
  const e: NodeJS.ProcessEnv = { ...process.env, ACTORFLOW_URL: server.url, ACTORFLOW_KEY: ADMIN, NO_COLOR: '1', ...env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete e[k];
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: dir, env: e, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', rej);
    child.once('close', (code) => res({ code, stdout, stderr }));
  });
}

const json = (r: Run): any => JSON.parse(r.stdout);

beforeAll(async () => {
  server = await startTestServer({ adminKey: ADMIN });
  dir = await mkdtemp(join(tmpdir(), 'actorflow-cli-'));
  await writeFile(
    join(dir, 'gate.yaml'),
    `name: cli-gate
steps:
  - { id: a, type: task, agent: echo, input: { n: "$.input.n" } }
  - { id: gate, type: wait, signal: go }
  - { id: b, type: task, agent: echo, input: { ok: "$.steps.gate.output.ok" } }
`,
  );
  await writeFile(join(dir, 'fail.yaml'), 'name: cli-fail\nsteps:\n  - { id: f, type: task, agent: fail, input: { times: 1, retryable: false } }\n');
  await writeFile(join(dir, 'quick.yaml'), 'name: cli-quick\nsteps:\n  - { id: a, type: task, agent: echo, input: {} }\n');
  await writeFile(join(dir, 'bad.yaml'), 'name: cli-bad\nsteps:\n  - { id: a, type: nope }\n');
});

afterAll(async () => {
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('actorflow CLI', { timeout: 60_000 }, () => {
  it('definitions push|list|get|validate|diagram', async () => {
    const pushed = await Promise.all(['gate.yaml', 'fail.yaml', 'quick.yaml'].map((f) => cli(['definitions', 'push', f])));
    for (const r of pushed) expect(r.code, r.stderr).toBe(0);
    expect(pushed[0]?.stdout).toContain('cli-gate v1 registered');
    const [list, listJson, get, valid, invalid, diagram, missing] = await Promise.all([
      cli(['definitions', 'list', '--name', 'cli-']),
      cli(['definitions', 'list', '--json']),
      cli(['definitions', 'get', 'cli-gate', '--json']),
      cli(['definitions', 'validate', 'quick.yaml']),
      cli(['definitions', 'validate', 'bad.yaml']),
      cli(['definitions', 'diagram', 'cli-gate']),
      cli(['definitions', 'get', 'cli-nope']),
    ]);
    expect(list.code).toBe(0);
    expect(list.stdout.split('\n')[0]).toMatch(/^NAME\s+VERSION\s+SOURCE/);
    expect(list.stdout).toMatch(/cli-gate\s+1\s+document/);
    expect(json(listJson).items.map((d: { name: string }) => d.name)).toEqual(expect.arrayContaining(['cli-gate', 'cli-fail', 'cli-quick']));
    expect(json(get)).toMatchObject({ name: 'cli-gate', version: 1 });
    expect([valid.code, valid.stdout.trim()]).toEqual([0, 'quick.yaml: valid']);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(/422/);
    expect(diagram.stdout).toMatch(/^stateDiagram-v2/);
    expect(missing.code).toBe(3);
  });

  it('start, get, list --json, steps, events, signal and watch (exit 0 on completed)', async () => {
    const started = await cli(['start', 'cli-gate', '--input', '{"n":7}', '--label', 'suite=cli', '--json']);
    expect(started.code, started.stderr).toBe(0);
    const id = json(started).id as string;
    expect(id).toMatch(/^ex_/);
    const watch = cli(['watch', id]);
    await waitForStatus(server.engine, id, 'waiting');
    const [get, list, steps] = await Promise.all([cli(['get', id]), cli(['list', '--workflow', 'cli-gate', '--label', 'suite=cli', '--json']), cli(['steps', id])]);
    expect(get.stdout).toMatch(/status:\s+waiting/);
    expect(json(list).items.map((x: { id: string }) => x.id)).toEqual([id]);
    expect(steps.stdout).toMatch(/gate\s+wait\s+waiting/);
    const sig = await cli(['signal', id, 'go', '--payload', '{"ok":true}']);
    expect([sig.code, sig.stdout.trim()]).toEqual([0, `${id}: signal go sent`]);
    const w = await watch;
    expect(w.code, w.stderr).toBe(0);
    expect(w.stdout).toContain('workflow.signal.received');
    expect(w.stdout.trim().split('\n').at(-1)).toContain('workflow.completed');
    expect(w.stdout).not.toContain('\x1b[');
    const events = await cli(['events', id, '--json']);
    expect(json(events).items.at(-1).type).toBe('workflow.completed');
    const [logs, children, attempts] = await Promise.all([cli(['logs', id]), cli(['children', id]), cli(['attempts', id, 'a', '--json'])]);
    expect([logs.code, logs.stdout.trim()]).toEqual([0, '(none)']);
    expect(children.code).toBe(0);
    expect(json(attempts).items[0].status).toBe('completed');
  });

  it('watch exits 5 when the execution fails; retry of a finished one is a conflict (4)', async () => {
    const id = json(await cli(['start', 'cli-fail', '--json'])).id as string;
    const w = await cli(['watch', id, '--json']);
    expect(w.code).toBe(5);
    const lines = w.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.at(-1).type).toBe('workflow.failed');
    const quick = json(await cli(['start', 'cli-quick', '--json'])).id as string;
    await waitForStatus(server.engine, quick, 'completed');
    expect((await cli(['retry', quick])).code).toBe(4);
  });

  it('pause, resume, cancel; a second cancel is 409 → exit 4', async () => {
    const id = json(await cli(['start', 'cli-gate', '--json'])).id as string;
    await waitForStatus(server.engine, id, 'waiting');
    expect((await cli(['pause', id])).code).toBe(0);
    await waitForStatus(server.engine, id, 'paused');
    expect((await cli(['resume', id])).code).toBe(0);
    const first = await cli(['cancel', id, '--reason', 'test']);
    expect([first.code, first.stdout.trim()]).toEqual([0, `${id}: cancel requested`]);
    await waitForStatus(server.engine, id, 'cancelled');
    const second = await cli(['cancel', id]);
    expect(second.code).toBe(4);
    expect(second.stderr).toMatch(/409/);
  });

  it('not found → 3, usage errors → 2, bad credential → 1, unreachable server → 1', async () => {
    const [nf, noArg, badFlag, unknown, badJson, badKey, down, help] = await Promise.all([
      cli(['get', 'ex_nope']),
      cli(['start']),
      cli(['list', '--nope']),
      cli(['frobnicate']),
      cli(['start', 'cli-quick', '--input', '{nope']),
      cli(['list', '--key', 'wrong']),
      cli(['list', '--url', 'http://127.0.0.1:1']),
      cli(['help']),
    ]);
    expect(nf.code).toBe(3);
    expect(nf.stderr).toMatch(/404/);
    for (const r of [noArg, badFlag, unknown, badJson]) expect(r.code).toBe(2);
    expect(badKey.code).toBe(1);
    expect(badKey.stderr).toMatch(/401/);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/cannot reach/);
    expect([help.code, help.stdout]).toEqual([0, expect.stringContaining('usage: actorflow')]);
  });

  it('keys create/list/revoke and agents with an admin key (env or --url/--key flags)', async () => {
    const created = await cli(['keys', 'create', '--name', 'ci', '--scopes', 'read', '--json']);
    expect(created.code, created.stderr).toBe(0);
    const k = json(created) as { id: string; key: string };
    const list = await cli(['keys', 'list', '--url', server.url, '--key', ADMIN], { ACTORFLOW_URL: undefined, ACTORFLOW_KEY: undefined });
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`${k.id}\\s+ci\\s+default\\s+read`));
    const asReader = await cli(['keys', 'list'], { ACTORFLOW_KEY: k.key });
    expect(asReader.code).toBe(1);
    expect(asReader.stderr).toMatch(/403/);
    expect((await cli(['keys', 'revoke', k.id])).code).toBe(0);
    const agents = await cli(['agents']);
    expect(agents.stdout).toMatch(/builtin-echo\s+echo\s+online/);
  });

  it('bench drives the server for 2 s and prints p50/p99 of start and completion latency', async () => {
    const r = await cli(['bench', '--workflow', 'cli-quick', '--rate', '50', '--duration', '2', '--connections', '4', '--sample', '5']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/start ms\s+p50 [\d.]+\s+p99 [\d.]+\s+p99\.9 [\d.]+/);
    expect(r.stdout).toMatch(/complete ms\s+p50 [\d.]+\s+p99 [\d.]+/);
    const j = await cli(['bench', '--workflow', 'cli-quick', '--rate', '0', '--duration', '1', '--connections', '2', '--json']);
    const out = json(j);
    expect(out.started).toBeGreaterThan(0);
    expect(out.errors).toBe(0);
    expect(out.startLatencyMs.p99).toBeGreaterThanOrEqual(out.startLatencyMs.p50);
  });
});
