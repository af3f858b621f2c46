/**
 * Read-model snapshots and journal compaction (issue 18) on a real 3-server NATS cluster (R3) with real
 * engine nodes: the partition-0 owner stores a copy of its SQLite read model with the positions it covers
 * and purges each partition's subject below them; a node joining with an empty data dir loads the copy and
 * catches up from the stream; a node that was down through a compaction notices (its position is below the
 * subject's first sequence) and loads the copy again instead of skipping commits.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { jetstreamManager, type JetStreamManager, type MsgRequest } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JOURNAL_STREAM, journalSubject } from '../../src/cluster/partition-journal.ts';
import { latestManifest } from '../../src/cluster/read-model-snapshots.ts';
import { api } from '../support/http.ts';
import { startNatsCluster, type NatsCluster } from '../support/nats-cluster.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { pollUntil } from '../support/wait.ts';

const P = 4;
const GATE = `
name: gate
steps:
  - { id: first, type: task, agent: echo, input: "$.input" }
  - { id: go, type: wait, signal: go }
  - { id: last, type: task, agent: echo, input: { done: "$.input.n" } }
`;
/** Small enough that a test's few hundred commits compact. */
const MARGIN = 5;

let nats: NatsCluster;
let dir = '';
let nc: NatsConnection;
let jsm: JetStreamManager;
const servers = new Set<TestServer>();
const ids: string[] = [];

async function node(id: string, dataDir?: string): Promise<TestServer> {
  const s = await startTestServer({
    natsUrl: nats.urls,
    machinesDir: join(dir, 'machines'),
    ...(dataDir === undefined ? {} : { dataDir }),
    cluster: { nodeId: id, partitions: P, replicas: 3, leaseTtlMs: 2000, snapshots: { intervalMs: 500, minCommits: 1, compactMargin: MARGIN } },
  });
  servers.add(s);
  return s;
}

async function stop(s: TestServer): Promise<void> {
  await s.close();
  servers.delete(s);
}

async function settled(of: readonly TestServer[]): Promise<void> {
  await pollUntil(async () => {
    const all = (await Promise.all(of.map(async (s) => (await api(s.url).get('/cluster')).body.serving as number[]))).flat();
    return all.length === P && new Set(all).size === P ? true : undefined;
  }, `every partition served once by ${of.length} node(s)`, 20_000, 50);
}

/** Starts `n` executions through `vias` in turn (each starts in its own partitions), signals every other one (they complete); all ids are kept. */
async function work(vias: readonly TestServer[], n: number): Promise<void> {
  const started: string[] = [];
  const via = vias[0] as TestServer;
  for (let i = 0; i < n; i++) {
    const r = await api((vias[i % vias.length] as TestServer).url).post('/executions', { workflow: 'gate', input: { n: ids.length + i } });
    expect(r.status).toBe(201);
    started.push(r.body.id as string);
  }
  for (const [i, id] of started.entries()) {
    if (i % 2 === 1) continue;
    await pollUntil(async () => {
      const r = await api(via.url).post(`/executions/${id}/signals/go`, {});
      return r.status === 202 ? true : undefined;
    }, `signal of ${id}`, 10_000, 50);
  }
  ids.push(...started);
}

/** The first commit of each partition's subject still in the stream. */
async function firstSeqs(): Promise<number[]> {
  return Promise.all(
    Array.from({ length: P }, async (_, p) => (await jsm.streams.getMessage(JOURNAL_STREAM, { seq: 1, next_by_subj: journalSubject(p) } as unknown as MsgRequest))?.seq ?? 0),
  );
}

/** Every execution reads the same on `b` as on `a`: the view and the whole event history. */
async function sameEverywhere(a: TestServer, b: TestServer): Promise<void> {
  for (const id of ids) {
    // What each node last answered: a timeout says whether one lagged, or stayed apart (and each one's journal position).
    let seen = '';
    try {
      await pollUntil(async () => {
        const [xa, xb] = await Promise.all([api(a.url).get(`/executions/${id}`), api(b.url).get(`/executions/${id}`)]);
        seen = `${xa.status} lastSeq ${String(xa.body?.lastSeq)} / ${xb.status} lastSeq ${String(xb.body?.lastSeq)}`;
        if (xa.status !== 200 || xb.status !== 200 || xa.body.lastSeq !== xb.body.lastSeq) return undefined;
        const [ea, eb] = await Promise.all([api(a.url).get(`/executions/${id}/events`, { query: { limit: 100 } }), api(b.url).get(`/executions/${id}/events`, { query: { limit: 100 } })]);
        expect(xb.body).toEqual(xa.body);
        expect(eb.body.items).toEqual(ea.body.items);
        expect(ea.body.items.length).toBe(xa.body.lastSeq);
        return true;
      }, `${id} the same on both nodes`, 40_000, 50);
    } catch (err) {
      const lag = await Promise.all([a, b].map(async (n) => JSON.stringify((await api(n.url).get('/status')).body?.cluster?.journalLag ?? null)));
      throw new Error(`${String(err)}; last answers ${seen}; journal lag ${lag.join(' / ')}`, { cause: err });
    }
  }
}

/** Waits for a snapshot taken after `since` and a compaction after which the subjects' first sequences satisfy `done`. */
async function compactedPast(since: number, done: (firsts: number[]) => boolean): Promise<number[]> {
  return pollUntil(async () => {
    const m = await latestManifest(jsm);
    if (m === undefined || m.takenAt < since) return undefined;
    const firsts = await firstSeqs();
    return done(firsts) ? firsts : undefined;
  }, 'a snapshot and a compaction', 20_000, 100);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'actorflow-cluster-snapshots-'));
  await mkdir(join(dir, 'machines'));
  await writeFile(join(dir, 'machines', 'gate.yaml'), GATE);
  nats = await startNatsCluster(3);
  nc = await connect({ servers: nats.urls.split(',') });
  jsm = await jetstreamManager(nc);
}, 60_000);

afterAll(async () => {
  for (const s of servers) await s.close().catch(() => undefined);
  await nc?.close();
  await nats?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('read-model snapshots and journal compaction', () => {
  let a: TestServer;
  let b: TestServer;
  const cDir = () => join(dir, 'node-c');

  it('a node joining with an empty data dir after a compaction loads the snapshot and agrees with the others', async () => {
    a = await node('node-a');
    b = await node('node-b');
    await settled([a, b]);
    const before = Date.now();
    await work([a, b], 40);
    // Every subject lost its first commits: a node replaying from sequence 1 could not rebuild them.
    const firsts = await compactedPast(before, (f) => f.every((seq) => seq > 1));
    expect(Math.min(...firsts)).toBeGreaterThan(1);
    const manifest = await latestManifest(jsm);
    expect(manifest?.bytes).toBeGreaterThan(0);

    await mkdir(cDir());
    const began = Date.now();
    const c = await node('node-c', cDir());
    const joinMs = Date.now() - began;
    await settled([a, b, c]);
    await sameEverywhere(a, c);
    console.info(`snapshot: ${manifest?.bytes} bytes in ${manifest?.chunks} chunk(s) for ${ids.length} executions; node-c started in ${joinMs} ms`);
  }, 120_000);

  it('a node down through a compaction re-bootstraps from the snapshot on restart instead of skipping commits', async () => {
    const c = [...servers].find((s) => s.dataDir === cDir()) as TestServer;
    await stop(c);
    await settled([a, b]);
    const db = new Database(join(cDir(), 'actorflow.db'), { readonly: true });
    const stopped = new Map((db.prepare('SELECT partition, seq FROM journal_positions WHERE partition >= 0').all() as { partition: number; seq: number }[]).map((r) => [r.partition, r.seq]));
    db.close();
    const before = Date.now();
    await work([a, b], 60);
    // Some partition's commits after node-c's position are gone from the stream: it must not resume from there.
    await compactedPast(before, (f) => f.some((seq, p) => seq > (stopped.get(p) ?? 0) + 1));

    const again = await node('node-c', cDir());
    await settled([a, b, again]);
    await sameEverywhere(a, again);
    // The stale file was moved aside (never deleted), replaced by the snapshot.
    expect((await readdir(cDir())).some((f) => f.startsWith('actorflow.db.replaced-'))).toBe(true);
    expect(existsSync(join(cDir(), 'actorflow.db'))).toBe(true);
  }, 120_000);
});
