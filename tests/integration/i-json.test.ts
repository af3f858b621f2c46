/** @module tests/integration/i-json — JSON bodies and WS text frames must be I-JSON (RFC 7493), issue 11 item 8: 400 `invalid_json` at a pointer, nothing changed. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Api, type ApiResponse, api, request } from '../support/http.ts';
import { type TestServer, startTestServer } from '../support/server.ts';
import { connectWs } from '../support/ws-client.ts';

const run = Date.now().toString(36);
const FLOW = `ijson-${run}`;
const JSON_CT = { 'content-type': 'application/json' };

let server: TestServer;
let client: Api;
/** An execution waiting on signal `go` (for the signal route). */
let waiting: string;

const bytes = (...parts: (string | number[])[]): Buffer => Buffer.concat(parts.map((p) => Buffer.from(p as string)));

/** A start body whose `input` is the given JSON text. */
const start = (input: string): string => `{"workflow":"${FLOW}","input":${input}}`;

interface Refusal {
  readonly name: string;
  readonly body: string | Uint8Array;
  readonly contentType?: string;
  /** Where the body goes: `/executions` unless given. */
  readonly route?: () => string;
  readonly code?: string;
  readonly errorPath: string;
}

const REFUSALS: readonly Refusal[] = [
  { name: 'a number past the double range', body: start('{"n":1e400}'), errorPath: '/input/n' },
  { name: 'a negative number past the double range', body: start('{"a":[1,{"n":-1e400}]}'), errorPath: '/input/a/1/n' },
  { name: 'a 400-digit integer', body: start(`{"n":${'9'.repeat(400)}}`), errorPath: '/input/n' },
  { name: 'a duplicate member at the top level', body: `{"workflow":"${FLOW}","workflow":"${FLOW}"}`, errorPath: '/workflow' },
  { name: 'a duplicate member nested', body: start('{"a":1,"b":2,"a":1}'), errorPath: '/input/a' },
  { name: 'a duplicate spelled with an escape', body: start('{"a\\u0062":1,"ab":2}'), errorPath: '/input/ab' },
  { name: 'an unpaired surrogate escape', body: start('{"s":"\\ud800"}'), errorPath: '/input/s' },
  { name: 'invalid UTF-8 in a string', body: bytes(`{"workflow":"${FLOW}","input":{"name":"ab`, [0xc3, 0x28], '"}}'), errorPath: '/input/name' },
  { name: 'an encoded surrogate (CESU-8)', body: bytes(`{"workflow":"${FLOW}","input":{"s":"`, [0xed, 0xa0, 0x80], '"}}'), errorPath: '/input/s' },
  { name: 'invalid UTF-8 outside strings', body: bytes('{', [0xff], '}'), errorPath: '' },
  // A body larger than one uWS chunk reaches the server in several (the concatenated path).
  { name: 'a duplicate after 512 KiB', body: start(`{"pad":"${'x'.repeat(512 * 1024)}","k":1,"k":2}`), errorPath: '/input/k' },
  { name: 'invalid UTF-8 after 512 KiB', body: bytes(start(`{"pad":"${'x'.repeat(512 * 1024)}","s":"`), [0xff], '"}}'), errorPath: '/input/s' },
  { name: 'a definition with a duplicate step member', route: () => '/workflow-definitions', body: `{"name":"${FLOW}-2","steps":[{"id":"a","type":"task","id":"b","agent":"echo"}]}`, errorPath: '/steps/0/id' },
  { name: 'a signal payload past the double range', route: () => `/executions/${waiting}/signals/go`, body: '{"payload":{"x":-1e999}}', errorPath: '/payload/x' },
  { name: 'a YAML definition that is not UTF-8', route: () => '/workflow-definitions', contentType: 'application/yaml', body: bytes(`name: ${FLOW}-3\nsteps: []\ndescription: "`, [0xff], '"\n'), code: 'invalid_yaml', errorPath: '' },
];

/** What a refusal must not change: executions (id, status, last seq) and definitions. */
async function snapshot(): Promise<unknown> {
  const executions = await client.get('/executions', { query: { limit: 1000 } });
  const definitions = await client.get('/workflow-definitions', { query: { limit: 1000 } });
  return {
    executions: executions.body.items.map((e: { id: string; status: string; lastSeq: number }) => [e.id, e.status, e.lastSeq]),
    definitions: definitions.body.items.map((d: { name: string; version: number }) => [d.name, d.version]),
  };
}

beforeAll(async () => {
  server = await startTestServer();
  client = api(server.url);
  const created = await client.post('/workflow-definitions', { name: FLOW, steps: [{ id: 'w', type: 'wait', signal: 'go' }] });
  expect(created.status, created.text).toBe(201);
  const started = await client.post('/executions', { workflow: FLOW, input: {} });
  expect(started.status, started.text).toBe(201);
  waiting = started.body.id;
});

afterAll(async () => {
  await server?.close();
});

describe('I-JSON request bodies', () => {
  it.each(REFUSALS.map((c) => [c.name, c] as const))('refuses %s with 400 and the pointer, changing nothing', async (_name, c) => {
    const before = await snapshot();
    const path = `/api/v1${c.route?.() ?? '/executions'}`;
    const res: ApiResponse = await request(server.url, 'POST', path, undefined, { rawBody: c.body, headers: { 'content-type': c.contentType ?? 'application/json' } });
    expect(res.status, res.text.slice(0, 300)).toBe(400);
    expect(res.contentType).toContain('application/problem+json');
    expect(res.body.code).toBe(c.code ?? 'invalid_json');
    expect(res.body.errors).toEqual([{ path: c.errorPath, message: expect.any(String) }]);
    expect(await snapshot()).toEqual(before);
  });

  it('says what is wrong in `detail`', async () => {
    const dup = await request(server.url, 'POST', '/api/v1/executions', undefined, { rawBody: start('{"a":1,"a":2}'), headers: JSON_CT });
    expect(dup.body.detail).toBe('The request body is not I-JSON (RFC 7493): /input/a is a duplicate member name.');
    const prefix = `{"workflow":"${FLOW}","input":"`;
    const utf8 = await request(server.url, 'POST', '/api/v1/executions', undefined, { rawBody: bytes(prefix, [0xff], '"}'), headers: JSON_CT });
    expect(utf8.body).toMatchObject({ detail: `The request body is not valid UTF-8 (byte ${prefix.length}).`, errors: [{ path: '/input', message: 'is not valid UTF-8' }] });
  });

  it('accepts __proto__ and constructor members, large and escaped numbers, and answers them unchanged (201 and later reads)', async () => {
    const input = '{"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}},"max":1.7976931348623157e+308,"tiny":5e-324,"s":"\\ud83d\\ude00 \\u00e9","nested":[{"__proto__":null}]}';
    const res = await request(server.url, 'POST', '/api/v1/executions', undefined, { rawBody: start(input), headers: JSON_CT });
    expect(res.status, res.text).toBe(201);
    // Compared as text: an object literal with `__proto__` would set a prototype instead of a member.
    expect(JSON.stringify(res.body.input)).toBe(JSON.stringify(JSON.parse(input)));
    expect(Object.keys(res.body.input)).toEqual(['__proto__', 'constructor', 'max', 'tiny', 's', 'nested']);
    const read = await client.get(`/executions/${res.body.id}`);
    expect(JSON.stringify(read.body.input)).toBe(JSON.stringify(JSON.parse(input)));
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});

describe('I-JSON WebSocket text frames', () => {
  it('answers a frame with a duplicate member or an out-of-range number with invalid_message, and keeps the socket', async () => {
    const c = await connectWs(server.url);
    try {
      c.ws.send('{"op":"ping","op":"ping"}');
      await c.waitFor((f) => f.op === 'error' && f.code === 'invalid_message');
      c.ws.send('{"op":"ping","id":"x","n":1e400}');
      await c.waitFor((f) => f.op === 'error' && f.code === 'invalid_message', { from: 1 });
      c.send({ op: 'ping' });
      await c.waitFor((f) => f.op === 'pong');
      expect(c.frames.filter((f) => f.op === 'error')).toHaveLength(2);
    } finally {
      await c.close();
    }
  });
});
