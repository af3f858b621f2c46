/**
 * @module store/sqlite/read-model-file — the SQLite store as a file, for cluster mode's read-model snapshots:
 * a consistent copy (`VACUUM INTO` on a connection of its own, in a worker thread: one read transaction, the event
 * loop never waits) with the node-local tables emptied, and the journal positions a file holds.
 */
import Database from 'better-sqlite3';
import type { ReadModelFiles } from '../types.ts';
import { openWorkerDb } from './db.ts';

/** Rows of this node's own work: a node loading the copy would otherwise make its webhook deliveries and run its bulk operations again. */
const NODE_LOCAL_TABLES = ['webhook_deliveries', 'bulk_operation_items', 'bulk_operations', 'http_agents', 'audit'] as const;

export const sqliteReadModelFiles: ReadModelFiles = {
  async copy(dbPath, dest) {
    const db = await openWorkerDb(dbPath);
    try {
      await db.exec(`VACUUM INTO '${dest.replaceAll("'", "''")}'`);
    } finally {
      await db.close();
    }
    const copy = await openWorkerDb(dest);
    try {
      await copy.exec(NODE_LOCAL_TABLES.map((t) => `DELETE FROM ${t};`).join(' '));
    } finally {
      await copy.close();
    }
  },
  positions(path) {
    const db = new Database(path, { readonly: true, fileMustExist: true });
    try {
      const out = new Map<number, number>();
      const has = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'journal_positions'").get();
      if (has === undefined) return out;
      for (const r of db.prepare('SELECT partition, seq FROM journal_positions').all() as { partition: number; seq: number }[]) out.set(r.partition, r.seq);
      return out;
    } finally {
      db.close();
    }
  },
};
