/** @module webhooks/pinned-lookup — a `lookup` for node:http(s) that answers only the addresses the SSRF guard already checked (no second resolution: DNS rebinding). */
import type { LookupAddress } from 'node:dns';
import { type LookupFunction, isIP } from 'node:net';

/**
 * A `lookup` that never asks DNS: it answers `addresses` (already checked), whatever the name,
 * honouring the `family` and `all` options the socket asks for (Node 20's happy eyeballs asks `all`).
 */
export function pinnedLookup(addresses: readonly string[]): LookupFunction {
  const pinned: LookupAddress[] = addresses.map((address) => ({ address, family: isIP(address) }));
  return (hostname, options, callback) => {
    const want = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : (options.family ?? 0);
    const found = want === 0 ? pinned : pinned.filter((a) => a.family === want);
    const first = found[0];
    if (first === undefined) {
      const err: NodeJS.ErrnoException = Object.assign(new Error(`no checked${want === 0 ? '' : ` IPv${want}`} address for ${hostname}`), { code: 'ENOTFOUND', hostname });
      return callback(err, '', 0);
    }
    if (options.all === true) callback(null, found);
    else callback(null, first.address, first.family);
  };
}
