/**
 * @module bench/http-agents — a 3-step flow whose steps go to an HTTP push agent on loopback (issue 15),
 * next to the same flow on the built-in `echo`, in its own process:
 *   node --import tsx bench/http-agents.ts [--quick] [--sync full|normal]   (bench/run.ts may fork it)
 *
 * Each variant gets a fresh server (`startActorflow` in this process, listening on 127.0.0.1 for the
 * agents' callbacks) whose `bench3` flow has three `task` steps of one kind: `echo` (built-in,
 * effect-free), `http-sync` (an HTTP push agent answering 200 `{ output: input }` at once) or
 * `http-202` (the agent answers 202, then POSTs `{ output }` to `/agent-tasks/{taskId}/result`). The
 * agent is a child process (this file with `--receiver`): node:http, keep-alive, no signature check (the
 * server's side is what is measured). The loop is bench/flow3.ts's `runFlow3InProcess`: start →
 * committed `workflow.completed`, 1 client, then 64 clients. Variants alternate over the rounds; figures
 * are the rounds' medians.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const quick = process.argv.includes('--quick');

/** The agent process: `/sync` answers 200 with the input as output; `/later` answers 202, then posts the result to `callback`. */
async function receiver(): Promise<void> {
  const keepAlive = new Agent({ keepAlive: true, maxSockets: 256 });
  const post = (url: string, token: string, body: string): void => {
    const req = request(url, { method: 'POST', agent: keepAlive, headers: { 'content-type': 'application/json', 'x-actorflow-task-token': token, 'content-length': Buffer.byteLength(body) } }, (res) => res.resume());
    req.on('error', (err) => console.error('result not posted', String(err)));
    req.end(body);
  };
  let callback = '';
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const task = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { taskId: string; taskToken: string; input: unknown };
      const body = JSON.stringify({ output: task.input });
      if (req.url === '/sync') return void res.writeHead(200, { 'content-type': 'application/json' }).end(body);
      res.writeHead(202).end();
      post(`${callback}/api/v1/agent-tasks/${encodeURIComponent(task.taskId)}/result`, task.taskToken, body);
    });
  });
  server.keepAliveTimeout = 30_000;
  process.on('message', (m: { callback?: string }) => {
    if (typeof m.callback === 'string') callback = m.callback;
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  process.send?.({ port: (server.address() as { port: number }).port });
  process.on('disconnect', () => process.exit(0));
}

if (process.argv.includes('--receiver')) {
  await receiver();
} else {
  await main();
}

async function main(): Promise<void> {
  // Loaded here, not at the top: the receiver child runs this file too and needs none of it.
  const { startActorflow } = await import('../src/cli/serve.ts');
  const { alternate, durations, reportFigures, runBench3, summarize, variantFigures } = await import('./agent-variants.ts');
  type VariantRun = import('./agent-variants.ts').VariantRun;

  const sync = process.argv[process.argv.indexOf('--sync') + 1] === 'normal' ? 'normal' : 'full';
  const d = durations(quick);
  type Variant = 'echo' | 'http-sync' | 'http-202';
  const VARIANTS: readonly Variant[] = ['echo', 'http-sync', 'http-202'];

  const agent: ChildProcess = fork(fileURLToPath(import.meta.url), ['--receiver'], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const [{ port }] = (await once(agent, 'message')) as [{ port: number }];

  const measure = async (kind: Variant): Promise<VariantRun> => {
    const dataDir = mkdtempSync(join(tmpdir(), `actorflow-bench-http-agents-${sync}-`));
    const app = await startActorflow({ host: '127.0.0.1', port: 0, dataDir, sync, quiet: true, logLevel: 'error', noAuth: true, rateLimit: null, webhookAllowPrivate: true });
    try {
      agent.send({ callback: app.url });
      if (kind !== 'echo') {
        const path = kind === 'http-sync' ? '/sync' : '/later';
        const res = await fetch(`${app.url}/api/v1/agents/http`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ name: kind, kinds: [kind], url: `http://127.0.0.1:${port}${path}`, concurrency: 128 }),
        });
        if (res.status !== 201) throw new Error(`registering the agent: ${res.status} ${await res.text()}`);
      }
      return await runBench3(app.engine, kind, d);
    } finally {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  };

  console.log(`\n## HTTP push agents: 3 steps to an agent on loopback vs the built-in echo — sync=${sync}, ${d.rounds} round(s)`);
  let runs: Map<Variant, VariantRun[]>;
  try {
    runs = await alternate(VARIANTS, d.rounds, measure);
  } finally {
    agent.disconnect();
  }
  const part = 'http agents';
  const echo = summarize(runs.get('echo') ?? []);
  reportFigures([
    ...variantFigures(part, sync, 'built-in echo', echo),
    ...variantFigures(part, sync, 'HTTP push agent answering 200', summarize(runs.get('http-sync') ?? []), echo),
    ...variantFigures(part, sync, 'HTTP push agent answering 202, then posting the result', summarize(runs.get('http-202') ?? []), echo),
  ]);
}
