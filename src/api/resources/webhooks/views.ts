/** @module api/resources/webhooks/views — a webhook (never its secret) and a delivery as the API shows them. */
import { iso } from '../../../common/clock.ts';
import type { DeliveryRow, WebhookRow } from '../../../store/types.ts';

/** A webhook as the API shows it: never its secret, only a hint to tell secrets apart. */
export function toWebhookView(w: WebhookRow) {
  return { id: w.id, url: w.url, events: w.events, secretHint: `…${w.secret.slice(-4)}`, createdAt: iso(w.createdAt) };
}

export function toDeliveryView(d: DeliveryRow) {
  return {
    id: d.id,
    webhookId: d.webhookId,
    eventId: d.eventId,
    eventType: d.eventType,
    status: d.status,
    attempts: d.attempts,
    lastStatusCode: d.lastStatusCode,
    lastError: d.lastError,
    nextAttemptAt: iso(d.nextAttemptAt),
    createdAt: iso(d.createdAt),
    deliveredAt: iso(d.deliveredAt),
  };
}
