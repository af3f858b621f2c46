/** @module api/streams/ws/protocol — the WebSocket wire protocol (docs/api/streams.md): subprotocols, client ops, server frames, topic names. */
import { BULK_EVENT_TYPES } from '../../../bulk/types.ts';
import { msgpackCodec } from '../../../common/codec.ts';
import { EVENT_TYPES, TERMINAL_EVENT_TYPES } from '../../../common/execution.ts';
import { parseExecutionId } from '../../../common/ids.ts';
import { isPlainRecord } from '../../../common/json.ts';
import { IJSON_MESSAGES, IJsonError, decodeUtf8, parseIJson } from '../../http/i-json.ts';

/** Wire format of a socket, chosen by subprotocol at the upgrade. */
export type WireFormat = 'json' | 'msgpack';

export const SUBPROTOCOL = { json: 'actorflow.json', msgpack: 'actorflow.msgpack' } as const;

/** Error codes a socket may receive in `{ op: "error", code }`. */
export const WsErrorCode = {
  /** The frame is not JSON / msgpack, or not an object. */
  invalidMessage: 'invalid_message',
  /** A field is missing or has the wrong type; `message` says which. */
  validationFailed: 'validation_failed',
  /** A subscription with this `id` is already open on the socket. */
  subscriptionExists: 'subscription_exists',
  /** `unsubscribe` names no open subscription. */
  subscriptionNotFound: 'subscription_not_found',
  /** More than the per-socket subscription cap (100). */
  subscriptionLimit: 'subscription_limit',
  /** Buffered output passed the limit: the socket is closed with 1008 right after. */
  slowConsumer: 'slow_consumer',
  executionNotFound: 'execution_not_found',
  internal: 'internal_error',
} as const;
export type WsErrorCode = (typeof WsErrorCode)[keyof typeof WsErrorCode];

/** Close code of a socket dropped for backpressure (policy violation). */
export const CLOSE_SLOW_CONSUMER = 1008;
/** Close code when the server shuts down. */
export const CLOSE_GOING_AWAY = 1001;

/** Execution event types a firehose filter may name (docs/api/executions.md, "Events"). */
export const EXECUTION_EVENT_TYPES = EVENT_TYPES;
/**
 * Every type a firehose filter may name: execution events, and bulk operations' progress, which only
 * subscriptions naming those types receive (a filter without `types` keeps getting execution events only).
 */
export const FIREHOSE_EVENT_TYPES = [...EXECUTION_EVENT_TYPES, ...BULK_EVENT_TYPES] as const;
const EVENT_TYPE_SET: ReadonlySet<string> = new Set(FIREHOSE_EVENT_TYPES);

/** Events after which an execution's SSE stream ends (a failed/timed-out one may still be retried later). */
export { TERMINAL_EVENT_TYPES };

/** A firehose filter: every given field must match (types: any of them; labels: all of them). */
export interface EventFilter {
  readonly workflow?: string;
  readonly types?: readonly string[];
  readonly labels?: Readonly<Record<string, string>>;
}

export type ClientMessage =
  | { readonly op: 'subscribe'; readonly kind: 'execution'; readonly id: string; readonly executionId: string; readonly since: number }
  | { readonly op: 'subscribe'; readonly kind: 'filter'; readonly id: string; readonly filter: EventFilter }
  | { readonly op: 'subscribe'; readonly kind: 'agents'; readonly id: string }
  | { readonly op: 'unsubscribe'; readonly id: string }
  | { readonly op: 'ping' };

/** A frame that could not be accepted; `id` when the frame carried a usable one. */
export interface ProtocolError {
  readonly op: 'error';
  readonly id?: string;
  readonly code: WsErrorCode;
  readonly message: string;
}

export const MAX_SUB_ID_LENGTH = 128;
const MAX_LABELS = 64;

/** The subprotocol to answer for a `sec-websocket-protocol` header: the client's first known one, json when none is offered. */
export function negotiate(header: string): { format: WireFormat; protocol: string } {
  for (const raw of header.split(',')) {
    const p = raw.trim();
    if (p === SUBPROTOCOL.json) return { format: 'json', protocol: p };
    if (p === SUBPROTOCOL.msgpack) return { format: 'msgpack', protocol: p };
  }
  return { format: 'json', protocol: '' };
}

/** Decodes one client frame: text frames are I-JSON (RFC 7493, as request bodies), binary frames msgpack, whatever was negotiated. */
export function decodeFrame(data: ArrayBuffer, isBinary: boolean): unknown {
  if (isBinary) return msgpackCodec.decode(new Uint8Array(data));
  const text = decodeUtf8(new Uint8Array(data));
  if (text === undefined) throw new IJsonError({ path: '', message: IJSON_MESSAGES.utf8 });
  return parseIJson(text);
}

function invalid(message: string, id?: string): ProtocolError {
  return id === undefined ? { op: 'error', code: WsErrorCode.validationFailed, message } : { op: 'error', id, code: WsErrorCode.validationFailed, message };
}

/** Checks a filter (from a message or from `/ws/events` query parameters); a string is the problem. */
export function parseFilter(raw: unknown): EventFilter | string {
  if (raw === undefined) return {};
  if (!isPlainRecord(raw)) return '`filter` must be an object';
  const out: { workflow?: string; types?: string[]; labels?: Record<string, string> } = {};
  for (const key of Object.keys(raw)) {
    if (key !== 'workflow' && key !== 'types' && key !== 'labels') return `\`filter.${key}\` is not allowed (unknown field)`;
  }
  const { workflow, types, labels } = raw;
  if (workflow !== undefined) {
    if (typeof workflow !== 'string' || workflow.length === 0 || workflow.length > 200) return '`filter.workflow` must be a string of 1–200 characters';
    out.workflow = workflow;
  }
  if (types !== undefined) {
    if (!Array.isArray(types) || types.length === 0) return '`filter.types` must be a non-empty array of event types';
    for (const t of types) if (typeof t !== 'string' || !EVENT_TYPE_SET.has(t)) return `\`filter.types\` has an unknown event type: ${JSON.stringify(t)}`;
    out.types = [...new Set(types as string[])];
  }
  if (labels !== undefined) {
    if (!isPlainRecord(labels)) return '`filter.labels` must be an object of strings';
    const entries = Object.entries(labels);
    if (entries.length > MAX_LABELS) return `\`filter.labels\` has more than ${MAX_LABELS} labels`;
    for (const [k, v] of entries) if (typeof v !== 'string' || k.length === 0 || k.length > 128) return '`filter.labels` must map label names to strings';
    if (entries.length > 0) out.labels = Object.fromEntries(entries) as Record<string, string>;
  }
  return out;
}

/** Validates a decoded client frame against the ops of docs/api/streams.md. */
export function parseClientMessage(raw: unknown): ClientMessage | ProtocolError {
  if (!isPlainRecord(raw)) return { op: 'error', code: WsErrorCode.invalidMessage, message: 'a frame must be an object with `op`' };
  const op = raw['op'];
  if (op === 'ping') return { op: 'ping' };
  const rawId = raw['id'];
  const id = typeof rawId === 'string' && rawId.length > 0 && rawId.length <= MAX_SUB_ID_LENGTH ? rawId : undefined;
  if (op !== 'subscribe' && op !== 'unsubscribe') return invalid('`op` must be one of: subscribe, unsubscribe, ping', id);
  if (id === undefined) return invalid(`\`id\` must be a string of 1–${MAX_SUB_ID_LENGTH} characters`);
  if (op === 'unsubscribe') return { op, id };

  const { executionId, since, filter, agents } = raw;
  const targets = (executionId !== undefined ? 1 : 0) + (filter !== undefined ? 1 : 0) + (agents !== undefined ? 1 : 0);
  if (targets > 1) return invalid('give exactly one of `executionId`, `filter`, `agents`', id);
  if (since !== undefined && executionId === undefined) return invalid('`since` is only allowed with `executionId` (filters are live only)', id);
  if (executionId !== undefined) {
    if (typeof executionId !== 'string') return invalid('`executionId` must be a string', id);
    if (parseExecutionId(executionId) === undefined) {
      return { op: 'error', id, code: WsErrorCode.executionNotFound, message: `execution_not_found: ${JSON.stringify(executionId)}` };
    }
    if (since !== undefined && (typeof since !== 'number' || !Number.isSafeInteger(since) || since < 0)) return invalid('`since` must be an integer ≥ 0', id);
    return { op, kind: 'execution', id, executionId, since: since ?? 0 };
  }
  if (agents !== undefined) {
    if (agents !== true) return invalid('`agents` must be true', id);
    return { op, kind: 'agents', id };
  }
  const parsed = parseFilter(filter ?? {});
  if (typeof parsed === 'string') return invalid(parsed, id);
  return { op, kind: 'filter', id, filter: parsed };
}

/** Encodes a control frame (ack, error, pong) in the socket's format. */
export function encodeControl(format: WireFormat, frame: Readonly<Record<string, unknown>>): string | Buffer {
  return format === 'json' ? JSON.stringify(frame) : msgpackCodec.encode(frame);
}

/**
 * A value (an event or an agent event) encoded at most once per format, and its
 * `{ op: "event", sub, event }` frames built by splicing those bytes, so the event body is never
 * serialised again per subscription. Frames are cached per (format, sub).
 */
export class EncodedValue<T = unknown> {
  private jsonText: string | undefined;
  private packed: Buffer | undefined;
  private frames: Map<string, string | Buffer> | undefined;

  constructor(readonly value: T) {}

  json(): string {
    return (this.jsonText ??= JSON.stringify(this.value));
  }

  msgpack(): Buffer {
    return (this.packed ??= msgpackCodec.encode(this.value));
  }

  /** The event frame for subscription `sub` in `format`. */
  frame(format: WireFormat, sub: string): string | Buffer {
    const key = format === 'json' ? `j${sub}` : `m${sub}`;
    const cached = this.frames?.get(key);
    if (cached !== undefined) return cached;
    const frame = format === 'json' ? `{"op":"event","sub":${JSON.stringify(sub)},"event":${this.json()}}` : Buffer.concat([msgpackPrefix(sub), this.msgpack()]);
    (this.frames ??= new Map()).set(key, frame);
    return frame;
  }
}

const FIXMAP_3 = Buffer.from([0x83]);
const prefixes = new Map<string, Buffer>();
const MAX_PREFIXES = 4096;

/** msgpack of `{ op: "event", sub, event: ` up to the event's own bytes (a 3-entry map). */
function msgpackPrefix(sub: string): Buffer {
  let p = prefixes.get(sub);
  if (p === undefined) {
    p = Buffer.concat([FIXMAP_3, ...['op', 'event', 'sub', sub, 'event'].map((s) => msgpackCodec.encode(s))]);
    if (prefixes.size >= MAX_PREFIXES) prefixes.clear();
    prefixes.set(sub, p);
  }
  return p;
}

/**
 * uWS topic names. Every one starts with the tenant, so a subscriber only ever joins topics of
 * its own tenant; JSON arrays keep client-chosen parts (subscription ids) unambiguous.
 */
export const topics = {
  /** One execution's events. */
  execution: (tenant: string, executionId: string): string => JSON.stringify([tenant, 'ex', executionId]),
  /** Firehose slice: `null` for "any workflow" / "any type". */
  firehose: (tenant: string, workflow: string | null, type: string | null): string => JSON.stringify([tenant, 'fh', workflow, type]),
  /** Agent events as seen by a tenant. */
  agents: (tenant: string): string => JSON.stringify([tenant, 'ag']),
  /** The topic a socket joins: a base plus the format and subscription id of the frames published there. */
  variant: (base: string, format: WireFormat, sub: string): string => `${base}${format === 'json' ? 'j' : 'm'}${JSON.stringify(sub)}`,
};
