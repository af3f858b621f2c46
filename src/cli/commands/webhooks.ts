/** @module cli/commands/webhooks — `actorflow webhooks list|get|create|delete|deliveries`: events POSTed to your URLs. */
import { deleteCommand, getCommand, listCommand } from './builders.ts';
import { show } from './output.ts';
import type { Group } from './spec.ts';

const KEYS = ['id', 'url', 'events', 'secretHint', 'createdAt'];

export const WEBHOOKS: Group = {
  name: 'webhooks',
  summary: 'outbound webhooks (signed event POSTs)',
  default: 'list',
  commands: [
    listCommand({
      name: 'webhooks list',
      summary: 'webhooks (secrets never shown)',
      columns: [['ID', 'id'], ['URL', 'url'], ['EVENTS', 'events'], ['SECRET', 'secretHint'], ['CREATED', 'createdAt']],
      list: (c, page) => c.client.webhooks.list(page),
    }),
    getCommand({ name: 'webhooks get', summary: 'one webhook', keys: KEYS, get: (c, id) => c.client.webhooks.get(id) }),
    {
      name: 'webhooks create',
      args: '<url>',
      summary: 'subscribe a URL to event types',
      details: 'Each matching event is POSTed as JSON with x-actorflow-signature: t=<unix s>,v1=<hex HMAC-SHA256 of "<t>.<body>"> under the secret.',
      flags: {
        event: { type: 'string', multiple: true, arg: 'TYPE', help: 'event type to deliver; workflow.*, workflow.step.* and * are wildcards (default workflow.*)' },
        secret: { type: 'string', arg: 'S', help: 'signing secret, 16-256 characters (default: generated, shown once)' },
      },
      async run(c) {
        const events = c.strs('event').flatMap((e) => e.split(',')).filter(Boolean);
        const secret = c.str('secret');
        const w = await c.client.webhooks.create({ url: c.arg(0, 'url'), events: events.length > 0 ? events : ['workflow.*'], ...(secret === undefined ? {} : { secret }) });
        show(c, w, w.secret === undefined ? KEYS : [...KEYS, 'secret']);
        if (!c.json && w.secret !== undefined) c.err('the secret is shown only once; store it now');
        return 0;
      },
    },
    deleteCommand({ name: 'webhooks delete', summary: 'delete a webhook with its delivery history', remove: (c, id) => c.client.webhooks.delete(id) }),
    listCommand({
      name: 'webhooks deliveries',
      args: '<id>',
      summary: 'deliveries of a webhook, newest first',
      columns: [['ID', 'id'], ['EVENT', 'eventType'], ['STATUS', 'status'], ['ATTEMPTS', 'attempts'], ['HTTP', 'lastStatusCode'], ['ERROR', 'lastError'], ['NEXT', 'nextAttemptAt'], ['CREATED', 'createdAt']],
      list: (c, page) => c.client.webhooks.deliveries(c.arg(0, 'id'), page),
    }),
  ],
};
