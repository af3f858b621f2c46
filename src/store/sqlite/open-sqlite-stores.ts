/**
 * @module store/sqlite/open-sqlite-stores — opens (and migrates) the journal's SQLite file: every
 * connection, and each store over them. The one module the composition root imports to get stores.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { AuthStore, BulkStore, DocumentStore, HttpAgentStore, ScheduleStore, Store, TelemetryStore, TemplateStore, TenantStore, WebhookStore } from '../types.ts';
import { createSqliteAuthStore } from './auth-store.ts';
import { createSqliteBulkStore } from './bulk-store.ts';
import { openDb, openWorkerDb } from './db.ts';
import { DEFAULT_FAST_COMMIT_ROWS, withFastCommits } from './fast-commit.ts';
import { createSqliteDocumentStore } from './document-store.ts';
import { createSqliteHttpAgentStore } from './http-agent-store.ts';
import { createSqliteJournalStore } from './journal-store.ts';
import { migrate } from './migrations.ts';
import { createSqliteScheduleStore } from './schedule-store.ts';
import { createSqliteTelemetryStore } from './telemetry-store.ts';
import { createSqliteTemplateStore } from './template-store.ts';
import { createSqliteTenantStore } from './tenant-store.ts';
import { type WalCheckpointerOptions, startWalCheckpointer, walFileOf, walSizeLimit } from './wal-checkpointer.ts';
import { preallocateWal } from './wal-preallocate.ts';
import { createSqliteWebhookStore } from './webhook-store.ts';

export interface SqliteStoreOptions {
  /** Database file; its directory is created. */
  readonly path: string;
  /** `full` fsyncs every commit (power-loss safe); `normal` is process-crash safe only. @default 'full' */
  readonly sync?: 'full' | 'normal';
  /** Checkpoint cadence and WAL size thresholds; defaults in wal-checkpointer.ts. */
  readonly checkpoints?: WalCheckpointerOptions;
  /** Rows up to which a commit that finds the writer thread idle runs on the main thread (fast-commit.ts); 0: never. @default 16 */
  readonly fastCommitRows?: number;
  /** Fill the WAL with zeros up to its size limit before the first commit (wal-preallocate.ts): commits overwrite instead of growing the file. @default false */
  readonly walPreallocate?: boolean;
}

/**
 * Opens (and migrates) the database. All connections are better-sqlite3 (one SQLite library in the
 * process, so they see each other's locks) and share the WAL file: on the main thread, synchronous, a
 * reader, a telemetry reader and a writer for the small writes (definitions, keys, audit, schedules,
 * webhooks); in worker threads the journal's committer (group commits: an fsync never blocks the event
 * loop), the reader of long scans and the checkpointer.
 */
export async function createSqliteStore(opts: SqliteStoreOptions): Promise<Store> {
  return (await openSqliteStores(opts)).store;
}

/**
 * Opens the database once for the engine's `Store`, the API's `AuthStore` (keys, audit), the scheduler's
 * `ScheduleStore`, the `WebhookStore`, the `HttpAgentStore`, the `TenantStore` and the `TelemetryStore`. They share the journal's connections;
 * `store.close()` closes them, so flush `auth` first. The `BulkStore` reads on a connection of its own and writes through the committer: close it before `store`.
 */
export async function openSqliteStores(opts: SqliteStoreOptions): Promise<{ store: Store; auth: AuthStore; schedules: ScheduleStore; telemetry: TelemetryStore; webhooks: WebhookStore; httpAgents: HttpAgentStore; tenants: TenantStore; documents: DocumentStore; templates: TemplateStore; bulk: BulkStore }> {
  mkdirSync(dirname(opts.path), { recursive: true });
  const writer = await openDb(opts.path);
  const sync = (opts.sync ?? 'full') === 'full' ? 'FULL' : 'NORMAL';
  // wal_autocheckpoint=0: checkpoints run on a connection of their own (wal-checkpointer.ts), never inside a commit.
  // journal_size_limit: when the writer starts the WAL over (the checkpointer saw to it), a file grown past it is cut back.
  await writer.exec(
    `PRAGMA journal_mode=WAL; PRAGMA synchronous=${sync}; PRAGMA temp_store=MEMORY; PRAGMA wal_autocheckpoint=0; PRAGMA journal_size_limit=${walSizeLimit(opts.checkpoints)};`,
  );
  await migrate(writer);
  // While the other connections open (none of them writes), and done before any store exists: nothing may write to
  // the WAL while it is extended, the writer would be appending where the zeros go.
  const preallocated = opts.walPreallocate === true ? preallocateWal(walFileOf(opts.path), walSizeLimit(opts.checkpoints)) : Promise.resolve(0);
  // Awaited below; a failure to open a connection meanwhile must not also leave it unhandled.
  preallocated.catch(() => undefined);
  // Three worker threads, started together: each takes ~70 ms to boot a thread and load SQLite, one after
  // another they were ~0.2 s of the server's boot (bench/RESULTS.md, "eleventh session").
  const opening = Promise.all([
    // The group commits: prepared statements in one transaction per batch, in a worker thread.
    openWorkerDb(opts.path).then(async (w) => {
      await w.exec(`PRAGMA synchronous=${sync}; PRAGMA busy_timeout=5000; PRAGMA temp_store=MEMORY; PRAGMA wal_autocheckpoint=0; PRAGMA journal_size_limit=${walSizeLimit(opts.checkpoints)};`);
      return w;
    }),
    startWalCheckpointer(opts.path, opts.checkpoints),
    // Reads that may walk many rows (counts: one index entry per execution, a million parked ones take tens
    // of ms; filtered lists: the tenant's ids until a page is full) run in a worker thread, off the event loop.
    openWorkerDb(opts.path).then(async (b) => {
      await b.exec('PRAGMA query_only=1; PRAGMA busy_timeout=1000;');
      return b;
    }),
  ]);
  // Awaited below, after the main thread's connections; a failure there must not also leave this one unhandled.
  opening.catch(() => undefined);
  const reader = await openDb(opts.path);
  await reader.exec('PRAGMA query_only=1;');
  // Telemetry aggregates walk many rows in slices between event-loop turns, holding a statement open
  // across them: a connection of their own, so no other read meets a busy connection.
  const telemetryDb = await openDb(opts.path);
  await telemetryDb.exec('PRAGMA query_only=1;');
  const [worker, checkpointer, background] = await opening;
  // A lone request's small commit skips the two thread hops when the worker is idle (fast-commit.ts).
  const committer = withFastCommits(worker, writer, opts.fastCommitRows ?? DEFAULT_FAST_COMMIT_ROWS);
  // Bulk operations read (matching, batches) in a worker thread of their own, opened on first use; they write
  // through the committer (one writer connection: a second one made group commits wait in SQLite's busy handler).
  const openBulkDb = async () => {
    const db = await openWorkerDb(opts.path);
    await db.exec('PRAGMA query_only=1; PRAGMA busy_timeout=1000; PRAGMA temp_store=MEMORY;');
    return db;
  };
  await preallocated;
  return {
    store: createSqliteJournalStore({ writer, committer, reader, background, checkpointer, others: [telemetryDb] }),
    // Audit entries and keys' last use through the committer's worker (never waited on: off the main thread).
    auth: createSqliteAuthStore(writer, committer),
    schedules: createSqliteScheduleStore(writer),
    telemetry: createSqliteTelemetryStore(telemetryDb),
    webhooks: createSqliteWebhookStore(writer),
    httpAgents: createSqliteHttpAgentStore(writer),
    tenants: createSqliteTenantStore(writer),
    templates: createSqliteTemplateStore(writer),
    documents: createSqliteDocumentStore(reader),
    bulk: createSqliteBulkStore(openBulkDb, committer),
  };
}
