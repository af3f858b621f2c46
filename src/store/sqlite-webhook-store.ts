/** @module store/sqlite-webhook-store — webhook subscriptions and their delivery history in the journal's SQLite file. */
import type { Db } from './sqlite-db.ts';

/** One outbound webhook subscription (times as epoch ms). `events` are types or wildcards (`workflow.*`, `*`). */
export interface WebhookRow {
  id: string;
  tenant: string;
  url: string;
  events: string[];
  /** HMAC key of the signatures; never shown by the API after creation. */
  secret: string;
  createdAt: number;
}

/** `pending`: not tried yet; `failed`: last try failed, another is due at `nextAttemptAt`; `dead`: gave up. */
export type DeliveryStatus = 'pending' | 'delivered' | 'failed' | 'dead';

/** One event to deliver to one webhook, with its outcome so far. */
export interface DeliveryRow {
  id: string;
  webhookId: string;
  tenant: string;
  eventId: string;
  eventType: string;
  /** The exact request body (signed as is on every attempt). */
  body: string;
  status: DeliveryStatus;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  /** When the next attempt is due (pending/failed); null once delivered or dead. */
  nextAttemptAt: number | null;
  createdAt: number;
  deliveredAt: number | null;
}

/** Webhooks and deliveries; every write runs prepared statements on the shared writer connection. */
export interface WebhookStore {
  /** Every webhook of every tenant (the dispatcher keeps them in memory). */
  listWebhooks(): Promise<WebhookRow[]>;
  insertWebhook(row: WebhookRow): Promise<void>;
  /** Deletes the webhook and its delivery history in one transaction. */
  deleteWebhook(id: string): Promise<void>;
  /** Inserts or updates whole delivery rows, all in one transaction. */
  putDeliveries(rows: readonly DeliveryRow[]): Promise<void>;
  /** The statement and parameter rows `putDeliveries` runs, for a transaction someone else owns (the journal's group commit: a `CommitShare`). */
  deliveriesWrite(rows: readonly DeliveryRow[]): { statement: string; rows: unknown[][] };
  /** Deliveries still to attempt (`pending`/`failed`), oldest first: resumed at boot. */
  listOpenDeliveries(): Promise<DeliveryRow[]>;
  /** A webhook's deliveries, newest first, with ids strictly below `beforeId` when given. */
  listDeliveries(webhookId: string, beforeId: string | undefined, limit: number): Promise<DeliveryRow[]>;
}

interface WebhookDbRow {
  id: string;
  tenant: string;
  url: string;
  events: string;
  secret: string;
  created_at: number;
}

interface DeliveryDbRow {
  id: string;
  webhook_id: string;
  tenant: string;
  event_id: string;
  event_type: string;
  body: string;
  status: string;
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  next_attempt_at: number | null;
  created_at: number;
  delivered_at: number | null;
}

const toWebhook = (r: WebhookDbRow): WebhookRow => ({
  id: r.id,
  tenant: r.tenant,
  url: r.url,
  events: JSON.parse(r.events) as string[],
  secret: r.secret,
  createdAt: r.created_at,
});

const toDelivery = (r: DeliveryDbRow): DeliveryRow => ({
  id: r.id,
  webhookId: r.webhook_id,
  tenant: r.tenant,
  eventId: r.event_id,
  eventType: r.event_type,
  body: r.body,
  status: r.status as DeliveryStatus,
  attempts: r.attempts,
  lastStatusCode: r.last_status_code,
  lastError: r.last_error,
  nextAttemptAt: r.next_attempt_at,
  createdAt: r.created_at,
  deliveredAt: r.delivered_at,
});

const UPSERT_DELIVERY =
  'INSERT INTO webhook_deliveries VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)' +
  ' ON CONFLICT(id) DO UPDATE SET status=excluded.status, attempts=excluded.attempts, last_status_code=excluded.last_status_code,' +
  ' last_error=excluded.last_error, next_attempt_at=excluded.next_attempt_at, delivered_at=excluded.delivered_at';

/** The `WebhookStore` over an open, migrated database (shares the journal's writer connection). */
export function createSqliteWebhookStore(db: Db): WebhookStore {
  /** Upserts of whole delivery rows: one prepared statement, a parameter row each. */
  const deliveriesWrite = (rows: readonly DeliveryRow[]): { statement: string; rows: unknown[][] } => ({
    statement: UPSERT_DELIVERY,
    rows: rows.map((d) => [
      d.id, d.webhookId, d.tenant, d.eventId, d.eventType, d.body, d.status, d.attempts,
      d.lastStatusCode, d.lastError, d.nextAttemptAt, d.createdAt, d.deliveredAt,
    ]),
  });
  return {
    listWebhooks: async () => (await db.all<WebhookDbRow>('SELECT * FROM webhooks ORDER BY id')).map(toWebhook),
    insertWebhook: (w) => db.run('INSERT INTO webhooks VALUES (?, ?, ?, ?, ?, ?)', [w.id, w.tenant, w.url, JSON.stringify(w.events), w.secret, w.createdAt]),
    deleteWebhook: (id) =>
      db.transaction(() => {
        db.statement('DELETE FROM webhook_deliveries WHERE webhook_id = ?').run(id);
        db.statement('DELETE FROM webhooks WHERE id = ?').run(id);
      }),
    putDeliveries: async (rows) => {
      if (rows.length === 0) return;
      const w = deliveriesWrite(rows);
      await db.transaction(() => {
        const upsert = db.statement(w.statement);
        for (const r of w.rows) upsert.run(r);
      });
    },
    deliveriesWrite,
    listOpenDeliveries: async () =>
      (await db.all<DeliveryDbRow>("SELECT * FROM webhook_deliveries WHERE status IN ('pending', 'failed') ORDER BY id")).map(toDelivery),
    listDeliveries: async (webhookId, beforeId, limit) =>
      (
        await db.all<DeliveryDbRow>('SELECT * FROM webhook_deliveries WHERE webhook_id = ? AND (? IS NULL OR id < ?) ORDER BY id DESC LIMIT ?', [
          webhookId, beforeId ?? null, beforeId ?? '', limit,
        ])
      ).map(toDelivery),
  };
}
