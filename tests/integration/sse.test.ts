/** SSE at GET /executions/{id}/stream over real HTTP: frames, resume (Last-Event-ID, ?since=), keep-alives, terminal end, children, backpressure. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventView } from '../../src/common/execution.ts';
import { api, type Api } from '../support/http.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { type SseClient, dataOf, openSse } from '../support/sse-client.ts';
import { waitForEnd, waitForStatus } from '../support/wait.ts';
import { range, seqs } from '../support/ws-client.ts';

let server: TestServer;
let http: Api;

const echo = (id: string, input: unknown = { n: id }) => ({ id, type: 'task', agent: 'echo', input });

async function define(doc: Record<string, unknown>): Promise<void> {
  const res = await http.post('/workflow-definitions', doc);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
}

async function start(workflow: string, input: unknown = {}): Promise<string> {
  const res = await http.post('/executions', { workflow, input });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id as string;
}

async function journal(id: string): Promise<EventView[]> {
  const res = await http.get(`/executions/${id}/events`, { query: { limit: 1000 } });
  expect(res.status).toBe(200);
  return res.body.items as EventView[];
}

const stream = (id: string, query = '', headers: Record<string, string> = {}) => openSse(`${server.url}/api/v1/executions/${id}/stream${query}`, headers);

beforeAll(async () => {
  server = await startTestServer({ streams: { keepAliveMs: 40 } });
  http = api(server.url);
  await define({ name: 'sse-chain', steps: [echo('a'), echo('b'), echo('c')] });
  await define({ name: 'sse-gate', steps: [...range(1, 15).map((i) => echo(`p${i}`)), { id: 'gate', type: 'wait', signal: 'go' }, ...range(1, 15).map((i) => echo(`q${i}`))] });
  await define({ name: 'sse-fail', steps: [{ id: 'f', type: 'task', agent: 'fail', input: { times: 1, retryable: false } }, echo('after')] });
  await define({ name: 'sse-kid', steps: [{ id: 'hold', type: 'wait', signal: 'go' }, echo('k1'), echo('k2')] });
  await define({ name: 'sse-parent', steps: [echo('before'), { id: 'child', type: 'workflow', workflow: 'sse-kid', input: {} }, echo('after')] });
});

afterAll(async () => {
  await server?.close();
});

describe('GET /executions/{id}/stream', () => {
  it('streams from seq 1 with id = seq, event = type, data = the event JSON, and ends after the terminal event', async () => {
    const id = await start('sse-chain');
    const s = await stream(id, '', { 'x-request-id': 'sse-1' });
    expect(s.status).toBe(200);
    expect(s.headers['content-type']).toBe('text/event-stream');
    expect(s.headers['cache-control']).toBe('no-cache');
    expect(s.headers['x-request-id']).toBe('sse-1');
    await s.ended;
    const history = await journal(id);
    expect(dataOf(s.frames)).toEqual(history);
    expect(s.frames.map((f) => f.id)).toEqual(history.map((e) => String(e.seq)));
    expect(s.frames.map((f) => f.event)).toEqual(history.map((e) => e.type));
    expect(s.frames.at(-1)?.event).toBe('workflow.completed');
  });

  it('resumes with Last-Event-ID or ?since= at every seq of a running flow with exactly the missing events', async () => {
    const id = await start('sse-gate');
    const waiting = await waitForStatus(server.engine, id, 'waiting');
    const m = waiting.lastSeq;
    const streams: SseClient[] = [];
    for (let s = 0; s <= m; s++) streams.push(await (s % 2 === 0 ? stream(id, '', { 'last-event-id': String(s) }) : stream(id, `?since=${s}`)));
    // The flow goes on while the replays run.
    expect((await http.post(`/executions/${id}/signals/go`, { payload: 'go' })).status).toBe(202);
    await Promise.all(streams.map((s) => s.ended));
    const history = await journal(id);
    expect(history.at(-1)?.type).toBe('workflow.completed');
    streams.forEach((s, since) => {
      expect(seqs(dataOf(s.frames)), `since ${since}`).toEqual(range(since + 1, history.length));
      expect(dataOf(s.frames)).toEqual(history.slice(since));
    });
  });

  it('lets Last-Event-ID win over ?since= (a browser reconnect keeps its URL)', async () => {
    const id = await start('sse-chain');
    await waitForEnd(server.engine, id);
    const s = await stream(id, '?since=1', { 'last-event-id': '5' });
    await s.ended;
    expect(seqs(dataOf(s.frames))[0]).toBe(6);
  });

  it('sends keep-alive comments while nothing happens', async () => {
    const id = await start('sse-kid');
    await waitForStatus(server.engine, id, 'waiting');
    const s = await stream(id);
    try {
      await s.until((c) => c.comments.filter((x) => x === 'keep-alive').length >= 3);
      expect(s.frames.at(-1)?.event).toBe('workflow.waiting');
    } finally {
      s.close();
      await http.post(`/executions/${id}/cancel`, {});
    }
  });

  it('ends at workflow.failed even though the execution can be retried; after a retry a resume follows it', async () => {
    const id = await start('sse-fail');
    const first = await stream(id);
    await first.ended;
    expect(first.frames.at(-1)?.event).toBe('workflow.failed');
    const failedSeq = Number(first.frames.at(-1)?.id);
    // Resuming after the terminal event ends at once, with nothing.
    const none = await stream(id, '', { 'last-event-id': String(failedSeq) });
    await none.ended;
    expect(none.frames).toEqual([]);
    expect((await http.post(`/executions/${id}/retry`, {})).status).toBe(202);
    const retried = await stream(id, `?since=${failedSeq}`);
    await retried.ended;
    const history = await journal(id);
    expect(dataOf(retried.frames)).toEqual(history.slice(failedSeq));
    expect(retried.frames[0]?.event).toBe('workflow.retried');
    expect(retried.frames.at(-1)?.event).toBe('workflow.completed');
  });

  it('with ?children=true includes child executions, ends with the parent terminal event, and resumes from its cursor ids', async () => {
    const parent = await start('sse-parent');
    const full = await stream(parent, '?children=true');
    const kid = await (async () => {
      await full.until((c) => dataOf(c.frames).some((e) => e.executionId !== parent && e.type === 'workflow.waiting'));
      return dataOf(full.frames).find((e) => e.executionId !== parent)?.executionId as string;
    })();
    // A consolidated resume from the middle, opened while the child still waits.
    const cut = full.frames.length - 1;
    const cursor = full.frames[cut]?.id as string;
    expect(cursor).toMatch(new RegExp(`^\\d+,${kid}:\\d+$`));
    const resumed = await stream(parent, '?children=true', { 'last-event-id': cursor });
    expect((await http.post(`/executions/${kid}/signals/go`, {})).status).toBe(202);
    await Promise.all([full.ended, resumed.ended]);

    const [ph, kh] = [await journal(parent), await journal(kid)];
    const events = dataOf(full.frames);
    expect(events.filter((e) => e.executionId === parent)).toEqual(ph);
    expect(events.filter((e) => e.executionId === kid)).toEqual(kh);
    expect(events.at(-1)).toEqual(ph.at(-1));
    expect(ph.at(-1)?.type).toBe('workflow.completed');
    // Exactly what came after the cursor, per execution.
    const rest = events.slice(cut + 1);
    const got = dataOf(resumed.frames);
    for (const x of [parent, kid]) expect(got.filter((e) => e.executionId === x)).toEqual(rest.filter((e) => e.executionId === x));
    expect(got.at(-1)).toEqual(ph.at(-1));
  });

  it('answers 404 for an unknown execution and 422 for a bad since or Last-Event-ID', async () => {
    const unknown = await stream('ex_01ARZ3NDEKTSV4RRFFQ69G5FAV');
    await unknown.ended;
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.body()).code).toBe('execution_not_found');
    const id = await start('sse-chain');
    const badSince = await stream(id, '?since=-3');
    await badSince.ended;
    expect(badSince.status).toBe(422);
    const badId = await stream(id, '', { 'last-event-id': 'abc' });
    await badId.ended;
    expect(badId.status).toBe(422);
    expect(JSON.parse(badId.body()).errors[0].path).toBe('/headers/last-event-id');
  });

  it('ends the stream of a client that stops reading with an error event (slow_consumer), and others keep receiving', async () => {
    const s = await startTestServer({ streams: { maxBufferedBytes: 128 * 1024 } });
    const h = api(s.url);
    try {
      const loop = { name: 'big-loop', steps: [{ id: 'w', type: 'wait', signal: 'go' }, { id: 'e', type: 'task', agent: 'echo', input: '$.input', next: 'w' }] };
      expect((await h.post('/workflow-definitions', loop)).status).toBe(201);
      const id = (await h.post('/executions', { workflow: 'big-loop', input: { blob: 'x'.repeat(100_000) } })).body.id as string;
      await waitForStatus(s.engine, id, 'waiting');
      const url = `${s.url}/api/v1/executions/${id}/stream`;
      const slow = await openSse(url);
      const fast = await openSse(url);
      await slow.until((c) => c.frames.length > 0);
      slow.pause();
      let rounds = 0;
      // Each signal runs the echo step again (~200 KB of events); the fast reader paces the loop until the server gives up on the slow one.
      while (s.streamStats().sseSlowConsumers === 0) {
        expect(rounds++).toBeLessThan(400);
        const before = fast.frames.length;
        expect((await h.post(`/executions/${id}/signals/go`, {})).status).toBe(202);
        await fast.until((c) => dataOf(c.frames.slice(before)).some((e) => e.type === 'workflow.waiting'));
      }
      slow.resume();
      await slow.ended;
      const last = slow.frames.at(-1);
      expect(last?.event).toBe('error');
      expect(JSON.parse(last?.data ?? '{}').code).toBe('slow_consumer');
      expect(s.streamStats().sseStreams).toBe(1);
      // The engine and the other reader never noticed.
      expect((await h.post(`/executions/${id}/signals/go`, {})).status).toBe(202);
      await h.post(`/executions/${id}/cancel`, {});
      await fast.ended;
      expect(fast.frames.at(-1)?.event).toBe('workflow.cancelled');
      expect(dataOf(fast.frames)).toEqual((await api(s.url).get(`/executions/${id}/events`, { query: { limit: 1000 } })).body.items);
      expect(dataOf(slow.frames).length).toBeLessThan(dataOf(fast.frames).length);
    } finally {
      await s.close();
    }
  });
});
