/** @module api/auth/audit-log — state-changing calls recorded in SQLite, batched off the ack path. */
import type { Logger } from '../../common/logger.ts';
import type { AuditQuery, AuditRow, AuthStore } from '../../store/types.ts';

/** Pending entries are written at least this often… */
const FLUSH_MS = 250;
/** …or as soon as this many are pending. */
const FLUSH_ROWS = 1000;
/** Past this many unwritten entries (a failing disk) new ones are dropped and counted. */
const MAX_PENDING = 100_000;

export interface AuditLog {
  /** Queues one entry (O(1), no I/O here). */
  record(row: AuditRow): void;
  /** Writes every queued entry; resolves when they are committed. */
  flush(): Promise<void>;
  /** Flushes, then queries (so a caller sees its own writes). */
  list(q: AuditQuery): Promise<(AuditRow & { seq: number })[]>;
  /** Entries dropped because the store could not keep up. */
  dropped(): number;
  close(): Promise<void>;
}

/**
 * Entries are queued in memory and appended in one multi-row INSERT per batch, so a burst of
 * starts costs one SQLite call per batch rather than one per request.
 */
export function createAuditLog(store: AuthStore, logger: Logger): AuditLog {
  let pending: AuditRow[] = [];
  let dropped = 0;
  let chain: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  const flush = (): Promise<void> => {
    if (timer !== undefined) {
      clearTimeout(timer);
      timer = undefined;
    }
    if (pending.length === 0) return chain;
    const batch = pending;
    pending = [];
    chain = chain.then(() => store.appendAudit(batch)).catch((err: unknown) => {
      dropped += batch.length;
      logger.error('could not write audit entries', { count: batch.length, error: String(err) });
    });
    return chain;
  };
  return {
    record: (row) => {
      if (pending.length >= MAX_PENDING) {
        dropped++;
        return;
      }
      pending.push(row);
      if (pending.length >= FLUSH_ROWS) void flush();
      else if (timer === undefined) {
        timer = setTimeout(() => void flush(), FLUSH_MS);
        timer.unref();
      }
    },
    flush,
    list: async (q) => {
      await flush();
      return store.listAudit(q);
    },
    dropped: () => dropped,
    close: flush,
  };
}
