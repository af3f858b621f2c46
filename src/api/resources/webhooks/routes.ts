/** @module api/resources/webhooks/routes — the route table of outbound webhooks (subscriptions, delivery history) and inbound hooks. */
import { type Static, Type } from '@sinclair/typebox';
import { ErrorCode } from '../../../common/errors.ts';
import { WEBHOOK_EVENT_PATTERNS } from '../../../webhooks/event-patterns.ts';
import { ANY, PAGE, definitionName, priority, shape, stringEnum, ulidId } from '../../routing/schemas.ts';
import type { RouteSpec } from '../../routing/route-spec.ts';

export const webhookId = ulidId('wh', 'Webhook id');

const url = Type.String({
  minLength: 1,
  maxLength: 2048,
  description: 'http(s) URL the events are POSTed to; refused (422 `webhook_url_forbidden`) when its host resolves to a non-public address.',
});
const eventPattern = stringEnum(WEBHOOK_EVENT_PATTERNS);
// Unsafe keeps `items` after the bounds, where the document has always had it.
const events = Type.Unsafe<Static<typeof eventPattern>[]>({
  type: 'array',
  minItems: 1,
  maxItems: 64,
  items: eventPattern,
  description: 'Event types to deliver; `<prefix>.*` (e.g. `workflow.*`, `workflow.step.*`) and `*` are wildcards.',
});
const secret = Type.String({
  minLength: 16,
  maxLength: 256,
  description: 'HMAC-SHA256 key of `x-actorflow-signature`; generated (and shown only in the 201 answer) when omitted. Never shown again.',
});

const idParams = shape({ id: webhookId });
const ID_404 = { id: ErrorCode.webhookNotFound } as const;

export const WEBHOOK_ROUTES = [
  {
    id: 'listWebhooks',
    method: 'get',
    path: '/webhooks',
    summary: "The tenant's webhooks, by id (secrets never shown; `secretHint` is the last 4 characters).",
    tag: 'webhooks',
    query: shape(PAGE),
    status: 200,
  },
  {
    id: 'createWebhook',
    method: 'post',
    path: '/webhooks',
    summary:
      'Subscribe a URL to event types. Each matching committed event is POSTed as JSON with `x-actorflow-signature: t=<unix s>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, ' +
      '`x-actorflow-event`, `x-actorflow-delivery`; non-2xx/timeouts (10 s) are retried with exponential backoff, `dead` after 8 tries.',
    tag: 'webhooks',
    body: { schema: shape({ url, events, secret: Type.Optional(secret) }) },
    errorStatus: { [ErrorCode.webhookUrlForbidden]: 422 },
    status: 201,
  },
  {
    id: 'getWebhook',
    method: 'get',
    path: '/webhooks/{id}',
    summary: 'One webhook.',
    tag: 'webhooks',
    params: idParams,
    paramNotFound: ID_404,
    status: 200,
  },
  {
    id: 'deleteWebhook',
    method: 'delete',
    path: '/webhooks/{id}',
    summary: 'Delete a webhook with its delivery history; deliveries not yet made are dropped.',
    tag: 'webhooks',
    params: idParams,
    paramNotFound: ID_404,
    status: 204,
    produces: 'none',
  },
  {
    id: 'listWebhookDeliveries',
    method: 'get',
    path: '/webhooks/{id}/deliveries',
    summary: 'Deliveries, newest first: `{ id, eventId, eventType, status: pending|delivered|failed|dead, attempts, lastStatusCode, lastError, nextAttemptAt, createdAt, deliveredAt }`.',
    tag: 'webhooks',
    params: idParams,
    paramNotFound: ID_404,
    query: shape(PAGE),
    status: 200,
  },
  {
    id: 'triggerHook',
    method: 'post',
    path: '/hooks/{workflow}',
    summary:
      'Inbound trigger: starts `workflow` with the JSON body as input (empty body: `{}`), labelled `trigger=hook`; 201 with the execution. ' +
      '`idempotency-key` as on POST /executions (replay: 200); `?priority=` as the `priority` of POST /executions. Unknown workflow: 404 `definition_not_found`.',
    tag: 'webhooks',
    params: shape({ workflow: definitionName }),
    query: shape({ priority: Type.Optional(priority) }),
    paramNotFound: { workflow: ErrorCode.definitionNotFound },
    headers: ['idempotency-key'],
    body: { schema: ANY, optional: true },
    status: 201,
    alsoStatus: [200],
  },
] as const satisfies readonly RouteSpec[];
