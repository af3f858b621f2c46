/** @module webhooks/url-guard — SSRF guard: only http(s) URLs whose every resolved address is public unicast. */
import { lookup } from 'node:dns/promises';
import ipaddr from 'ipaddr.js';

/** `addresses`: what the host resolved to when checked; a request must connect to one of them and resolve nothing again. */
export type UrlVerdict = { readonly ok: true; readonly url: URL; readonly addresses: readonly string[] } | { readonly ok: false; readonly reason: string };

export interface UrlGuardOptions {
  /** Skip the address range check (ACTORFLOW_WEBHOOK_ALLOW_PRIVATE=1; local receivers in development and tests); the host must still resolve. */
  readonly allowPrivate: boolean;
  /** Give up resolving after this long. @default 5000 */
  readonly lookupTimeoutMs?: number;
}

export const DEFAULT_LOOKUP_TIMEOUT_MS = 5000;

/** `::a.b.c.d`, which ipaddr.js reads as IPv4-mapped (`::ffff:a.b.c.d`) though the network stack sends it to `::/96`. */
const V4_COMPATIBLE_DOTTED = /^::\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?:%.*)?$/;

const v4Of = (hi: number, lo: number): ipaddr.IPv4 => new ipaddr.IPv4([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff]);

/**
 * IPv6 ranges whose addresses carry an IPv4 address the packets end up at (or are translated to):
 * the embedded addresses, each of which must pass the IPv4 check. Ranges that embed IPv4 but are
 * not listed here (IPv4-compatible `::/96`, IPv4-translated `::ffff:0:0:0/96`, the local-use NAT64
 * prefix `64:ff9b:1::/48` whose IPv4 position depends on the operator's prefix length) are refused
 * outright by the `unicast`-only rule, like every other special range.
 */
const EMBEDDED_V4: Readonly<Record<string, (parts: readonly number[]) => ipaddr.IPv4[]>> = {
  // NAT64 well-known prefix 64:ff9b::/96 (RFC 6052): the IPv4 address is the last 32 bits (DNS64 answers these for public hosts).
  nat64: (p) => [v4Of(p[6] ?? 0, p[7] ?? 0)],
  // 6to4 2002::/16 (RFC 3056): 2002:AABB:CCDD::/48 is the site behind the IPv4 address AA.BB.CC.DD.
  '6to4': (p) => [v4Of(p[1] ?? 0, p[2] ?? 0)],
  // Teredo 2001::/32 (RFC 4380): the server's IPv4 in bits 32-63, the client's in the last 32 bits, XOR 0xffffffff.
  teredo: (p) => [v4Of(p[2] ?? 0, p[3] ?? 0), v4Of((p[6] ?? 0) ^ 0xffff, (p[7] ?? 0) ^ 0xffff)],
};

/** The range of an IPv6 address for the guard: ipaddr.js's, with its `rfc6052` split into the well-known /96 and the local-use /48. */
function v6Range(ip: ipaddr.IPv6): string {
  const range = ip.range();
  if (range === 'rfc6052') return ip.parts[2] === 0 ? 'nat64' : 'nat64LocalUse';
  // ipaddr.js calls `::/96` unicast (only `::` and `::1` are named): IPv4-compatible, deprecated (RFC 4291).
  if (range === 'unicast' && ip.parts.slice(0, 6).every((w) => w === 0)) return 'ipv4Compatible';
  return range;
}

/**
 * Why an address is refused, or undefined when it is public unicast. Deny by default: every range
 * but `unicast` is refused; IPv4 inside IPv6 (mapped, NAT64, 6to4, Teredo) must itself be public.
 */
export function forbiddenRange(address: string): string | undefined {
  if (!ipaddr.isValid(address)) return 'not an IP address';
  if (V4_COMPATIBLE_DOTTED.test(address)) return 'ipv4Compatible';
  // process() unwraps IPv4-mapped IPv6 (::ffff:127.0.0.1 is loopback).
  const ip = ipaddr.process(address);
  if (ip.kind() === 'ipv4') {
    const range = ip.range();
    return range === 'unicast' ? undefined : range;
  }
  const v6 = ip as ipaddr.IPv6;
  const range = v6Range(v6);
  const embedded = EMBEDDED_V4[range];
  if (embedded === undefined) return range === 'unicast' ? undefined : range;
  for (const v4 of embedded(v6.parts)) {
    const inner = v4.range();
    if (inner !== 'unicast') return `${range} of ${v4.toString()}, ${inner}`;
  }
  return undefined;
}

async function resolveAll(host: string, timeoutMs: number): Promise<string[]> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`lookup timed out after ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const found = await Promise.race([lookup(host, { all: true, verbatim: true }), timeout]);
    return found.map((a) => a.address);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Checks a webhook URL: http or https, no credentials, and (unless `allowPrivate`) every address
 * the host resolves to is public unicast: loopback, private, link-local, unique-local, CGNAT,
 * multicast, unspecified, reserved… are refused. Run at creation and again before every attempt,
 * whose request then connects only to the addresses checked here (DNS rebinding). Never throws.
 */
export async function checkWebhookUrl(raw: string, opts: UrlGuardOptions): Promise<UrlVerdict> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'is not an absolute URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { ok: false, reason: `scheme ${url.protocol.slice(0, -1)} is not allowed (http or https only)` };
  if (url.username !== '' || url.password !== '') return { ok: false, reason: 'must not carry credentials' };
  if (url.hostname === '') return { ok: false, reason: 'has no host' };
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  let addresses: string[];
  if (ipaddr.isValid(host)) addresses = [host];
  else {
    try {
      addresses = await resolveAll(host, opts.lookupTimeoutMs ?? DEFAULT_LOOKUP_TIMEOUT_MS);
    } catch (err) {
      return { ok: false, reason: `host ${host} does not resolve (${(err as { code?: string }).code ?? (err instanceof Error ? err.message : 'error')})` };
    }
    if (addresses.length === 0) return { ok: false, reason: `host ${host} does not resolve` };
  }
  if (!opts.allowPrivate) {
    for (const a of addresses) {
      const range = forbiddenRange(a);
      if (range !== undefined) return { ok: false, reason: `host ${host} resolves to ${a} (${range}), which is not a public address` };
    }
  }
  return { ok: true, url, addresses };
}
