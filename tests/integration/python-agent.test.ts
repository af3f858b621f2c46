/**
 * The wire protocol from another language (issue 15): examples/python-agent/agent.py, written with nats-py
 * and msgpack from docs/agent-protocol.md alone, runs steps of the real server over a real nats-server.
 * python3 with its requirements is a CI prerequisite (.ci/run installs them): a missing one fails the
 * file, it is never skipped.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type Api } from '../support/http.ts';
import { startNatsServer, type NatsServer } from '../support/nats.ts';
import { startServerProcess, type ServerProcess } from '../support/process.ts';
import { pollUntil } from '../support/wait.ts';

const AGENT = resolve(import.meta.dirname, '../../examples/python-agent');

let dir = '';
let nats: NatsServer | undefined;
let server: ServerProcess | undefined;
let python: ChildProcess | undefined;
let agentId = '';
let agentLog = '';
let http: Api;

/** `python3` with the agent's modules, or an error that says how to get them. */
function requirePython(): void {
  const probe = spawnSync('python3', ['-c', 'import nats, msgpack'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new Error(`python3 with nats-py and msgpack is required: pip install -r examples/python-agent/requirements.txt (${probe.error?.message ?? probe.stderr.trim()})`);
  }
}

/** Starts agent.py and resolves with its id once its consumer exists (it prints `agent <id> ready`). */
async function startPythonAgent(natsUrl: string): Promise<string> {
  const child = spawn('python3', [join(AGENT, 'agent.py')], {
    env: { ...process.env, NATS_URL: natsUrl, ACK_WAIT_MS: '3000', PYTHONUNBUFFERED: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  python = child;
  child.stderr.on('data', (c: Buffer) => (agentLog += c.toString()));
  return new Promise<string>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`agent.py did not get ready:\n${agentLog}`)), 20_000);
    child.stdout.on('data', (c: Buffer) => {
      agentLog += c.toString();
      const m = /^agent (\S+) ready/m.exec(agentLog);
      if (m?.[1]) {
        clearTimeout(timer);
        res(m[1]);
      }
    });
    child.once('exit', (code) => (clearTimeout(timer), rej(new Error(`agent.py exited ${code}:\n${agentLog}`))));
  });
}

async function start(workflow: string, input: unknown): Promise<string> {
  const res = await http.post('/executions', { workflow, input });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id as string;
}

/** The execution once it has finished (the API's long poll). */
async function finished(id: string): Promise<any> {
  const res = await http.get(`/executions/${id}`, { query: { wait: 15_000 } });
  expect(res.status).toBe(200);
  return res.body;
}

const agentView = async () => (await http.get(`/agents/${encodeURIComponent(agentId)}`)).body;

beforeAll(async () => {
  requirePython();
  dir = await mkdtemp(join(tmpdir(), 'actorflow-python-agent-'));
  await mkdir(join(dir, 'machines'));
  nats = await startNatsServer();
  server = await startServerProcess({ dataDir: join(dir, 'data'), machinesDir: join(dir, 'machines'), sync: 'normal', nats: nats.url, builtinAgents: false });
  http = api(server.url);
  const define = async (doc: Record<string, unknown>) => expect((await http.post('/workflow-definitions', doc)).status).toBe(201);
  await define({
    name: 'shout',
    steps: [
      { id: 'up', type: 'task', agent: 'py-upper', input: { text: '$.input.text', delayMs: '$.input.delayMs' }, retry: { maxAttempts: 3, backoff: 'fixed', initialMs: 5 } },
      { id: 'again', type: 'task', agent: 'py-upper', input: { text: '$.steps.up.output.text' } },
    ],
    output: { shout: '$.steps.again.output.text' },
  });
  agentId = await startPythonAgent(nats.url);
}, 40_000);

afterAll(async () => {
  if (python && python.exitCode === null && python.signalCode === null) {
    const exited = once(python, 'exit');
    python.kill('SIGKILL');
    await exited;
  }
  await server?.kill().catch(() => undefined);
  await nats?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 30_000);

describe('a Python agent over NATS', () => {
  it('completes a flow: both steps run in agent.py, its taken, logs and heartbeats reach the server', async () => {
    const id = await start('shout', { text: 'hello über', delayMs: 0 });
    const x = await finished(id);
    expect(x.status, agentLog).toBe('completed');
    expect(x.output).toEqual({ shout: 'HELLO ÜBER' });
    const steps = (await http.get(`/executions/${id}/steps`)).body.items as any[];
    expect(steps.map((s) => [s.stepId, s.status, s.attempts, s.agentId])).toEqual([
      ['up', 'completed', 1, agentId],
      ['again', 'completed', 1, agentId],
    ]);
    // `taken` became agent.selected; the step logs came over <prefix>.logs.
    const events = (await http.get(`/executions/${id}/events`, { query: { limit: 100 } })).body.items as any[];
    expect(events.filter((e) => e.type === 'agent.selected').map((e) => e.data.agentId)).toEqual([agentId, agentId]);
    const logs = (await http.get(`/executions/${id}/logs`)).body.items as any[];
    expect(logs).toContainEqual(expect.objectContaining({ stepId: 'up', attempt: 1, level: 'info', message: 'uppercasing', data: { length: 10 } }));
    expect(await agentView()).toMatchObject({ id: agentId, kinds: ['py-upper'], capacity: 4, status: 'online' });
  });

  it('fails the execution with the code of a non-retryable error, in one attempt', async () => {
    const id = await start('shout', { text: 42, delayMs: 0 });
    const x = await finished(id);
    expect(x.status, agentLog).toBe('failed');
    expect(x.error).toMatchObject({ code: 'not_a_string', message: 'input.text must be a string' });
    const attempts = (await http.get(`/executions/${id}/steps/up/attempts`)).body.items as any[];
    expect(attempts).toHaveLength(1);
    expect(attempts[0]).toMatchObject({ status: 'failed', error: { code: 'not_a_string', retryable: false } });
  });

  it('aborts a running handler on cancel and hands its slot back', async () => {
    const id = await start('shout', { text: 'slow', delayMs: 600_000 });
    await pollUntil(async () => ((await agentView()).inFlight === 1 ? true : undefined), 'the agent to hold the task', 10_000);
    expect((await http.post(`/executions/${id}/cancel`, { reason: 'test' })).status).toBe(202);
    expect((await finished(id)).status).toBe('cancelled');
    // Reported and acked long before the handler's 10 minutes: its heartbeat shows nothing in flight.
    await pollUntil(async () => ((await agentView()).inFlight === 0 ? true : undefined), 'the agent to let the cancelled task go', 10_000);
  });

  it('drains on SIGTERM: exits 0 and the server lists it offline at once', async () => {
    const child = python as ChildProcess;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    expect((await exited)[0], agentLog).toBe(0);
    await pollUntil(async () => ((await agentView()).status === 'offline' ? true : undefined), 'the leaving heartbeat', 3000);
  });
});
