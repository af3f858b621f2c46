/**
 * Task definitions (issue 16): the kinds agents offer with their schemas, over real HTTP. Agents declare
 * schemas in-process (`startActorflow({ agents })`, the in-process bus) and with `createAgent` over a real
 * nats-server; a step whose input fails its kind's `inputSchema` fails `input_invalid` without reaching the
 * agent; a step's own `outputSchema` fails a wrong output `output_invalid`, once; the per-step schema
 * route; agents that declare nothing (a plain list of kinds) keep working; the typed client and the CLI.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Agent, createAgent } from '../../src/agents/create-agent.ts';
import type { TaskContext } from '../../src/bus/types.ts';
import { type Running, startActorflow } from '../../src/cli/serve.ts';
import { createClient } from '../../src/client/index.ts';
import type { Logger } from '../../src/common/logger.ts';
import { define, run } from '../support/flows.ts';
import { type CliRun, runCli } from '../support/cli.ts';
import { api, type Api } from '../support/http.ts';
import { startNatsServer, type NatsServer } from '../support/nats.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { pollUntil } from '../support/wait.ts';

const TEXT_INPUT = { type: 'object', required: ['text'], properties: { text: { type: 'string' } } };
const SUMMARY_OUTPUT = { type: 'object', required: ['summary'], properties: { summary: { type: 'string' } } };
const COUNT_OUTPUT = { type: 'object', required: ['n'], properties: { n: { type: 'number' } } };
const BUILTINS = ['echo', 'fail', 'http', 'log', 'sleep'];

/** A promise and its resolve (Node 20 has no Promise.withResolvers). */
function latch(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** Runs `actorflow …` against `url` (the server runs without auth). */
const cli = (url: string, args: readonly string[]): Promise<CliRun> => runCli(args, { ...process.env, ACTORFLOW_URL: url, ACTORFLOW_KEY: 'unused', NO_COLOR: '1' });

const attempts = async (http: Api, id: string, step: string) => (await http.get(`/executions/${id}/steps/${step}/attempts`)).body.items as any[];
const eventTypes = async (http: Api, id: string) => ((await http.get(`/executions/${id}/events`, { query: { limit: 1000 } })).body.items as any[]).map((e) => e.type as string);
const definitions = async (http: Api) => (await http.get('/task-definitions', { query: { limit: 200 } })).body.items as any[];

describe('task definitions on the in-process bus', () => {
  let app: Running;
  let http: Api;
  /** Executions whose task reached each handler. */
  const received: Record<string, string[]> = { summarize: [], plain: [], miscount: [] };
  const gate = latch();
  const gateEntered = latch();

  beforeAll(async () => {
    const data = await mkdtemp(join(tmpdir(), 'actorflow-taskdefs-'));
    dirs.push(data);
    app = await startActorflow({
      host: '127.0.0.1', port: 0, dataDir: data, machinesDir: join(data, 'machines'), sync: 'normal', quiet: true, logLevel: 'error', noAuth: true, rateLimit: null,
      agents: {
        summarize: {
          description: 'Summarizes a text',
          inputSchema: TEXT_INPUT,
          outputSchema: SUMMARY_OUTPUT,
          handler: (ctx: TaskContext) => {
            received.summarize?.push(ctx.executionId);
            return { summary: (ctx.input as { text: string }).text.slice(0, 5) };
          },
        },
        // Declares nothing: the old style.
        plain: (ctx: TaskContext) => {
          received.plain?.push(ctx.executionId);
          return { seen: ctx.input };
        },
        miscount: (ctx: TaskContext) => {
          received.miscount?.push(ctx.executionId);
          return { n: 'not a number' };
        },
        gate: {
          concurrency: 1,
          handler: async () => {
            gateEntered.resolve();
            await gate.promise;
            return 'through';
          },
        },
      },
    });
    http = api(app.url);
    await define(http, {
      name: 'digest',
      steps: [
        { id: 'sum', type: 'task', agent: 'summarize', input: '$.input', retry: { maxAttempts: 3, backoff: 'fixed', initialMs: 1 } },
        { id: 'copy', type: 'task', agent: 'plain', input: '$.steps.sum.output', outputSchema: { type: 'object', required: ['seen'] } },
        { id: 'ok', type: 'wait', signal: 'ok' },
      ],
    });
    await define(http, { name: 'counting', steps: [{ id: 'count', type: 'task', agent: 'miscount', outputSchema: COUNT_OUTPUT, retry: { maxAttempts: 3, backoff: 'fixed', initialMs: 1 } }] });
    await define(http, { name: 'legacy', steps: [{ id: 'p', type: 'task', agent: 'plain', input: { any: ['thing', 1] } }] });
    await define(http, { name: 'gated', steps: [{ id: 'g', type: 'task', agent: 'gate' }] });
  });

  afterAll(() => app?.close());

  it('lists every kind served, built-ins included, with its agents and what they declare', async () => {
    const items = await definitions(http);
    expect(items.map((d) => d.kind)).toEqual([...BUILTINS, 'gate', 'miscount', 'plain', 'summarize'].sort());
    expect(items.find((d) => d.kind === 'summarize')).toEqual({
      kind: 'summarize', agents: { online: 1, busy: 0 }, inputSchema: TEXT_INPUT, outputSchema: SUMMARY_OUTPUT, description: 'Summarizes a text',
    });
    expect(items.find((d) => d.kind === 'plain')).toEqual({ kind: 'plain', agents: { online: 1, busy: 0 }, inputSchema: null, outputSchema: null, description: null });
    for (const kind of BUILTINS) {
      expect(items.find((d) => d.kind === kind)).toMatchObject({ agents: { online: 1, busy: 0 }, inputSchema: null, description: expect.any(String) });
    }
    // Paged by kind like every list.
    const first = await http.get('/task-definitions', { query: { limit: 2 } });
    expect(first.body.items.map((d: any) => d.kind)).toEqual(['echo', 'fail']);
    const next = await http.get('/task-definitions', { query: { limit: 2, cursor: first.body.nextCursor } });
    expect(next.body.items.map((d: any) => d.kind)).toEqual(['gate', 'http']);
  });

  it('answers one kind, and 404 task_definition_not_found for a kind nobody serves', async () => {
    const one = await http.get('/task-definitions/summarize');
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ kind: 'summarize', inputSchema: TEXT_INPUT, description: 'Summarizes a text' });
    for (const kind of ['nope', 'x'.repeat(201)]) {
      const missing = await http.get(`/task-definitions/${kind}`);
      expect(missing.status).toBe(404);
      expect(missing.contentType).toContain('application/problem+json');
      expect(missing.body.code).toBe('task_definition_not_found');
    }
  });

  it('counts a kind whose agents have every slot taken as busy', async () => {
    const start = await http.post('/executions', { workflow: 'gated' });
    expect(start.status).toBe(201);
    await gateEntered.promise;
    expect((await http.get('/task-definitions/gate')).body.agents).toEqual({ online: 0, busy: 1 });
    gate.resolve();
    await pollUntil(async () => ((await http.get(`/executions/${start.body.id}`)).body.status === 'completed' ? true : undefined), 'the gated execution completes');
    expect((await http.get('/task-definitions/gate')).body.agents).toEqual({ online: 1, busy: 0 });
  });

  it('fails a step whose input fails the kind\'s inputSchema with input_invalid, never sent to the agent, not retried', async () => {
    const x = await run(http, 'digest', { text: 42 });
    expect(x.status).toBe('failed');
    expect(x.error).toMatchObject({ code: 'input_invalid', stepId: 'sum' });
    const tries = await attempts(http, x.id, 'sum');
    expect(tries).toHaveLength(1);
    expect(tries[0]).toMatchObject({ attempt: 1, status: 'failed', agentId: null });
    expect(tries[0].error).toMatchObject({ code: 'input_invalid', retryable: false, message: expect.stringContaining('/input/text must be string') });
    expect(received.summarize).not.toContain(x.id);
    expect(await eventTypes(http, x.id)).not.toContain('agent.selected');
  });

  it('sends a valid input, and checks the step\'s own outputSchema on the result', async () => {
    const x = await run(http, 'digest', { text: 'a long text' });
    expect(x.status).toBe('waiting');
    expect(received.summarize).toContain(x.id);
    const steps = (await http.get(`/executions/${x.id}/steps`)).body.items as any[];
    expect(steps.find((s) => s.stepId === 'copy')).toMatchObject({ status: 'completed', output: { seen: { summary: 'a lon' } } });
  });

  it('fails a step whose output fails its outputSchema with output_invalid, after one attempt', async () => {
    const x = await run(http, 'counting');
    expect(x.status).toBe('failed');
    const tries = await attempts(http, x.id, 'count');
    expect(tries).toHaveLength(1);
    expect(tries[0].error).toMatchObject({ code: 'output_invalid', retryable: false, message: expect.stringContaining('/output/n must be number') });
    expect(received.miscount?.filter((id) => id === x.id)).toHaveLength(1);
  });

  it('runs steps of a kind that declares nothing, whatever their input (the plain list)', async () => {
    const x = await run(http, 'legacy');
    expect(x).toMatchObject({ status: 'completed', output: { seen: { any: ['thing', 1] } } });
    expect(received.plain).toContain(x.id);
  });

  it('answers the schemas of a step: input from its kind, output from the step, else from its kind', async () => {
    const sum = await http.get('/workflow-definitions/digest/steps/sum/schema');
    expect(sum.status).toBe(200);
    expect(sum.body).toEqual({ input: TEXT_INPUT, output: SUMMARY_OUTPUT });
    expect((await http.get('/workflow-definitions/digest/steps/copy/schema')).body).toEqual({ input: null, output: { type: 'object', required: ['seen'] } });
    expect((await http.get('/workflow-definitions/digest/steps/ok/schema')).body).toEqual({ input: null, output: null });
    // Version 2 drops the step's outputSchema: the kind's shows through; version 1 keeps its own.
    await define(http, { name: 'counting', steps: [{ id: 'count', type: 'task', agent: 'summarize', input: { text: 'x' } }] });
    expect((await http.get('/workflow-definitions/counting/steps/count/schema')).body).toEqual({ input: TEXT_INPUT, output: SUMMARY_OUTPUT });
    expect((await http.get('/workflow-definitions/counting/steps/count/schema', { query: { version: 1 } })).body).toEqual({ input: null, output: COUNT_OUTPUT });
    const step404 = await http.get('/workflow-definitions/digest/steps/nope/schema');
    expect([step404.status, step404.body.code]).toEqual([404, 'step_not_found']);
    const def404 = await http.get('/workflow-definitions/nope/steps/sum/schema');
    expect([def404.status, def404.body.code]).toEqual([404, 'definition_not_found']);
    const version404 = await http.get('/workflow-definitions/digest/steps/sum/schema', { query: { version: 9 } });
    expect([version404.status, version404.body.code]).toEqual([404, 'definition_not_found']);
  });

  it('is read by the typed client and the CLI', async () => {
    const client = createClient({ url: app.url });
    expect((await client.taskDefinitions.list({ limit: 200 })).items.map((d) => d.kind)).toContain('summarize');
    expect(await client.taskDefinitions.get('summarize')).toMatchObject({ kind: 'summarize', inputSchema: TEXT_INPUT });
    await expect(client.taskDefinitions.get('nope')).rejects.toMatchObject({ status: 404, code: 'task_definition_not_found' });
    expect(await client.definitions.stepSchema('digest', 'sum')).toEqual({ input: TEXT_INPUT, output: SUMMARY_OUTPUT });
    const table = await cli(app.url, ['task-definitions']);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/summarize\s+1\s+0\s+schema\s+schema\s+Summarizes a text/);
    const step = await cli(app.url, ['definitions', 'step-schema', 'digest', 'sum', '--json']);
    expect(step.code, step.stderr).toBe(0);
    expect(JSON.parse(step.stdout)).toEqual({ input: TEXT_INPUT, output: SUMMARY_OUTPUT });
  });

  it('refuses a step outputSchema that is not a JSON Schema (422 with its path)', async () => {
    const res = await http.post('/workflow-definitions', { name: 'bad-out', steps: [{ id: 'a', type: 'task', agent: 'echo', outputSchema: { type: 'nonsense' } }] });
    expect(res.status).toBe(422);
    expect(res.body.errors.map((e: any) => e.path)).toEqual(['/steps/0/outputSchema']);
  });
});

describe('task definitions over NATS', () => {
  let nats: NatsServer;
  let server: TestServer;
  let http: Api;
  const agents: Agent[] = [];
  const quiet: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };
  const resized: string[] = [];
  const legacy: string[] = [];

  beforeAll(async () => {
    nats = await startNatsServer();
    const prefix = 'taskdefs';
    server = await startTestServer({ natsUrl: nats.url, natsPrefix: prefix });
    http = api(server.url);
    agents.push(
      await createAgent({
        natsUrl: nats.url, prefix, logger: quiet, name: 'resizer', concurrency: 4,
        kinds: { resize: { inputSchema: { type: 'object', required: ['url'], properties: { url: { type: 'string' }, width: { type: 'integer', minimum: 1 } } }, description: 'Resizes an image' } },
        handler: async (ctx) => {
          resized.push(ctx.executionId);
          return { resized: (ctx.input as { url: string }).url };
        },
      }),
      // An agent as before task definitions: a plain list, no schemas in its heartbeats.
      await createAgent({
        natsUrl: nats.url, prefix, logger: quiet, name: 'old-style', kinds: ['legacy'],
        handler: async (ctx) => {
          legacy.push(ctx.executionId);
          return { echoed: ctx.input };
        },
      }),
    );
    await define(http, { name: 'thumb', steps: [{ id: 'r', type: 'task', agent: 'resize', input: '$.input', retry: { maxAttempts: 3, backoff: 'fixed', initialMs: 1 } }] });
    await define(http, { name: 'old', steps: [{ id: 'l', type: 'task', agent: 'legacy', input: '$.input' }] });
    await pollUntil(async () => ((await definitions(http)).some((d) => d.kind === 'resize' && d.inputSchema !== null) ? true : undefined), 'the resize schema reaches the server', 5000);
  });

  afterAll(async () => {
    for (const a of agents) await a.close();
    await server?.close();
    await nats?.close();
  });

  it('lists the SDK agent\'s kind with the schema of its heartbeats, the old-style one without, and the built-ins', async () => {
    const items = await pollUntil(async () => {
      const all = await definitions(http);
      return all.some((d) => d.kind === 'legacy') && BUILTINS.every((k) => all.some((d) => d.kind === k)) ? all : undefined;
    }, 'every kind listed', 5000);
    expect(items.find((d) => d.kind === 'resize')).toEqual({
      kind: 'resize',
      agents: { online: 1, busy: 0 },
      inputSchema: { type: 'object', required: ['url'], properties: { url: { type: 'string' }, width: { type: 'integer', minimum: 1 } } },
      outputSchema: null,
      description: 'Resizes an image',
    });
    expect(items.find((d) => d.kind === 'legacy')).toEqual({ kind: 'legacy', agents: { online: 1, busy: 0 }, inputSchema: null, outputSchema: null, description: null });
    expect((await http.get('/task-definitions/resize')).body.description).toBe('Resizes an image');
    expect((await http.get('/task-definitions/unknown-kind')).status).toBe(404);
  });

  it('fails an invalid input with input_invalid before it is published: the agent never gets it', async () => {
    const bad = await run(http, 'thumb', { url: 'https://x.example/a.png', width: 0 });
    expect(bad.status).toBe('failed');
    const tries = await attempts(http, bad.id, 'r');
    expect(tries).toHaveLength(1);
    expect(tries[0].error).toMatchObject({ code: 'input_invalid', retryable: false, message: expect.stringContaining('/input/width must be >= 1') });
    // A valid input afterwards is served: had the invalid one been sent, it would have arrived first.
    const good = await run(http, 'thumb', { url: 'https://x.example/b.png' });
    expect(good).toMatchObject({ status: 'completed', output: { resized: 'https://x.example/b.png' } });
    expect(resized).toEqual([good.id]);
    expect(await eventTypes(http, bad.id)).not.toContain('agent.selected');
  });

  it('runs the steps of the old-style agent as before', async () => {
    const x = await run(http, 'old', { n: 1 });
    expect(x).toMatchObject({ status: 'completed', output: { echoed: { n: 1 } } });
    expect(legacy).toEqual([x.id]);
  });
});
