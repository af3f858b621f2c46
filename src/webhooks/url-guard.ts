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

/** Why an address is refused, or undefined when it is public unicast (deny by default: every other range is refused). */
export function forbiddenRange(address: string): string | undefined {
  if (!ipaddr.isValid(address)) return 'not an IP address';
  // process() unwraps IPv4-mapped IPv6 (::ffff:127.0.0.1 is loopback).
  const range = ipaddr.process(address).range();
  return range === 'unicast' ? undefined : range;
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
