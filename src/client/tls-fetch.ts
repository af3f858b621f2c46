/**
 * @module client/tls-fetch — `actorflow/client/tls`: a fetch for the client that trusts a private CA
 * and can present a client certificate (mTLS). Node 20's fetch takes neither, and the browser
 * bundle of the client must not load node:https, hence a separate entry passed as `fetch`.
 * @example
 * import { readFileSync } from 'node:fs';
 * const client = createClient({ url: 'https://flows.internal:8443', key, fetch: tlsFetch({ ca: readFileSync('ca.pem', 'utf8') }) });
 */
import { Agent, request } from 'node:https';
import { Readable } from 'node:stream';
import type { FetchLike } from './transport.ts';

/** PEM texts (not file names). */
export interface ClientTls {
  /** CA certificate(s) to trust instead of the system's. */
  readonly ca?: string;
  /** Client certificate chain presented to a server that requires one (mTLS), with `key`. */
  readonly cert?: string;
  /** Private key of `cert`. */
  readonly key?: string;
}

/** Bodyless by definition (a Response with a body for them throws). */
const NO_BODY = new Set([101, 204, 205, 304]);

/** A fetch over node:https with these TLS settings (keep-alive connections); `http:` URLs go to the global fetch. */
export function tlsFetch(tls: ClientTls): FetchLike {
  const agent = new Agent({ keepAlive: true, ...tls });
  return async (input, init = {}) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (url.protocol !== 'https:') return globalThis.fetch(input, init);
    const signal = init.signal ?? undefined;
    signal?.throwIfAborted();
    const method = (init.method ?? 'GET').toUpperCase();
    const headers = Object.fromEntries(new Headers(init.headers).entries());
    const body = init.body ?? undefined;
    if (body !== undefined && typeof body !== 'string') throw new TypeError('tlsFetch sends string bodies only');
    return new Promise<Response>((resolve, reject) => {
      // Rejects like fetch does, so callers report `cause`.
      const fail = (err: unknown): void => reject(signal?.aborted === true ? signal.reason : new TypeError('fetch failed', { cause: err }));
      const req = request(url, { method, headers, agent }, (res) => {
        const out = new Headers();
        for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) out.append(res.rawHeaders[i] as string, res.rawHeaders[i + 1] as string);
        const status = res.statusCode ?? 0;
        const stream = NO_BODY.has(status) || method === 'HEAD' ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>);
        if (stream === null) res.resume();
        resolve(new Response(stream, { status, statusText: res.statusMessage ?? '', headers: out }));
      });
      // An abort ends the request, or the body being read (an SSE stream).
      const abort = (): void => void req.destroy(signal?.reason as Error);
      signal?.addEventListener('abort', abort, { once: true });
      req.once('close', () => signal?.removeEventListener('abort', abort));
      req.once('error', fail);
      req.end(body);
    });
  };
}
