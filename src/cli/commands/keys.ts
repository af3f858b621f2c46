/** @module cli/commands/keys — `actorflow keys create|list|revoke`: API keys (admin scope). */
import type { Scope } from '../../client/index.ts';
import { deleteCommand, listCommand } from './builders.ts';
import { UsageError } from './common.ts';
import { show } from './output.ts';
import type { Group } from './spec.ts';

const SCOPES: readonly string[] = ['read', 'write', 'admin'];

export const KEYS: Group = {
  name: 'keys',
  summary: 'API keys (admin)',
  default: 'list',
  commands: [
    {
      name: 'keys create',
      summary: 'create an API key (its secret is shown once)',
      flags: {
        name: { type: 'string', arg: 'NAME', help: 'what the key is for (required)' },
        scopes: { type: 'string', arg: 'S,S', help: 'read, write and/or admin (default read)' },
        tenant: { type: 'string', arg: 'SLUG', help: "tenant of the key (default: the caller's)" },
        rps: { type: 'string', arg: 'N', help: 'rate limit, requests per second' },
        burst: { type: 'string', arg: 'N', help: 'rate limit burst (default: --rps)' },
      },
      async run(c) {
        const name = c.str('name') ?? c.positionals[0];
        if (name === undefined) throw new UsageError('keys create needs --name');
        const scopes = (c.str('scopes') ?? 'read').split(',').filter(Boolean);
        const bad = scopes.find((s) => !SCOPES.includes(s));
        if (bad !== undefined) throw new UsageError(`unknown scope ${bad} (read|write|admin)`);
        const tenant = c.str('tenant');
        const rps = c.int('rps', 1);
        const k = await c.client.apiKeys.create({
          name,
          scopes: scopes as Scope[],
          ...(tenant === undefined ? {} : { tenant }),
          ...(rps === undefined ? {} : { rateLimit: { rps, burst: c.int('burst', 1) ?? rps } }),
        });
        show(c, k, ['id', 'name', 'tenant', 'scopes', 'key']);
        if (!c.json) c.err('the key is shown only once; store it now');
        return 0;
      },
    },
    listCommand({
      name: 'keys list',
      summary: 'active API keys (never their secrets)',
      columns: [['ID', 'id'], ['NAME', 'name'], ['TENANT', 'tenant'], ['SCOPES', 'scopes'], ['CREATED', 'createdAt']],
      list: (c, page) => c.client.apiKeys.list(page),
    }),
    deleteCommand({ name: 'keys revoke', summary: 'revoke a key: it stops working at once', verb: 'revoked', remove: (c, id) => c.client.apiKeys.revoke(id) }),
  ],
};
