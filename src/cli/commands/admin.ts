/** @module cli/commands/admin — `actorflow agents [id]` and `actorflow keys create|list|revoke`. */
import type { Scope } from '../../client/index.ts';
import { UsageError, context, details, need, printPage } from './common.ts';

/** `agents` lists; `agents <id>` shows one with its stats. */
export async function agentsCommand(argv: string[]): Promise<number> {
  const c = context(argv, { limit: { type: 'string' }, cursor: { type: 'string' } });
  const id = c.positionals[0] === 'get' ? c.positionals[1] : c.positionals[0];
  if (id !== undefined && id !== 'list') {
    const a = await c.client.agents.get(id);
    c.out(c.json ? JSON.stringify(a, null, 2) : details(a as unknown as Record<string, unknown>));
    return 0;
  }
  printPage(c, await c.client.agents.list(), [['ID', 'id'], ['NAME', 'name'], ['KINDS', 'kinds'], ['STATUS', 'status'], ['CAPACITY', 'capacity'], ['IN-FLIGHT', 'inFlight'], ['HEARTBEAT', 'lastHeartbeatAt']]);
  return 0;
}

const SCOPES: readonly string[] = ['read', 'write', 'admin'];

/** API keys (admin). */
export async function keysCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'create': {
      const c = context(rest, { name: { type: 'string' }, scopes: { type: 'string' }, tenant: { type: 'string' }, rps: { type: 'string' }, burst: { type: 'string' } });
      const name = c.str('name') ?? c.positionals[0];
      if (name === undefined) throw new UsageError('keys create needs --name');
      const scopes = (c.str('scopes') ?? 'read').split(',').filter(Boolean);
      const bad = scopes.find((s) => !SCOPES.includes(s));
      if (bad !== undefined) throw new UsageError(`unknown scope ${bad} (read|write|admin)`);
      const tenant = c.str('tenant');
      const rps = c.str('rps');
      const burst = c.str('burst');
      const k = await c.client.apiKeys.create({
        name,
        scopes: scopes as Scope[],
        ...(tenant === undefined ? {} : { tenant }),
        ...(rps === undefined ? {} : { rateLimit: { rps: Number(rps), burst: Number(burst ?? rps) } }),
      });
      if (c.json) c.out(JSON.stringify(k, null, 2));
      else {
        c.out(details(k as unknown as Record<string, unknown>, ['id', 'name', 'tenant', 'scopes', 'key']));
        c.err('the key is shown only once; store it now');
      }
      return 0;
    }
    case 'list':
    case undefined: {
      const c = context(rest, { limit: { type: 'string' }, cursor: { type: 'string' } });
      printPage(c, await c.client.apiKeys.list(), [['ID', 'id'], ['NAME', 'name'], ['TENANT', 'tenant'], ['SCOPES', 'scopes'], ['CREATED', 'createdAt']]);
      return 0;
    }
    case 'revoke': {
      const c = context(rest);
      const id = need(c.positionals, 0, 'id');
      await c.client.apiKeys.revoke(id);
      c.out(c.json ? JSON.stringify({ revoked: id }) : `${id} revoked`);
      return 0;
    }
    default:
      throw new UsageError(`unknown keys subcommand ${sub}: create|list|revoke`);
  }
}
