/**
 * Documents saved by an agent over NATS survive kill -9 of the server exactly once (issue 16): a real
 * nats-server, the server and an SDK agent (`ctx.saveDocument`) as child processes; the server is
 * SIGKILLed while results flow, restarted on the same data dir, and every execution then has its
 * step result and exactly one document, announced by exactly one `document.saved` event.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { api, type Api } from '../support/http.ts';
import { loadUntilKill } from '../support/load-until-kill.ts';
import { startNatsServer, type NatsServer } from '../support/nats.ts';
import { startServerProcess, type ServerProcess } from '../support/process.ts';
import { pollUntil } from '../support/wait.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const SDK = pathToFileURL(join(ROOT, 'src/agents/create-agent.ts')).href;
const FLOW = { name: 'writes', steps: [{ id: 'write', type: 'task', agent: 'writer', input: '$.input' }] };
/** An SDK agent: saves one document per task, then answers its input. */
const AGENT = `
import { createAgent } from ${JSON.stringify(SDK)};
await createAgent({
  natsUrl: process.argv[2],
  kinds: ['writer'],
  concurrency: 32,
  ackWaitMs: 1500,
  handler: async (ctx) => {
    const n = (ctx.input as { n: number }).n;
    ctx.saveDocument({ type: 'report', title: 'report ' + n, content: { n } });
    return { n };
  },
});
process.stderr.write('writer ready\\n');
`;

let dir = '';
let nats: NatsServer | undefined;
let server: ServerProcess | undefined;
let agent: ChildProcess | undefined;

afterAll(async () => {
  await server?.kill();
  if (agent && agent.exitCode === null && agent.signalCode === null) {
    const exited = once(agent, 'exit');
    agent.kill('SIGKILL');
    await exited;
  }
  await nats?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Starts the agent process and resolves once it serves `writer`. */
async function startAgent(script: string, natsUrl: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, natsUrl], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  await new Promise<void>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`agent did not start: ${log}`)), 20_000);
    child.stderr?.on('data', (c: Buffer) => {
      log += c.toString();
      if (log.includes('writer ready')) (clearTimeout(timer), res());
    });
    child.once('exit', (code) => (clearTimeout(timer), rej(new Error(`agent exited ${code}: ${log}`))));
  });
  return child;
}

/** Every page of a list route. */
async function all(http: Api, path: string, query: Record<string, string | number> = {}): Promise<any[]> {
  const items: any[] = [];
  for (let cursor: string | null = ''; cursor !== null; ) {
    const res = await http.get(path, { query: { ...query, limit: 1000, ...(cursor === '' ? {} : { cursor }) } });
    expect(res.status, res.text).toBe(200);
    items.push(...res.body.items);
    cursor = res.body.nextCursor;
  }
  return items;
}

describe('documents across a crash', () => {
  it('keeps every document saved by an agent over NATS exactly once, with its step result, after kill -9', async () => {
    dir = await mkdtemp(join(tmpdir(), 'actorflow-documents-crash-'));
    const machines = join(dir, 'machines');
    const data = join(dir, 'data');
    await mkdir(machines);
    const script = join(dir, 'writer-agent.mts');
    await writeFile(script, AGENT);
    nats = await startNatsServer();
    const serve = () => startServerProcess({ dataDir: data, machinesDir: machines, sync: 'normal', nats: (nats as NatsServer).url, builtinAgents: false });
    server = await serve();
    let http = api(server.url);
    expect((await http.post('/workflow-definitions', FLOW)).status).toBe(201);
    agent = await startAgent(script, nats.url);
    await pollUntil(async () => (((await http.get('/agents')).body.items as { kinds: string[] }[]).some((a) => a.kinds.includes('writer')) ? true : undefined), 'writer agent registered');

    // Killed mid-load once some documents are durable: results of others are in flight (saved by the agent, not yet journaled, or journaled but not yet acknowledged).
    let durable = 0;
    const acked = await loadUntilKill(http, {
      workflow: 'writes',
      clients: 8,
      killWhen: async (ids) => {
        if (ids.length < 120 || ids.length % 10 !== 0) return false;
        durable = (await http.get('/documents', { query: { scopeType: 'execution', limit: 40 } })).body.items.length;
        return durable >= 40;
      },
      kill: async () => server?.kill(),
    });
    expect(durable).toBe(40);

    server = await serve();
    http = api(server.url);
    await pollUntil(async () => ((await http.get('/ready')).status === 200 ? true : undefined), 'ready');
    await pollUntil(async () => {
      const open = await http.get('/executions', { query: { status: 'pending,running,waiting,paused', limit: 1 } });
      return open.body.items.length === 0 ? true : undefined;
    }, 'every execution finished', 30_000);

    // Exactly one document per execution that ran (acknowledged or not), none without its execution.
    const docs = await all(http, '/documents', { scopeType: 'execution' });
    const byExecution = new Map<string, any[]>();
    for (const d of docs) byExecution.set(d.executionId, [...(byExecution.get(d.executionId) ?? []), d]);
    expect([...byExecution.values()].filter((list) => list.length !== 1)).toEqual([]);
    for (const d of docs) expect(d).toMatchObject({ version: 1, scopeId: d.executionId, stepId: 'write', type: 'report' });

    for (const id of acked) {
      const x = await http.get(`/executions/${id}`);
      expect(x.body.status, id).toBe('completed');
      const [doc] = byExecution.get(id) ?? [];
      expect(doc, `document of ${id}`).toBeDefined();
      expect(doc.title).toBe(`report ${x.body.input.n}`);
      expect((await http.get(`/documents/${doc.id}`)).body.content).toEqual({ n: x.body.input.n });
      const events = await all(http, `/executions/${id}/events`);
      const saved = events.filter((e) => e.type === 'document.saved');
      expect(saved.map((e) => e.data.documentId), id).toEqual([doc.id]);
      const completed = events.filter((e) => e.type === 'workflow.step.completed');
      expect(completed).toHaveLength(1);
      expect(saved[0].seq).toBeLessThan(completed[0].seq);
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    }
  }, 90_000);
});
