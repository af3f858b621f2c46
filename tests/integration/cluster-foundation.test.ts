/**
 * The foundation of cluster mode (src/cluster): the partition count agreed at creation, partition
 * leases balanced across nodes with fencing and takeover, and a partition's journal on a replicated
 * JetStream stream with expected-sequence fencing. One real 3-server NATS cluster (JetStream, R3)
 * on loopback for the whole file; each node is its own NATS connection, as separate processes would be.
 */
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ClusterError, ClusterErrorCode } from '../../src/cluster/errors.ts';
import { openBucket } from '../../src/cluster/buckets.ts';
import { LEASES_BUCKET, startLeases, type LostReason, type PartitionLeases } from '../../src/cluster/leases.ts';
import { JOURNAL_STREAM, openPartitionJournal } from '../../src/cluster/partition-journal.ts';
import { ensureClusterConfig, partitionKey, partitionOf } from '../../src/cluster/partitions.ts';
import type { CommitBatch } from '../../src/store/types.ts';
import { startClusterNodeProcess, type ClusterNodeProcess } from '../support/cluster-node-process.ts';
import { startNatsCluster, type NatsCluster } from '../support/nats-cluster.ts';
import { pauseProcesses } from '../support/pause-process.ts';
import { pollUntil } from '../support/wait.ts';

const P = 32;
const TTL = 1500;
const REPLICAS = 3;

let cluster: NatsCluster;
const connections: NatsConnection[] = [];
const nodes: PartitionLeases[] = [];
const children: ClusterNodeProcess[] = [];

async function node(id: string): Promise<{ nc: NatsConnection; leases: PartitionLeases }> {
  const nc = await connect({ servers: cluster.urls.split(','), name: id });
  connections.push(nc);
  const leases = await startLeases(nc, { nodeId: id, partitions: P, ttlMs: TTL, replicas: REPLICAS });
  nodes.push(leases);
  return { nc, leases };
}

/** Resolves once `pred` holds, re-checked after every gained/lost event of these nodes. */
function settle(of: readonly PartitionLeases[], pred: () => boolean, what: string, timeoutMs = 6000): Promise<void> {
  return new Promise((resolve, reject) => {
    const offs: (() => void)[] = [];
    const done = (err?: Error) => {
      clearTimeout(timer);
      for (const off of offs) off();
      if (err) reject(err);
      else resolve();
    };
    const check = () => {
      if (pred()) done();
    };
    for (const n of of) {
      n.on('gained', check).on('lost', check);
      offs.push(() => n.off('gained', check).off('lost', check));
    }
    const timer = setTimeout(() => done(new Error(`timed out: ${what}; owned: ${of.map((n) => `${n.nodeId}=${n.owned().length}`).join(' ')}`)), timeoutMs);
    check();
  });
}

/** Every partition owned by exactly one of the nodes, each within one of an even share. */
function balanced(of: readonly PartitionLeases[]): boolean {
  const all = of.flatMap((n) => n.owned());
  const share = P / of.length;
  return all.length === P && new Set(all).size === P && of.every((n) => Math.abs(n.owned().length - share) < 1);
}

function batch(executionId: string, seq: number): CommitBatch {
  return { events: [{ executionId, seq, type: 'workflow.started', ts: 1_700_000_000_000 + seq, stepId: null, data: { n: seq } }], executions: [], snapshots: [] };
}

beforeAll(async () => {
  cluster = await startNatsCluster(3);
}, 20_000);

afterEach(async () => {
  await Promise.all(children.splice(0).map((c) => c.kill()));
  await Promise.all(nodes.splice(0).map((n) => n.close()));
  await Promise.all(connections.splice(0).map((nc) => nc.close().catch(() => undefined)));
});

afterAll(async () => {
  await cluster?.close();
});

describe('partitions', () => {
  it('nodes racing to create the cluster agree on one partition count, which later nodes keep', async () => {
    const ncs = await Promise.all([0, 1, 2].map((i) => connect({ servers: cluster.urls.split(','), name: `config-${i}` })));
    connections.push(...ncs);
    const configs = await Promise.all(ncs.map((nc, i) => ensureClusterConfig(nc, { partitions: [16, 32, 64][i]!, replicas: REPLICAS })));
    const counts = new Set(configs.map((c) => c.partitions));
    expect(counts.size).toBe(1);
    expect([16, 32, 64]).toContain(configs[0]!.partitions);
    const later = await ensureClusterConfig(ncs[0]!, { partitions: 8, replicas: REPLICAS });
    expect(later).toEqual(configs[0]);
    await expect(ensureClusterConfig(ncs[0]!, { partitions: 0 })).rejects.toThrow(RangeError);
  });

  it('partitionOf is a stable hash of the execution id that spreads ids over every partition', () => {
    // Fixed values: a change of hash would move running executions to other partitions.
    expect(partitionOf('ex_01JD8X3Q4K7M2N5P6R8S9T0V1W', 32)).toBe(partitionOf('ex_01JD8X3Q4K7M2N5P6R8S9T0V1W', 32));
    expect(partitionOf('', 32)).toBe(0x811c9dc5 % 32);
    expect(partitionOf('ex_01JD8X3Q4K7M2N5P6R8S9T0V1W', 32)).toMatchInlineSnapshot(`10`);
    const counts = new Array<number>(P).fill(0);
    const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
    for (let i = 0; i < 3200; i++) {
      let ulid = '01JD8X3Q4K';
      for (let j = 0; j < 16; j++) ulid += alphabet[(i * 7919 + j * 104729 + ((i * j) % 31)) % 32];
      counts[partitionOf(`ex_${ulid}`, P)]!++;
    }
    expect(Math.min(...counts)).toBeGreaterThan(50);
    expect(Math.max(...counts)).toBeLessThan(160);
  });
});

describe('leases', () => {
  it('balance across 3 nodes (~P/N each); a closed node releases and the others claim its partitions', async () => {
    const [a, b, c] = await Promise.all(['lb-a', 'lb-b', 'lb-c'].map((id) => node(id)));
    const all = [a!.leases, b!.leases, c!.leases];
    await settle(all, () => balanced(all), 'three nodes balanced');
    // Each node's view of the nodes and owners comes from watches of the buckets: it follows shortly.
    const view = (n: PartitionLeases) => [...n.owners()].map(([p, o]) => `${p}:${o}`).join(',');
    const truth = () => all.flatMap((n) => n.owned().map((p) => [p, n.nodeId] as const)).sort((x, y) => x[0] - y[0]).map(([p, o]) => `${p}:${o}`).join(',');
    const agreed = () => all.every((n) => view(n) === truth() && n.liveNodes().join() === 'lb-a,lb-b,lb-c');
    await pollUntil(async () => (agreed() ? true : undefined), 'every node sees the same nodes and owners', 3000);

    const released: number[] = [];
    c!.leases.on('lost', (p, reason) => released.push(p) && expect(reason).toBe('released'));
    const hadC = c!.leases.owned();
    const gainedAt = new Map<number, number>();
    for (const n of [a!.leases, b!.leases]) n.on('gained', (p) => gainedAt.set(p, Date.now()));
    // When each of C's leases was last written: waiting for expiry, no other node could claim one before this + TTL.
    const writtenAt = c!.leases.leaseTimes();
    await c!.leases.close();
    expect(released.sort((x, y) => x - y)).toEqual(hadC);
    await settle([a!.leases, b!.leases], () => balanced([a!.leases, b!.leases]), 'two nodes balanced after a close');
    expect([...gainedAt.keys()].filter((p) => hadC.includes(p)).sort((x, y) => x - y)).toEqual(hadC);
    // Released leases are deleted, so the others need not wait for them to expire. Measured per lease from its last
    // write (the first claim comes a renewal tick after the close): the whole rebalance, one KV create after another
    // on a loaded CI machine, once took longer than a TTL.
    const soonest = Math.min(...hadC.map((p) => (gainedAt.get(p) as number) - (writtenAt.get(p)?.writtenAt ?? 0)));
    expect(soonest).toBeLessThan(TTL);
  });

  it('a node that stops without releasing loses its leases before the others take them over, within TTL + margin', async () => {
    const [a, b, c] = await Promise.all(['lk-a', 'lk-b', 'lk-c'].map((id) => node(id)));
    const all = [a!.leases, b!.leases, c!.leases];
    await settle(all, () => balanced(all), 'three nodes balanced');
    const victim = c!.leases.owned();
    const lostAt = new Map<number, number>();
    const gainedAt = new Map<number, number>();
    c!.leases.on('lost', (p, reason) => {
      expect(reason).toBe('expired');
      lostAt.set(p, Date.now());
    });
    for (const n of [a!.leases, b!.leases]) n.on('gained', (p) => gainedAt.set(p, Date.now()));

    // Like a SIGKILL seen from NATS: the connection goes, nothing is released.
    const killedAt = Date.now();
    await c!.nc.close();
    await settle([a!.leases, b!.leases, c!.leases], () => balanced([a!.leases, b!.leases]) && c!.leases.owned().length === 0, 'takeover of a dead node', 2 * TTL + 2000);
    const elapsed = Date.now() - killedAt;
    expect(elapsed).toBeLessThan(2 * TTL + 1000);
    expect(elapsed).toBeGreaterThanOrEqual(TTL - 300);
    // Fencing: the dead node gave each partition up (its renewals failed) before anyone else got it.
    for (const p of victim) {
      expect(lostAt.get(p), `partition ${p} lost by the dead node`).toBeDefined();
      expect(gainedAt.get(p), `partition ${p} taken over`).toBeDefined();
      expect(lostAt.get(p)!).toBeLessThanOrEqual(gainedAt.get(p)!);
    }
    expect(a!.leases.liveNodes()).toEqual(['lk-a', 'lk-b']);
  });
  it('a node paused past its leases (SIGSTOP) reports them lost on resume, and its pending append is refused partition_fenced', async () => {
    const paused = await startClusterNodeProcess({ urls: cluster.urls, nodeId: 'ps-a', partitions: P, ttlMs: TTL, replicas: REPLICAS });
    children.push(paused);
    await paused.waitFor(() => paused.owned().size === P, 'the lone process node owns every partition');
    paused.send({ cmd: 'append', partition: 0, n: 1 });
    const first = await paused.waitFor((e) => e.type === 'append' && e.n === 1, 'its first append');
    expect(first.ok).toBe(true);

    paused.pause();
    const { nc, leases } = await node('ps-b');
    await settle([leases], () => leases.owned().length === P, 'takeover of the paused node', 3 * TTL + 2000);
    const successor = await openPartitionJournal(nc, { partition: 0, replicas: REPLICAS });
    expect(successor.lastSeq()).toBe(first.seq);
    const second = await successor.commit(batch('ex_ps-b', 2));

    // Work queued while it was stopped, handled as soon as it runs again.
    paused.send({ cmd: 'append', partition: 0, n: 3 });
    const resumedAt = Date.now();
    paused.resume();
    const refused = await paused.waitFor((e) => e.type === 'append' && e.n === 3, 'the append after the pause');
    expect(refused).toMatchObject({ ok: false, code: 'partition_fenced' });
    // It reports every lease it held lost (and may then rejoin as a fresh node, claiming a new share).
    const lostAfterResume = () => new Set(paused.events.filter((e) => e.type === 'lost' && e.at >= resumedAt).map((e) => e.partition));
    await paused.waitFor(() => lostAfterResume().size === P, 'the resumed node reports every lease lost');
    // Each lease held through the pause is lost as expired or taken: the first loss of each partition. A partition the
    // node gains again once it has rejoined may be given away later to balance the nodes (`released`): not one of these.
    const pauseLoss = new Map<number | undefined, string | undefined>();
    for (const e of paused.events) if (e.type === 'lost' && e.at >= resumedAt && !pauseLoss.has(e.partition)) pauseLoss.set(e.partition, e.reason);
    expect(pauseLoss.size).toBe(P);
    for (const reason of pauseLoss.values()) expect(['expired', 'taken']).toContain(reason);
    const log = [];
    for await (const e of successor.replay(1)) log.push(e.batch.events[0]!.executionId);
    expect(log).toEqual(['ex_ps-a', 'ex_ps-b']);
    expect(second).toBeGreaterThan(first.seq!);
  });

  it('a lease written over behind its owner is lost as taken at the next renewal, the others kept', async () => {
    const { nc, leases } = await node('lt-a');
    await settle([leases], () => leases.owned().length === P, 'a lone node owns every partition');
    const lost = new Promise<[number, LostReason]>((resolve) => leases.once('lost', (p, reason) => resolve([p, reason])));
    const kv = await openBucket(nc, LEASES_BUCKET, { replicas: REPLICAS, ttlMs: TTL });
    await kv.put(partitionKey(3), 'intruder');
    expect(await lost).toEqual([3, 'taken']);
    expect(leases.owned()).toHaveLength(P - 1);
    await pollUntil(async () => (leases.owners().get(3) === 'intruder' ? true : undefined), 'the owners view shows the new holder', 2000);
  });

  it('refuses node ids that are not one KV token and timings that leave no room to renew', async () => {
    const nc = await connect({ servers: cluster.urls.split(','), name: 'bad-options' });
    connections.push(nc);
    await expect(startLeases(nc, { nodeId: 'a.b', partitions: P })).rejects.toThrow(RangeError);
    await expect(startLeases(nc, { nodeId: 'ok', partitions: P, ttlMs: 1000, renewMs: 600 })).rejects.toThrow(/renewMs/);
  });
});

describe('partition journal', () => {
  it("fences a deposed owner: after another owner appended, the old owner's append fails partition_fenced", async () => {
    const [ncA, ncB] = await Promise.all(['j-a', 'j-b'].map((name) => connect({ servers: cluster.urls.split(','), name })));
    connections.push(ncA!, ncB!);
    const old = await openPartitionJournal(ncA!, { partition: 5, replicas: REPLICAS });
    expect(old.lastSeq()).toBe(0);
    const s1 = await old.commit(batch('ex_a', 1));
    const s2 = await old.commit(batch('ex_a', 2));
    expect(s2).toBeGreaterThan(s1);

    const next = await openPartitionJournal(ncB!, { partition: 5, replicas: REPLICAS });
    expect(next.lastSeq()).toBe(s2);
    const s3 = await next.commit(batch('ex_a', 3));

    const refused = await old.append(batch('ex_a', 99)).then(() => undefined, (e: unknown) => e);
    expect(refused).toBeInstanceOf(ClusterError);
    expect((refused as ClusterError).code).toBe(ClusterErrorCode.partitionFenced);
    expect((refused as ClusterError).partition).toBe(5);
    // Once fenced, always fenced: the writer must be reopened by a new owner, never reused.
    await expect(old.append(batch('ex_a', 100))).rejects.toMatchObject({ code: 'partition_fenced' });

    const replayed = [];
    for await (const e of next.replay(1)) replayed.push(e);
    expect(replayed.map((e) => e.seq)).toEqual([s1, s2, s3]);
    expect(replayed.map((e) => e.batch.events[0]!.seq)).toEqual([1, 2, 3]);
    expect(replayed[2]!.batch).toEqual(batch('ex_a', 3));

    // Other partitions share the stream, not the sequence check.
    const other = await openPartitionJournal(ncA!, { partition: 6, replicas: REPLICAS });
    await expect(other.commit(batch('ex_b', 1))).resolves.toBeGreaterThan(s3);
    const onlySix = [];
    for await (const e of other.replay(1)) onlySix.push(e.batch.events[0]!.executionId);
    expect(onlySix).toEqual(['ex_b']);
  });

  it('snapshots carry the sequence they cover; a new owner loads the latest and replays the rest', async () => {
    const nc = await connect({ servers: cluster.urls.split(','), name: 'snap' });
    connections.push(nc);
    const owner = await openPartitionJournal(nc, { partition: 9, replicas: REPLICAS });
    expect(await owner.loadSnapshot()).toBeUndefined();
    const seqs = [];
    for (let i = 1; i <= 4; i++) seqs.push(await owner.commit(batch('ex_s', i)));
    expect(await owner.saveSnapshot(seqs[2]!, { executions: ['ex_s'], upTo: 3 })).toBe(true);
    // An older snapshot (e.g. from a deposed owner) never replaces a newer one.
    expect(await owner.saveSnapshot(seqs[1]!, { upTo: 2 })).toBe(false);

    const successor = await openPartitionJournal(nc, { partition: 9, replicas: REPLICAS });
    const snap = await successor.loadSnapshot<{ upTo: number }>();
    expect(snap?.coversSeq).toBe(seqs[2]);
    expect(snap?.state.upTo).toBe(3);
    const rest = [];
    for await (const e of successor.replay(snap!.coversSeq + 1)) rest.push(e.batch.events[0]!.seq);
    expect(rest).toEqual([4]);
    const none = [];
    for await (const e of successor.replay(seqs[3]! + 1)) none.push(e);
    expect(none).toEqual([]);
  });

  it('an append without a connection fails journal_unavailable (retryable), not fenced', async () => {
    const nc = await connect({ servers: cluster.urls.split(','), name: 'gone' });
    const j = await openPartitionJournal(nc, { partition: 10, replicas: REPLICAS, appendTimeoutMs: 500 });
    await nc.close();
    const err = await j.append(batch('ex_g', 1)).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(ClusterError);
    expect(err).toMatchObject({ code: ClusterErrorCode.journalUnavailable, retryable: true, partition: 10 });
  });

  it('a commit whose ack never came leaves its outcome unknown: the writer refuses more until the journal is reopened', async () => {
    const nc = await connect({ servers: cluster.urls.split(','), name: 'indeterminate' });
    connections.push(nc);
    const j = await openPartitionJournal(nc, { partition: 12, replicas: REPLICAS, appendTimeoutMs: 400 });
    const first = await j.commit(batch('ex_u', 1));
    // Every server stopped: the publish may sit in a socket buffer and land once they run again.
    let lost: unknown;
    try {
      await pauseProcesses(cluster.servers.map((s) => s.process()!));
      lost = await j.append(batch('ex_u', 2)).then(() => undefined, (e: unknown) => e);
    } finally {
      for (const s of cluster.servers) s.process()!.kill('SIGCONT');
    }
    expect(lost).toMatchObject({ code: ClusterErrorCode.journalUnavailable, retryable: true });
    await expect(j.append(batch('ex_u', 3))).rejects.toBe(lost);
    await expect(j.saveSnapshot(first, {})).rejects.toBe(lost);

    const reopened = await openPartitionJournal(nc, { partition: 12, replicas: REPLICAS });
    expect(reopened.lastSeq()).toBeGreaterThanOrEqual(first);
    await reopened.commit(batch('ex_u', 4));
    const log = [];
    for await (const e of reopened.replay(first)) log.push(e.batch.events[0]!.seq);
    // Commit 2 is there or not (unknown to its writer), never twice; commit 3 was never sent.
    expect([[1, 4], [1, 2, 4]]).toContainEqual(log);
  });

  it('on an R3 stream, appends keep working with one nats-server killed', async () => {
    const nc = await connect({ servers: cluster.urls.split(','), name: 'r3', reconnectTimeWait: 100 });
    connections.push(nc);
    const j = await openPartitionJournal(nc, { partition: 11, replicas: REPLICAS });
    const first = await j.commit(batch('ex_r', 1));
    const info = await (await jetstreamManager(nc)).streams.info(JOURNAL_STREAM);
    expect(info.config.num_replicas).toBe(3);
    // A server that leads neither the stream nor JetStream's meta group: losing a leader costs a Raft
    // election of several seconds, beyond this file's budget.
    const meta = await cluster.metaLeader();
    const victim = ['n0', 'n1', 'n2'].find((n) => n !== info.cluster?.leader && n !== meta);
    expect(victim).toBeDefined();
    expect(info.cluster?.replicas?.map((r) => r.name)).toContain(victim);
    await cluster.byName(victim!).kill();

    const after = [];
    for (let i = 2; i <= 4; i++) after.push(await j.commit(batch('ex_r', i)));
    expect(after[0]).toBeGreaterThan(first);
    const seen = [];
    for await (const e of j.replay(first)) seen.push(e.batch.events[0]!.seq);
    expect(seen).toEqual([1, 2, 3, 4]);
  });
});
