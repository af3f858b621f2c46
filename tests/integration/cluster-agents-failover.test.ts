/**
 * Cluster failures with NATS agents, all real processes: 3 nats-server processes (JetStream, R3), 3 engine
 * nodes (`actorflow serve --cluster --no-builtin-agents`) and 2 agent processes (`actorflow agent`) that
 * run every task step. Under a steady load of starts, signals, sleeps and agent steps: SIGKILL one engine
 * node (its partitions are served again, the agent results of its executions reach the new owners), then
 * SIGKILL one nats-server (R3 keeps serving), then restart both. At the end every acknowledged start has
 * completed, every history is gap-free, no attempt's result was applied twice, every event is in the
 * journal stream once, and every task step was run by an agent process. Streams follow an execution
 * across its owner's death: SSE resumed on another node by `Last-Event-ID`, WebSocket by `since`, and a
 * WebSocket on a surviving node without reconnecting, each with every event exactly once.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partitionOf } from '../../src/cluster/partitions.ts';
import { startAgentProcess, type AgentProcess } from '../support/agent-process.ts';
import { allServed, clusterOf, expectCompleted, expectJournalOnce, pick, signalGo, sleep, startLoad, tryReq, type Load } from '../support/cluster-load.ts';
import { api } from '../support/http.ts';
import { startNatsCluster, type NatsCluster } from '../support/nats-cluster.ts';
import { startServerProcess, type ServerProcess } from '../support/process.ts';
import { dataOf, openSse, type SseClient } from '../support/sse-client.ts';
import { connectWs, range, seqs, type WsClient } from '../support/ws-client.ts';
import { pollUntil } from '../support/wait.ts';

const P = 12;
const TTL = 3000;
/** Every task step goes to the agent processes: two quick ones around a signal, a durable sleep, and a slower agent step. */
const RELAY = `
name: relay
steps:
  - { id: first, type: task, agent: echo, input: "$.input" }
  - { id: go, type: wait, signal: go }
  - { id: nap, type: sleep, ms: 200 }
  - { id: work, type: task, agent: sleep, input: { ms: 300 } }
  - { id: last, type: task, agent: echo, input: { done: "$.input.n" } }
`;
const TASK_STEPS = ['first', 'work', 'last'];
const ENDED = (type: string) => type === 'workflow.completed' || type === 'workflow.failed';

let nats: NatsCluster;
let nc: NatsConnection;
let jsm: JetStreamManager;
let dir = '';
const nodes: ServerProcess[] = [];
const agents: AgentProcess[] = [];
let alive: string[] = [];
let load: Load;
/** Executions started outside the load (probes); checked with it at the end. */
const probes: string[] = [];

/** Three nodes starting together on a loaded 2-core machine, or one whose read model is far behind, may take past the helper's 20 s. */
const startNode = (i: number) =>
  startServerProcess({
    startTimeoutMs: 45_000,
    dataDir: join(dir, `node-${i}`),
    machinesDir: join(dir, 'machines'),
    sync: 'normal',
    nats: nats.urls,
    builtinAgents: false,
    extraArgs: ['--cluster', '--node-id', `node-${i}`],
    env: { ACTORFLOW_CLUSTER_PARTITIONS: String(P), ACTORFLOW_LEASE_TTL_MS: String(TTL), ACTORFLOW_FORWARD_DEADLINE_MS: '1000' },
  });

const status = async (url: string, id: string) => (await tryReq(() => api(url).get(`/executions/${id}`)))?.body as { status: string; lastSeq: number } | undefined;

/** Starts `relay` on `url` until one is acknowledged there, and waits for it to wait for its signal (its first agent step done). */
async function probe(url: string, n: number): Promise<string> {
  const id = await pollUntil(async () => {
    const r = await tryReq(() => api(url).post('/executions', { workflow: 'relay', input: { probe: n } }));
    return r?.status === 201 ? (r.body.id as string) : undefined;
  }, `probe ${n} started on ${url}`, 10_000, 50);
  probes.push(id);
  await pollUntil(async () => ((await status(url, id))?.status === 'waiting' ? true : undefined), `probe ${id} waiting`, 15_000, 25);
  return id;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'actorflow-cluster-agents-'));
  await mkdir(join(dir, 'machines'));
  await writeFile(join(dir, 'machines', 'relay.yaml'), RELAY);
  nats = await startNatsCluster(3);
  nc = await connect({ servers: nats.urls.split(',') });
  jsm = await jetstreamManager(nc);
  nodes.push(...(await Promise.all([1, 2, 3].map(startNode))));
  // After the nodes: they create the task queue with 3 replicas.
  agents.push(...(await Promise.all([1, 2].map((i) => startAgentProcess({ natsUrl: nats.urls, kinds: ['echo', 'sleep'], concurrency: 32, name: `cluster-agent-${i}` })))));
  alive = nodes.map((n) => n.url);
  await allServed(alive, P, 30_000);
  expect((await jsm.streams.info('ACTORFLOW_TASKS')).config.num_replicas).toBe(3);
  load = startLoad(() => alive, 3, 'relay', 20);
  await load.more(20, 'before any failure', 40_000);
}, 90_000);

afterAll(async () => {
  // A test that failed may leave the load failing too: the processes must go whatever it says.
  await load?.stop().catch(() => undefined);
  for (const a of agents) await a.kill();
  for (const n of nodes) await n.kill();
  await nc?.close();
  await nats?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('cluster with NATS agents: engine node and nats-server failures', () => {
  it('SIGKILL of an engine node: agent results of its executions reach the new owners, streams resume on other nodes', async () => {
    const [victim, ...survivors] = nodes as [ServerProcess, ServerProcess, ServerProcess];
    const victimParts = (await clusterOf(victim.url)).serving;
    // Waiting on the victim's partitions: their signals after the kill measure when the partitions are back.
    const waiting = [await probe(victim.url, 1), await probe(victim.url, 2)];
    // In flight at the kill: signalled, so their sleep and agent steps run across the failover.
    const inflight = [await probe(victim.url, 3), await probe(victim.url, 4), await probe(victim.url, 5)];
    for (const id of [...waiting, ...inflight]) expect(victimParts).toContain(partitionOf(id, P));
    const [sseId, wsId, watchedId] = inflight as [string, string, string];
    // SSE and WebSocket on the victim, and a WebSocket on a survivor that must not notice the failover.
    const sse = await openSse(`${victim.url}/api/v1/executions/${sseId}/stream`);
    const ws = await connectWs(victim.url);
    const watcher = await connectWs(survivors[0].url);
    ws.send({ op: 'subscribe', id: 'w', executionId: wsId });
    watcher.send({ op: 'subscribe', id: 'w', executionId: watchedId });
    await ws.waitFor((f) => f.op === 'ack' && f.id === 'w');
    await watcher.waitFor((f) => f.op === 'ack' && f.id === 'w');
    await sse.until((c) => c.frames.length > 0);
    for (const id of inflight) expect((await api(victim.url).post(`/executions/${id}/signals/go`, {})).status).toBe(202);
    // The signals' events reached the streams: what follows is the failover's.
    await sse.until((c) => dataOf(c.frames).some((e) => e.type === 'workflow.signal.received'));
    await ws.waitEvent('w', (e) => e.type === 'workflow.signal.received');

    alive = survivors.map((n) => n.url);
    const killedAt = Date.now();
    await victim.kill();

    let firstServed: number | undefined;
    for (const id of waiting) {
      while ((await tryReq(() => api(pick(alive)).post(`/executions/${id}/signals/go`, {})))?.status !== 202) {
        expect(Date.now() - killedAt, `signal of ${id}`).toBeLessThan(TTL + 20_000);
        await sleep(50);
      }
      firstServed ??= Date.now();
    }
    const allServedAt = await allServed(alive, P, TTL + 20_000);
    // The agent steps that were in flight end on the new owners.
    for (const id of inflight) await pollUntil(async () => ((await status(alive[0] as string, id))?.status === 'completed' ? true : undefined), `${id} completed after the failover`, 30_000, 25);
    const inflightDoneAt = Date.now();

    // SSE resumed on another node from the last id it got: the rest of the history, each event once.
    const lastId = sse.frames.at(-1)?.id as string;
    const resumed: SseClient = await openSse(`${survivors[1].url}/api/v1/executions/${sseId}/stream`, { 'last-event-id': lastId });
    await resumed.until((c) => dataOf(c.frames).some((e) => ENDED(e.type)), 20_000);
    const sseSeqs = [...dataOf(sse.frames), ...dataOf(resumed.frames)].map((e) => e.seq as number);
    const sseLast = (await status(alive[0] as string, sseId))?.lastSeq as number;
    expect(sseSeqs).toEqual(range(1, sseLast));
    // WebSocket resumed by `since` on another node.
    const wsSince = ws.events('w').at(-1)?.seq as number;
    const again: WsClient = await connectWs(survivors[1].url);
    again.send({ op: 'subscribe', id: 'w', executionId: wsId, since: wsSince });
    await again.waitEvent('w', (e) => ENDED(e.type));
    expect([...seqs(ws.events('w')), ...seqs(again.events('w'))]).toEqual(range(1, (await status(alive[0] as string, wsId))?.lastSeq as number));
    // The survivor's WebSocket went on through the failover.
    await watcher.waitEvent('w', (e) => ENDED(e.type));
    expect(seqs(watcher.events('w'))).toEqual(range(1, (await status(alive[0] as string, watchedId))?.lastSeq as number));
    await Promise.all([again.close(), watcher.close()]);

    await load.more(15, 'after the engine node failover');
    process.stdout.write(
      `cluster failover with NATS agents (lease TTL ${TTL} ms, ${P} partitions): signal served on a moved partition ${(firstServed as number) - killedAt} ms after SIGKILL, ` +
        `every partition served ${allServedAt - killedAt} ms after, agent steps in flight at the kill completed ${inflightDoneAt - killedAt} ms after\n`,
    );
    expect((firstServed as number) - killedAt).toBeLessThan(TTL + 10_000);
    expect(load.unexpected).toEqual([]);
  }, 90_000);

  it('SIGKILL of a nats-server: the cluster keeps serving (R3)', async () => {
    const leader = await nats.metaLeader();
    const killedAt = Date.now();
    await nats.byName(leader).kill();
    await load.more(20, 'with a nats-server down', 40_000);
    // Agent steps dispatched after the kill complete too.
    const id = await probe(pick(alive), 6);
    await signalGo(id, () => alive, Date.now() + 20_000);
    await pollUntil(async () => ((await status(alive[0] as string, id))?.status === 'completed' ? true : undefined), `${id} completed with a nats-server down`, 30_000, 25);
    process.stdout.write(`cluster with NATS agents, JetStream meta leader ${leader} SIGKILLed: 20 more starts acknowledged and an agent flow completed ${Date.now() - killedAt} ms after\n`);
    expect(load.unexpected).toEqual([]);
  }, 90_000);

  it('both restarted: the node rejoins, and every acknowledged start has completed exactly once with agent-run steps', async () => {
    // The node first, on its data dir, while two servers serve (a quorum); then the server, on its store.
    const restartedAt = Date.now();
    // Its read model is behind by everything the load did meanwhile, and one server is still down.
    nodes[0] = await startNode(1);
    const rejoinMs = Date.now() - restartedAt;
    await Promise.all(nats.servers.filter((s) => !s.running()).map((s) => s.restart()));
    alive = nodes.map((n) => n.url);
    await allServed(alive, P, 30_000, 3);
    await load.more(15, 'after the restarts');
    await load.stop();
    expect(load.unexpected).toEqual([]);

    const histories = await expectCompleted(alive[1] as string, [...load.acked, ...probes]);
    const agentIds = new Set(agents.map((a) => a.id));
    for (const [id, events] of histories) {
      const done = events.filter((e) => e.type === 'workflow.step.completed' && TASK_STEPS.includes(e.stepId as string));
      expect(done.map((e) => e.stepId).sort(), id).toEqual([...TASK_STEPS].sort());
      for (const e of done) expect(agentIds, `${id} ${e.stepId}`).toContain(e.data.agentId);
    }
    // The restarted node's read model caught up with what the others wrote meanwhile.
    await expectCompleted(alive[0] as string, probes);
    await expectJournalOnce(jsm, P);
    process.stdout.write(`cluster with NATS agents: killed node listening again ${rejoinMs} ms after its restart; ${load.acked.length} acknowledged starts and ${probes.length} probes completed, each task step by an agent process\n`);
  }, 90_000);
});
