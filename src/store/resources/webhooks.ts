/** @module store/resources/webhooks — the rows and the store interface of webhook subscriptions and their deliveries (re-exported by store/types.ts). */

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

/** Webhook subscriptions and their delivery history. */
export interface WebhookStore {
  /** Every webhook of every tenant (the dispatcher keeps them in memory). */
  listWebhooks(): Promise<WebhookRow[]>;
  insertWebhook(row: WebhookRow): Promise<void>;
  /** Deletes the webhook and its delivery history in one transaction. */
  deleteWebhook(id: string): Promise<void>;
  /** Inserts or updates whole delivery rows, all in one transaction (new ones ride in the journal's: `CommitWrite`). */
  putDeliveries(rows: readonly DeliveryRow[]): Promise<void>;
  /** Deliveries still to attempt (`pending`/`failed`), oldest first: resumed at boot. */
  listOpenDeliveries(): Promise<DeliveryRow[]>;
  /** A webhook's deliveries, newest first, with ids strictly below `beforeId` when given. */
  listDeliveries(webhookId: string, beforeId: string | undefined, limit: number): Promise<DeliveryRow[]>;
}
