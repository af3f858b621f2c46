/**
 * W3C trace context and OTLP export (issue 6, item 4): a real server exports to a local node:http OTLP
 * receiver (JSON, POST /v1/traces); the built-in `http` agent calls the same receiver, which records the
 * `traceparent` it forwards. Over NATS the agent is another process (`actorflow agent`).
 */
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executionSpanId, stepSpanId } from '../../src/tracing/trace-context.ts';
import { startAgentProcess, type AgentProcess } from '../support/agent-process.ts';
import { api } from '../support/http.ts';
import { startNatsServer, type NatsServer } from '../support/nats.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { waitForEnd, waitForStatus } from '../support/wait.ts';

// Export batches every 50 ms (BatchSpanProcessor reads it), so spans arrive while the server runs.
process.env.OTEL_BSP_SCHEDULE_DELAY = '50';

interface Span {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  startMs: number;
  status: { code?: number; message?: string };
  attributes: Record<string, unknown>;
  service: unknown;
}

interface Hit {
  path: string;
  headers: IncomingHttpHeaders;
}

/** One node:http server: OTLP traces on POST /v1/traces, anything else is a call from the `http` agent. */
class Receiver {
  readonly spans: Span[] = [];
  readonly hits: Hit[] = [];
  private readonly waiters = new Set<() => void>();
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString();
        if (req.method === 'POST' && req.url === '/v1/traces') {
          expect(req.headers['content-type']).toContain('application/json');
          this.collect(JSON.parse(body));
          res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        } else {
          this.hits.push({ path: req.url ?? '', headers: req.headers });
          res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
        }
        for (const w of this.waiters) w();
      });
    });
    this.server.keepAliveTimeout = 100;
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    const addr = this.server.address();
    if (addr === null || typeof addr === 'string') throw new Error('no address');
    this.url = `http://127.0.0.1:${addr.port}`;
  }

  private collect(doc: any): void {
    for (const rs of doc.resourceSpans ?? []) {
      const service = (rs.resource?.attributes ?? []).find((a: any) => a.key === 'service.name')?.value?.stringValue;
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) {
          const attributes: Record<string, unknown> = {};
          for (const a of s.attributes ?? []) {
            const v = a.value ?? {};
            attributes[a.key] = v.stringValue ?? (v.intValue === undefined ? undefined : Number(v.intValue)) ?? v.boolValue ?? v.doubleValue;
          }
          this.spans.push({
            traceId: s.traceId,
            spanId: s.spanId,
            parentSpanId: s.parentSpanId ?? '',
            name: s.name,
            startMs: Number(BigInt(s.startTimeUnixNano) / 1_000_000n),
            status: s.status ?? {},
            attributes,
            service,
          });
        }
      }
    }
  }

  /** Resolves once `probe` returns a value (re-checked on every request received). */
  waitFor<T>(probe: () => T | undefined, what: string, timeoutMs = 10_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const v = probe();
        if (v === undefined) return;
        this.waiters.delete(check);
        clearTimeout(timer);
        resolve(v);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out waiting for ${what}; spans: ${JSON.stringify(this.spans.map((s) => [s.name, s.attributes['actorflow.execution.id']]))}`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  execSpan(executionId: string) {
    return this.waitFor(() => this.spans.find((s) => s.name.startsWith('execution ') && s.attributes['actorflow.execution.id'] === executionId), `execution span of ${executionId}`);
  }

  stepSpans(executionId: string, count: number) {
    return this.waitFor(() => {
      const list = this.spans.filter((s) => s.name.startsWith('step ') && s.attributes['actorflow.execution.id'] === executionId);
      return list.length >= count ? list : undefined;
    }, `${count} step spans of ${executionId}`);
  }

  hit(path: string) {
    return this.waitFor(() => this.hits.find((h) => h.path === path), `a call to ${path}`);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }
}

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER = '00f067aa0ba902b7';
const TRACEPARENT = `00-${TRACE}-${CALLER}-01`;
const fast = { maxAttempts: 2, backoff: 'fixed', initialMs: 5 };
const HEX32 = /^[0-9a-f]{32}$/;

const rx = new Receiver();

beforeAll(async () => {
  await rx.start();
});

afterAll(async () => {
  await rx.close();
});

describe('tracing with the in-process bus', () => {
  let server: TestServer;
  let http: ReturnType<typeof api>;

  beforeAll(async () => {
    server = await startTestServer({ otlpEndpoint: `${rx.url}/v1/traces` });
    http = api(server.url);
    for (const doc of [
      {
        name: 'traced',
        steps: [
          { id: 'call', type: 'task', agent: 'http', input: { url: '$.input.url' } },
          { id: 'flaky', type: 'task', agent: 'fail', input: { times: 1, code: 'flake' }, retry: fast },
        ],
      },
      { name: 'doomed', steps: [{ id: 'boom', type: 'task', agent: 'fail', input: { retryable: false, code: 'fatal', message: 'no way' } }] },
      { name: 'kid', steps: [{ id: 'echo', type: 'task', agent: 'echo', input: 'hi' }] },
      { name: 'elder', steps: [{ id: 'spawn', type: 'workflow', workflow: 'kid' }] },
    ]) {
      const res = await http.post('/workflow-definitions', doc);
      expect(res.status, JSON.stringify(res.body)).toBe(201);
    }
  });

  afterAll(async () => {
    await server?.close();
  });

  it('exports an execution span under the caller and one span per step attempt; the agent gets the attempt as parent', async () => {
    const res = await http.post('/executions', { workflow: 'traced', input: { url: `${rx.url}/hook/a` } }, { headers: { traceparent: TRACEPARENT, tracestate: 'vendor=abc' } });
    expect(res.status).toBe(201);
    const id = res.body.id as string;
    expect((await waitForEnd(server.engine, id)).status).toBe('completed');

    const exec = await rx.execSpan(id);
    expect(exec.traceId).toBe(TRACE);
    expect(exec.parentSpanId).toBe(CALLER);
    expect(exec.spanId).toBe(executionSpanId(id));
    expect(exec.status.code ?? 0).toBe(0);
    expect(exec.service).toBe('actorflow');
    expect(exec.attributes).toMatchObject({ 'actorflow.workflow': 'traced', 'actorflow.execution.id': id, 'actorflow.execution.status': 'completed' });

    const steps = await rx.stepSpans(id, 3);
    expect(steps).toHaveLength(3);
    for (const s of steps) {
      expect(s.traceId).toBe(TRACE);
      expect(s.parentSpanId).toBe(exec.spanId);
    }
    const byKey = new Map(steps.map((s) => [`${s.attributes['actorflow.step.id']}#${s.attributes['actorflow.step.attempt']}`, s]));
    expect(byKey.get('call#1')?.attributes).toMatchObject({ 'actorflow.agent.kind': 'http', 'actorflow.step.outcome': 'completed', 'actorflow.workflow': 'traced' });
    const flaky1 = byKey.get('flaky#1');
    expect(flaky1?.status.code).toBe(2); // ERROR
    expect(flaky1?.status.message).toContain('flake');
    expect(flaky1?.attributes['actorflow.step.outcome']).toBe('retrying');
    expect(byKey.get('flaky#2')?.status.code ?? 0).toBe(0);
    expect(byKey.get('flaky#2')?.attributes['actorflow.step.outcome']).toBe('completed');
    expect(new Set(steps.map((s) => s.spanId)).size).toBe(3);

    // The http agent forwarded the step attempt's context: same trace, the attempt's span as parent.
    const hit = await rx.hit('/hook/a');
    expect(hit.headers['traceparent']).toBe(`00-${TRACE}-${stepSpanId(id, 'call', 1)}-01`);
    expect(byKey.get('call#1')?.spanId).toBe(stepSpanId(id, 'call', 1));
    expect(hit.headers['tracestate']).toBe('vendor=abc');

    // The caller's context is part of the durable start event.
    const events = await http.get(`/executions/${id}/events`);
    expect(events.body.items[0].data.traceparent).toBe(TRACEPARENT);
  });

  it('marks a failed execution and its failed step with status ERROR', async () => {
    const res = await http.post('/executions', { workflow: 'doomed' }, { headers: { traceparent: TRACEPARENT } });
    expect(res.status).toBe(201);
    const id = res.body.id as string;
    expect((await waitForEnd(server.engine, id)).status).toBe('failed');
    const exec = await rx.execSpan(id);
    expect(exec.status.code).toBe(2);
    expect(exec.attributes['actorflow.execution.status']).toBe('failed');
    const [step] = await rx.stepSpans(id, 1);
    expect(step?.status).toMatchObject({ code: 2, message: 'fatal: no way' });
    expect(step?.attributes).toMatchObject({ 'actorflow.step.id': 'boom', 'actorflow.step.attempt': 1, 'actorflow.step.outcome': 'failed', 'actorflow.agent.kind': 'fail' });
    expect(step?.parentSpanId).toBe(exec.spanId);
  });

  it('puts a child execution in its parent trace, under the span of the workflow step', async () => {
    const res = await http.post('/executions', { workflow: 'elder' }, { headers: { traceparent: TRACEPARENT } });
    expect(res.status).toBe(201);
    const id = res.body.id as string;
    expect((await waitForEnd(server.engine, id)).status).toBe('completed');
    const children = await http.get(`/executions/${id}/children`);
    const childId = children.body.items[0]?.id as string;
    expect(childId).toMatch(/^ex_/);
    const child = await rx.execSpan(childId);
    expect(child).toMatchObject({ traceId: TRACE, parentSpanId: stepSpanId(id, 'spawn', 1) });
    const [spawn] = await rx.stepSpans(id, 1);
    expect(spawn?.spanId).toBe(stepSpanId(id, 'spawn', 1));
    expect(spawn?.attributes['actorflow.step.type']).toBe('workflow');
  });

  it('starts a new trace without a traceparent, and ignores an invalid one (201)', async () => {
    const invalid = [
      'garbage',
      `00-${TRACE.toUpperCase()}-${CALLER}-01`,
      `00-${'0'.repeat(32)}-${CALLER}-01`,
      `00-${TRACE}-${'0'.repeat(16)}-01`,
      `ff-${TRACE}-${CALLER}-01`,
      `00-${TRACE}-${CALLER}-01-extra`,
    ];
    const ids: string[] = [];
    for (const traceparent of [undefined, ...invalid]) {
      const headers: Record<string, string> = traceparent === undefined ? {} : { traceparent, tracestate: 'x=1' };
      const res = await http.post('/executions', { workflow: 'traced', input: { url: `${rx.url}/hook/new-${ids.length}` } }, { headers });
      expect(res.status, `${traceparent}: ${JSON.stringify(res.body)}`).toBe(201);
      ids.push(res.body.id as string);
    }
    const traces = new Set<string>();
    for (const [i, id] of ids.entries()) {
      expect((await waitForEnd(server.engine, id)).status).toBe('completed');
      const exec = await rx.execSpan(id);
      expect(exec.traceId).toMatch(HEX32);
      expect(exec.traceId).not.toBe(TRACE);
      expect(exec.traceId).not.toBe(TRACE.toUpperCase());
      expect(exec.parentSpanId).toBe('');
      traces.add(exec.traceId);
      const hit = await rx.hit(`/hook/new-${i}`);
      expect(hit.headers['traceparent']).toBe(`00-${exec.traceId}-${stepSpanId(id, 'call', 1)}-01`);
      expect(hit.headers['tracestate']).toBeUndefined();
    }
    expect(traces.size).toBe(ids.length);
  });
});

describe('tracing across a restart', () => {
  it('keeps the trace id for steps dispatched after recovery', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'actorflow-trace-'));
    try {
      const first = await startTestServer({ dataDir, otlpEndpoint: `${rx.url}/v1/traces` });
      const doc = {
        name: 'two-calls',
        steps: [
          { id: 'before', type: 'task', agent: 'http', input: { url: `${rx.url}/hook/before` } },
          { id: 'gate', type: 'wait', signal: 'go' },
          { id: 'after', type: 'task', agent: 'http', input: { url: `${rx.url}/hook/after` } },
        ],
      };
      expect((await api(first.url).post('/workflow-definitions', doc)).status).toBe(201);
      const res = await api(first.url).post('/executions', { workflow: 'two-calls' }, { headers: { traceparent: TRACEPARENT } });
      expect(res.status).toBe(201);
      const id = res.body.id as string;
      await waitForStatus(first.engine, id, 'waiting');
      const startedAt = Date.parse(res.body.createdAt as string);
      await first.close();

      const second = await startTestServer({ dataDir, otlpEndpoint: `${rx.url}/v1/traces` });
      try {
        const sig = await api(second.url).post(`/executions/${id}/signals/go`, { payload: {} });
        expect(sig.status, JSON.stringify(sig.body)).toBe(202);
        expect((await waitForEnd(second.engine, id)).status).toBe('completed');
        const hit = await rx.hit('/hook/after');
        expect(hit.headers['traceparent']).toBe(`00-${TRACE}-${stepSpanId(id, 'after', 1)}-01`);

        // Spans ended after the restart still hang off the same execution span, with its original start.
        const exec = await rx.execSpan(id);
        expect(exec).toMatchObject({ traceId: TRACE, parentSpanId: CALLER, spanId: executionSpanId(id) });
        expect(exec.startMs).toBe(startedAt);
        const steps = await rx.stepSpans(id, 3);
        const names = steps.map((s) => s.attributes['actorflow.step.id']).sort();
        expect(names).toEqual(['after', 'before', 'gate']);
        for (const s of steps) expect(s).toMatchObject({ traceId: TRACE, parentSpanId: exec.spanId });
      } finally {
        await second.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('tracing over NATS with an agent process', () => {
  let nats: NatsServer;
  let server: TestServer;
  let agent: AgentProcess | undefined;

  beforeAll(async () => {
    nats = await startNatsServer();
    server = await startTestServer({ natsUrl: nats.url, natsPrefix: `trace${process.pid}`, builtinAgents: false });
    agent = await startAgentProcess({ natsUrl: nats.url, kinds: ['http'], prefix: `trace${process.pid}` });
  }, 30_000);

  afterAll(async () => {
    await agent?.stop();
    await server?.close();
    await nats?.close();
  });

  it('hands the agent a traceparent with the execution trace id (the http agent forwards it)', async () => {
    const http = api(server.url);
    expect((await http.post('/workflow-definitions', { name: 'remote', steps: [{ id: 'call', type: 'task', agent: 'http', input: { url: `${rx.url}/hook/nats` } }] })).status).toBe(201);
    const res = await http.post('/executions', { workflow: 'remote' }, { headers: { traceparent: TRACEPARENT } });
    expect(res.status).toBe(201);
    const id = res.body.id as string;
    expect((await waitForEnd(server.engine, id, 20_000)).status).toBe('completed');
    const hit = await rx.hit('/hook/nats');
    expect(hit.headers['traceparent']).toBe(`00-${TRACE}-${stepSpanId(id, 'call', 1)}-01`);
  }, 30_000);
});
