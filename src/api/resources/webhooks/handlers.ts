/** @module api/resources/webhooks/handlers — /webhooks (tenant-scoped subscriptions and deliveries) and the inbound POST /hooks/{workflow}. */
import { randomBytes } from 'node:crypto';
import type { Engine } from '../../../engine/types.ts';
import type { WebhookDispatcher } from '../../../webhooks/types.ts';
import { empty, json } from '../../http/reply.ts';
import type { HandlersOf } from '../../routing/route-spec.ts';
import { keyHeaderIssues, startRequestHash, startedOrReplayed } from '../idempotency.ts';
import { pageOf, viewPage } from '../paging.ts';
import type { WEBHOOK_ROUTES } from './routes.ts';
import { toDeliveryView, toWebhookView } from './views.ts';

export interface WebhooksDeps {
  readonly engine: Engine;
  readonly webhooks: WebhookDispatcher;
}

/** Label of every execution started by POST /hooks/{workflow}. */
export const HOOK_LABELS: Readonly<Record<string, string>> = { trigger: 'hook' };

/** Handlers of the webhook routes, keyed by route id. */
export function webhooksHandlers({ engine, webhooks }: WebhooksDeps) {
  return {
    listWebhooks: {
      handle: ({ ctx, query }) => json(200, viewPage(webhooks.list(ctx.tenant, pageOf(query)), toWebhookView)),
    },
    createWebhook: {
      handle: async ({ ctx, body }) => {
        const secret = body.secret ?? `whsec_${randomBytes(24).toString('base64url')}`;
        const row = await webhooks.create(ctx.tenant, { url: body.url, events: body.events, secret });
        // A generated secret is shown once, in this answer.
        return json(201, body.secret === undefined ? { ...toWebhookView(row), secret } : toWebhookView(row));
      },
    },
    getWebhook: {
      handle: ({ ctx, params }) => json(200, toWebhookView(webhooks.get(ctx.tenant, params.id))),
    },
    deleteWebhook: {
      handle: async ({ ctx, params }) => {
        await webhooks.remove(ctx.tenant, params.id);
        return empty(204);
      },
    },
    listWebhookDeliveries: {
      handle: async ({ ctx, params, query }) => json(200, viewPage(await webhooks.deliveries(ctx.tenant, params.id, pageOf(query)), toDeliveryView)),
    },
    triggerHook: {
      refine: (_body, { headers }) => keyHeaderIssues(headers),
      handle: async ({ ctx, params, body, headers, query }) => {
        const workflow = params.workflow;
        const key = headers['idempotency-key'];
        const priority = query.priority;
        const result = await engine.start({
          tenant: ctx.tenant,
          workflow,
          input: body,
          labels: { ...HOOK_LABELS },
          priority,
          idempotencyKey: key,
          // A replay with another priority is another request (an absent priority hashes as before).
          requestHash: key === undefined ? undefined : startRequestHash({ workflow, input: body, labels: HOOK_LABELS, priority }),
        });
        return startedOrReplayed(result.replayed, result.execution);
      },
    },
  } satisfies HandlersOf<typeof WEBHOOK_ROUTES>;
}
