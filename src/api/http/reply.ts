/** @module api/http/reply — what a handler answers, and the corked writers of answers and problem+json refusals. */
import { ErrorCode, type Issue } from '../../common/errors.ts';
import { type Exchange, writeCorsHeaders } from './exchange.ts';
import { MEDIA_JSON, MEDIA_PROBLEM } from './media.ts';
import { type Problem, problemFor, statusLine } from './problem.ts';

export type Reply =
  | { readonly kind: 'json'; readonly status: number; readonly body: unknown; readonly headers?: Readonly<Record<string, string>> }
  | {
      readonly kind: 'text';
      readonly status: number;
      /** Text, or the bytes of a static asset. */
      readonly body: string | Uint8Array;
      readonly contentType: string;
      readonly headers?: Readonly<Record<string, string>>;
    }
  | { readonly kind: 'empty'; readonly status: number }
  /** A streamed answer (SSE): `start` owns the open exchange from here on (status, headers, writes, end). */
  | { readonly kind: 'stream'; readonly start: (ex: Exchange) => void };

export const json = (status: number, body: unknown, headers?: Readonly<Record<string, string>>): Reply =>
  headers === undefined ? { kind: 'json', status, body } : { kind: 'json', status, body, headers };

export const text = (status: number, body: string | Uint8Array, contentType: string, headers?: Readonly<Record<string, string>>): Reply =>
  headers === undefined ? { kind: 'text', status, body, contentType } : { kind: 'text', status, body, contentType, headers };

export const empty = (status: number): Reply => ({ kind: 'empty', status });

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
        // 204 has no body by definition; any other status says `content-length: 0`, or the client reads until the connection closes.
        if (reply.status === 204) res.endWithoutBody();
        else res.end();
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

/** 422 `validation_failed` with every failing path. */
export function writeInvalid(ex: Exchange, issues: readonly Issue[]): void {
  writeProblem(ex, problemFor(ErrorCode.validationFailed, 'The request is invalid; see `errors`.', issues));
}

export function payloadTooLarge(ex: Exchange, maxBytes: number): void {
  writeProblem(ex, problemFor(ErrorCode.payloadTooLarge, `The request body exceeds the limit of ${maxBytes} bytes.`), { close: true });
}
