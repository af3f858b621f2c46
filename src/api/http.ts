/** @module api/http — uWS plumbing: request ids, body reading with a size cap, corked response writers. */
import { randomUUID } from 'node:crypto';
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import { ErrorCode } from '../shared/errors.ts';
import { decodeUtf8 } from './i-json.ts';
import { type Problem, problemFor, statusLine } from './problem.ts';
import { MEDIA_JSON, MEDIA_PROBLEM } from './schemas.ts';
import type { Reply } from './types.ts';

/**
 * One request/response pair. uWS invalidates `req` when the handler returns and `res` when the
 * client aborts, so everything needed later is copied here and every write checks `open`.
 */
export interface Exchange {
  readonly res: HttpResponse;
  readonly requestId: string;
  /** False once aborted by the client or answered. */
  open: boolean;
  /** Called once if the client aborts (a streamed answer cleans up here). */
  onAbort?: (() => void) | undefined;
  /** `access-control-allow-origin` value when the request's origin is allowed (CORS). */
  corsOrigin?: string | undefined;
  /** Called once with the status (and JSON body) of the answer: the audit log listens here. */
  onAnswer?: ((status: number, body: unknown) => void) | undefined;
  /** `performance.now()` when the request arrived (latency metrics). */
  readonly t0: number;
  /** Latency histogram of the route, observed once with the status of the answer. */
  timer: RouteTimer | undefined;
}

/** Observes one answered request of a route (api/metrics.ts implements it). */
export interface RouteTimer {
  observe(status: number, t0: number): void;
}

/** Response headers a browser script may read (CORS). */
const EXPOSED_HEADERS = 'x-request-id, retry-after, ratelimit-limit, ratelimit-remaining, ratelimit-reset, idempotent-replay, location';

/** Writes the CORS headers of an allowed origin; call inside the cork, after the status. */
export function writeCorsHeaders(ex: Exchange): void {
  if (ex.corsOrigin === undefined) return;
  ex.res.writeHeader('access-control-allow-origin', ex.corsOrigin).writeHeader('vary', 'origin').writeHeader('access-control-expose-headers', EXPOSED_HEADERS);
}

const SANE_REQUEST_ID = /^[\x21-\x7e]{1,200}$/;

/** Echo a sane `x-request-id` (printable ASCII, ≤ 200 chars), else a fresh UUID. */
export function requestIdOf(req: HttpRequest): string {
  const given = req.getHeader('x-request-id');
  return given !== '' && SANE_REQUEST_ID.test(given) ? given : randomUUID();
}

/** Must run synchronously in the uWS handler: registers onAborted before any async work. */
export function openExchange(res: HttpResponse, req: HttpRequest): Exchange {
  const ex: Exchange = { res, requestId: requestIdOf(req), open: true, onAbort: undefined, corsOrigin: undefined, onAnswer: undefined, t0: performance.now(), timer: undefined };
  res.onAborted(() => {
    ex.open = false;
    ex.onAbort?.();
  });
  return ex;
}

/** Writes a handler's reply, corked. Serialises first so a throw leaves the exchange open for a 500. */
export function writeReply(ex: Exchange, reply: Reply): void {
  if (!ex.open) return;
  if (reply.kind === 'stream') {
    ex.onAnswer?.(200, undefined);
    ex.timer?.observe(200, ex.t0);
    return reply.start(ex);
  }
  const payload = reply.kind === 'json' ? JSON.stringify(reply.body) : reply.kind === 'text' ? reply.body : '';
  ex.open = false;
  ex.onAnswer?.(reply.status, reply.kind === 'json' ? reply.body : undefined);
  ex.timer?.observe(reply.status, ex.t0);
  const res = ex.res;
  res.cork(() => {
    res.writeStatus(statusLine(reply.status)).writeHeader('x-request-id', ex.requestId);
    writeCorsHeaders(ex);
    switch (reply.kind) {
      case 'json':
        res.writeHeader('content-type', MEDIA_JSON);
        if (reply.headers !== undefined) for (const [k, v] of Object.entries(reply.headers)) res.writeHeader(k, v);
        res.end(payload);
        return;
      case 'text':
        res.writeHeader('content-type', reply.contentType);
        if (reply.headers !== undefined) for (const [k, v] of Object.entries(reply.headers)) res.writeHeader(k, v);
        res.end(payload);
        return;
      case 'empty':
        res.endWithoutBody();
        return;
      default:
        reply satisfies never;
    }
  });
}

/** Writes a problem+json answer; `close` ends the connection too (e.g. an unread oversized body). */
export function writeProblem(ex: Exchange, p: Problem, opts: { close?: boolean; headers?: Readonly<Record<string, string>> } = {}): void {
  if (!ex.open) return;
  ex.open = false;
  ex.onAnswer?.(p.status, undefined);
  ex.timer?.observe(p.status, ex.t0);
  const res = ex.res;
  res.cork(() => {
    res.writeStatus(statusLine(p.status)).writeHeader('x-request-id', ex.requestId).writeHeader('content-type', MEDIA_PROBLEM);
    writeCorsHeaders(ex);
    if (opts.headers !== undefined) for (const [k, v] of Object.entries(opts.headers)) res.writeHeader(k, v);
    res.end(JSON.stringify(p.body), opts.close === true);
  });
}

export function payloadTooLarge(ex: Exchange, maxBytes: number): void {
  writeProblem(ex, problemFor(ErrorCode.payloadTooLarge, `The request body exceeds the limit of ${maxBytes} bytes.`), { close: true });
}

const copyChunk = (chunk: ArrayBuffer): Buffer => Buffer.from(new Uint8Array(chunk));

/** A body whose bytes are not valid UTF-8: a copy of them, to say where in the refusal. */
export interface NotUtf8 {
  readonly notUtf8: Uint8Array;
}

/** A request body as read: its text, or the bytes when they are not UTF-8. */
export type BodyText = string | NotUtf8;

/**
 * Validates and decodes in one pass (nothing becomes U+FFFD). `view` bytes belong to uWS, which
 * reuses them after the callback: the rare invalid body is copied, a valid one never is.
 */
function bodyText(bytes: Uint8Array, view: boolean): BodyText {
  return decodeUtf8(bytes) ?? { notUtf8: view ? bytes.slice() : bytes };
}

/**
 * Collects the request body and hands it over as UTF-8 text (or, when its bytes are not UTF-8,
 * as `NotUtf8`). Each chunk is copied (uWS reuses its ArrayBuffer after the callback); a
 * single-chunk body is decoded straight from the view. Past `maxBytes` it answers 413, closes
 * the connection and never calls `onBody`.
 */
export function readBody(ex: Exchange, maxBytes: number, onBody: (body: BodyText) => void): void {
  let chunks: Buffer[] | undefined;
  let length = 0;
  ex.res.onData((chunk, isLast) => {
    if (!ex.open) return;
    length += chunk.byteLength;
    if (length > maxBytes) {
      chunks = undefined;
      payloadTooLarge(ex, maxBytes);
      return;
    }
    if (isLast) {
      if (chunks === undefined) {
        onBody(bodyText(new Uint8Array(chunk), true));
      } else {
        chunks.push(copyChunk(chunk));
        const all = Buffer.concat(chunks, length);
        chunks = undefined;
        onBody(bodyText(all, false));
      }
      return;
    }
    (chunks ??= []).push(copyChunk(chunk));
  });
}

/** The media type of a content-type header, lower case, without parameters; `''` when absent. */
export function mediaTypeOf(contentType: string): { type: string; charsetOk: boolean } {
  if (contentType === '') return { type: '', charsetOk: true };
  const semi = contentType.indexOf(';');
  const type = (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
  if (semi === -1) return { type, charsetOk: true };
  const m = /charset\s*=\s*"?([^";\s]+)/i.exec(contentType.slice(semi + 1));
  const charset = m?.[1]?.toLowerCase();
  return { type, charsetOk: charset === undefined || charset === 'utf-8' || charset === 'utf8' };
}

/** `application/json` or a `+json` structured suffix (e.g. `application/merge-patch+json`). */
export function isJsonMedia(type: string): boolean {
  return type === MEDIA_JSON || (type.startsWith('application/') && type.endsWith('+json'));
}
