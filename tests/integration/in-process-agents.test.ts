/**
 * In-process agents (issue 15): users' own handlers as steps, without NATS — from the `agents` export of
 * machines-dir modules and from `startActorflow({ agents })`. Real server, real SQLite, real HTTP; one
 * run on a real nats-server. Handlers block on promises the test resolves, never on a guessed sleep.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InProcessAgents } from '../../src/agents/in-process-agents.ts';
import type { TaskContext } from '../../src/bus/types.ts';
import { type Running, startActorflow } from '../../src/cli/serve.ts';
import { define, run } from '../support/flows.ts';
import { api, type Api } from '../support/http.ts';
import { startNatsServer } from '../support/nats.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { pollUntil, waitForExecution } from '../support/wait.ts';

/** A promise and its resolve (Node 20 has no Promise.withResolvers). */
function latch(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const SDK = pathToFileURL(resolve('src/agents/create-agent.ts')).href;
const dirs: string[] = [];

async function tempDir(prefix: string): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), `actorflow-inproc-${prefix}-`));
  dirs.push(d);
  return d;
}

/** A server in library mode: `startActorflow({ agents })`. */
async function library(agents: InProcessAgents, extra: { natsUrl?: string; natsPrefix?: string; machinesDir?: string } = {}): Promise<Running> {
  return startActorflow({
    host: '127.0.0.1', port: 0, dataDir: await tempDir('data'), sync: 'normal', quiet: true, logLevel: 'error', noAuth: true, rateLimit: null,
    machinesDir: extra.machinesDir ?? join(await tempDir('none'), 'machines'),
    agents,
    ...(extra.natsUrl === undefined ? {} : { natsUrl: extra.natsUrl, natsPrefix: extra.natsPrefix ?? 'inproc' }),
  });
}

const attempts = async (http: Api, id: string, step: string) => (await http.get(`/executions/${id}/steps/${step}/attempts`)).body.items as any[];
const agentOf = async (http: Api, kind: string) => ((await http.get('/agents', { query: { limit: 200 } })).body.items as any[]).find((a) => a.kinds.includes(kind));

afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('in-process agents from the machines dir', () => {
  let server: TestServer;
  let http: Api;

  beforeAll(async () => {
    const machines = join(await tempDir('machines'), 'machines');
    await mkdir(machines);
    await writeFile(
      join(machines, 'text.ts'),
      `import { NonRetryableError } from ${JSON.stringify(SDK)};
export const agents = {
  upper: async (ctx: { input: { text: string }; log(l: string, m: string, d?: unknown): void; reportCost(c: object): void }) => {
    ctx.log('info', 'uppercasing', { length: ctx.input.text.length });
    ctx.reportCost({ model: 'none', tokens: 3 });
    return { text: ctx.input.text.toUpperCase() };
  },
  refuse: { concurrency: 3, description: 'always refuses', handler: async () => { throw new NonRetryableError('refused', 'not today'); } },
};
export const definitions = [{ name: 'shout', steps: [
  { id: 'up', type: 'task', agent: 'upper', input: { text: '$.input.text' } },
  { id: 'count', type: 'task', agent: 'count', input: { text: '$.steps.up.output.text' } },
  { id: 'flag', type: 'task', agent: 'flag', input: '$.steps.count.output' },
], output: '$.steps.flag.output' }];
`,
    );
    // Plain JavaScript modules: .mjs, and a sync handler (a plain return value is the output).
    await writeFile(join(machines, 'count.mjs'), 'export const agents = { count: (ctx) => ({ words: ctx.input.text.split(/\\s+/).length }) };\n');
    await writeFile(join(machines, 'flag.mts'), 'export const agents: Record<string, (ctx: { input: unknown; kind: string }) => Promise<unknown>> = { flag: async (ctx) => ({ kind: ctx.kind, seen: ctx.input }) };\n');
    await writeFile(join(machines, 'refuse.yaml'), 'name: refusal\nsteps:\n  - { id: r, type: task, agent: refuse, retry: { maxAttempts: 5, backoff: fixed, initialMs: 1 } }\n');
    server = await startTestServer({ machinesDir: machines });
    http = api(server.url);
  });

  afterAll(() => server?.close());

  it('runs the handlers of .ts, .mjs and .mts modules as steps, with their logs and costs', async () => {
    const x = await run(http, 'shout', { text: 'hello in process' });
    expect(x.status, JSON.stringify(x)).toBe('completed');
    expect(x.output).toEqual({ kind: 'flag', seen: { words: 3 } });
    const logs = (await http.get(`/executions/${x.id}/logs`)).body.items as any[];
    expect(logs).toEqual([expect.objectContaining({ stepId: 'up', attempt: 1, level: 'info', message: 'uppercasing', data: { length: 16 } })]);
    expect((await http.get(`/executions/${x.id}/costs`)).body.total).toMatchObject({ tokens: 3 });
  });

  it('fails a step at once on NonRetryableError (1 attempt of 5)', async () => {
    const x = await run(http, 'refusal');
    expect(x.status).toBe('failed');
    const tries = await attempts(http, x.id, 'r');
    expect(tries).toHaveLength(1);
    expect(tries[0].error).toMatchObject({ code: 'refused', message: 'not today', retryable: false });
  });

  it('lists each kind as an in-process agent in GET /agents, with its concurrency as capacity', async () => {
    expect(await agentOf(http, 'upper')).toMatchObject({ name: 'in-process-upper', kinds: ['upper'], status: 'online', capacity: 16 });
    expect(await agentOf(http, 'refuse')).toMatchObject({ name: 'in-process-refuse', capacity: 3 });
    for (const kind of ['count', 'flag']) expect(await agentOf(http, kind)).toBeDefined();
  });
});

describe('in-process agents in library mode: startActorflow({ agents })', () => {
  let app: Running;
  let http: Api;
  const signals: { aborted: boolean; reason: unknown }[] = [];
  const stuck = latch();
  // The `gate` kind: concurrency 2; handlers wait until the test opens the gate.
  let running = 0;
  let maxRunning = 0;
  const gate = latch();
  const bothSlots = latch();

  beforeAll(async () => {
    app = await library({
      inc: (ctx) => ({ n: (ctx.input as { n: number }).n + 1 }),
      incPure: { pure: true, handler: (ctx) => ({ n: (ctx.input as { n: number }).n + 1 }) },
      // The context's functions used unbound, as handlers written in plain JS often do.
      unbound: async ({ input, log, reportCost, attempt }: TaskContext) => {
        log('info', 'unbound', { attempt });
        reportCost({ model: 'none', tokens: 2 });
        return { got: input };
      },
      flaky: async (ctx: TaskContext) => {
        if (ctx.attempt <= 2) throw new Error(`flaked on attempt ${ctx.attempt}`);
        return { attempt: ctx.attempt };
      },
      stuck: async (ctx: TaskContext) => {
        await new Promise<void>((res) => ctx.signal.addEventListener('abort', () => res(), { once: true }));
        signals.push({ aborted: ctx.signal.aborted, reason: ctx.signal.reason });
        stuck.resolve();
        throw new Error('aborted');
      },
      gate: {
        concurrency: 2,
        handler: async () => {
          maxRunning = Math.max(maxRunning, ++running);
          if (running === 2) bothSlots.resolve();
          await gate.promise;
          running--;
          return 'through';
        },
      },
    });
    http = api(app.url);
    await define(http, { name: 'inc3', steps: ['a', 'b', 'c'].map((id, i) => ({ id, type: 'task', agent: 'inc', input: i === 0 ? '$.input' : `$.steps.${['a', 'b'][i - 1]}.output` })), output: '$.steps.c.output' });
    await define(http, { name: 'inc3pure', steps: ['a', 'b', 'c'].map((id, i) => ({ id, type: 'task', agent: 'incPure', input: i === 0 ? '$.input' : `$.steps.${['a', 'b'][i - 1]}.output` })), output: '$.steps.c.output' });
    await define(http, { name: 'unbound', steps: [{ id: 'u', type: 'task', agent: 'unbound', input: '$.input' }] });
    await define(http, { name: 'flaky', steps: [{ id: 'f', type: 'task', agent: 'flaky', retry: { maxAttempts: 3, backoff: 'fixed', initialMs: 1 } }] });
    await define(http, { name: 'stuck', steps: [{ id: 's', type: 'task', agent: 'stuck', timeoutMs: 150, retry: { maxAttempts: 1 } }] });
    await define(http, { name: 'gated', steps: [{ id: 'g', type: 'task', agent: 'gate' }] });
  });

  afterAll(() => app?.close());

  it('runs a three-step flow through one handler', async () => {
    const x = await run(http, 'inc3', { n: 1 });
    expect(x).toMatchObject({ status: 'completed', output: { n: 4 } });
  });

  it("gives a handler that destructures its context working functions (log, reportCost)", async () => {
    const x = await run(http, 'unbound', { k: 1 });
    expect(x).toMatchObject({ status: 'completed', output: { got: { k: 1 } } });
    const events = (await http.get(`/executions/${x.id as string}/events`)).body.items as { type: string; data: Record<string, unknown> }[];
    expect(events.find((e) => e.type === 'step.log')?.data).toMatchObject({ level: 'info', message: 'unbound', data: { attempt: 1 } });
    expect(events.find((e) => e.type === 'workflow.step.completed')?.data).toMatchObject({ costs: [{ model: 'none', tokens: 2 }] });
  });

  it('starts the tasks of a kind declared pure without waiting for their commit, as the built-in echo', async () => {
    const commitsOf = async (workflow: string): Promise<number> => {
      let commits = 0;
      const off = app.engine.onCommit?.(() => void commits++);
      try {
        expect(await run(http, workflow, { n: 1 })).toMatchObject({ status: 'completed', output: { n: 4 } });
      } finally {
        off?.();
      }
      return commits;
    };
    // Not pure: each step's start is durable before its task leaves (a commit per step, and one for the end).
    expect(await commitsOf('inc3')).toBeGreaterThanOrEqual(4);
    expect(await commitsOf('inc3pure')).toBeLessThanOrEqual(2);
  });

  it('retries a thrown error per the step policy: fails twice, succeeds on attempt 3', async () => {
    const x = await run(http, 'flaky');
    expect(x).toMatchObject({ status: 'completed', output: { attempt: 3 } });
    const tries = await attempts(http, x.id, 'f');
    expect(tries.map((t) => t.status)).toEqual(['failed', 'failed', 'completed']);
    expect(tries[0].error).toMatchObject({ message: 'flaked on attempt 1', retryable: true });
  });

  it("aborts ctx.signal when the step's timeoutMs passes; the step fails with step_timeout", async () => {
    const x = await run(http, 'stuck');
    await stuck.promise;
    expect(signals).toEqual([{ aborted: true, reason: expect.anything() }]);
    expect(x.status).toBe('failed');
    expect((await attempts(http, x.id, 's'))[0].error).toMatchObject({ code: 'step_timeout' });
  });

  it('runs at most `concurrency` handlers of a kind at once (2 of 6 executions), the rest wait for a slot', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push((await http.post('/executions', { workflow: 'gated', input: { i } })).body.id as string);
    // Every step was dispatched (its start is journaled first), and two handlers hold both slots.
    for (const id of ids) await waitForExecution(app.engine, id, (x) => x.currentSteps.includes('g'));
    await bothSlots.promise;
    // A turn for any further handler the bus would (wrongly) start.
    await new Promise((r) => setImmediate(r));
    expect({ running, maxRunning }).toEqual({ running: 2, maxRunning: 2 });
    expect(await agentOf(http, 'gate')).toMatchObject({ status: 'busy', capacity: 2, inFlight: 2 });
    gate.resolve();
    for (const id of ids) expect((await waitForExecution(app.engine, id, (x) => x.status === 'completed')).output).toBe('through');
    expect(maxRunning).toBe(2);
  });

  it('lists the library kinds in GET /agents', async () => {
    for (const kind of ['inc', 'flaky', 'stuck', 'gate']) expect(await agentOf(http, kind)).toMatchObject({ name: `in-process-${kind}`, kinds: [kind] });
  });
});

describe('a bad agents export stops the start with a message naming the file and the kind', () => {
  async function startWith(files: Record<string, string>, agents?: InProcessAgents): Promise<string> {
    const machines = join(await tempDir('bad'), 'machines');
    await mkdir(machines);
    for (const [name, text] of Object.entries(files)) await writeFile(join(machines, name), text);
    return library(agents ?? {}, { machinesDir: machines }).then(
      async (app) => (await app.close(), 'started'),
      (err: Error) => `${err.constructor.name}: ${err.message}`,
    );
  }

  it.each([
    ['a number', 'export const agents = { nope: 42 };', /ConfigError: invalid in-process agents in m\.mjs: agent kind "nope": must be a function or an object/],
    ['no handler', 'export const agents = { nope: { concurrency: 2 } };', /m\.mjs: agent kind "nope": `handler` must be a function/],
    ['concurrency 0', 'export const agents = { nope: { handler: async () => 1, concurrency: 0 } };', /m\.mjs: agent kind "nope": `concurrency` must be an integer in 1\.\.10000, not 0/],
    ['a typo', 'export const agents = { nope: { handler: async () => 1, concurency: 2 } };', /agent kind "nope": unknown option "concurency"/],
    ['a bad schema', 'export const agents = { nope: { handler: async () => 1, inputSchema: "string" } };', /agent kind "nope": `inputSchema` must be a JSON Schema object/],
    ['not an object', 'export const agents = [() => 1];', /m\.mjs: `agents` must be an object/],
    ['a built-in kind', 'export const agents = { echo: async () => 1 };', /agent kind "echo" of m\.mjs is already served by the built-in agents \(rename it, or run with --no-builtin-agents\)/],
    ['a module that throws', 'throw new Error("boom");', /ConfigError: machines module m\.mjs failed to load: boom/],
  ])('%s', async (_what, text, message) => {
    expect(await startWith({ 'm.mjs': text })).toMatch(message);
  });

  it('a kind declared twice (two modules, or a module and the library)', async () => {
    expect(await startWith({ 'a.mjs': 'export const agents = { dup: async () => 1 };', 'b.mjs': 'export const agents = { dup: async () => 2 };' })).toMatch(
      /agent kind "dup" of b\.mjs is already served by a\.mjs/,
    );
    expect(await startWith({ 'a.mjs': 'export const agents = { dup: async () => 1 };' }, { dup: async () => 0 })).toMatch(
      /agent kind "dup" of a\.mjs is already served by startActorflow\(\{ agents \}\)/,
    );
  });
});

describe('in-process agents on the NATS bus', () => {
  it('runs a flow whose steps are in-process handlers served over a real nats-server', async () => {
    const nats = await startNatsServer();
    let app: Running | undefined;
    try {
      app = await library(
        {
          double: async (ctx) => {
            ctx.log('info', 'doubling');
            return { n: (ctx.input as { n: number }).n * 2 };
          },
          flaky: async (ctx) => {
            if (ctx.attempt === 1) throw new Error('first attempt fails');
            return { attempt: ctx.attempt };
          },
        },
        { natsUrl: nats.url },
      );
      const http = api(app.url);
      await define(http, {
        name: 'double-twice',
        steps: [
          { id: 'a', type: 'task', agent: 'double', input: '$.input' },
          { id: 'b', type: 'task', agent: 'flaky', retry: { maxAttempts: 2, backoff: 'fixed', initialMs: 1 } },
          { id: 'c', type: 'task', agent: 'double', input: '$.steps.a.output' },
        ],
        output: '$.steps.c.output',
      });
      const x = await run(http, 'double-twice', { n: 3 });
      expect(x).toMatchObject({ status: 'completed', output: { n: 12 } });
      expect((await attempts(http, x.id, 'b')).map((t) => t.status)).toEqual(['failed', 'completed']);
      const logs = await pollUntil(async () => {
        const items = (await http.get(`/executions/${x.id}/logs`)).body.items as any[];
        return items.length === 2 ? items : undefined;
      }, 'both log lines over NATS', 5000);
      expect(logs.map((l) => [l.stepId, l.message])).toEqual([['a', 'doubling'], ['c', 'doubling']]);
      expect(await agentOf(http, 'double')).toMatchObject({ name: 'in-process-double', status: 'online', capacity: 16 });
    } finally {
      await app?.close();
      await nats.close();
    }
  });
});
