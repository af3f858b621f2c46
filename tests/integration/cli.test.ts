/** The real `actorflow` binary (bin/actorflow.js) against a real server: output and exit codes of each command. */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '../../src/client/index.ts';
import { BIN, type CliRun, runCli } from '../support/cli.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { pollUntil, waitForStatus } from '../support/wait.ts';

const ADMIN = 'af_test_admin_key_cli_0123456789abcdef';

let server: TestServer;
let dir: string;

/** Runs `actorflow …` in a temp dir with ACTORFLOW_URL/ACTORFLOW_KEY set (unless overridden). */
function cli(args: readonly string[], env: Readonly<Record<string, string | undefined>> = {}): Promise<CliRun> {
  const e: NodeJS.ProcessEnv = { ...process.env, ACTORFLOW_URL: server.url, ACTORFLOW_KEY: ADMIN, NO_COLOR: '1', ...env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete e[k];
  return runCli(args, e, dir);
}

const json = (r: CliRun): any => JSON.parse(r.stdout);

beforeAll(async () => {
  // Webhook receivers on loopback are allowed: the webhooks commands subscribe one.
  server = await startTestServer({ adminKey: ADMIN, webhookAllowPrivate: true });
  dir = await mkdtemp(join(tmpdir(), 'actorflow-cli-'));
  const client = createClient({ url: server.url, key: ADMIN });
  await client.definitions.create({ name: 'cli-echo', steps: [{ id: 'a', type: 'task', agent: 'echo', input: { got: '$.input.n' } }] });
  await client.definitions.create({ name: 'cli-slow', steps: [{ id: 'z', type: 'sleep', ms: 30_000 }] });
  await writeFile(join(dir, 'in.json'), '{ "n": 42 }');
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

  it('tenants create|list|get|update', async () => {
    const created = await cli(['tenants', 'create', 'cli-corp', '--name', 'CLI Corp', '--max-running', '5']);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/slug:\s+cli-corp/);
    expect(created.stdout).toMatch(/maxRunning:\s+5/);
    const [list, get, again, bad] = await Promise.all([
      cli(['tenants', 'list']),
      cli(['tenants', 'get', 'cli-corp', '--json']),
      cli(['tenants', 'create', 'cli-corp']),
      cli(['tenants', 'create', 'x2', '--rps', '0']),
    ]);
    expect(list.stdout).toMatch(/cli-corp\s+CLI Corp\s+5\s+-/);
    expect(list.stdout).toMatch(/default\s+default/);
    expect(json(get)).toMatchObject({ slug: 'cli-corp', limits: { maxRunning: 5, rps: null }, usage: { running: 0, executions: 0 } });
    expect([again.code, again.stderr]).toEqual([4, expect.stringMatching(/tenant_exists|exists/)]);
    expect(bad.code).toBe(2);
    const updated = await cli(['tenants', 'update', 'cli-corp', '--max-running', 'none', '--rps', '12.5', '--json']);
    expect(updated.code, updated.stderr).toBe(0);
    expect(json(updated).limits).toEqual({ maxRunning: null, rps: 12.5 });
    expect((await cli(['tenants', 'get', 'nobody'])).code).toBe(3);
    expect((await cli(['keys', 'create', '--name', 'x', '--tenant', 'ghost-co'])).code).toBe(1);
  });

  it('templates create|list|get|instantiate|diagram|delete', async () => {
    await writeFile(join(dir, 'base.template.yaml'), 'name: cli-tpl\nparameters:\n  properties:\n    who: { type: string, default: ada }\nsteps:\n  - { id: a, type: task, agent: echo, input: { who: "${params.who}" } }\n');
    await writeFile(join(dir, 'child.template.yaml'), 'name: cli-tpl-child\nextends: cli-tpl\nsteps:\n  - { id: b, type: task, agent: echo, input: {} }\n');
    const base = await cli(['templates', 'create', 'base.template.yaml']);
    expect([base.code, base.stdout.trim()]).toEqual([0, 'cli-tpl v1 created']);
    const child = await cli(['templates', 'create', 'child.template.yaml']);
    expect([child.code, child.stdout.trim()]).toEqual([0, 'cli-tpl-child v1 created (extends cli-tpl@1)']);
    const [list, get, diagram, missing] = await Promise.all([
      cli(['templates', 'list', '--name', 'cli-tpl']),
      cli(['templates', 'get', 'cli-tpl-child', '--json']),
      cli(['templates', 'diagram', 'cli-tpl-child']),
      cli(['templates', 'get', 'cli-nope']),
    ]);
    expect(list.stdout.split('\n')[0]).toMatch(/^NAME\s+VERSION\s+EXTENDS/);
    expect(list.stdout).toMatch(/cli-tpl-child\s+1\s+cli-tpl@1/);
    expect(json(get).document.steps.map((s: { id: string }) => s.id)).toEqual(['a', 'b']);
    expect(diagram.stdout).toMatch(/^stateDiagram-v2/);
    expect(missing.code).toBe(3);
    const made = await cli(['templates', 'instantiate', 'cli-tpl-child', '--name', 'cli-made', '--params', '{"who":"bob"}', '--json']);
    expect(made.code, made.stderr).toBe(0);
    expect(json(made)).toMatchObject({ name: 'cli-made', source: 'template', template: { name: 'cli-tpl-child', version: 1, params: { who: 'bob' } } });
    expect((await cli(['templates', 'instantiate', 'cli-tpl', '--params', '{"who":1}'])).code).toBe(1);
    const deleted = await cli(['templates', 'delete', 'cli-tpl-child']);
    expect([deleted.code, deleted.stdout.trim()]).toEqual([0, 'cli-tpl-child: deleted']);
    expect((await cli(['templates', 'delete', 'cli-tpl-child'])).code).toBe(3);
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
  it('help: the overview, one command (help start = start --help), a group, a grouped command, serve', async () => {
    const [overview, helpStart, startHelp, group, sub, serve] = await Promise.all([
      cli(['help']),
      cli(['help', 'start']),
      cli(['start', '--help']),
      cli(['help', 'schedules']),
      cli(['schedules', 'create', '-h']),
      cli(['serve', '--help']),
    ]);
    expect(overview.stdout).toMatch(/^usage: actorflow/);
    expect(overview.stdout).toMatch(/run <workflow>\s+start an execution, wait for it and print its output/);
    for (const g of ['schedules', 'webhooks', 'tasks', 'telemetry', 'keys']) expect(overview.stdout).toContain(`${g} <command>`);
    expect(overview.stdout).toMatch(/\n\s+audit\s/);
    expect([helpStart.code, startHelp.code]).toEqual([0, 0]);
    expect(startHelp.stdout).toBe(helpStart.stdout);
    expect(helpStart.stdout.split('\n')[0]).toBe('usage: actorflow start <workflow> [options]');
    expect(helpStart.stdout).toMatch(/--input JSON\|@FILE\s+workflow input/);
    expect(helpStart.stdout).toMatch(/--wait DURATION\s/);
    expect(helpStart.stdout).toMatch(/--key KEY\s/);
    expect(group.stdout).toMatch(/create <workflow>\s+schedule a workflow/);
    expect(group.stdout).toMatch(/delete <id>/);
    expect([sub.code, sub.stdout.split('\n')[0]]).toEqual([0, 'usage: actorflow schedules create <workflow> [options]']);
    expect(sub.stdout).toMatch(/--cron EXPR\s/);
    expect(serve.code).toBe(0);
    expect(serve.stdout).toMatch(/--port PORT\s/);
    expect(serve.stdout).not.toContain('--url URL');
  });

  it('did you mean: a mistyped command, subcommand or help topic (exit 2)', async () => {
    const [cmd, sub, topic, far] = await Promise.all([cli(['strat', 'cli-quick']), cli(['schedules', 'craete']), cli(['help', 'webhook']), cli(['frobnicate'])]);
    expect([cmd.code, cmd.stderr]).toEqual([2, 'actorflow: unknown command "strat" (did you mean "start"?); see actorflow help\n']);
    expect([sub.code, sub.stderr]).toEqual([2, 'actorflow: unknown schedules command "craete" (did you mean "create"?); see actorflow help schedules\n']);
    expect(topic.code).toBe(2);
    expect(topic.stderr).toContain('did you mean "webhooks"?');
    expect(far.code).toBe(2);
    expect(far.stderr).not.toContain('did you mean');
    expect(cmd.stdout + sub.stdout).toBe('');
  });

  it('an unknown or incomplete option is one clean line naming the command (exit 2)', async () => {
    const [foo, typo, missing, serve] = await Promise.all([
      cli(['start', 'cli-quick', '--foo']),
      cli(['run', 'cli-quick', '--inptu', '{}']),
      cli(['run', 'cli-quick', '--input']),
      cli(['serve', '--prot', '0']),
    ]);
    expect([foo.code, foo.stderr]).toEqual([2, 'actorflow: unknown option --foo for "start"; see actorflow help start\n']);
    expect([typo.code, typo.stderr]).toEqual([2, 'actorflow: unknown option --inptu for "run" (did you mean --input?); see actorflow help run\n']);
    expect([missing.code, missing.stderr]).toEqual([2, 'actorflow: option --input of "run" needs a value; see actorflow help run\n']);
    expect([serve.code, serve.stderr]).toEqual([2, 'actorflow: unknown option --prot for "serve" (did you mean --port?); see actorflow help serve\n']);
  });

  it('run prints the output (--input JSON, @file, @-; --json the execution), exits 5 on failure and 6 when waiting or at --timeout', async () => {
    const [inline, file, asJson, failed, waiting, slow] = await Promise.all([
      cli(['run', 'cli-echo', '--input', '{"n":7}']),
      cli(['run', 'cli-echo', '--input', '@in.json']),
      cli(['run', 'cli-echo', '--input', '{"n":1}', '--json']),
      cli(['run', 'cli-fail']),
      cli(['run', 'cli-gate', '--input', '{"n":1}']),
      cli(['run', 'cli-slow', '--timeout', '200ms']),
    ]);
    expect([inline.code, JSON.parse(inline.stdout)]).toEqual([0, { got: 7 }]);
    expect([file.code, JSON.parse(file.stdout)]).toEqual([0, { got: 42 }]);
    expect(json(asJson)).toMatchObject({ workflow: 'cli-echo', status: 'completed', output: { got: 1 } });
    expect([failed.code, failed.stdout]).toEqual([5, '']);
    expect(failed.stderr).toMatch(/^actorflow: execution ex_\w+ failed at step f: /);
    expect([waiting.code, waiting.stdout]).toEqual([6, '']);
    expect(waiting.stderr).toMatch(/^ex_\w+ is waiting for signal go; send it with: actorflow signal ex_\w+ go/);
    expect(slow.code).toBe(6);
    expect(slow.stderr).toMatch(/^ex_\w+ has not finished after 200ms \(status waiting\); follow it with: actorflow watch ex_/);
    const piped = await new Promise<CliRun>((res, rej) => {
      const child = spawn(process.execPath, [BIN, 'run', 'cli-echo', '--input', '@-'], { cwd: dir, env: { ...process.env, ACTORFLOW_URL: server.url, ACTORFLOW_KEY: ADMIN } });
      let stdout = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.once('error', rej);
      child.once('close', (code) => res({ code, stdout, stderr: '' }));
      child.stdin.end('{"n": 5}');
    });
    expect([piped.code, JSON.parse(piped.stdout)]).toEqual([0, { got: 5 }]);
  });

  it('start --wait answers with the settled execution; get --wait is a long poll', async () => {
    const started = await cli(['start', 'cli-gate', '--input', '{"n":2}', '--wait', '10s']);
    expect(started.code, started.stderr).toBe(0);
    expect(started.stdout).toMatch(/^ex_\w+\s+cli-gate v1\s+waiting\n$/);
    const id = started.stdout.split(/\s/)[0] as string;
    await cli(['signal', id, 'go', '--payload', '{"ok":true}']);
    const got = await cli(['get', id, '--wait', '10s', '--json']);
    expect(json(got)).toMatchObject({ status: 'completed', output: { ok: true } });
  });

  it('schedules create|list|get|disable|delete', async () => {
    const created = await cli(['schedules', 'create', 'cli-quick', '--every', '1h', '--input', '{"n":3}', '--json']);
    expect(created.code, created.stderr).toBe(0);
    const s = json(created) as { id: string; everyMs: number; input: unknown; enabled: boolean };
    expect(s).toMatchObject({ everyMs: 3_600_000, input: { n: 3 }, enabled: true });
    const [list, get, none] = await Promise.all([cli(['schedules']), cli(['schedules', 'get', s.id]), cli(['schedules', 'create', 'cli-quick'])]);
    expect(list.stdout).toMatch(new RegExp(`${s.id}\\s+cli-quick\\s+every 1h\\s+true`));
    expect(get.stdout).toMatch(/trigger:\s+every 1h/);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('needs one of --cron, --every, --at');
    expect(json(await cli(['schedules', 'disable', s.id, '--json']))).toMatchObject({ id: s.id, enabled: false });
    const deleted = await cli(['schedules', 'delete', s.id]);
    expect([deleted.code, deleted.stdout]).toEqual([0, `${s.id}: deleted\n`]);
    expect((await cli(['schedules', 'get', s.id])).code).toBe(3);
  });

  it('tasks, webhooks, telemetry and audit', async () => {
    const task = await cli(['tasks', 'create', 'echo', '--input', '{"t":1}', '--json']);
    expect(task.code, task.stderr).toBe(0);
    const taskId = json(task).id as string;
    const client = createClient({ url: server.url, key: ADMIN });
    await pollUntil(async () => ((await client.tasks.get(taskId)).status === 'completed' ? true : undefined), 'task completed');
    const hook = await cli(['webhooks', 'create', 'http://127.0.0.1:9/hook', '--event', 'workflow.completed', '--json']);
    expect(hook.code, hook.stderr).toBe(0);
    const h = json(hook) as { id: string; events: string[]; secret: string };
    expect(h.events).toEqual(['workflow.completed']);
    expect(h.secret.length).toBeGreaterThanOrEqual(16);
    await server.flushAudit();
    const [taskGet, taskList, hooks, deliveries, summary, stats, statsMissing, audit] = await Promise.all([
      cli(['tasks', 'get', taskId]),
      cli(['tasks', 'list', '--status', 'completed', '--json']),
      cli(['webhooks', 'list']),
      cli(['webhooks', 'deliveries', h.id]),
      cli(['telemetry', 'summary', '--json']),
      cli(['telemetry', 'stats', 'cli-quick']),
      cli(['telemetry', 'stats', 'cli-nope']),
      cli(['audit', '--limit', '5', '--json']),
    ]);
    expect(taskGet.stdout).toMatch(/status:\s+completed/);
    expect(taskGet.stdout).toMatch(/output:\s+\{"t":1\}/);
    expect(json(taskList).items.map((t: { id: string }) => t.id)).toContain(taskId);
    expect(hooks.stdout).toMatch(new RegExp(`${h.id}\\s+http://127.0.0.1:9/hook\\s+workflow.completed`));
    expect(deliveries.code).toBe(0);
    expect(typeof json(summary).executions.started).toBe('number');
    expect([stats.code, stats.stdout.split('\n')[0]]).toEqual([0, expect.stringMatching(/^cli-quick\s/)]);
    expect(statsMissing.code).toBe(3);
    expect(json(audit).items.map((a: { route: string }) => a.route)).toContain('/api/v1/webhooks');
    expect((await cli(['webhooks', 'delete', h.id])).code).toBe(0);
    expect((await cli(['webhooks', 'get', h.id])).code).toBe(3);
  });

  it('without a key: says where it looked and how to pass one; finds $ACTORFLOW_DATA_DIR/admin.key', async () => {
    const none = await cli(['list'], { ACTORFLOW_KEY: undefined, ACTORFLOW_DATA_DIR: undefined });
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('401');
    expect(none.stderr).toContain(`${join(dir, 'data', 'admin.key')} does not exist`);
    expect(none.stderr).toContain('--key KEY or ACTORFLOW_KEY=KEY');
    await mkdir(join(dir, 'keys'));
    await writeFile(join(dir, 'keys', 'admin.key'), `${ADMIN}\n`);
    const found = await cli(['list', '--json'], { ACTORFLOW_KEY: undefined, ACTORFLOW_DATA_DIR: join(dir, 'keys') });
    expect(found.code, found.stderr).toBe(0);
    expect(Array.isArray(json(found).items)).toBe(true);
  });
});
