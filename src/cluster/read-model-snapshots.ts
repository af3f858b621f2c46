/**
 * @module cluster/read-model-snapshots — copies of a node's whole read model (its SQLite file) kept in
 * JetStream, so the journal stream can be compacted and a node with an empty or stale store starts from
 * a copy instead of sequence 1.
 *
 * - take: a consistent copy of the store file from the store itself (ReadModelFiles: SQLite's `VACUUM INTO` in a
 *   worker, journal_positions included, node-local rows removed), cut into chunks on `actorflow.read-model.chunks.<id>`,
 *   then a manifest on `actorflow.read-model.manifest` naming them with the positions the copy covers.
 *   The manifest goes last: a copy is only ever seen whole. Older copies are purged after it.
 * - compact: per partition subject, purge the journal below (position a copy covers − margin). The subject's
 *   last commit always stays, so a writer's expected last sequence still holds.
 * - prepare (before the store opens): no file, no positions, or a partition whose first commit still in
 *   the stream is past its position + 1 (the node was away through a compaction): the latest copy
 *   replaces the file (a stale one is moved aside, never deleted); the feed and the take-over replay the rest.
 *
 * A stream of our own rather than the JetStream object store: the object store client is not among the
 * project's dependencies, and this needs only chunks plus one manifest.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { jetstream, jetstreamManager, RetentionPolicy, StorageType, type JetStreamManager, type MsgRequest } from '@nats-io/jetstream';
import { nuid, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from '../common/logger.ts';
import { FEED_POSITION, SHARED_POSITION, type ReadModelFiles } from '../store/types.ts';
import { SETUP_ATTEMPT_MS, retrySetup } from './buckets.ts';
import { ClusterError, ClusterErrorCode } from './errors.ts';
import { JOURNAL_STREAM, journalSubject } from './partition-journal.ts';
import { ensureStream } from './streams.ts';

export const READ_MODEL_STREAM = 'actorflow-read-model';
const MANIFEST_SUBJECT = 'actorflow.read-model.manifest';
const chunkSubject = (id: string) => `actorflow.read-model.chunks.${id}`;
/** Under the server's default 1 MB message limit. */
const CHUNK_BYTES = 512 * 1024;

export interface ReadModelManifest {
  readonly id: string;
  readonly node: string;
  readonly takenAt: number;
  /** The last journal sequence of each partition the copy holds (absent: none). */
  readonly positions: Readonly<Record<string, number>>;
  readonly bytes: number;
  readonly chunks: number;
  readonly sha256: string;
}

export async function ensureReadModelStream(jsm: JetStreamManager, replicas: number): Promise<void> {
  await retrySetup(() =>
    ensureStream(jsm, { name: READ_MODEL_STREAM, subjects: ['actorflow.read-model.>'], retention: RetentionPolicy.Limits, storage: StorageType.File, num_replicas: replicas }),
  );
}

/** The newest complete copy, if any. */
export async function latestManifest(jsm: JetStreamManager): Promise<ReadModelManifest | undefined> {
  const m = await jsm.streams.getMessage(READ_MODEL_STREAM, { last_by_subj: MANIFEST_SUBJECT }).catch(() => null);
  return m === null ? undefined : (m.json<ReadModelManifest>());
}

export interface TakenSnapshot {
  readonly manifest: ReadModelManifest;
  /** VACUUM INTO, then the upload. */
  readonly copyMs: number;
  readonly uploadMs: number;
}

/** Copies the SQLite file at `dbPath` and stores the copy; older copies are then purged. */
export async function takeReadModelSnapshot(nc: NatsConnection, o: { readonly dbPath: string; readonly files: ReadModelFiles; readonly nodeId: string; readonly replicas: number }): Promise<TakenSnapshot> {
  const jsm = await jetstreamManager(nc, { timeout: SETUP_ATTEMPT_MS });
  await ensureReadModelStream(jsm, o.replicas);
  const tmp = `${o.dbPath}.snapshot-${nuid.next()}`;
  const began = Date.now();
  try {
    // One consistent state without this node's own rows (the store knows its file: ReadModelFiles).
    await o.files.copy(o.dbPath, tmp);
    const positions = readPositions(o.files, tmp);
    const data = await readFile(tmp);
    const copyMs = Date.now() - began;
    const id = nuid.next();
    const js = jetstream(nc);
    const chunks = Math.max(1, Math.ceil(data.length / CHUNK_BYTES));
    for (let i = 0; i < chunks; i++) await js.publish(chunkSubject(id), data.subarray(i * CHUNK_BYTES, (i + 1) * CHUNK_BYTES), { timeout: 10_000 });
    const previous = await latestManifest(jsm);
    const manifest: ReadModelManifest = { id, node: o.nodeId, takenAt: Date.now(), positions, bytes: data.length, chunks, sha256: createHash('sha256').update(data).digest('hex') };
    await js.publish(MANIFEST_SUBJECT, JSON.stringify(manifest), { timeout: 10_000 });
    // Only after the new manifest is stored: a reader always finds one whole copy.
    if (previous !== undefined) await jsm.streams.purge(READ_MODEL_STREAM, { filter: chunkSubject(previous.id) });
    await jsm.streams.purge(READ_MODEL_STREAM, { filter: MANIFEST_SUBJECT, keep: 1 });
    return { manifest, copyMs, uploadMs: Date.now() - began - copyMs };
  } finally {
    await rm(tmp, { force: true });
  }
}

/** Purges each partition's journal below what `manifest` covers minus `margin` sequences; returns the commits purged. */
export async function compactJournal(jsm: JetStreamManager, manifest: ReadModelManifest, margin: number): Promise<number> {
  let purged = 0;
  for (const [p, seq] of Object.entries(manifest.positions)) {
    const keepFrom = seq - margin;
    if (keepFrom <= 1) continue;
    // `seq` purges the subject's messages below it: the one at `seq` (<= the subject's last) stays.
    const r = await jsm.streams.purge(JOURNAL_STREAM, { filter: journalSubject(Number(p)), seq: keepFrom });
    purged += r.purged;
  }
  return purged;
}

/** The first commit of the partition's subject still in the stream (0: none). */
export async function firstSeq(jsm: JetStreamManager, partition: number): Promise<number> {
  const m = await jsm.streams.getMessage(JOURNAL_STREAM, { seq: 1, next_by_subj: journalSubject(partition) } as unknown as MsgRequest).catch(() => null);
  return m?.seq ?? 0;
}

/** The first partition whose commits after `position(p)` were compacted away (undefined: none). */
export async function firstBehind(jsm: JetStreamManager, partitions: number, position: (p: number) => number): Promise<number | undefined> {
  for (let p = 0; p < partitions; p++) if ((await firstSeq(jsm, p)) > position(p) + 1) return p;
  return undefined;
}

export type PrepareOutcome = 'kept' | 'bootstrapped' | 'empty';

/**
 * Before the store at `dbPath` opens: replaces a missing, empty or stale file with the latest copy.
 * A stale file with no copy to replace it is refused (its partitions would miss compacted commits).
 */
export async function prepareReadModel(nc: NatsConnection, o: { readonly dbPath: string; readonly files: ReadModelFiles; readonly partitions: number; readonly replicas: number; readonly logger: Logger }): Promise<PrepareOutcome> {
  const jsm = await jetstreamManager(nc, { timeout: SETUP_ATTEMPT_MS });
  await ensureReadModelStream(jsm, o.replicas);
  const local = existsSync(o.dbPath) ? readPositions(o.files, o.dbPath) : undefined;
  let stale: number | undefined;
  if (local !== undefined && Object.keys(local).length > 0) {
    stale = await firstBehind(jsm, o.partitions, (p) => local[String(p)] ?? 0);
    if (stale === undefined) return 'kept';
  }
  const manifest = await latestManifest(jsm);
  if (manifest === undefined) {
    if (stale === undefined) return 'empty';
    throw new ClusterError(ClusterErrorCode.clusterRecordInvalid, `partition ${stale}: the journal was compacted past this node's copy and no read-model snapshot is stored`);
  }
  const began = Date.now();
  const data = await download(jsm, manifest);
  if (local !== undefined) {
    // Node-local rows (audit, telemetry) are in the old file: kept aside for the operator.
    const aside = `${o.dbPath}.replaced-${Date.now()}`;
    await rename(o.dbPath, aside);
    o.logger.warn('the local store is behind the compacted journal; it was moved aside and replaced by the latest snapshot', { stale, movedTo: aside });
  }
  await Promise.all(['-wal', '-shm'].map((s) => rm(`${o.dbPath}${s}`, { force: true })));
  await writeFile(o.dbPath, data);
  o.logger.info('read model loaded from a snapshot', { id: manifest.id, bytes: manifest.bytes, takenAt: manifest.takenAt, ms: Date.now() - began });
  return 'bootstrapped';
}

async function download(jsm: JetStreamManager, manifest: ReadModelManifest): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for (let seq = 1; parts.length < manifest.chunks; ) {
    const m = await jsm.streams.getMessage(READ_MODEL_STREAM, { seq, next_by_subj: chunkSubject(manifest.id) } as unknown as MsgRequest);
    if (m === null) break;
    parts.push(m.data);
    seq = m.seq + 1;
  }
  const data = Buffer.concat(parts);
  if (parts.length !== manifest.chunks || createHash('sha256').update(data).digest('hex') !== manifest.sha256) {
    throw new ClusterError(ClusterErrorCode.clusterRecordInvalid, `read-model snapshot ${manifest.id} is incomplete or corrupt`);
  }
  return data;
}

/** The partition positions a store file holds (the feed's cursor and the shared log's position aside). */
function readPositions(files: ReadModelFiles, path: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [partition, seq] of files.positions(path)) if (partition !== FEED_POSITION && partition !== SHARED_POSITION) out[String(partition)] = seq;
  return out;
}
