/**
 * @module tracing/trace-context — W3C Trace Context (`traceparent`/`tracestate`) for executions, with no
 * OpenTelemetry dependency: the engine imports this, never the SDK.
 *
 * Span ids are derived, not stored: the execution span is `h(executionId)`, a step attempt's span is
 * `h(executionId, stepId, attempt)` (h = a fast 64-bit string hash: ids need to be distinct, not secret,
 * and every dispatch computes one, so SHA-256 (~10 µs here) is too dear). Dispatches, recovery and the OTLP
 * exporter all compute the same ids without keeping span objects anywhere. An execution started without
 * a `traceparent` gets a trace id derived from its (unique) execution id the same way.
 */
export interface TraceParent {
  readonly traceId: string;
  /** The caller's span (the parent of the execution span). */
  readonly spanId: string;
  /** Two hex digits; `01` = sampled. */
  readonly flags: string;
}

/** What an execution keeps: the trace it belongs to and the span that started it (null: a new trace). */
export interface ExecutionTrace {
  readonly traceId: string;
  readonly parentSpanId: string | null;
  readonly flags: string;
  readonly tracestate: string | null;
}

const HEX32 = /^[0-9a-f]{32}$/;
const HEX16 = /^[0-9a-f]{16}$/;
const HEX2 = /^[0-9a-f]{2}$/;
const ZERO32 = '0'.repeat(32);
const ZERO16 = '0'.repeat(16);

/** Parses a `traceparent` header (W3C level 1); anything invalid is null (ignored, never an error). */
export function parseTraceparent(value: string | undefined | null): TraceParent | null {
  if (typeof value !== 'string') return null;
  const v = value.trim();
  if (v.length < 55) return null;
  const version = v.slice(0, 2);
  if (!HEX2.test(version) || version === 'ff') return null;
  // Version 00 is exactly 55 characters; a later version may append fields after a dash.
  if (version === '00' ? v.length !== 55 : v.length > 55 && v[55] !== '-') return null;
  if (v[2] !== '-' || v[35] !== '-' || v[52] !== '-') return null;
  const traceId = v.slice(3, 35);
  const spanId = v.slice(36, 52);
  const flags = v.slice(53, 55);
  if (!HEX32.test(traceId) || traceId === ZERO32 || !HEX16.test(spanId) || spanId === ZERO16 || !HEX2.test(flags)) return null;
  return { traceId, spanId, flags };
}

/** Keeps a `tracestate` that is plausibly valid (printable ASCII, ≤ 512 chars, ≤ 32 members); else null. */
export function parseTracestate(value: string | undefined | null): string | null {
  if (typeof value !== 'string') return null;
  const v = value.trim();
  if (v === '' || v.length > 512 || !/^[\x20-\x7e]+$/.test(v) || v.split(',').length > 32) return null;
  return v;
}

export const formatTraceparent = (traceId: string, spanId: string, flags: string): string => `00-${traceId}-${spanId}-${flags}`;

const hex8 = (n: number): string => (n >>> 0).toString(16).padStart(8, '0');

/** 64 bits (16 hex digits) of `text`: two 32-bit multiply-xorshift lanes (cyrb53's mixing, both lanes kept). */
function hash64(text: string, seed: number): string {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return hex8(h1) + hex8(h2);
}

/** A non-zero id of `hexLen` hex digits derived from `text`. */
function derive(text: string, hexLen: 16 | 32): string {
  const id = hexLen === 16 ? hash64(text, 0) : hash64(text, 0) + hash64(text, 0x9e3779b9);
  return /^0+$/.test(id) ? `${id.slice(0, -1)}1` : id;
}

/** Span id of an execution's own span. */
export const executionSpanId = (executionId: string): string => derive(`execution\u0000${executionId}`, 16);

/** Span id of one step attempt (the parent of whatever the agent does). */
export const stepSpanId = (executionId: string, stepId: string, attempt: number): string => derive(`step\u0000${executionId}\u0000${stepId}\u0000${attempt}`, 16);

/** The trace of an execution: the caller's trace when it sent a valid `traceparent`, else a new one (sampled). */
export function executionTrace(executionId: string, traceparent: string | null | undefined, tracestate?: string | null): ExecutionTrace {
  const p = parseTraceparent(traceparent);
  if (p) return { traceId: p.traceId, parentSpanId: p.spanId, flags: p.flags, tracestate: parseTracestate(tracestate) };
  return { traceId: derive(`trace\u0000${executionId}`, 32), parentSpanId: null, flags: '01', tracestate: null };
}

/** The `traceparent` a step attempt's task carries: the execution's trace, the attempt's span as parent. */
export function stepTraceparent(executionId: string, traceparent: string | null | undefined, stepId: string, attempt: number): string {
  return stepTraceparentIn(executionTrace(executionId, traceparent), executionId, stepId, attempt);
}

/** The same for an execution whose trace is already known (computed once per execution: parsing and deriving it is most of the cost). */
export function stepTraceparentIn(trace: ExecutionTrace, executionId: string, stepId: string, attempt: number): string {
  return formatTraceparent(trace.traceId, stepSpanId(executionId, stepId, attempt), trace.flags);
}
