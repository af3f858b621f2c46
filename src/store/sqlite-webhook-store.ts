/** @module store/sqlite-webhook-store — webhook subscriptions and their delivery history in the journal's SQLite file. */
import type { Db } from './sqlite-db.ts';
import { sqlRow } from './sql-literal.ts';

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

/** Webhooks and deliveries; every write is one `exec` on the shared writer connection. */
export interface WebhookStore {
  /** Every webhook of every tenant (the dispatcher keeps them in memory). */
  listWebhooks(): Promise<WebhookRow[]>;
  insertWebhook(row: WebhookRow): Promise<void>;
  /** Deletes the webhook and its delivery history in one transaction. */
  deleteWebhook(id: string): Promise<void>;
  /** Inserts or updates whole delivery rows, all in one transaction. */
  putDeliveries(rows: readonly DeliveryRow[]): Promise<void>;
  /** The statement `putDeliveries` runs, for a transaction someone else owns (the journal's group commit). */
  deliveriesSql(rows: readonly DeliveryRow[]): string;
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

/** The `WebhookStore` over an open, migrated database (shares the journal's writer connection). */
export function createSqliteWebhookStore(db: Db): WebhookStore {
  return {
    listWebhooks: async () => (await db.all<WebhookDbRow>('SELECT * FROM webhooks ORDER BY id')).map(toWebhook),
    insertWebhook: (w) => db.run('INSERT INTO webhooks VALUES (?, ?, ?, ?, ?, ?)', [w.id, w.tenant, w.url, JSON.stringify(w.events), w.secret, w.createdAt]),
    deleteWebhook: (id) => {
      const lit = sqlRow([id]);
      return execTx(db, `BEGIN;\nDELETE FROM webhook_deliveries WHERE webhook_id = ${lit};\nDELETE FROM webhooks WHERE id = ${lit};\nCOMMIT`);
    },
    putDeliveries: async (rows) => {
      if (rows.length === 0) return;
      await execTx(db, `BEGIN;\n${deliveriesSql(rows)};\nCOMMIT`);
    },
    deliveriesSql,
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

/** One multi-row upsert of whole delivery rows. */
function deliveriesSql(rows: readonly DeliveryRow[]): string {
  const values = rows
    .map((d) =>
      sqlRow([
        d.id, d.webhookId, d.tenant, d.eventId, d.eventType, d.body, d.status, d.attempts,
        d.lastStatusCode, d.lastError, d.nextAttemptAt, d.createdAt, d.deliveredAt,
      ]),
    )
    .join(',');
  return (
    `INSERT INTO webhook_deliveries VALUES ${values}` +
    ' ON CONFLICT(id) DO UPDATE SET status=excluded.status, attempts=excluded.attempts, last_status_code=excluded.last_status_code,' +
    ' last_error=excluded.last_error, next_attempt_at=excluded.next_attempt_at, delivered_at=excluded.delivered_at'
  );
}

async function execTx(db: Db, sql: string): Promise<void> {
  try {
    await db.exec(sql);
  } catch (err) {
    // exec stops at the failing statement: the transaction is still open.
    await db.exec('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
