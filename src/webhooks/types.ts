/** @module webhooks/types — the webhook dispatcher's interface, options and defaults. */
import type { PageRequest } from '../engine/types.ts';
import type { Page } from '../common/execution.ts';
import type { Logger } from '../common/logger.ts';
import type { SharedWrites } from '../common/shared-writes.ts';
import type { DeliveryRow, Store, WebhookRow, WebhookStore } from '../store/types.ts';

/** First retry after this many ms (ACTORFLOW_WEBHOOK_RETRY_MS); each next one waits twice as long. */
export const DEFAULT_WEBHOOK_RETRY_MS = 1000;
/** Cap of the gap between two attempts. */
export const MAX_WEBHOOK_RETRY_MS = 300_000;
/** Tries before a delivery is `dead`. */
export const WEBHOOK_MAX_ATTEMPTS = 8;
/** Per-attempt timeout. */
export const DEFAULT_WEBHOOK_TIMEOUT_MS = 10_000;
/** Outgoing requests in flight at once, all webhooks together. */
export const DEFAULT_WEBHOOK_CONCURRENCY = 32;
/** Outgoing requests in flight at once to one webhook. */
export const DEFAULT_WEBHOOK_CONCURRENCY_PER_WEBHOOK = 8;

export interface WebhookDispatcherOptions {
  /** The journal: deliveries are written in the same transaction as the events that cause them. */
  readonly journal: Pick<Store, 'addCommitParticipant'>;
  readonly store: WebhookStore;
  readonly logger: Logger;
  /** @default DEFAULT_WEBHOOK_RETRY_MS */
  readonly retryMs?: number | undefined;
  /** Refuse nothing by address (local receivers). @default false */
  readonly allowPrivate?: boolean | undefined;
  /** @default DEFAULT_WEBHOOK_TIMEOUT_MS */
  readonly timeoutMs?: number | undefined;
  /** @default DEFAULT_WEBHOOK_CONCURRENCY */
  readonly concurrency?: number | undefined;
  /** @default DEFAULT_WEBHOOK_CONCURRENCY_PER_WEBHOOK */
  readonly concurrencyPerWebhook?: number | undefined;
  /** Where writes of webhooks (subscriptions) are applied (cluster mode: on every node). @default localWrites */
  readonly writes?: SharedWrites | undefined;
}

/** A write of webhooks (common/shared-writes.ts: in cluster mode every node applies it, in log order). */
export type WebhookOp = { readonly kind: 'create'; readonly row: WebhookRow } | { readonly kind: 'delete'; readonly tenant: string; readonly id: string };

/** A new webhook (shape already validated by the route schema). */
export interface WebhookSpec {
  readonly url: string;
  readonly events: readonly string[];
  readonly secret: string;
}

/**
 * Outbound webhooks: subscriptions (tenant-scoped; another tenant's is `webhook_not_found`), and
 * at-least-once delivery of matching committed events with signed POSTs, retries and a history.
 */
export interface WebhookDispatcher {
  /**
   * Loads webhooks, joins the journal's commits, resumes `pending`/`failed` deliveries. Call it
   * before the engine opens (recovery commits events too), and `close()` after the engine closed.
   */
  start(): Promise<void>;
  /** @throws ValidationError `webhook_url_forbidden` (path `/url`) for a refused URL. */
  create(tenant: string, spec: WebhookSpec): Promise<WebhookRow>;
  /** @throws NotFoundError `webhook_not_found` */
  get(tenant: string, id: string): WebhookRow;
  list(tenant: string, page: PageRequest): Page<WebhookRow>;
  /** Stops its deliveries and deletes it with its history. @throws NotFoundError `webhook_not_found` */
  remove(tenant: string, id: string): Promise<void>;
  /** Newest first. @throws NotFoundError `webhook_not_found` */
  deliveries(tenant: string, id: string, page: PageRequest): Promise<Page<DeliveryRow>>;
  /** Resolves once every attempt outcome so far is written (new deliveries are written with their events). */
  flush(): Promise<void>;
  /** Leaves the journal's commits, disarms retries, aborts requests in flight (they resume at the next boot), writes what is queued. */
  close(): Promise<void>;
}

/** Gap before the attempt after `attempts` failed ones: base, 2×base, 4×base… capped. */
export function retryDelayMs(attempts: number, baseMs: number, capMs: number = MAX_WEBHOOK_RETRY_MS): number {
  return Math.min(capMs, baseMs * 2 ** Math.max(0, attempts - 1));
}
