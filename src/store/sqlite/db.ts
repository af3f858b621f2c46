/**
 * @module store/sqlite/db — the database connections, all on `better-sqlite3`.
 *
 * `openDb`: one connection, synchronous on the main thread, behind promise-returning calls so every
 * store reads the same as before; every statement is prepared once per connection (cached by its SQL
 * text). Measured here (bench/RESULTS.md, "Writer: better-sqlite3 vs sqlite3"): a group commit of
 * prepared statements in one transaction beats one `sqlite3` exec of SQL text.
 *
 * A main-thread connection never sleeps in SQLite's busy handler (that would stall the event loop): it
 * is opened with `busy_timeout=0`, and a call that meets a lock (the checkpointer's RESTART holds the
 * writer off for a few ms) is tried again after a timer, up to `BUSY_WAIT_MS`.
 *
 * `openWorkerDb`: one connection in a `worker_thread` of its own, for what may wait, copy many pages
 * or count many index entries: the journal's group commits (`write`: prepared statements in one
 * transaction, so an fsync never blocks the event loop), the WAL checkpointer
 * (wal-checkpointer.ts), `/status` counts. Not the `sqlite3` binding: two copies of SQLite in
 * one process do not see each other's POSIX locks (and closing a file in one drops the other's locks),
 * so a checkpoint RESTART could run under the writer's feet. A worker loads the same library.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { Packr } from 'msgpackr';

export type Params = readonly unknown[];
export type Statement = Database.Statement<unknown[]>;

export interface Db {
  readonly raw: Database.Database;
  exec(sql: string): Promise<void>;
  run(sql: string, params?: Params): Promise<void>;
  all<T>(sql: string, params?: Params): Promise<T[]>;
  get<T>(sql: string, params?: Params): Promise<T | undefined>;
  /** The prepared statement of `sql`, made once per connection. Parameters must be SQLite values (null, 1/0: no booleans). */
  statement(sql: string): Statement;
  /**
   * Runs `fn` (synchronous: prepared statements of this connection) in one transaction: COMMIT when it
   * returns, ROLLBACK when it throws (the error is the rejection; the connection stays usable).
   * Tried again, `fn` included, while the database is locked.
   */
  transaction<R>(fn: () => R): Promise<R>;
  close(): Promise<void>;
}

/** How long a call waits in all for a lock held by another connection, in timer steps of 1-16 ms. */
export const BUSY_WAIT_MS = 5000;
/** Statements cached per connection; past it the cache starts over (only queries with variable IN lists vary). */
const STATEMENT_CACHE_MAX = 512;

/** An error of a call that met a lock held by another connection. */
export const isBusy = (err: unknown): boolean => {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code === 'SQLITE_BUSY' || code.startsWith('SQLITE_BUSY_') || code === 'SQLITE_LOCKED');
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** `op()`, and while it fails on a lock, `op()` again after a timer (never a blocking wait). */
async function whenFree<R>(op: () => R): Promise<R> {
  try {
    return op();
  } catch (err) {
    if (!isBusy(err)) throw err;
  }
  const deadline = Date.now() + BUSY_WAIT_MS;
  for (let delay = 1; ; delay = Math.min(delay * 2, 16)) {
    await sleep(delay);
    try {
      return op();
    } catch (err) {
      if (!isBusy(err) || Date.now() >= deadline) throw err;
    }
  }
}

/** Parameters as SQLite takes them: booleans as 1/0 (what `sqlite3` did), undefined as NULL. */
function bindable(params: Params): unknown[] {
  const out = params.slice();
  for (let i = 0; i < out.length; i++) {
    const v = out[i];
    if (v === undefined) out[i] = null;
    else if (typeof v === 'boolean') out[i] = v ? 1 : 0;
  }
  return out;
}

export function openDb(path: string): Promise<Db> {
  try {
    return Promise.resolve(wrap(new Database(path, { timeout: 0 })));
  } catch (err) {
    return Promise.reject(err);
  }
}

function wrap(raw: Database.Database): Db {
  const cache = new Map<string, Statement>();
  const statement = (sql: string): Statement => {
    let s = cache.get(sql);
    if (s === undefined) {
      if (cache.size >= STATEMENT_CACHE_MAX) cache.clear();
      s = raw.prepare<unknown[]>(sql);
      cache.set(sql, s);
    }
    return s;
  };
  // One transaction function (better-sqlite3 rolls back when its body throws, and rethrows).
  const inTransaction = raw.transaction((fn: () => unknown) => fn());
  return {
    raw,
    statement,
    exec: (sql) =>
      whenFree(() => {
        const open = raw.inTransaction;
        try {
          raw.exec(sql);
        } catch (err) {
          // A multi-statement text stops at the failing statement: a transaction it opened is rolled back,
          // so a retry (or the next caller) starts clean.
          if (!open && raw.inTransaction) raw.exec('ROLLBACK');
          throw err;
        }
      }),
    run: (sql, params = []) =>
      whenFree(() => {
        statement(sql).run(bindable(params));
      }),
    all: <T>(sql: string, params: Params = []) =>
      whenFree(() => {
        const s = statement(sql);
        if (!s.reader) return (s.run(bindable(params)), []);
        return s.all(bindable(params)) as T[];
      }),
    get: <T>(sql: string, params: Params = []) =>
      whenFree(() => {
        const s = statement(sql);
        if (!s.reader) return (s.run(bindable(params)), undefined);
        return s.get(bindable(params)) as T | undefined;
      }),
    transaction: <R>(fn: () => R) => whenFree(() => inTransaction(fn) as R),
    close: () => {
      try {
        cache.clear();
        raw.close();
        return Promise.resolve();
      } catch (err) {
        return Promise.reject(err);
      }
    },
  };
}

/** One prepared statement (made once per connection) and the parameter rows to run it with. */
export interface WriteStep {
  readonly sql: string;
  readonly rows: readonly (readonly unknown[])[];
}

export interface WriteOptions {
  /** Someone waits on this write (see CommitBatch.waited): it may run on the main thread when that is quicker. */
  readonly waited?: boolean;
  /** No fsync needed (CommitBatch.relaxed): committed with `synchronous=NORMAL` when the connection runs stricter. */
  readonly relaxed?: boolean;
}

/** A connection in a worker thread: a wait or a long call never blocks the event loop. */
export interface AsyncDb {
  exec(sql: string): Promise<void>;
  get<T>(sql: string, params?: Params): Promise<T | undefined>;
  all<T>(sql: string, params?: Params): Promise<T[]>;
  /**
   * Runs every step's statement once per row, in order, in one transaction: COMMIT when all ran,
   * ROLLBACK and the error as the rejection otherwise (the connection stays usable). Parameters must
   * be SQLite values (null, numbers, strings, Buffers).
   */
  write(steps: readonly WriteStep[], opts?: WriteOptions): Promise<void>;
  close(): Promise<void>;
}

/*
 * A commit's rows cross to the worker as one MessagePack buffer, transferred (not cloned). Structured
 * cloning a Buffer copies its whole backing ArrayBuffer, and the codec's Buffers are views into
 * msgpackr's reused pack buffer, which stays as large as the largest value ever encoded: after one
 * 1 MB input, every later commit cloned 12 MB (2-3 ms of main thread per commit, measured); packed,
 * a commit costs the same ~40-60 µs before and after.
 */
const PACK_OPTIONS = { useRecords: false, moreTypes: false, int64AsType: 'number' } as const;
const writePackr = new Packr(PACK_OPTIONS);
/** `steps` packed into a buffer of its own (exact size), so it can be transferred. */
const packWrite = (steps: readonly WriteStep[]): Uint8Array => new Uint8Array(writePackr.pack(steps));

/** The worker's side: one connection, one call at a time, in message order. CommonJS, evaluated as is. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const unpackr = new (require(workerData.msgpackr).Unpackr)(workerData.packOptions);
const statements = new Map();
const prepared = (sql) => {
  let s = statements.get(sql);
  if (s === undefined) {
    if (statements.size >= 64) statements.clear();
    statements.set(sql, (s = db.prepare(sql)));
  }
  return s;
};
let write;
let relaxedWrite;
let db;
try {
  db = new Database(workerData.path, { timeout: 0 });
  // better-sqlite3 rolls the transaction back when its body throws, and rethrows.
  write = db.transaction((steps) => {
    for (const step of steps) {
      const s = prepared(step.sql);
      for (const row of step.rows) s.run(row);
    }
  });
  // WAL + NORMAL: the COMMIT skips its fsync, the database stays consistent; the next FULL commit syncs the WAL, these frames included.
  relaxedWrite = (steps) => {
    const level = db.pragma('synchronous', { simple: true });
    if (level <= 1) return write(steps);
    db.pragma('synchronous = NORMAL');
    try {
      write(steps);
    } finally {
      db.pragma('synchronous = ' + level);
    }
  };
  parentPort.postMessage({ id: 0 });
} catch (e) {
  parentPort.postMessage({ id: 0, error: { message: String(e && e.message), code: e && e.code } });
}
parentPort.on('message', (m) => {
  try {
    let row;
    if (m.kind === 'close') db.close();
    else if (m.kind === 'exec') db.exec(m.sql);
    else if (m.kind === 'write' && m.relaxed === true) relaxedWrite(unpackr.unpack(m.bytes));
    else if (m.kind === 'write') write(unpackr.unpack(m.bytes));
    else {
      const s = prepared(m.sql);
      if (!s.reader) s.run(m.params);
      else row = m.kind === 'all' ? s.all(m.params) : s.get(m.params);
    }
    parentPort.postMessage({ id: m.id, row });
  } catch (e) {
    parentPort.postMessage({ id: m.id, error: { message: String(e && e.message), code: e && e.code } });
  }
  if (m.kind === 'close') parentPort.close();
});
`;

interface Reply {
  id: number;
  row?: unknown;
  error?: { message: string; code?: string };
}

const toError = (e: NonNullable<Reply['error']>): Error => Object.assign(new Error(e.message), e.code === undefined ? {} : { code: e.code });

export function openWorkerDb(path: string): Promise<AsyncDb> {
  const require = createRequire(import.meta.url);
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { path, module: require.resolve('better-sqlite3'), msgpackr: require.resolve('msgpackr'), packOptions: PACK_OPTIONS },
  });
  // Keeps the process alive only while a call (or the opening) is pending: a commit in flight must
  // finish; an idle connection holds nothing up.
  const pending = new Map<number, { resolve: (row: unknown) => void; reject: (err: unknown) => void }>();
  let next = 1;
  let gone: Error | undefined;
  const failAll = (err: Error): void => {
    gone ??= err;
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };
  worker.on('message', (m: Reply) => {
    const p = pending.get(m.id);
    if (p === undefined) return;
    pending.delete(m.id);
    if (pending.size === 0) worker.unref();
    if (m.error) p.reject(toError(m.error));
    else p.resolve(m.row);
  });
  worker.on('error', (err) => failAll(err));
  worker.on('exit', () => failAll(new Error('the database worker has exited')));
  const call = (msg: { kind: 'exec' | 'get' | 'all' | 'write' | 'close'; sql?: string; params?: unknown[]; bytes?: Uint8Array; relaxed?: boolean }): Promise<unknown> => {
    if (gone) return Promise.reject(gone);
    const id = next++;
    if (pending.size === 0) worker.ref();
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      worker.postMessage({ ...msg, id }, msg.bytes === undefined ? undefined : [msg.bytes.buffer as ArrayBuffer]);
    });
  };
  const db: AsyncDb = {
    exec: async (sql) => void (await call({ kind: 'exec', sql })),
    get: async <T>(sql: string, params: Params = []) => (await call({ kind: 'get', sql, params: bindable(params) })) as T | undefined,
    all: async <T>(sql: string, params: Params = []) => ((await call({ kind: 'all', sql, params: bindable(params) })) ?? []) as T[],
    write: async (steps, opts) => void (await call({ kind: 'write', bytes: packWrite(steps), ...(opts?.relaxed === true ? { relaxed: true } : {}) })),
    close: async () => {
      const exited = new Promise<void>((r) => worker.once('exit', () => r()));
      await call({ kind: 'close' });
      // Its answer left the worker unref'd: with nothing else pending the process would end (exit 13,
      // an unsettled await) before the thread's exit event, so it stays ref'd until then.
      worker.ref();
      await exited;
    },
  };
  return new Promise((resolve, reject) => {
    pending.set(0, { resolve: () => resolve(db), reject: (err) => (void worker.terminate(), reject(err)) });
  });
}
