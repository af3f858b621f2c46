/**
 * @module dashboard/live — one WebSocket to `/api/v1/ws` (key as `?token=`: browsers cannot set headers
 * on a WebSocket), multiplexing the pages' subscriptions; reconnects with backoff and re-subscribes.
 */
import type { BulkEventView, EventView } from '../../src/client/index.ts';

export type LiveState = 'connecting' | 'live' | 'offline';

interface Subscription {
  /** The subscribe frame without `op`/`id`. */
  readonly what: () => Record<string, unknown>;
  readonly onEvent: (event: unknown) => void;
  /** Called on every ack: after a reconnect, pages refetch what they may have missed. */
  readonly onAck?: (() => void) | undefined;
}

/** Backoff of reconnects: 0.5 s doubling to 10 s. */
const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 10_000;

export class LiveSocket {
  private ws: WebSocket | undefined;
  private readonly subs = new Map<string, Subscription>();
  private next = 0;
  private retryMs = RETRY_MIN_MS;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;

  constructor(
    private readonly key: string,
    private readonly onState: (state: LiveState) => void,
  ) {
    this.open();
  }

  /** Live events of every execution (the firehose, no history). */
  firehose(onEvent: (e: EventView) => void, onAck?: () => void): () => void {
    return this.add({ what: () => ({ filter: {} }), onEvent: (e) => onEvent(e as EventView), onAck });
  }

  /** One execution's events: its history after `since`, then live; resumes after the last seen seq. */
  execution(executionId: string, onEvent: (e: EventView) => void, onAck?: () => void): () => void {
    let since = 0;
    return this.add({
      what: () => ({ executionId, since }),
      onEvent: (raw) => {
        const e = raw as EventView;
        if (e.seq <= since) return;
        since = e.seq;
        onEvent(e);
      },
      onAck,
    });
  }

  /** Progress and ends of the tenant's bulk operations (`bulk.progress`, `bulk.completed`). */
  bulk(onEvent: (e: BulkEventView) => void, onAck?: () => void): () => void {
    return this.add({ what: () => ({ filter: { types: ['bulk.progress', 'bulk.completed'] } }), onEvent: (e) => onEvent(e as BulkEventView), onAck });
  }

  /** Agent registrations and status changes. */
  agents(onEvent: () => void, onAck?: () => void): () => void {
    return this.add({ what: () => ({ agents: true }), onEvent, onAck });
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.ws?.close(1000);
    this.onState('offline');
  }

  private add(sub: Subscription): () => void {
    const id = `s${++this.next}`;
    this.subs.set(id, sub);
    this.send({ op: 'subscribe', id, ...sub.what() });
    return () => {
      if (this.subs.delete(id)) this.send({ op: 'unsubscribe', id });
    };
  }

  private send(frame: Record<string, unknown>): void {
    // While disconnected nothing is sent: `onopen` subscribes everything again.
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(frame));
  }

  private open(): void {
    if (this.closed) return;
    this.onState('connecting');
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(`${proto}//${location.host}/api/v1/ws?token=${encodeURIComponent(this.key)}`, 'actorflow.json');
    this.ws = ws;
    ws.onopen = () => {
      this.retryMs = RETRY_MIN_MS;
      this.onState('live');
      for (const [id, sub] of this.subs) ws.send(JSON.stringify({ op: 'subscribe', id, ...sub.what() }));
    };
    ws.onmessage = (msg) => {
      if (typeof msg.data !== 'string') return;
      const frame = JSON.parse(msg.data) as { op: string; id?: string; sub?: string; event?: unknown; code?: string; message?: string };
      if (frame.op === 'event' && frame.sub !== undefined) this.subs.get(frame.sub)?.onEvent(frame.event);
      else if (frame.op === 'ack' && frame.id !== undefined) this.subs.get(frame.id)?.onAck?.();
      else if (frame.op === 'error') console.warn('actorflow websocket:', frame.code, frame.message);
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = undefined;
      if (this.closed) return;
      this.onState('offline');
      this.retryTimer = setTimeout(() => this.open(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
    };
  }
}
