/**
 * @module tests/integration/proto-keys — user data with `__proto__` / `constructor` keys over real HTTP:
 * every later read returns it as acknowledged (same JSON text), paths look at own properties only,
 * and nothing reaches Object.prototype of the server (which runs in this process).
 */
import { rm } from 'node:fs/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Api, api } from '../support/http.ts';
import { type TestServer, startTestServer } from '../support/server.ts';

const run = Date.now().toString(36);
const ECHO = `proto-echo-${run}`;
const PATHS = `proto-paths-${run}`;
const WAIT = `proto-wait-${run}`;
const TERMINAL = ['completed', 'failed', 'cancelled', 'timed_out'];

/** The input of the issue, as JSON text (JSON.stringify of what the server answers must give it back). */
const INPUT = '{"__proto__":{"x":1},"constructor":2}';
const NESTED = '{"a":{"__proto__":{"polluted":true}},"list":[{"__proto__":{"polluted":true}},{"__proto__":[1,{"__proto__":null}]}],"__proto_":"kept"}';

const WAIT_DEF = {
  name: WAIT,
  steps: [
    { id: 'a', type: 'task', agent: 'echo', input: '$.input' },
    { id: 'w', type: 'wait', signal: 'go' },
    { id: 'b', type: 'task', agent: 'echo', input: { fromA: '$.steps.a.output', signal: '$.steps.w.output' } },
  ],
};

let server: TestServer;
let client: Api;

async function waitFor(c: Api, id: string, done: (e: any) => boolean, ms = 10_000): Promise<any> {
  const deadline = Date.now() + ms;
  for (;;) {
    const res = await c.get(`/executions/${id}`);
    expect(res.status, res.text).toBe(200);
    if (done(res.body) || Date.now() > deadline) return res.body;
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** POST /executions with the body as raw JSON text (the exact members sent, whatever their names). */
async function startRaw(c: Api, workflow: string, inputJson: string): Promise<any> {
  const res = await c.post('/executions', undefined, { rawBody: `{"workflow":${JSON.stringify(workflow)},"input":${inputJson}}` });
  expect(res.status, res.text).toBe(201);
  return res.body;
}

const asJson = (v: unknown) => JSON.stringify(v);

function expectNoPollution(): void {
  for (const k of ['x', 'polluted', '0', 'by']) expect(Object.hasOwn(Object.prototype, k), k).toBe(false);
  expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  expect(Object.getPrototypeOf({})).toBe(Object.prototype);
  expect(Object.getPrototypeOf(Object.prototype)).toBeNull();
}

beforeAll(async () => {
  server = await startTestServer();
  client = api(server.url);
  const defs = [
    { name: ECHO, steps: [{ id: 'a', type: 'task', agent: 'echo', input: '$.input' }] },
    {
      name: PATHS,
      steps: [
        {
          id: 'p',
          type: 'task',
          agent: 'echo',
          input: JSON.parse(
            '{"protoX":"$.input.__proto__.x","proto":"$.input.__proto__","ctor":"$.input.constructor","innerCtor":"$.input.obj.constructor",' +
              '"toStr":"$.input.toString","hasOwn":"$.input.obj.hasOwnProperty","innerProto":"$.input.obj.__proto__",' +
              '"literal":{"__proto__":{"k":"$.input.__proto__.x"}}}',
          ),
        },
        {
          id: 'c',
          type: 'choice',
          when: [
            {
              if: {
                any: [
                  { path: '$.input.constructor', exists: true },
                  { path: '$.input.toString', exists: true },
                  { path: '$.input.obj.__proto__', exists: true },
                  { path: '$.input.obj.valueOf', exists: true },
                ],
              },
              next: 'walked',
            },
          ],
          default: 'own',
        },
        { id: 'own', type: 'task', agent: 'echo', input: { route: 'own' }, next: 'end' },
        { id: 'walked', type: 'task', agent: 'echo', input: { route: 'walked' } },
        { id: 'end', type: 'task', agent: 'echo', input: { x: '$.input.__proto__.x' } },
      ],
    },
  ];
  for (const d of defs) {
    const res = await client.post('/workflow-definitions', d);
    expect(res.status, res.text).toBe(201);
  }
});

afterAll(async () => {
  await server?.close();
});

afterEach(() => expectNoPollution());

describe('__proto__ and constructor keys in user data', () => {
  it('come back unchanged from the execution, its events, steps and attempts', async () => {
    for (const input of [INPUT, NESTED]) {
      const created = await startRaw(client, ECHO, input);
      expect(asJson(created.input)).toBe(input);
      const done = await waitFor(client, created.id, (x) => TERMINAL.includes(x.status));
      expect(done.status).toBe('completed');
      expect(asJson(done.input)).toBe(input);
      expect(asJson(done.output)).toBe(input);

      const events = await client.get(`/executions/${created.id}/events`);
      expect(events.status, events.text).toBe(200);
      const event = (type: string) => {
        const e = events.body.items.find((x: any) => x.type === type);
        expect(e, `${type} in ${events.text}`).toBeDefined();
        return e.data;
      };
      expect(asJson(event('workflow.started').input)).toBe(input);
      expect(asJson(event('workflow.step.started').input)).toBe(input);
      expect(asJson(event('workflow.step.completed').output)).toBe(input);
      expect(asJson(event('workflow.completed').output)).toBe(input);
      // No event anywhere carries the renamed key.
      expect(events.text).not.toMatch(/"__proto_":[{[]/u);

      const steps = await client.get(`/executions/${created.id}/steps`);
      expect(steps.status, steps.text).toBe(200);
      expect(asJson(steps.body.items[0].output)).toBe(input);
      const attempts = await client.get(`/executions/${created.id}/steps/a/attempts`);
      expect(attempts.status, attempts.text).toBe(200);
      expect(asJson(attempts.body.items[0].output)).toBe(input);

      const listed = await client.get('/executions', { query: { workflow: ECHO } });
      const row = listed.body.items.find((e: any) => e.id === created.id);
      expect(asJson(row.input)).toBe(input);
      expect(asJson(row.output)).toBe(input);
    }
  });

  it('paths read own properties only: never Object.prototype members', async () => {
    const input = '{"__proto__":{"x":1},"obj":{}}';
    const created = await startRaw(client, PATHS, input);
    const done = await waitFor(client, created.id, (x) => TERMINAL.includes(x.status));
    expect(done.status, JSON.stringify(done)).toBe('completed');
    const steps = (await client.get(`/executions/${created.id}/steps`)).body.items as any[];
    const byId = new Map(steps.map((s) => [s.stepId, s]));
    expect(asJson(byId.get('p').output)).toBe(
      '{"protoX":1,"proto":{"x":1},"ctor":null,"innerCtor":null,"toStr":null,"hasOwn":null,"innerProto":null,"literal":{"__proto__":{"k":1}}}',
    );
    // The choice saw no inherited member: it took the default branch.
    expect([...byId.keys()]).toEqual(['p', 'c', 'own', 'end']);
    expect(asJson(byId.get('end').output)).toBe('{"x":1}');
    expect(asJson(done.output)).toBe('{"x":1}');
  });

  it('leave the server working normally afterwards', async () => {
    const created = await startRaw(client, ECHO, '{"ok":true}');
    const done = await waitFor(client, created.id, (x) => TERMINAL.includes(x.status));
    expect(asJson(done.output)).toBe('{"ok":true}');
    expect(asJson(done.input)).toBe('{"ok":true}');
    const health = await client.get('/health');
    expect(health.status, health.text).toBe(200);
    const defs = await client.get('/workflow-definitions');
    expect(defs.status, defs.text).toBe(200);
  });
});

describe('__proto__ keys across a restart', () => {
  it('survive the persisted snapshot of a waiting execution and a signal payload', async () => {
    const first = await startTestServer({ keepDataDir: true });
    const dir = first.dataDir;
    try {
      const c1 = api(first.url);
      expect((await c1.post('/workflow-definitions', WAIT_DEF)).status).toBe(201);
      const created = await startRaw(c1, WAIT, NESTED);
      expect((await waitFor(c1, created.id, (x) => x.status === 'waiting' || TERMINAL.includes(x.status))).status).toBe('waiting');
      await first.close();

      const second = await startTestServer({ dataDir: dir });
      try {
        const c2 = api(second.url);
        const waiting = await waitFor(c2, created.id, () => true);
        expect(asJson(waiting.input)).toBe(NESTED);
        const signal = '{"__proto__":{"by":"ann"}}';
        const sent = await c2.post(`/executions/${created.id}/signals/go`, undefined, { rawBody: `{"payload":${signal}}` });
        expect(sent.status, sent.text).toBe(202);
        const done = await waitFor(c2, created.id, (x) => TERMINAL.includes(x.status));
        expect(done.status, JSON.stringify(done)).toBe('completed');
        expect(asJson(done.output)).toBe(`{"fromA":${NESTED},"signal":${signal}}`);
        const steps = (await c2.get(`/executions/${created.id}/steps`)).body.items as any[];
        expect(asJson(steps.find((s) => s.stepId === 'a').output)).toBe(NESTED);
        expect(asJson(steps.find((s) => s.stepId === 'w').output)).toBe(signal);
      } finally {
        await second.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('step outputs shaped like XState internals', () => {
  it('come back unchanged after the execution was passivated and rebuilt from its snapshot', async () => {
    const s = await startTestServer({ passivateMs: 30 });
    try {
      const http = api(s.url);
      const tricky = { v: { sessionId: 1, send: 2, ref: 3 }, x: { xstate$$type: 1, id: 'q' }, list: [{ xstate$$type: 1, id: 'r' }] };
      const doc = { name: 'tricky', steps: [{ id: 'a', type: 'task', agent: 'echo', input: '$.input' }, { id: 'w', type: 'wait', signal: 'go' }, { id: 'b', type: 'task', agent: 'echo', input: { a: '$.steps.a.output', w: '$.steps.w.output' } }] };
      const { body } = await http.post('/executions', { definition: doc, input: tricky }, { query: { wait: 5000 } });
      expect(body.status).toBe('waiting');
      // Passivated: the next input rebuilds it from its persisted snapshot.
      for (let i = 0; i < 200 && (((await s.engine.status()) as unknown as { passivated: number }).passivated ?? 0) < 1; i++) await new Promise((r) => setTimeout(r, 10));
      expect((await http.post(`/executions/${body.id}/signals/go`, { payload: tricky })).status).toBe(202);
      const end = (await http.get(`/executions/${body.id}`, { query: { wait: 5000 } })).body;
      expect(end.status).toBe('completed');
      expect(JSON.stringify(end.output)).toBe(JSON.stringify({ a: tricky, w: tricky }));
    } finally {
      await s.close();
    }
  });
});
