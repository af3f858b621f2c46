/** @module store/sqlite/webhook-store — webhook subscriptions and their delivery history in the journal's SQLite file. */
import type { Db, WriteStep } from './db.ts';
import type { DeliveryRow, DeliveryStatus, WebhookRow, WebhookStore } from '../types.ts';

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

/** Upserts of whole delivery rows: one prepared statement, a parameter row each (also the journal's `CommitWrite` of deliveries). */
export const deliveriesStep = (rows: readonly DeliveryRow[]): WriteStep => ({
  sql: UPSERT_DELIVERY,
  rows: rows.map((d) => [
    d.id, d.webhookId, d.tenant, d.eventId, d.eventType, d.body, d.status, d.attempts,
    d.lastStatusCode, d.lastError, d.nextAttemptAt, d.createdAt, d.deliveredAt,
  ]),
});

/** The `WebhookStore` over an open, migrated database (shares the journal's writer connection). */
export function createSqliteWebhookStore(db: Db): WebhookStore {
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
      const w = deliveriesStep(rows);
      await db.transaction(() => {
        const upsert = db.statement(w.sql);
        for (const r of w.rows) upsert.run(r);
      });
    },
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
