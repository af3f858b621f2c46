/**
 * @module api/routing/body — the body stage of the request pipeline: the content type decides the
 * parser (JSON as I-JSON, YAML, or plain text), the body is read with the size cap, checked for
 * depth and size, and parsed; every refusal (400, 413, 415, 422) is written here.
 */
import { parse as parseYaml } from 'yaml';
import { ErrorCode, type Issue } from '../../common/errors.ts';
import { type BodyText, readBody } from '../http/body.ts';
import { MAX_BODY_DEPTH, jsonTextTooDeep, valueTooDeep, valueTooLarge, yamlTextTooDeep } from '../http/body-limits.ts';
import type { Exchange } from '../http/exchange.ts';
import { IJsonError, invalidUtf8Issue, parseIJson } from '../http/i-json.ts';
import { YAML_MEDIA_TYPES, isJsonMedia, mediaTypeOf } from '../http/media.ts';
import { ApiErrorCode, problem, problemFor } from '../http/problem.ts';
import { payloadTooLarge, writeInvalid, writeProblem } from '../http/reply.ts';
import type { BodySpec } from './route-spec.ts';

/** Hands the request body over once it is read (now, or already read while a JWT was verified). */
export type BodySource = (onBody: (body: BodyText) => void) => void;

/** What the pipeline captured of a request with a body, before the first await. */
export interface BodyRequest {
  readonly contentType: string;
  readonly contentLength: string;
  readonly maxBytes: number;
  /** The body already being read (a JWT was verified meanwhile); else it is read now. */
  readonly early?: BodySource | undefined;
}

type BodyKind = 'json' | 'yaml' | 'text' | 'none';

const TOO_DEEP: Issue = { path: '', message: `is nested deeper than ${MAX_BODY_DEPTH} levels` };

/** Written instead of a value: the refusal has been answered. */
const REFUSED: unique symbol = Symbol('refused');

/** Decides how to parse the body from its content type; `undefined` → 415. */
function bodyKind(contentType: string, spec: BodySpec): BodyKind | undefined {
  const media = mediaTypeOf(contentType);
  if (media.type === '') return 'none';
  if (!media.charsetOk) return undefined;
  if (isJsonMedia(media.type)) return 'json';
  if (spec.yaml === true && YAML_MEDIA_TYPES.has(media.type)) return 'yaml';
  if (spec.text !== undefined && media.type === spec.text.mediaType) return 'text';
  return undefined;
}

function unsupportedMedia(ex: Exchange, spec: BodySpec): void {
  const accepted = ['application/json', ...(spec.yaml === true ? ['application/yaml'] : []), ...(spec.text === undefined ? [] : [spec.text.mediaType])];
  const list = accepted.length === 1 ? accepted[0] : `${accepted.slice(0, -1).join(', ')} or ${accepted.at(-1)}`;
  writeProblem(ex, problemFor(ErrorCode.unsupportedMediaType, `The request body must be ${list} (UTF-8).`));
}

/** 400 for a body whose bytes are not UTF-8, with the pointer of the string holding the first bad byte. */
function notUtf8(ex: Exchange, bytes: Uint8Array, kind: BodyKind, spec: BodySpec): void {
  if (kind === 'none') return unsupportedMedia(ex, spec);
  if (kind === 'text') {
    writeProblem(ex, problem(400, ErrorCode.badRequest, 'The request body is not valid UTF-8.', [{ path: `/${spec.text?.property ?? ''}`, message: 'is not valid UTF-8' }]));
    return;
  }
  const { byte, ...issue } = invalidUtf8Issue(bytes);
  const code = kind === 'yaml' ? ApiErrorCode.invalidYaml : ErrorCode.invalidJson;
  writeProblem(ex, problem(400, code, `The request body is not valid UTF-8 (byte ${byte}).`, [issue]));
}

/** Parses a non-empty body (JSON as I-JSON, RFC 7493); on failure writes the 400/415 answer and returns `{ ok: false }`. */
function parseBody(ex: Exchange, text: string, kind: BodyKind, spec: BodySpec): { ok: true; value: unknown } | { ok: false } {
  try {
    switch (kind) {
      case 'json':
        return { ok: true, value: parseIJson(text) };
      case 'yaml':
        return { ok: true, value: parseYaml(text, { logLevel: 'error' }) as unknown };
      case 'text':
        return { ok: true, value: { [spec.text?.property ?? '']: text } };
      case 'none':
        unsupportedMedia(ex, spec);
        return { ok: false };
      default:
        return kind satisfies never;
    }
  } catch (err) {
    if (err instanceof IJsonError) {
      writeProblem(ex, problem(400, ErrorCode.invalidJson, `The request body is not I-JSON (RFC 7493): ${err.message}.`, [err.issue]));
      return { ok: false };
    }
    const code = kind === 'yaml' ? ApiErrorCode.invalidYaml : ErrorCode.invalidJson;
    const what = kind === 'yaml' ? 'YAML' : 'JSON';
    writeProblem(ex, problem(400, code, `The request body is not valid ${what}: ${err instanceof Error ? err.message.split('\n')[0] : 'parse error'}`));
    return { ok: false };
  }
}

/** The value of a body as read, or REFUSED once its refusal is written. `issues` are those found so far (the query's). */
function bodyValue(ex: Exchange, text: BodyText, kind: BodyKind | undefined, spec: BodySpec, issues: Issue[]): unknown {
  if (text === '') {
    if (spec.optional !== true) {
      issues.push({ path: '', message: 'a request body is required' });
      writeInvalid(ex, issues);
      return REFUSED;
    }
    return {};
  }
  if (kind === undefined) {
    unsupportedMedia(ex, spec);
    return REFUSED;
  }
  if (typeof text !== 'string') {
    notUtf8(ex, text.notUtf8, kind, spec);
    return REFUSED;
  }
  if (kind === 'json' ? jsonTextTooDeep(text) : kind === 'yaml' && yamlTextTooDeep(text)) {
    writeInvalid(ex, [TOO_DEEP]);
    return REFUSED;
  }
  const parsed = parseBody(ex, text, kind, spec);
  if (!parsed.ok) return REFUSED;
  if (kind === 'yaml' && valueTooDeep(parsed.value)) {
    writeInvalid(ex, [TOO_DEEP]);
    return REFUSED;
  }
  // Array length and string length caps; walks the value only past a size threshold.
  const tooLarge = valueTooLarge(parsed.value, text.length);
  if (tooLarge !== undefined) {
    writeInvalid(ex, [tooLarge]);
    return REFUSED;
  }
  return parsed.value;
}

/** Starts reading the body now (uWS drops chunks without a data handler) and hands it over later. */
export function earlyBody(ex: Exchange, max: number): BodySource {
  let text: BodyText | undefined;
  let waiting: ((body: BodyText) => void) | undefined;
  readBody(ex, max, (t) => {
    if (waiting !== undefined) waiting(t);
    else text = t;
  });
  return (onBody) => {
    if (text !== undefined) onBody(text);
    else waiting = onBody;
  };
}

/**
 * Reads and parses the body of a route that has one, then calls `onValue` (an empty optional body
 * is `{}`). A declared length past the cap is 413 and a wrong content type 415 before anything is
 * read; an empty body has no media type to speak of (action routes), so that case is decided after
 * reading. A throw in `onValue` goes to `onError`.
 */
export function readRequestBody(ex: Exchange, spec: BodySpec, req: BodyRequest, issues: Issue[], onValue: (body: unknown) => void, onError: (err: unknown) => void): void {
  const kind = bodyKind(req.contentType, spec);
  if (req.contentLength !== '' && Number(req.contentLength) > req.maxBytes) return payloadTooLarge(ex, req.maxBytes);
  if (kind === undefined && Number(req.contentLength) > 0) return unsupportedMedia(ex, spec);
  const source: BodySource = req.early ?? ((onBody) => readBody(ex, req.maxBytes, onBody));
  source((text) => {
    try {
      const body = bodyValue(ex, text, kind, spec, issues);
      if (body !== REFUSED) onValue(body);
    } catch (err) {
      onError(err);
    }
  });
}
