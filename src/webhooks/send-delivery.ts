/** @module webhooks/send-delivery — one delivery attempt: re-check the URL, POST the signed body to the checked address, classify the outcome. */
import { type Agent, type ClientRequest, type IncomingMessage, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import type { DeliveryRow } from '../store/types.ts';
import { PINNED_OPTION } from './agent-pool.ts';
import { pinnedLookup } from './pinned-lookup.ts';
import { signatureHeader } from './signature.ts';
import { checkWebhookUrl } from './url-guard.ts';

export interface AttemptRequest {
  readonly url: string;
  readonly secret: string;
  readonly delivery: DeliveryRow;
  readonly allowPrivate: boolean;
  readonly timeoutMs: number;
  /** Aborted at shutdown: the attempt is then not counted. */
  readonly signal: AbortSignal;
  readonly nowMs: number;
  /** The webhook's keep-alive agent for the protocol (agent-pool.ts); none: one connection per attempt. */
  readonly agentFor?: (https: boolean) => Agent | undefined;
}

export type AttemptResult =
  | { readonly kind: 'delivered'; readonly statusCode: number }
  | { readonly kind: 'failed'; readonly statusCode: number | null; readonly error: string }
  /** Shutdown interrupted it; the delivery stays as it was and resumes at the next boot. */
  | { readonly kind: 'aborted' };

const USER_AGENT = 'actorflow-webhooks/1';
/** Bytes of a receiver's answer read (and dropped) at most; past that the connection is closed. */
export const MAX_WEBHOOK_RESPONSE_BYTES = 64 * 1024;

export interface PinnedPost {
  readonly url: URL;
  /** The addresses the guard checked: the connection goes to one of them, DNS is not asked again. */
  readonly addresses: readonly string[];
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly signal: AbortSignal;
  readonly maxResponseBytes?: number;
  /** A pinned keep-alive agent (agent-pool.ts); none: a fresh connection. */
  readonly agent?: Agent | undefined;
}

/** A pooled socket the receiver closed while idle fails this way before any answer: worth one more try. */
const STALE_SOCKET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);

/** An answer read by `postPinnedRead`: its status, and its body up to the cap. */
export interface PinnedAnswer {
  readonly status: number;
  readonly body: Buffer;
  /** The body was longer than the cap (the connection was closed; `body` holds the first bytes). */
  readonly cut: boolean;
  /** The whole answer arrived (false: the connection broke or the request was aborted while the body came). */
  readonly complete: boolean;
}

/**
 * POSTs over node:http(s) to a pinned address: Host header and TLS server name stay the URL's
 * hostname, no redirect is followed, and at most `maxResponseBytes` of the answer are read (the
 * rest closes the connection). With an agent, a pooled socket is reused only if it was opened for
 * the same checked address set; one that the receiver closed while idle is retried once on
 * another. Resolves with the status once the answer is read (or cut); rejects on a network error
 * or abort before the status.
 */
export async function postPinned(p: PinnedPost): Promise<number> {
  return (await postPinnedAnswer(p, false)).status;
}

/** `postPinned`, resolving with the answer's body too (HTTP push agents read their answers). */
export function postPinnedRead(p: PinnedPost): Promise<PinnedAnswer> {
  return postPinnedAnswer(p, true);
}

async function postPinnedAnswer(p: PinnedPost, keep: boolean): Promise<PinnedAnswer> {
  try {
    return await postOnce(p, keep);
  } catch (err) {
    const stale = (err as { reusedSocket?: unknown }).reusedSocket === true && STALE_SOCKET_CODES.has(String((err as { code?: unknown }).code));
    if (!stale || p.signal.aborted) throw err;
    return postOnce(p, keep);
  }
}

const NO_BODY = Buffer.alloc(0);

function postOnce(p: PinnedPost, keep: boolean): Promise<PinnedAnswer> {
  const https = p.url.protocol === 'https:';
  const host = p.url.hostname.startsWith('[') ? p.url.hostname.slice(1, -1) : p.url.hostname;
  const cap = p.maxResponseBytes ?? MAX_WEBHOOK_RESPONSE_BYTES;
  return new Promise((resolve, reject) => {
    let status: number | undefined;
    const chunks: Buffer[] = [];
    let cut = false;
    let complete = false;
    const answer = (): PinnedAnswer => ({ status: status ?? 0, body: chunks.length === 0 ? NO_BODY : Buffer.concat(chunks), cut, complete });
    const done = (): void => {
      if (status !== undefined) resolve(answer());
    };
    const options = {
      method: 'POST',
      headers: { ...p.headers, 'content-length': String(Buffer.byteLength(p.body)) },
      // New sockets (of an agent too: Node passes request options to createConnection) connect only here.
      lookup: pinnedLookup(p.addresses),
      // Pools sockets per checked set (agent-pool.ts); no agent: a fresh connection per attempt.
      [PINNED_OPTION]: [...p.addresses].sort().join(','),
      agent: p.agent ?? (false as const),
      signal: p.signal,
      // SNI must name the host (never an IP literal); the certificate is checked against it.
      ...(https && isIP(host) === 0 ? { servername: host } : {}),
    };
    const onResponse = (res: IncomingMessage): void => {
      status = res.statusCode ?? 0;
      let read = 0;
      // Read to the end (kept or dropped) so a keep-alive socket goes back to the pool.
      res.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read > cap) {
          cut = true;
          res.destroy();
        } else if (keep) chunks.push(chunk);
      });
      res.on('end', () => {
        complete = true;
        done();
      });
      res.on('close', done);
      res.on('error', done);
    };
    const req: ClientRequest = https ? httpsRequest(p.url, options, onResponse) : httpRequest(p.url, options, onResponse);
    req.on('error', (err) => (status === undefined ? reject(Object.assign(err, { reusedSocket: req.reusedSocket })) : resolve(answer())));
    req.end(p.body);
  });
}

/** A network error in a few words: its code (`ECONNREFUSED`…), else its cause's, else its message. */
export function describeError(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && code !== 'ABORT_ERR') return code;
  const cause = (err as { cause?: { code?: unknown; message?: unknown } }).cause;
  if (cause && typeof cause.code === 'string') return cause.code;
  if (cause && typeof cause.message === 'string') return cause.message;
  return err instanceof Error ? err.message : String(err);
}

/**
 * POSTs the delivery's body with `content-type: application/json`, `x-actorflow-signature`,
 * `x-actorflow-event` and `x-actorflow-delivery`, to an address the URL guard has just checked.
 * 2xx is delivered; any other status, a redirect (never followed: it could point inside), a
 * network error or the timeout is a failed attempt. Never throws.
 */
export async function sendDelivery(req: AttemptRequest): Promise<AttemptResult> {
  const verdict = await checkWebhookUrl(req.url, { allowPrivate: req.allowPrivate });
  if (req.signal.aborted) return { kind: 'aborted' };
  if (!verdict.ok) return { kind: 'failed', statusCode: null, error: `url refused: ${verdict.reason}` };
  const d = req.delivery;
  const deadline = AbortSignal.timeout(req.timeoutMs);
  try {
    const status = await postPinned({
      url: verdict.url,
      addresses: verdict.addresses,
      headers: {
        'content-type': 'application/json',
        'user-agent': USER_AGENT,
        'x-actorflow-signature': signatureHeader(req.secret, d.body, Math.floor(req.nowMs / 1000)),
        'x-actorflow-event': d.eventType,
        'x-actorflow-delivery': d.id,
      },
      body: d.body,
      signal: AbortSignal.any([req.signal, deadline]),
      agent: req.agentFor?.(verdict.url.protocol === 'https:'),
    });
    if (status >= 200 && status < 300) return { kind: 'delivered', statusCode: status };
    return { kind: 'failed', statusCode: status, error: `HTTP ${status}` };
  } catch (err) {
    if (req.signal.aborted) return { kind: 'aborted' };
    if (deadline.aborted) return { kind: 'failed', statusCode: null, error: `timed out after ${req.timeoutMs} ms` };
    return { kind: 'failed', statusCode: null, error: describeError(err) };
  }
}
