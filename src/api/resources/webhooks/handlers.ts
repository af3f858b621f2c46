/** @module api/resources/webhooks/handlers — /webhooks (tenant-scoped subscriptions and deliveries) and the inbound POST /hooks/{workflow}. */
import { randomBytes } from 'node:crypto';
import type { Engine } from '../../../engine/types.ts';
import type { Issue } from '../../../shared/errors.ts';
import { iso } from '../../../shared/clock.ts';
import type { DeliveryRow, WebhookRow } from '../../../store/types.ts';
import type { WebhookDispatcher } from '../../../webhooks/types.ts';
import { startRequestHash } from '../executions/handlers.ts';
import type { RouteId } from '../../routes.ts';
import { type RouteHandler, pageOf } from '../../routing/route-spec.ts';
import { empty, json } from '../../http/reply.ts';

export interface WebhooksDeps {
  readonly engine: Engine;
  readonly webhooks: WebhookDispatcher;
}

/** Label of every execution started by POST /hooks/{workflow}. */
export const HOOK_LABELS: Readonly<Record<string, string>> = { trigger: 'hook' };

const REPLAY_HEADERS = { 'idempotent-replay': 'true' } as const;

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

function headerIssues(headers: Readonly<Record<string, string>>): Issue[] {
  const key = headers['idempotency-key'];
  return key !== undefined && key.length > 255 ? [{ path: '/headers/idempotency-key', message: 'must NOT have more than 255 characters' }] : [];
}

/** Handlers of the webhook routes, keyed by route id. */
export function webhooksHandlers({ engine, webhooks }: WebhooksDeps) {
  return {
    listWebhooks: {
      handle: ({ ctx, query }) => {
        const page = webhooks.list(ctx.tenant, pageOf(query));
        return json(200, { items: page.items.map(toWebhookView), nextCursor: page.nextCursor });
      },
    },
    createWebhook: {
      handle: async ({ ctx, body }) => {
        const b = body as { url: string; events: string[]; secret?: string };
        const generated = b.secret === undefined ? `whsec_${randomBytes(24).toString('base64url')}` : undefined;
        const row = await webhooks.create(ctx.tenant, { url: b.url, events: b.events, secret: b.secret ?? (generated as string) });
        return json(201, generated === undefined ? toWebhookView(row) : { ...toWebhookView(row), secret: generated });
      },
    },
    getWebhook: {
      handle: ({ ctx, params }) => json(200, toWebhookView(webhooks.get(ctx.tenant, params['id'] ?? ''))),
    },
    deleteWebhook: {
      handle: async ({ ctx, params }) => {
        await webhooks.remove(ctx.tenant, params['id'] ?? '');
        return empty(204);
      },
    },
    listWebhookDeliveries: {
      handle: async ({ ctx, params, query }) => {
        const page = await webhooks.deliveries(ctx.tenant, params['id'] ?? '', pageOf(query));
        return json(200, { items: page.items.map(toDeliveryView), nextCursor: page.nextCursor });
      },
    },
    triggerHook: {
      refine: (_body, { headers }) => headerIssues(headers),
      handle: async ({ ctx, params, body, headers }) => {
        const workflow = params['workflow'] ?? '';
        const key = headers['idempotency-key'];
        const result = await engine.start({
          tenant: ctx.tenant,
          workflow,
          input: body,
          labels: { ...HOOK_LABELS },
          idempotencyKey: key,
          requestHash: key === undefined ? undefined : startRequestHash({ workflow, input: body, labels: HOOK_LABELS }),
        });
        return result.replayed ? json(200, result.execution, REPLAY_HEADERS) : json(201, result.execution);
      },
    },
  } satisfies Partial<Record<RouteId, RouteHandler>>;
}
