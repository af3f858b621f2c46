/** @module api/http/body — reads a request body with a size cap and hands it over as UTF-8 text (or the bytes that are not). */
import type { Exchange } from './exchange.ts';
import { decodeUtf8 } from './i-json.ts';
import { payloadTooLarge } from './reply.ts';

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
