/** @module cli/commands/audit — `actorflow audit`: state-changing calls, newest first (admin scope). */
import { PAGE_FLAGS, pageOptions } from './common.ts';
import { printPage } from './output.ts';
import type { Command } from './spec.ts';

export const auditCommand: Command = {
  name: 'audit',
  summary: 'state-changing API calls, newest first (admin)',
  flags: {
    'key-id': { type: 'string', arg: 'ID', help: 'only calls made with this API key' },
    route: { type: 'string', arg: 'ROUTE', help: 'only this route path, as the ROUTE column shows it' },
    from: { type: 'string', arg: 'TIME', help: 'only calls at or after this RFC 3339 time' },
    to: { type: 'string', arg: 'TIME', help: 'only calls before this RFC 3339 time' },
    ...PAGE_FLAGS,
  },
  async run(c) {
    const filter: { keyId?: string; route?: string; from?: string; to?: string } = {};
    for (const [flag, field] of [['key-id', 'keyId'], ['route', 'route'], ['from', 'from'], ['to', 'to']] as const) {
      const v = c.str(flag);
      if (v !== undefined) filter[field] = v;
    }
    const page = await c.client.audit({ ...pageOptions(c), ...filter });
    printPage(c, page, [['AT', 'at'], ['KEY', 'keyId'], ['METHOD', 'method'], ['ROUTE', 'route'], ['TARGET', 'targetId'], ['STATUS', 'status'], ['REQUEST', 'requestId']]);
    return 0;
  },
};
