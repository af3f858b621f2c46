/**
 * @module tests/integration/concurrency-crash — concurrency queues across SIGKILL and restart of a real server
 * process: 500 queued executions across 5 keys survive, start after the restart in the same order
 * (priority, then creation), never more than `limit` of one key run at once (checked from the event log,
 * across the crash), none is lost, and no slot leaks.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { api } from '../support/http.ts';
import { type ServerProcess, startServerProcess } from '../support/process.ts';
import { pollUntil } from '../support/wait.ts';

const LIMIT = 2;
const KEYS = ['k0', 'k1', 'k2', 'k3', 'k4'];
const QUEUED_PER_KEY = 100;

// `hold: true` waits for a signal (it keeps its slot until cancelled); the others sleep briefly (durably) and end.
const FLOW = `
name: keyed
concurrency: { limit: ${LIMIT}, key: "$.input.k" }
steps:
  - id: pick
    type: choice
    when: [{ if: { path: "$.input.hold", equals: true }, next: hold }]
    default: nap
  - { id: nap, type: sleep, ms: 5, end: true }
  - { id: hold, type: wait, signal: go }
`;

interface Started {
  readonly id: string;
  readonly key: string;
  readonly priority: number;
}

interface Event {
  readonly seq: number;
  readonly type: string;
  readonly timestamp: string;
}

const TERMINAL = new Set(['workflow.completed', 'workflow.failed', 'workflow.cancelled', 'workflow.timed_out']);

/** Runs `fn` over `items` with `width` requests in flight. */
async function inParallel<T, R>(items: readonly T[], width: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) out[i] = await fn(items[i] as T);
  };
  await Promise.all(Array.from({ length: width }, worker));
  return out;
}

describe('concurrency queues across a crash', () => {
  it('keeps 500 queued executions across kill -9 and starts them after the restart in order, never past the limit, none lost, no slot leaked', async () => {
    const root = await mkdtemp(join(tmpdir(), 'actorflow-queue-crash-'));
    const machines = join(root, 'machines');
    const data = join(root, 'data');
    await mkdir(machines);
    await writeFile(join(machines, 'keyed.yaml'), FLOW);
    let proc: ServerProcess = await startServerProcess({ dataDir: data, machinesDir: machines, sync: 'normal' });
    try {
      let http = api(proc.url);
      // Two holders per key take every slot; then 100 starts per key, priorities −10..10, all queued.
      const holders = await inParallel(KEYS.flatMap((k) => Array.from({ length: LIMIT }, () => k)), 10, async (k) => {
        const res = await http.post('/executions', { workflow: 'keyed', input: { k, hold: true } }, { query: { wait: 5000 } });
        expect(res.body.status).toBe('waiting');
        return { id: res.body.id as string, key: k, priority: 0 };
      });
      const asks = KEYS.flatMap((k) => Array.from({ length: QUEUED_PER_KEY }, (_, i) => ({ k, priority: ((i * 7) % 21) - 10 })));
      const queued: Started[] = await inParallel(asks, 16, async ({ k, priority }) => {
        const res = await http.post('/executions', { workflow: 'keyed', input: { k, hold: false }, priority });
        expect(res.status, res.text).toBe(201);
        expect(res.body.status).toBe('queued');
        return { id: res.body.id as string, key: k, priority };
      });
      expect((await http.get('/status')).body.executions.queued).toBe(KEYS.length * QUEUED_PER_KEY);

      // One holder per key ends: its slot goes to the first of its queue while the server is killed.
      const released = holders.filter((_, i) => i % LIMIT === 0);
      await Promise.all(released.map((h) => http.post(`/executions/${h.id}/cancel`)));
      await proc.kill();

      proc = await startServerProcess({ dataDir: data, machinesDir: machines, sync: 'normal' });
      http = api(proc.url);
      await pollUntil(async () => ((await http.get('/ready')).status === 200 ? true : undefined), 'ready');
      for (const h of holders.filter((h) => !released.includes(h))) expect((await http.post(`/executions/${h.id}/cancel`)).status).toBe(202);
      await pollUntil(async () => {
        const open = await http.get('/executions', { query: { workflow: 'keyed', status: 'queued,pending,running,waiting,paused', limit: 1 } });
        return open.body.items.length === 0 ? true : undefined;
      }, 'every queued execution finished', 60_000);

      // None lost: each acknowledged start completed, its events without gap.
      const history = new Map<string, Event[]>();
      await inParallel([...holders, ...queued], 16, async (x) => {
        const res = await http.get(`/executions/${x.id}/events`, { query: { limit: 1000 } });
        const events = res.body.items as Event[];
        expect(events.map((e) => e.seq), x.id).toEqual(events.map((_, i) => i + 1));
        history.set(x.id, events);
      });
      for (const x of queued) {
        const types = (history.get(x.id) ?? []).map((e) => e.type);
        expect(types[0], x.id).toBe('workflow.queued');
        expect(types.filter((t) => t === 'workflow.started'), x.id).toHaveLength(1);
        expect(types[types.length - 1], x.id).toBe('workflow.completed');
      }

      const at = (id: string, pick: (t: string) => boolean): number => Date.parse((history.get(id) ?? []).find((e) => pick(e.type))?.timestamp ?? '');
      for (const key of KEYS) {
        // The same order after the restart as before it: each key's queue started in priority, then creation, order.
        const order = queued.filter((x) => x.key === key).sort((a, b) => b.priority - a.priority || (a.id < b.id ? -1 : 1));
        const startedAt = order.map((x) => at(x.id, (t) => t === 'workflow.started'));
        for (let i = 1; i < startedAt.length; i++) expect(startedAt[i], `${key} #${i}`).toBeGreaterThanOrEqual(startedAt[i - 1] as number);

        // Never more than LIMIT running: the key's starts and ends in time order (an end before a start of the same ms).
        const moves: [number, number][] = [];
        for (const x of [...holders, ...queued].filter((y) => y.key === key)) {
          moves.push([at(x.id, (t) => t === 'workflow.started'), 1]);
          moves.push([at(x.id, (t) => TERMINAL.has(t)), -1]);
        }
        moves.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
        let running = 0;
        let most = 0;
        for (const [, d] of moves) most = Math.max(most, (running += d));
        expect(most, key).toBe(LIMIT);
        expect(running, key).toBe(0);
      }

      // No slot leaked: each key takes LIMIT new holders at once, and queues the next.
      for (const k of KEYS) {
        for (let i = 0; i < LIMIT; i++) expect((await http.post('/executions', { workflow: 'keyed', input: { k, hold: true } })).body.status, k).not.toBe('queued');
        expect((await http.post('/executions', { workflow: 'keyed', input: { k, hold: true } })).body.status, k).toBe('queued');
      }
      expect(await proc.stop()).toBe(0);
    } finally {
      await proc.kill().catch(() => undefined);
      await rm(root, { recursive: true, force: true });
    }
  }, 90_000);
});
