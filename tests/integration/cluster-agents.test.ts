/**
 * NATS agents in cluster mode, two nodes in this process on a real nats-server: each task names its
 * partition's results subject (`<prefix>.results.<partition>`), which only the node serving the partition
 * listens to. A result reaches the owner even when the partition moved while the agent ran; an agent that
 * ignores `resultSubject` (written before it existed) still works, its result relayed from the shared
 * subject to the owner; a result sent again is answered and applied once.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent, type Agent } from '../../src/agents/create-agent.ts';
import { subjects } from '../../src/bus/nats/subjects.ts';
import type { TaskMessage, TaskResult } from '../../src/bus/types.ts';
import { partitionOf } from '../../src/cluster/partitions.ts';
import { msgpackCodec as codec } from '../../src/common/codec.ts';
import { allServed, expectCompleted } from '../support/cluster-load.ts';
import { api } from '../support/http.ts';
import { startNatsServer, type NatsServer } from '../support/nats.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { pollUntil } from '../support/wait.ts';

const P = 4;
const s = subjects();
const HELD = `
name: held
steps:
  - { id: work, type: task, agent: held, input: "$.input" }
`;
const LEGACY = `
name: legacy
steps:
  - { id: work, type: task, agent: legacy, input: "$.input" }
`;

let nats: NatsServer;
let nc: NatsConnection;
let dir = '';
const nodes: TestServer[] = [];
let agent: Agent;
/** Tasks the SDK agent holds: released by the test. */
const held = new Map<string, { task: string; release: () => void }>();
/** Every task the SDK agent received, as sent on the wire (observed on the direct and queue subjects). */
const seen: TaskMessage[] = [];

const node = async (id: string) => {
  const n = await startTestServer({ natsUrl: nats.url, machinesDir: join(dir, 'machines'), builtinAgents: false, cluster: { nodeId: id, partitions: P, replicas: 1, leaseTtlMs: 2000 } });
  nodes.push(n);
  return n;
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'actorflow-cluster-agents-'));
  await mkdir(join(dir, 'machines'));
  await writeFile(join(dir, 'machines', 'held.yaml'), HELD);
  await writeFile(join(dir, 'machines', 'legacy.yaml'), LEGACY);
  nats = await startNatsServer();
  nc = await connect({ servers: nats.url });
  nc.subscribe(s.directAll, { callback: (_e, m) => void seen.push(codec.decode<TaskMessage>(m.data)) });
  nc.subscribe(s.tasksAll, { callback: (_e, m) => void seen.push(codec.decode<TaskMessage>(m.data)) });
  await node('node-a');
  await node('node-b');
  await allServed(nodes.map((n) => n.url), P, 20_000);
  agent = await createAgent({
    natsUrl: nats.url,
    kinds: ['held'],
    name: 'held-agent',
    handler: (ctx) => new Promise((resolve) => held.set(ctx.executionId, { task: `${ctx.stepId}#${ctx.attempt}`, release: () => resolve({ ran: ctx.executionId }) })),
  });
}, 60_000);

afterAll(async () => {
  for (const h of held.values()) h.release();
  await agent?.close().catch(() => undefined);
  for (const n of nodes) await n.close().catch(() => undefined);
  await nc?.close();
  await nats?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A `held` execution started on `n`, once the agent holds its task. */
async function startHeld(n: TestServer, input: unknown): Promise<string> {
  const r = await api(n.url).post('/executions', { workflow: 'held', input });
  expect(r.status).toBe(201);
  const id = r.body.id as string;
  await pollUntil(async () => (held.has(id) ? true : undefined), `${id} held by the agent`, 10_000);
  return id;
}

describe('NATS agents in cluster mode', () => {
  it('each task names its partition results subject, and the result reaches the owner after the partition moved', async () => {
    const [a, b] = nodes as [TestServer, TestServer];
    const onA = (await api(a.url).get('/cluster')).body.serving as number[];
    const ids = [await startHeld(a, { n: 1 }), await startHeld(a, { n: 2 }), await startHeld(b, { n: 3 })];
    for (const id of ids) {
      const task = seen.find((t) => t.executionId === id);
      expect(task?.resultSubject, id).toBe(s.resultsOf(partitionOf(id, P)));
    }
    expect(onA).toContain(partitionOf(ids[0] as string, P));

    // Node a leaves while the agent runs its tasks: b takes every partition over.
    await a.close();
    nodes.shift();
    await allServed([b.url], P, 20_000);
    for (const h of held.values()) h.release();
    const histories = await expectCompleted(b.url, ids, 20_000);
    for (const [id, events] of histories) {
      const done = events.filter((e) => e.type === 'workflow.step.completed');
      expect(done.map((e) => [e.stepId, e.data.attempt, e.data.agentId]), id).toEqual([['work', 1, agent.id]]);
      expect((await api(b.url).get(`/executions/${id}`)).body.output).toEqual({ ran: id });
    }
  });

  it('a result sent again (same attempt) is answered and applied once', async () => {
    const b = nodes[0] as TestServer;
    const id = await startHeld(b, { n: 4 });
    held.get(id)?.release();
    const [first] = [...(await expectCompleted(b.url, [id])).values()];
    const again: TaskResult = { taskId: `${id}:work:1`, executionId: id, stepId: 'work', attempt: 1, agentId: agent.id, ok: true, output: { forged: true }, costs: [], durationMs: 1 };
    const reply = codec.decode<{ ok: boolean }>((await nc.request(s.resultsOf(partitionOf(id, P)), codec.encode(again), { timeout: 5000 })).data);
    expect(reply).toEqual({ ok: true });
    const [after] = [...(await expectCompleted(b.url, [id])).values()];
    expect(after).toEqual(first);
    expect((await api(b.url).get(`/executions/${id}`)).body.output).toEqual({ ran: id });
  });

  it('an agent that ignores resultSubject (an older one) reports on the shared subject: relayed to the owner', async () => {
    // A second node again, so that the shared subject's queue group may hand a result to a node that does not own it.
    const c = await node('node-c');
    await allServed(nodes.map((n) => n.url), P, 20_000, 1);
    const jsm = await jetstreamManager(nc);
    const durable = s.durable('legacy');
    await jsm.consumers.add(s.stream, { durable_name: durable, filter_subject: s.kindFilter('legacy'), ack_policy: AckPolicy.Explicit, ack_wait: 10_000_000_000, max_deliver: -1 });
    const consumer = await jetstream(nc).consumers.get(s.stream, durable);
    const urls = nodes.map((n) => n.url);
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) ids.push((await api(urls[i % urls.length] as string).post('/executions', { workflow: 'legacy', input: { i } })).body.id as string);
    const parts = new Set(ids.map((id) => partitionOf(id, P)));
    expect(parts.size).toBeGreaterThan(1);
    // The protocol's minimum agent, from before resultSubject: pull, report on `<p>.results`, ack after the answer.
    for (let done = 0; done < ids.length; ) {
      const m = await consumer.next({ expires: 5000 });
      if (m === null) continue;
      const t = codec.decode<TaskMessage>(m.data);
      const r: TaskResult = { taskId: t.taskId, executionId: t.executionId, stepId: t.stepId, attempt: t.attempt, agentId: 'legacy-agent', ok: true, output: { legacy: t.input }, costs: [], durationMs: 0 };
      const answer = codec.decode<{ ok: boolean }>((await nc.request(s.results, codec.encode(r), { timeout: 5000 })).data);
      expect(answer).toEqual({ ok: true });
      m.ack();
      done++;
    }
    const histories = await expectCompleted(c.url, ids, 20_000);
    for (const [id, events] of histories) expect(events.filter((e) => e.type === 'workflow.step.completed').map((e) => e.data.agentId), id).toEqual(['legacy-agent']);
  });
});
