/** WebSocket hub over real sockets (`ws` client): per-execution, firehose, agents, resume, backpressure, limits, churn. */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent } from '../../src/agents/create-agent.ts';
import type { EventView } from '../../src/common/execution.ts';
import { api, type Api } from '../support/http.ts';
import { startNatsServer } from '../support/nats.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { waitForEnd, waitForStatus } from '../support/wait.ts';
import { type WsClient, connectWs, range, seqs } from '../support/ws-client.ts';

let server: TestServer;
let http: Api;

const echo = (id: string, input: unknown = { n: id }) => ({ id, type: 'task', agent: 'echo', input });
const TERMINAL = new Set(['workflow.completed', 'workflow.failed', 'workflow.cancelled', 'workflow.timed_out']);

async function define(doc: Record<string, unknown>): Promise<void> {
  const res = await http.post('/workflow-definitions', doc);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
}

async function start(workflow: string, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await http.post('/executions', { workflow, input: {}, ...extra });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id as string;
}

async function journal(id: string): Promise<EventView[]> {
  const res = await http.get(`/executions/${id}/events`, { query: { limit: 1000 } });
  expect(res.status).toBe(200);
  return res.body.items as EventView[];
}

const ended = (e: EventView) => TERMINAL.has(e.type);

beforeAll(async () => {
  server = await startTestServer();
  http = api(server.url);
  await define({ name: 'ws-chain', steps: [echo('a'), echo('b'), echo('c')] });
  await define({ name: 'ws-gate', steps: [...range(1, 20).map((i) => echo(`p${i}`)), { id: 'gate', type: 'wait', signal: 'go' }, ...range(1, 20).map((i) => echo(`q${i}`))] });
  await define({ name: 'ws-long', steps: range(1, 25).flatMap((i) => [echo(`s${i}`), { id: `z${i}`, type: 'sleep', ms: 10 }]) });
  await define({ name: 'fh-a', steps: [echo('a1'), echo('a2')] });
  await define({ name: 'fh-b', steps: [echo('b1')] });
  await define({ name: 'fh-wait', steps: [{ id: 'w', type: 'wait', signal: 'go' }, echo('after')] });
});

afterAll(async () => {
  await server?.close();
});

describe('per-execution subscriptions', () => {
  it('replays from seq 1 then goes live, identically in JSON, msgpack and on the shortcut path', async () => {
    const id = await start('ws-gate');
    await waitForStatus(server.engine, id, 'waiting');
    const json = await connectWs(server.url, '/api/v1/ws', { protocols: 'actorflow.json' });
    const packed = await connectWs(server.url, '/api/v1/ws', { protocols: ['actorflow.msgpack'] });
    const shortcut = await connectWs(server.url, `/api/v1/ws/executions/${id}`);
    try {
      expect(json.ws.protocol).toBe('actorflow.json');
      expect(packed.ws.protocol).toBe('actorflow.msgpack');
      json.send({ op: 'subscribe', id: 'x', executionId: id });
      // The client may send either kind of frame; the answer comes in the negotiated one.
      packed.send({ op: 'subscribe', id: 'x', executionId: id }, false);
      await json.waitFor((f) => f.op === 'ack' && f.id === 'x');
      await packed.waitFor((f) => f.op === 'ack' && f.id === 'x');
      const r = await http.post(`/executions/${id}/signals/go`, { payload: { ok: true } });
      expect(r.status).toBe(202);
      await Promise.all([json.waitEvent('x', ended), packed.waitEvent('x', ended), shortcut.waitEvent(id, ended)]);

      const history = await journal(id);
      expect(history.length).toBeGreaterThan(100);
      expect(json.events('x')).toEqual(history);
      expect(packed.events('x')).toEqual(history);
      expect(shortcut.events(id)).toEqual(history);
      expect(packed.binary.every(Boolean)).toBe(true);
      expect(json.binary.some(Boolean)).toBe(false);
      expect(shortcut.frames[0]).toEqual({ op: 'ack', id });
    } finally {
      await Promise.all([json.close(), packed.close(), shortcut.close()]);
    }
  });

  it('resumes at every seq of a running flow with exactly the missing events', async () => {
    const id = await start('ws-gate');
    const waiting = await waitForStatus(server.engine, id, 'waiting');
    const m = waiting.lastSeq;
    expect(m).toBeGreaterThan(60);
    const c = await connectWs(server.url);
    try {
      // One subscription per resume point, and the flow continues while the replays run.
      for (let s = 0; s <= m; s++) c.send({ op: 'subscribe', id: `s${s}`, executionId: id, since: s }, s % 2 === 1);
      const signalled = http.post(`/executions/${id}/signals/go`, { payload: 1 });
      expect((await signalled).status).toBe(202);
      for (let s = 0; s <= m; s++) await c.waitEvent(`s${s}`, ended);
      const history = await journal(id);
      const last = history.at(-1)?.seq ?? 0;
      for (let s = 0; s <= m; s++) {
        expect(seqs(c.events(`s${s}`)), `since ${s}`).toEqual(range(s + 1, last));
        expect(c.events(`s${s}`)).toEqual(history.slice(s));
      }
    } finally {
      await c.close();
    }
  });

  it('resumes without gap or duplicate while events keep arriving during the replay', async () => {
    const sockets: WsClient[] = await Promise.all(range(1, 8).map(() => connectWs(server.url)));
    try {
      const id = await start('ws-long');
      // Subscribe at staggered points while the 50 steps run: replays race live events.
      let k = 0;
      for (const c of sockets) {
        const seen = (await http.get(`/executions/${id}`)).body.lastSeq as number;
        c.send({ op: 'subscribe', id: 'r', executionId: id, since: Math.max(0, seen - 1 - (k++ % 3)) });
        await c.waitFor((f) => f.op === 'ack');
      }
      // Still running when the last subscription was acknowledged: the replays did race live events.
      expect(['running', 'waiting']).toContain((await http.get(`/executions/${id}`)).body.status);
      await Promise.all(sockets.map((c) => c.waitEvent('r', ended)));
      const history = await journal(id);
      for (const c of sockets) {
        const got = seqs(c.events('r'));
        expect(got.length).toBeGreaterThan(0);
        expect(got).toEqual(range(got[0] as number, history.length));
      }
    } finally {
      await Promise.all(sockets.map((c) => c.close()));
    }
  });

  it('stays gap-free when the live buffer overflows during a slow replay (tiny pages and buffer)', async () => {
    const s = await startTestServer({ streams: { replayPageSize: 2, maxReplayBuffer: 1 } });
    const h = api(s.url);
    const sockets = await Promise.all(range(1, 6).map(() => connectWs(s.url)));
    try {
      expect((await h.post('/workflow-definitions', { name: 'tiny', steps: range(1, 20).flatMap((i) => [echo(`t${i}`), { id: `z${i}`, type: 'sleep', ms: 3 }]) })).status).toBe(201);
      const id = (await h.post('/executions', { workflow: 'tiny', input: {} })).body.id as string;
      for (const [k, c] of sockets.entries()) c.send({ op: 'subscribe', id: 't', executionId: id, since: k * 3 });
      await Promise.all(sockets.map((c) => c.waitEvent('t', ended)));
      const history = (await h.get(`/executions/${id}/events`, { query: { limit: 1000 } })).body.items as EventView[];
      for (const [k, c] of sockets.entries()) expect(c.events('t'), `since ${k * 3}`).toEqual(history.slice(k * 3));
    } finally {
      await Promise.all(sockets.map((c) => c.close()));
      await s.close();
    }
  });

  it('delivers only later events for a since ahead of the history, and at the head', async () => {
    const id = await start('ws-gate');
    const m = (await waitForStatus(server.engine, id, 'waiting')).lastSeq;
    const c = await connectWs(server.url);
    try {
      c.send({ op: 'subscribe', id: 'head', executionId: id, since: m });
      c.send({ op: 'subscribe', id: 'ahead', executionId: id, since: m + 5 });
      await c.waitFor((f) => f.op === 'ack' && f.id === 'ahead');
      expect((await http.post(`/executions/${id}/signals/go`, {})).status).toBe(202);
      await c.waitEvent('head', ended);
      await c.waitEvent('ahead', ended);
      const last = (await journal(id)).length;
      expect(seqs(c.events('head'))).toEqual(range(m + 1, last));
      expect(seqs(c.events('ahead'))).toEqual(range(m + 6, last));
    } finally {
      await c.close();
    }
  });

  it('stays subscribed after a terminal event: a retried execution streams on', async () => {
    await define({ name: 'ws-fail', steps: [{ id: 'f', type: 'task', agent: 'fail', input: { times: 1, retryable: false } }, echo('after')] });
    const id = await start('ws-fail');
    await waitForEnd(server.engine, id);
    const c = await connectWs(server.url);
    try {
      c.send({ op: 'subscribe', id: 'f', executionId: id });
      await c.waitEvent('f', (e) => e.type === 'workflow.failed');
      expect((await http.post(`/executions/${id}/retry`, {})).status).toBe(202);
      await c.waitEvent('f', (e) => e.type === 'workflow.completed');
      expect(seqs(c.events('f'))).toEqual(seqs(await journal(id)));
    } finally {
      await c.close();
    }
  });
});

describe('filtered firehose', () => {
  it('filters by workflow, types and labels (also for executions started earlier, and after a label change)', async () => {
    const early = await start('fh-wait', { labels: { team: 'x' } });
    const relabelled = await start('fh-wait', { labels: { team: 'y' } });
    await waitForStatus(server.engine, early, 'waiting');
    await waitForStatus(server.engine, relabelled, 'waiting');
    const c = await connectWs(server.url);
    const shortcut = await connectWs(server.url, '/api/v1/ws/events?workflow=fh-a&types=workflow.completed,workflow.started');
    const packed = await connectWs(server.url, '/api/v1/ws/events?label.team=x', { protocols: 'actorflow.msgpack' });
    try {
      c.send({ op: 'subscribe', id: 'wf', filter: { workflow: 'fh-a' } });
      c.send({ op: 'subscribe', id: 'done', filter: { types: ['workflow.completed'] } });
      c.send({ op: 'subscribe', id: 'team', filter: { labels: { team: 'x' } } });
      c.send({ op: 'subscribe', id: 'all', filter: {} });
      for (const sub of ['wf', 'done', 'team', 'all']) await c.waitFor((f) => f.op === 'ack' && f.id === sub);
      await shortcut.waitFor((f) => f.op === 'ack' && f.id === 'events');

      const a1 = await start('fh-a', { labels: { team: 'x' } });
      const b1 = await start('fh-b', { labels: { team: 'x' } });
      const a2 = await start('fh-a', { labels: { team: 'y' } });
      expect((await http.patch(`/executions/${relabelled}`, { labels: { team: 'x' } })).status).toBe(200);
      await http.post(`/executions/${early}/signals/go`, {});
      await http.post(`/executions/${relabelled}/signals/go`, {});
      const all = [a1, b1, a2, early, relabelled];
      for (const id of all) await waitForEnd(server.engine, id);
      for (const id of all) await c.waitEvent('all', (e) => e.executionId === id && ended(e));
      await c.waitEvent('team', (e) => e.executionId === relabelled && ended(e));
      await packed.waitEvent('events', (e) => e.executionId === relabelled && ended(e));
      await shortcut.waitEvent('events', (e) => e.executionId === a2 && ended(e));

      const byExec = (events: EventView[], id: string) => events.filter((e) => e.executionId === id);
      // Unfiltered: every event of each execution, in seq order.
      for (const id of [a1, b1, a2]) expect(byExec(c.events('all'), id)).toEqual(await journal(id));
      // Workflow filter.
      expect(new Set(c.events('wf').map((e) => e.executionId))).toEqual(new Set([a1, a2]));
      expect(byExec(c.events('wf'), a1)).toEqual(await journal(a1));
      // Types filter (native, one topic per type).
      expect(c.events('done').map((e) => e.type).every((t) => t === 'workflow.completed')).toBe(true);
      expect(new Set(c.events('done').map((e) => e.executionId))).toEqual(new Set(all));
      // Labels filter: label x from the start, x looked up for an execution started before the subscription, and x after a PATCH.
      const teamIds = new Set(c.events('team').map((e) => e.executionId));
      expect(teamIds).toEqual(new Set([a1, b1, early, relabelled]));
      expect(byExec(c.events('team'), a1)).toEqual(await journal(a1));
      expect(byExec(c.events('team'), relabelled).some((e) => e.type === 'workflow.completed')).toBe(true);
      expect(byExec(packed.events('events'), b1)).toEqual(await journal(b1));
      // Shortcut with workflow + two types.
      expect(shortcut.events('events').map((e) => `${e.executionId}:${e.type}`).sort()).toEqual(
        [`${a1}:workflow.started`, `${a1}:workflow.completed`, `${a2}:workflow.started`, `${a2}:workflow.completed`].sort(),
      );
    } finally {
      await Promise.all([c.close(), shortcut.close(), packed.close()]);
    }
  });

  it('stops sending after unsubscribe', async () => {
    const c = await connectWs(server.url);
    try {
      c.send({ op: 'subscribe', id: 'gone', filter: { workflow: 'fh-b' } });
      c.send({ op: 'subscribe', id: 'kept', filter: { workflow: 'fh-b' } });
      await c.waitFor((f) => f.op === 'ack' && f.id === 'kept');
      c.send({ op: 'unsubscribe', id: 'gone' });
      const at = c.frames.length;
      await c.waitFor((f) => f.op === 'ack' && f.id === 'gone', { from: at });
      const id = await start('fh-b');
      await c.waitEvent('kept', (e) => e.executionId === id && ended(e));
      expect(c.events('gone').filter((e) => e.executionId === id)).toEqual([]);
      expect(c.events('kept').filter((e) => e.executionId === id)).toEqual(await journal(id));
      // The slice's last subscriber leaves, then a new one comes: it is served again.
      c.send({ op: 'unsubscribe', id: 'kept' });
      const left = c.frames.length;
      await c.waitFor((f) => f.op === 'ack' && f.id === 'kept', { from: left });
      c.send({ op: 'subscribe', id: 'again', filter: { workflow: 'fh-b', types: ['workflow.completed'] } });
      await c.waitFor((f) => f.op === 'ack' && f.id === 'again');
      const next = await start('fh-b');
      await c.waitEvent('again', (e) => e.executionId === next);
      expect(c.events('again').map((e) => `${e.executionId}:${e.type}`)).toEqual([`${next}:workflow.completed`]);
      expect(c.events('kept').filter((e) => e.executionId === next)).toEqual([]);
    } finally {
      await c.close();
    }
  });
});

describe('protocol errors and limits', () => {
  it('answers ping, bad frames, unknown executions, duplicate and unknown ids', async () => {
    const c = await connectWs(server.url);
    try {
      c.send({ op: 'ping' });
      await c.waitFor((f) => f.op === 'pong');
      c.ws.send('{not json');
      expect((await c.waitFor((f) => f.op === 'error' && f.code === 'invalid_message')).message).toMatch(/JSON/);
      c.ws.send(Buffer.from([0x92]), { binary: true });
      await c.waitFor((f) => f.op === 'error' && f.code === 'invalid_message' && /msgpack/.test(f.message ?? ''));
      c.ws.send(Buffer.from([0xc1]), { binary: true });
      await c.waitFor((f) => f.op === 'error' && f.code === 'invalid_message' && /object/.test(f.message ?? ''));
      c.send({ op: 'subscribe', id: 'u', executionId: 'ex_01ARZ3NDEKTSV4RRFFQ69G5FAV' });
      await c.waitFor((f) => f.op === 'error' && f.id === 'u' && f.code === 'execution_not_found');
      c.send({ op: 'subscribe', id: 'bad', executionId: 'nope' });
      await c.waitFor((f) => f.op === 'error' && f.id === 'bad' && f.code === 'execution_not_found');
      c.send({ op: 'subscribe', id: 'neg', executionId: 'ex_01ARZ3NDEKTSV4RRFFQ69G5FAV', since: -1 });
      await c.waitFor((f) => f.op === 'error' && f.id === 'neg' && f.code === 'validation_failed');
      c.send({ op: 'subscribe', id: 'types', filter: { types: ['no.such.type'] } });
      await c.waitFor((f) => f.op === 'error' && f.id === 'types' && f.code === 'validation_failed');
      c.send({ op: 'subscribe', id: 'twice', agents: true });
      c.send({ op: 'subscribe', id: 'twice', agents: true });
      await c.waitFor((f) => f.op === 'error' && f.id === 'twice' && f.code === 'subscription_exists');
      c.send({ op: 'unsubscribe', id: 'never' });
      await c.waitFor((f) => f.op === 'error' && f.id === 'never' && f.code === 'subscription_not_found');
      c.send({ op: 'dance', id: 'x' });
      await c.waitFor((f) => f.op === 'error' && f.id === 'x' && f.code === 'validation_failed');
      // The socket survived every error.
      c.send({ op: 'ping' });
      await c.waitFor((f) => f.op === 'pong', { from: c.frames.length });
    } finally {
      await c.close();
    }
  });

  it('allows 100 subscriptions per socket, then answers subscription_limit', async () => {
    const c = await connectWs(server.url);
    try {
      for (let i = 0; i < 100; i++) c.send({ op: 'subscribe', id: `f${i}`, filter: { workflow: `w${i}` } });
      await c.waitFor((f) => f.op === 'ack' && f.id === 'f99');
      expect(c.frames.filter((f) => f.op === 'ack')).toHaveLength(100);
      c.send({ op: 'subscribe', id: 'one-more', agents: true });
      await c.waitFor((f) => f.op === 'error' && f.id === 'one-more' && f.code === 'subscription_limit');
      c.send({ op: 'unsubscribe', id: 'f0' });
      c.send({ op: 'subscribe', id: 'one-more', agents: true });
      await c.waitFor((f) => f.op === 'ack' && f.id === 'one-more');
    } finally {
      await c.close();
    }
  });

  it('refuses a shortcut upgrade with 404 for an unknown execution and 422 for a bad query', async () => {
    await expect(connectWs(server.url, '/api/v1/ws/executions/ex_01ARZ3NDEKTSV4RRFFQ69G5FAV')).rejects.toMatchObject({ status: 404 });
    await expect(connectWs(server.url, '/api/v1/ws/executions/not-an-id')).rejects.toMatchObject({ status: 404 });
    const id = await start('ws-chain');
    await expect(connectWs(server.url, `/api/v1/ws/executions/${id}?since=abc`)).rejects.toMatchObject({ status: 422 });
    await expect(connectWs(server.url, '/api/v1/ws/events?types=nope')).rejects.toMatchObject({ status: 422 });
  });
});

describe('agent events', () => {
  it('streams agent.registered and agent.status.changed to agent subscribers', async () => {
    const nats = await startNatsServer();
    const prefix = `wsag${process.pid}`;
    const s = await startTestServer({ natsUrl: nats.url, natsPrefix: prefix, builtinAgents: false });
    const c = await connectWs(s.url, '/api/v1/ws', { protocols: 'actorflow.msgpack' });
    try {
      c.send({ op: 'subscribe', id: 'ag', agents: true });
      await c.waitFor((f) => f.op === 'ack' && f.id === 'ag');
      const agent = await createAgent({ natsUrl: nats.url, prefix, kinds: ['ws-kind'], name: 'ws-agent', handler: async ({ input }) => input });
      const registered = await c.waitFor((f) => f.op === 'event' && f.sub === 'ag' && f.event.type === 'agent.registered' && f.event.agent.name === 'ws-agent');
      expect(registered.event.agent.kinds).toEqual(['ws-kind']);
      await agent.close();
      const changed = await c.waitFor((f) => f.op === 'event' && f.sub === 'ag' && f.event.type === 'agent.status.changed' && f.event.agent.name === 'ws-agent');
      expect(changed.event.agent.status).toBe('offline');
    } finally {
      await c.close();
      await s.close();
      await nats.close();
    }
  });
});

describe('backpressure and idle sockets', () => {
  it('closes a client that stops reading with slow_consumer (1008) while others keep receiving', async () => {
    const s = await startTestServer({ streams: { maxBufferedBytes: 256 * 1024, backpressureHeadroomBytes: 32 << 20 } });
    const h = api(s.url);
    expect((await h.post('/workflow-definitions', { name: 'big', steps: [echo('e', '$.input')] })).status).toBe(201);
    const fast = await connectWs(s.url, '/api/v1/ws/events?workflow=big');
    const slow = await connectWs(s.url, '/api/v1/ws/events?workflow=big');
    try {
      await fast.waitFor((f) => f.op === 'ack');
      await slow.waitFor((f) => f.op === 'ack');
      slow.ws.pause();
      const blob = 'x'.repeat(200_000);
      let runs = 0;
      // Each run pushes ~600 KB to both sockets; the fast one paces the loop. Stop once the server gave up on the slow one.
      while (s.streamStats().slowConsumers === 0) {
        expect(runs).toBeLessThan(400);
        const id = (await h.post('/executions', { workflow: 'big', input: { blob, run: runs++ } })).body.id as string;
        await fast.waitEvent('events', (e) => e.executionId === id && ended(e));
      }
      slow.ws.resume();
      const error = await slow.waitFor((f) => f.op === 'error', { what: 'the slow_consumer error' });
      expect(error.code).toBe('slow_consumer');
      expect((await slow.closed).code).toBe(1008);
      // The engine and the other subscriber never noticed.
      for (let i = 0; i < 3; i++) {
        const id = (await h.post('/executions', { workflow: 'big', input: { blob: 'small', run: runs++ } })).body.id as string;
        await fast.waitEvent('events', (e) => e.executionId === id && ended(e));
      }
      const completed = (c: WsClient) => c.events('events').filter((e) => e.type === 'workflow.completed').length;
      expect(completed(fast)).toBe(runs);
      expect(completed(slow)).toBeLessThan(runs);
      expect(s.streamStats().sockets).toBe(1);
    } finally {
      await Promise.all([fast.close(), slow.close()]);
      await s.close();
    }
  });

  it('closes idle sockets that stop answering pings (uWS idle timeout), keeps those that answer', async () => {
    const s = await startTestServer({ streams: { idleTimeoutS: 8 } });
    const mute = await connectWs(s.url, '/api/v1/ws', { wsOptions: { autoPong: false } });
    const alive = await connectWs(s.url);
    try {
      const t0 = Date.now();
      const closed = await mute.closed;
      expect(closed.code).not.toBe(1000);
      expect(Date.now() - t0).toBeGreaterThan(1000);
      expect(s.streamStats().sockets).toBe(1);
      alive.send({ op: 'ping' });
      await alive.waitFor((f) => f.op === 'pong');
    } finally {
      await Promise.all([mute.close(), alive.close()]);
      await s.close();
    }
  }, 40_000);
});

describe('socket churn', () => {
  it('opens and closes a thousand sockets repeatedly without leaking (RSS bounded across rounds)', async () => {
    setFlagsFromString('--expose_gc');
    const gc = runInNewContext('gc') as () => void;
    const id = await start('ws-chain');
    await waitForEnd(server.engine, id);
    const total = (await journal(id)).length;
    const rss: number[] = [];
    for (let round = 0; round < 6; round++) {
      const batch: WsClient[] = [];
      for (let i = 0; i < 1000; i += 100) batch.push(...(await Promise.all(range(1, 100).map(() => connectWs(server.url)))));
      for (const [i, c] of batch.entries()) {
        c.send({ op: 'subscribe', id: 'e', executionId: id });
        c.send({ op: 'subscribe', id: 'f', filter: i % 2 === 0 ? { workflow: 'fh-a' } : { labels: { team: `t${i}` } } });
      }
      await Promise.all(batch.map((c) => c.waitEvent('e', ended)));
      expect(server.streamStats().sockets).toBe(1000);
      expect(server.streamStats().subscriptions).toBe(2000);
      for (const c of batch) expect(seqs(c.events('e'))).toEqual(range(1, total));
      await Promise.all(batch.map((c) => c.close()));
      expect(server.streamStats()).toMatchObject({ sockets: 0, subscriptions: 0, topics: 0, labelSubscriptions: 0 });
      batch.length = 0;
      gc();
      rss.push(process.memoryUsage().rss);
    }
    const growth = (rss.at(-1) as number) - (rss[1] as number);
    expect(growth, `RSS by round (MiB): ${rss.map((r) => (r / 2 ** 20).toFixed(0)).join(', ')}`).toBeLessThan(24 * 2 ** 20);
  }, 120_000);
});
