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
  const { startActorflow } = await import('../src/cli/serve.ts');
  const { BENCH3_FLOW, fmtLat, int, ms } = await import('./common.ts');
  const { runFlow3InProcess } = await import('./flow3.ts');
  type Figure = import('./common.ts').Figure;
  type Flow3Result = import('./flow3.ts').Flow3Result;

  const sync = process.argv[process.argv.indexOf('--sync') + 1] === 'normal' ? 'normal' : 'full';
  const ROUNDS = quick ? 1 : 3;
  const SEQ_MS = quick ? 1500 : 5000;
  const CON_MS = quick ? 1500 : 5000;
  const WARMUP_MS = quick ? 500 : 1500;
  type Variant = 'echo' | 'http-sync' | 'http-202';
  const VARIANTS: readonly Variant[] = ['echo', 'http-sync', 'http-202'];

  const agent: ChildProcess = fork(fileURLToPath(import.meta.url), ['--receiver'], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const [{ port }] = (await once(agent, 'message')) as [{ port: number }];

  const measure = async (kind: Variant): Promise<{ seq: Flow3Result; con: Flow3Result }> => {
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
      await app.engine.registerDefinition('default', { ...BENCH3_FLOW, steps: BENCH3_FLOW.steps.map((s) => ({ ...s, agent: kind })) });
      const seq = await runFlow3InProcess(app.engine, { clients: 1, durationMs: SEQ_MS, warmupMs: WARMUP_MS });
      const con = await runFlow3InProcess(app.engine, { clients: 64, durationMs: CON_MS, warmupMs: WARMUP_MS });
      return { seq, con };
    } finally {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  };

  const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)] ?? Number.NaN;
  const runs = new Map<Variant, { seq: Flow3Result; con: Flow3Result }[]>(VARIANTS.map((v) => [v, []]));
  console.log(`\n## HTTP push agents: 3 steps to an agent on loopback vs the built-in echo — sync=${sync}, ${ROUNDS} round(s)`);
  try {
    for (let r = 0; r < ROUNDS; r++) {
      for (const kind of r % 2 === 0 ? VARIANTS : [...VARIANTS].reverse()) {
        const m = await measure(kind);
        (runs.get(kind) as { seq: Flow3Result; con: Flow3Result }[]).push(m);
        console.log(`${kind.padEnd(9)} round ${r + 1}: 1 client ${fmtLat(m.seq.latency)}, ${m.seq.commitsPerFlow.toFixed(2)} commits/flow; 64 clients ${int(m.con.flowsPerSec)} flows/s, failed ${m.seq.failed + m.con.failed}`);
      }
    }
  } finally {
    agent.disconnect();
  }

  const part = 'http agents';
  const sum = (kind: Variant) => {
    const rs = runs.get(kind) as { seq: Flow3Result; con: Flow3Result }[];
    return {
      p50: median(rs.map((x) => x.seq.latency.p50)),
      p99: median(rs.map((x) => x.seq.latency.p99)),
      commits: median(rs.map((x) => x.seq.commitsPerFlow)),
      perSec: median(rs.map((x) => x.con.flowsPerSec)),
      failed: rs.reduce((n, x) => n + x.seq.failed + x.con.failed, 0),
    };
  };
  const echo = sum('echo');
  const row = (kind: Variant, what: string): Figure[] => {
    const s = sum(kind);
    const failed = s.failed ? `; ${s.failed} flows failed` : '';
    return [
      { part, what: `3-step start→completed p50, 1 client, ${what}`, sync, value: ms(s.p50), target: '—', pass: s.failed === 0 ? null : false, note: `p99 ${ms(s.p99)}; ${s.commits.toFixed(2)} group commits/flow; ${(s.p50 / echo.p50).toFixed(2)}× echo's p50${failed}` },
      { part, what: `3-step flows/s, 64 clients, ${what}`, sync, value: `${int(s.perSec)}/s`, target: '—', pass: null, note: `${(s.perSec / echo.perSec).toFixed(2)}× echo's` },
    ];
  };
  const figs: Figure[] = [
    { part, what: '3-step start→completed p50, 1 client, built-in echo', sync, value: ms(echo.p50), target: '—', pass: null, note: `p99 ${ms(echo.p99)}; ${echo.commits.toFixed(2)} group commits/flow` },
    { part, what: '3-step flows/s, 64 clients, built-in echo', sync, value: `${int(echo.perSec)}/s`, target: '—', pass: null },
    ...row('http-sync', 'HTTP push agent answering 200'),
    ...row('http-202', 'HTTP push agent answering 202, then posting the result'),
  ];
  for (const f of figs) console.log(`${f.what}: ${f.value}${f.note ? ` (${f.note})` : ''}`);
  const u = process.cpuUsage();
  if (process.send) process.send({ type: 'figures', figures: figs, cpuSeconds: (u.user + u.system) / 1e6 }, () => process.exit(0));
}
