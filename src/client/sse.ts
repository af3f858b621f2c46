/** @module client/sse — Server-Sent Events over fetch's ReadableStream, resuming with Last-Event-ID. */
import { TERMINAL_STATUSES, type EventView, type ExecutionStatus, type ExecutionView } from '../common/execution.ts';
import { ActorflowApiError } from './errors.ts';
import { type Transport, buildUrl, seg } from './transport.ts';

/** One parsed SSE frame. */
export interface SseFrame {
  readonly id: string | null;
  readonly event: string;
  readonly data: string;
}

/** Splits a byte stream into SSE frames (comments skipped; multi-line data joined with `\n`). */
export async function* parseSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseFrame> {
  const decoder = new TextDecoder();
  let buf = '';
  let id: string | null = null;
  let event = '';
  let data: string[] = [];
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      buf += decoder.decode(value, { stream: true });
      let nl: number;
      while ((nl = buf.search(/\r?\n/)) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(buf[nl] === '\r' ? nl + 2 : nl + 1);
        if (line === '') {
          if (data.length > 0) yield { id, event: event || 'message', data: data.join('\n') };
          event = '';
          data = [];
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        let value2 = colon < 0 ? '' : line.slice(colon + 1);
        if (value2.startsWith(' ')) value2 = value2.slice(1);
        if (field === 'id') id = value2;
        else if (field === 'event') event = value2;
        else if (field === 'data') data.push(value2);
      }
    }
  } finally {
    reader.releaseLock();
    await body.cancel().catch(() => undefined);
  }
}

export interface WatchOptions {
  /** Start after this seq (exclusive); default: the whole history from seq 1. */
  readonly since?: number;
  /** Include child executions' events. */
  readonly children?: boolean;
  /** Reconnect attempts after a dropped stream before giving up. @default 5 */
  readonly maxReconnects?: number;
  /** Delay between reconnects (ms). @default 250 */
  readonly reconnectDelayMs?: number;
  readonly signal?: AbortSignal;
}

const TERMINAL_EVENTS = new Set(['workflow.completed', 'workflow.failed', 'workflow.cancelled', 'workflow.timed_out']);

/** True for an event that ends an execution. */
export const isTerminalEvent = (e: Pick<EventView, 'type'>): boolean => TERMINAL_EVENTS.has(e.type);

/**
 * Every event of an execution (history, then live) until its terminal event. A dropped
 * connection is resumed with `Last-Event-ID` = the last seq seen, so nothing repeats or is lost.
 */
export async function* watchExecution(t: Transport, id: string, opts: WatchOptions = {}): AsyncGenerator<EventView> {
  let last: string | null = opts.since === undefined ? null : String(opts.since);
  let failures = 0;
  const maxReconnects = opts.maxReconnects ?? 5;
  for (;;) {
    const headers: Record<string, string> = { accept: 'text/event-stream', ...t.authHeaders() };
    if (last !== null) headers['last-event-id'] = last;
    const query = opts.children === true ? { children: 'true' } : undefined;
    let res: Response;
    try {
      res = await t.fetch(buildUrl(t.origin, `/executions/${seg(id)}/stream`, query), { headers, ...(opts.signal ? { signal: opts.signal } : {}) });
    } catch (err) {
      if (opts.signal?.aborted === true) return;
      if (++failures > maxReconnects) throw new ActorflowApiError(0, null, `cannot reach ${t.origin}: ${err instanceof Error ? err.message : String(err)}`);
      await delay(opts.reconnectDelayMs ?? 250);
      continue;
    }
    if (!res.ok || res.body === null) {
      const text = await res.text();
      let problem = null;
      try {
        problem = JSON.parse(text) as Record<string, never>;
      } catch {
        /* not JSON */
      }
      throw new ActorflowApiError(res.status, problem, `stream ${id}: HTTP ${res.status}`, res.headers.get('x-request-id'));
    }
    try {
      for await (const frame of parseSse(res.body)) {
        if (frame.event === 'error') throw new ActorflowApiError(500, safeJson(frame.data), `stream ${id}: ${frame.data}`);
        const event = JSON.parse(frame.data) as EventView;
        if (frame.id !== null) last = frame.id;
        failures = 0;
        yield event;
        if (event.executionId === id && isTerminalEvent(event)) return;
      }
    } catch (err) {
      if (err instanceof ActorflowApiError) throw err;
      if (opts.signal?.aborted === true) return;
      if (++failures > maxReconnects) throw err;
    }
    // The stream ended without a terminal event of this execution (dropped): resume, unless
    // the execution already ended and every event was seen (e.g. `since` was the terminal seq).
    if (opts.signal?.aborted === true) return;
    const ex = await t.call<ExecutionView>('GET', `/executions/${seg(id)}`);
    if (isTerminalStatus(ex.status) && Number(last ?? 0) >= ex.lastSeq) return;
    await delay(opts.reconnectDelayMs ?? 250);
  }
}

function safeJson(text: string): Record<string, never> | null {
  try {
    return JSON.parse(text) as Record<string, never>;
  } catch {
    return null;
  }
}

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** True when the status is final. */
export const isTerminalStatus = (s: ExecutionStatus): boolean => TERMINAL_STATUSES.has(s);
