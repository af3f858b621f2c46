/** Webhook deliveries are an outbox in the journal's transaction: SIGKILL under load, restart, and every matching event has exactly one delivery, all delivered. */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { type Server, createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { verifySignature } from '../../src/webhooks/signature.ts';
import { type Api, api } from '../support/http.ts';
import { loadUntilKill } from '../support/load-until-kill.ts';
import { pollUntil } from '../support/wait.ts';
import { startServerProcess, type ServerProcess } from '../support/process.ts';

const FLOW = `
name: hooked
steps:
  - { id: first, type: task, agent: echo, input: "$.input" }
  - { id: nap, type: sleep, ms: 300 }
  - { id: last, type: task, agent: echo, input: { done: "$.input.n" } }
`;
const SECRET = 'whsec-crash-test-0123456789';
/** Everything but `agent.selected` and `step.log`: the test also checks that those get no delivery. */
const PATTERNS = ['workflow.*'];
const matches = (type: string): boolean => type.startsWith('workflow.');

let dir = '';
let proc: ServerProcess | undefined;
let receiver: Server | undefined;

afterAll(async () => {
  await proc?.kill();
  receiver?.closeAllConnections();
  await new Promise<void>((resolve) => (receiver ? receiver.close(() => resolve()) : resolve()));
  if (dir) await rm(dir, { recursive: true, force: true });
});

const until = <T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 30_000) => pollUntil(probe, what, timeoutMs);

/** Every item of a cursor-paged list. */
async function all<T>(http: Api, path: string, query: Record<string, string | number> = {}): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | null = null;
  do {
    const res = await http.get(path, { query: { ...query, limit: 1000, ...(cursor === null ? {} : { cursor }) } });
    expect(res.status, res.text).toBe(200);
    out.push(...(res.body.items as T[]));
    cursor = res.body.nextCursor as string | null;
  } while (cursor !== null);
  return out;
}

interface Delivery {
  id: string;
  eventId: string;
  eventType: string;
  status: string;
}

describe('webhook deliveries across a crash', () => {
  it('records exactly one delivery per matching committed event and delivers them all after SIGKILL', async () => {
    dir = await mkdtemp(join(tmpdir(), 'actorflow-webhooks-crash-'));
    const machines = join(dir, 'machines');
    const data = join(dir, 'data');
    await mkdir(machines);
    await writeFile(join(machines, 'hooked.yaml'), FLOW);

    // The local receiver: answers 200, keeps each delivery id once (deliveries are at least once).
    const received = new Map<string, { eventId: string; eventType: string }>();
    let badSignatures = 0;
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        if (!verifySignature(String(req.headers['x-actorflow-signature']), body, SECRET)) badSignatures++;
        const event = JSON.parse(body) as { id: string; type: string };
        received.set(String(req.headers['x-actorflow-delivery']), { eventId: event.id, eventType: event.type });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => receiver?.listen(0, '127.0.0.1', resolve));
    const rxUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`;

    const env = { ACTORFLOW_WEBHOOK_ALLOW_PRIVATE: '1', ACTORFLOW_WEBHOOK_RETRY_MS: '50' };
    proc = await startServerProcess({ dataDir: data, machinesDir: machines, sync: 'full', env });
    const http = api(proc.url);
    const hook = await http.post('/webhooks', { url: rxUrl, events: PATTERNS, secret: SECRET });
    expect(hook.status, hook.text).toBe(201);
    const hookId = hook.body.id as string;

    // 8 clients start executions; the server is SIGKILLed once 150 are acknowledged and some have
    // completed, with commits (and their deliveries) in flight.
    const acked = await loadUntilKill(http, {
      workflow: 'hooked',
      clients: 8,
      killWhen: async (ids) => ids.length >= 150 && (await http.get(`/executions/${ids[0]}`).catch(() => undefined))?.body.status === 'completed',
      kill: async () => proc?.kill(),
    });

    proc = await startServerProcess({ dataDir: data, machinesDir: machines, sync: 'full', env });
    const again = api(proc.url);
    await until(async () => ((await again.get('/ready')).status === 200 ? true : undefined), 'ready');
    await until(async () => {
      const open = await again.get('/executions', { query: { status: 'running,waiting,paused,pending', limit: 1 } });
      return open.body.items.length === 0 ? true : undefined;
    }, 'all executions finished');

    // Every matching event in the journal (acknowledged or not, before or after the crash)…
    const executions = await all<{ id: string; status: string }>(again, '/executions');
    expect(executions.length).toBeGreaterThanOrEqual(acked.length);
    const expected = new Map<string, string>();
    for (const x of executions) {
      expect(x.status).toBe('completed');
      for (const e of await all<{ id: string; type: string }>(again, `/executions/${x.id}/events`)) if (matches(e.type)) expected.set(e.id, e.type);
    }
    expect(expected.size).toBeGreaterThanOrEqual(acked.length * 5);

    // …has exactly one delivery row, and no other event has one.
    const deliveries = await all<Delivery>(again, `/webhooks/${hookId}/deliveries`);
    const perEvent = new Map<string, number>();
    for (const d of deliveries) perEvent.set(d.eventId, (perEvent.get(d.eventId) ?? 0) + 1);
    expect([...perEvent.entries()].filter(([, count]) => count !== 1)).toEqual([]);
    expect([...perEvent.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const d of deliveries) expect(d.eventType).toBe(expected.get(d.eventId));

    // All of them are delivered, and the receiver saw every one (by delivery id), signed.
    const delivered = await until(async () => {
      const rows = await all<Delivery>(again, `/webhooks/${hookId}/deliveries`);
      return rows.every((d) => d.status === 'delivered') && rows.every((d) => received.has(d.id)) ? rows : undefined;
    }, 'every delivery delivered');
    expect(new Set([...received.keys()])).toEqual(new Set(delivered.map((d) => d.id)));
    for (const d of delivered) expect(received.get(d.id)).toEqual({ eventId: d.eventId, eventType: d.eventType });
    expect(badSignatures).toBe(0);
    expect(await proc.stop()).toBe(0);
  }, 90_000);
});
