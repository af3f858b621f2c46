/** @module webhooks/signature — `x-actorflow-signature: t=<unix s>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`, and its verification. */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** The header value for `body` signed at `unixSeconds`. */
export function signatureHeader(secret: string, body: string, unixSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

/**
 * True when `header` carries a `v1` HMAC of `<t>.<body>` under `secret` and `t` is within
 * `toleranceS` of `nowS` (replay window). What a receiver does; exported for tests and docs.
 * @example verifySignature(req.headers['x-actorflow-signature'], rawBody, secret)
 */
export function verifySignature(header: string | undefined, body: string, secret: string, nowS: number = Math.floor(Date.now() / 1000), toleranceS = 300): boolean {
  if (header === undefined) return false;
  const fields = new Map<string, string[]>();
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const k = part.slice(0, eq).trim();
    fields.set(k, [...(fields.get(k) ?? []), part.slice(eq + 1).trim()]);
  }
  const t = Number(fields.get('t')?.[0]);
  if (!Number.isInteger(t) || Math.abs(nowS - t) > toleranceS) return false;
  const expected = Buffer.from(createHmac('sha256', secret).update(`${t}.${body}`).digest('hex'));
  return (fields.get('v1') ?? []).some((v) => {
    const got = Buffer.from(v);
    return got.length === expected.length && timingSafeEqual(got, expected);
  });
}
