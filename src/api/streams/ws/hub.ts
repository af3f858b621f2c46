/** @module api/streams/ws/hub — the WebSocket hub: sockets, subscriptions, native uWS fan-out, replay, backpressure. */
import type { TemplatedApp, WebSocket } from 'uWebSockets.js';
import type { BulkEvent } from '../../../bulk/types.ts';
import type { Engine } from '../../../engine/types.ts';
import type { Principal } from '../../auth/types.ts';
import { ActorflowError } from '../../../common/errors.ts';
import type { ExecutionView } from '../../../common/execution.ts';
import type { Logger } from '../../../common/logger.ts';
import type { EventFeed } from '../event-feed.ts';
import { type Resume, type ResumeTarget, resumeExecution } from '../resume.ts';
import type { StreamOptions } from '../options.ts';
import { Fanout, type TopicRef } from './fanout.ts';
import { type LabelSubscription, LabelRouter } from './labels.ts';
import {
  CLOSE_GOING_AWAY,
  CLOSE_SLOW_CONSUMER,
  type ClientMessage,
  type EventFilter,
  type WireFormat,
  WsErrorCode,
  decodeFrame,
  encodeControl,
  parseClientMessage,
  topics,
} from './protocol.ts';

/** One open socket. uWS keeps `{ conn }` as the socket's user data. */
export interface Conn {
  ws: WebSocket<ConnData> | null;
  readonly tenant: string;
  readonly format: WireFormat;
  readonly subs: Map<string, Sub>;
  /** Set on close, and as soon as the socket is condemned (slow consumer): sends stop. */
  closed: boolean;
  /** Replays waiting for the socket to drain. */
  waiters: (() => void)[];
  /** Subscribed on open (the `/ws/executions/{id}` and `/ws/events` shortcuts). */
  readonly initial: ClientMessage | null;
}

export interface ConnData {
  readonly conn: Conn;
  /** The credential that opened the socket (its open-socket count is kept per credential). */
  readonly principal?: Principal | undefined;
}

/** A subscription; torn down the same way whatever its kind. */
interface Sub {
  readonly id: string;
  cancelled: boolean;
  /** Native topics joined. */
  readonly refs: TopicRef[];
  resume: Resume | null;
  labels: LabelSubscription | null;
}

export interface HubStats {
  readonly sockets: number;
  readonly subscriptions: number;
  /** Topic variants with subscribers. */
  readonly topics: number;
  readonly labelSubscriptions: number;
  /** Sockets closed as slow consumers since start. */
  readonly slowConsumers: number;
}

export interface HubDeps {
  readonly app: TemplatedApp;
  readonly engine: Engine;
  /** Bulk operations' events (`bulk.progress`, `bulk.completed`), for firehose subscriptions naming them. */
  readonly bulkEvents?: ((listener: (e: BulkEvent) => void) => () => void) | undefined;
  readonly feed: EventFeed;
  readonly logger: Logger;
  readonly options: StreamOptions;
}

/** A sweep of every socket's buffered amount runs at least this often while frames are published. */
const SWEEP_INTERVAL_MS = 1000;
/** …and at most this often (a sweep of 10,000 sockets costs 1–6 ms here). */
const MIN_SWEEP_GAP_MS = 50;

/** Creates a socket's state at the upgrade. */
export function newConn(tenant: string, format: WireFormat, initial: ClientMessage | null): Conn {
  return { ws: null, tenant, format, subs: new Map(), closed: false, waiters: [], initial };
}

/**
 * Owns every socket and subscription. Live execution and firehose events go out through uWS
 * topics (one publish per topic variant, fanned out in C++); only replays and label-filtered
 * firehoses send per socket from JS. Buffered output is checked by a sweep (after every
 * `maxBufferedBytes / 4` published but at most every 50 ms, and every second while publishing)
 * and on each JS send. Between two sweeps a socket can grow by what is published in 50 ms; uWS's
 * hard cap (`backpressureHeadroomBytes` above the limit) catches a faster runaway.
 */
export class WsHub {
  private readonly conns = new Set<Conn>();
  private readonly fanout: Fanout;
  private readonly labels: LabelRouter;
  private readonly offs: (() => void)[] = [];
  /** Detaches from the event feed; set while at least one socket is open. */
  private offFeed: (() => void) | undefined;
  private readonly lowWater: number;
  private readonly sweepBytes: number;
  private publishedSinceSweep = 0;
  private lastSweep = 0;
  private dirty = false;
  private sweepTimer: NodeJS.Timeout | undefined;
  private readonly interval: NodeJS.Timeout;
  private slowConsumers = 0;

  constructor(private readonly d: HubDeps) {
    const o = d.options;
    this.lowWater = Math.max(1, Math.floor(o.maxBufferedBytes / 2));
    this.sweepBytes = Math.max(1, Math.floor(o.maxBufferedBytes / 4));
    this.fanout = new Fanout(d.app, (bytes) => this.published(bytes));
    this.labels = new LabelRouter(d.engine, d.logger, o.labelCacheSize);
    this.offs.push(
      d.engine.onAgentEvent((e) => {
        try {
          this.fanout.publishAgentEvent(e);
        } catch (err) {
          d.logger.error('agent event fan-out failed', { error: String(err) });
        }
      }),
    );
    if (d.bulkEvents !== undefined) {
      this.offs.push(
        d.bulkEvents((e) => {
          try {
            this.fanout.publishBulkEvent(e);
          } catch (err) {
            d.logger.error('bulk event fan-out failed', { error: String(err) });
          }
        }),
      );
    }
    this.interval = setInterval(() => {
      if (this.dirty) this.sweep();
    }, SWEEP_INTERVAL_MS);
    this.interval.unref();
  }

  // ---- socket lifecycle (called by the uWS behavior in ws/upgrade.ts) ----

  opened(ws: WebSocket<ConnData>): void {
    const conn = ws.getUserData().conn;
    conn.ws = ws;
    this.conns.add(conn);
    // Committed events are needed only while a socket is open.
    this.offFeed ??= this.d.feed.onEvent((e) => {
      this.fanout.publishEvent(e);
      this.labels.onEvent(e);
    });
    if (conn.initial !== null) this.handle(conn, conn.initial);
  }

  message(ws: WebSocket<ConnData>, data: ArrayBuffer, isBinary: boolean): void {
    const conn = ws.getUserData().conn;
    if (conn.closed) return;
    let raw: unknown;
    try {
      raw = decodeFrame(data, isBinary);
    } catch {
      this.control(conn, { op: 'error', code: WsErrorCode.invalidMessage, message: isBinary ? 'the binary frame is not msgpack' : 'the text frame is not JSON' });
      return;
    }
    const msg = parseClientMessage(raw);
    if (msg.op === 'error') this.control(conn, { ...msg });
    else this.handle(conn, msg);
  }

  drained(ws: WebSocket<ConnData>): void {
    const conn = ws.getUserData().conn;
    if (conn.waiters.length > 0 && ws.getBufferedAmount() < this.lowWater) wake(conn);
  }

  closed(ws: WebSocket<ConnData>): void {
    const conn = ws.getUserData().conn;
    conn.closed = true;
    conn.ws = null;
    // uWS has already unsubscribed the socket from its topics; only our counts change.
    for (const sub of conn.subs.values()) this.teardown(null, sub);
    conn.subs.clear();
    wake(conn);
    this.conns.delete(conn);
    if (this.conns.size === 0 && this.offFeed !== undefined) {
      this.offFeed();
      this.offFeed = undefined;
    }
  }

  stats(): HubStats {
    let subscriptions = 0;
    for (const c of this.conns) subscriptions += c.subs.size;
    return { sockets: this.conns.size, subscriptions, topics: this.fanout.topicCount, labelSubscriptions: this.labels.size, slowConsumers: this.slowConsumers };
  }

  /** Ends every socket with 1001 and stops listening to the engine. */
  close(): void {
    for (const off of this.offs) off();
    this.offFeed?.();
    this.offFeed = undefined;
    clearInterval(this.interval);
    if (this.sweepTimer !== undefined) clearTimeout(this.sweepTimer);
    for (const conn of [...this.conns]) conn.ws?.end(CLOSE_GOING_AWAY, 'server shutting down');
  }

  // ---- ops ----

  private handle(conn: Conn, msg: ClientMessage): void {
    switch (msg.op) {
      case 'ping':
        this.control(conn, { op: 'pong' });
        return;
      case 'unsubscribe': {
        const sub = conn.subs.get(msg.id);
        if (sub === undefined) return this.fail(conn, msg.id, WsErrorCode.subscriptionNotFound, `no subscription ${JSON.stringify(msg.id)} on this socket`);
        conn.subs.delete(msg.id);
        this.teardown(conn.ws, sub);
        this.control(conn, { op: 'ack', id: msg.id });
        return;
      }
      case 'subscribe':
        return this.subscribe(conn, msg);
      default:
        msg satisfies never;
    }
  }

  private subscribe(conn: Conn, msg: Extract<ClientMessage, { op: 'subscribe' }>): void {
    const limit = this.d.options.maxSubscriptionsPerSocket;
    if (conn.subs.has(msg.id)) return this.fail(conn, msg.id, WsErrorCode.subscriptionExists, `subscription ${JSON.stringify(msg.id)} is already open`);
    if (conn.subs.size >= limit) return this.fail(conn, msg.id, WsErrorCode.subscriptionLimit, `at most ${limit} subscriptions per socket`);
    const sub: Sub = { id: msg.id, cancelled: false, refs: [], resume: null, labels: null };
    conn.subs.set(msg.id, sub);
    switch (msg.kind) {
      case 'execution':
        void this.subscribeExecution(conn, sub, msg.executionId, msg.since);
        return;
      case 'filter':
        this.control(conn, { op: 'ack', id: msg.id });
        this.subscribeFilter(conn, sub, msg.filter);
        return;
      case 'agents':
        this.control(conn, { op: 'ack', id: msg.id });
        this.join(conn, sub, { kind: 'agents', tenant: conn.tenant, base: topics.agents(conn.tenant), format: conn.format, sub: sub.id });
        return;
      default:
        msg satisfies never;
    }
  }

  /** Ack, replay the journal after `since`, then hand over to the execution's native topic. */
  private async subscribeExecution(conn: Conn, sub: Sub, executionId: string, since: number): Promise<void> {
    let view: ExecutionView;
    try {
      view = await this.d.engine.get(conn.tenant, executionId);
    } catch (err) {
      return this.failSub(conn, sub, err);
    }
    if (sub.cancelled || conn.closed) return;
    this.control(conn, { op: 'ack', id: sub.id });
    const ref: TopicRef = { kind: 'execution', executionId, tenant: conn.tenant, base: topics.execution(conn.tenant, executionId), format: conn.format, sub: sub.id };
    const o = this.d.options;
    sub.resume = resumeExecution({
      engine: this.d.engine,
      feed: this.d.feed,
      tenant: conn.tenant,
      executionId,
      since,
      pageSize: o.replayPageSize,
      maxBuffered: o.maxReplayBuffer,
      target: this.target(conn, sub),
      onLive: () => {
        if (sub.cancelled || conn.closed) return false;
        this.join(conn, sub, ref);
        return true;
      },
    });
    sub.resume.ready.catch((err: unknown) => this.failSub(conn, sub, err));
  }

  private subscribeFilter(conn: Conn, sub: Sub, filter: EventFilter): void {
    if (filter.labels !== undefined) {
      const format = conn.format;
      sub.labels = { tenant: conn.tenant, filter, deliver: (e) => this.send(conn, e.frame(format, sub.id)) };
      this.labels.add(sub.labels);
      return;
    }
    // Workflow and types map onto firehose slices: one topic per type, so an event (one type) is never sent twice.
    for (const type of filter.types ?? [null]) {
      const workflow = filter.workflow ?? null;
      this.join(conn, sub, { kind: 'firehose', workflow, type, tenant: conn.tenant, base: topics.firehose(conn.tenant, workflow, type), format: conn.format, sub: sub.id });
    }
  }

  private join(conn: Conn, sub: Sub, ref: TopicRef): void {
    if (conn.ws === null) return;
    this.fanout.join(conn.ws, ref);
    sub.refs.push(ref);
  }

  private teardown(ws: WebSocket<ConnData> | null, sub: Sub): void {
    sub.cancelled = true;
    sub.resume?.cancel();
    for (const ref of sub.refs) this.fanout.leave(ws, ref);
    sub.refs.length = 0;
    if (sub.labels !== null) this.labels.remove(sub.labels);
    sub.labels = null;
  }

  private failSub(conn: Conn, sub: Sub, err: unknown): void {
    if (sub.cancelled || conn.closed) return;
    if (conn.subs.get(sub.id) === sub) conn.subs.delete(sub.id);
    this.teardown(conn.ws, sub);
    if (err instanceof ActorflowError && err.code !== 'internal_error') return this.fail(conn, sub.id, err.code, err.message);
    this.d.logger.error('subscription failed', { error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    this.fail(conn, sub.id, WsErrorCode.internal, 'the subscription failed; it has been logged');
  }

  // ---- output and backpressure ----

  private target(conn: Conn, sub: Sub): ResumeTarget {
    return {
      deliver: (e) => this.send(conn, e.frame(conn.format, sub.id)),
      writable: () => !conn.closed && conn.ws !== null && conn.ws.getBufferedAmount() < this.lowWater,
      waitWritable: () =>
        new Promise<void>((resolve) => {
          if (conn.closed) resolve();
          else conn.waiters.push(resolve);
        }),
      closed: () => conn.closed || sub.cancelled,
      cork: (fn) => {
        if (conn.ws === null || conn.closed) fn();
        else conn.ws.cork(fn);
      },
    };
  }

  private fail(conn: Conn, id: string, code: string, message: string): void {
    this.control(conn, { op: 'error', id, code, message });
  }

  private control(conn: Conn, frame: Readonly<Record<string, unknown>>): void {
    this.send(conn, encodeControl(conn.format, frame));
  }

  /** A send from JS: refused (and the socket condemned) when the backlog is already past the limit. */
  private send(conn: Conn, frame: string | Buffer): void {
    const ws = conn.ws;
    if (ws === null || conn.closed) return;
    if (ws.getBufferedAmount() > this.d.options.maxBufferedBytes) return this.slowConsumer(conn);
    // 2 = dropped at uWS's hard cap (the socket is already being shut down): never a silent gap.
    if (ws.send(frame, typeof frame !== 'string', false) === 2) this.slowConsumer(conn);
  }

  private published(bytes: number): void {
    this.dirty = true;
    this.publishedSinceSweep += bytes;
    // uWS writes published frames at the start of the next loop turn: sweep after that.
    if (this.publishedSinceSweep >= this.sweepBytes && this.sweepTimer === undefined) {
      const wait = Math.max(1, this.lastSweep + MIN_SWEEP_GAP_MS - Date.now());
      this.sweepTimer = setTimeout(() => this.sweep(), wait);
    }
  }

  private sweep(): void {
    if (this.sweepTimer !== undefined) clearTimeout(this.sweepTimer);
    this.sweepTimer = undefined;
    this.dirty = false;
    this.publishedSinceSweep = 0;
    this.lastSweep = Date.now();
    const limit = this.d.options.maxBufferedBytes;
    for (const conn of this.conns) {
      if (!conn.closed && conn.ws !== null && conn.ws.getBufferedAmount() > limit) this.slowConsumer(conn);
    }
  }

  /**
   * Condemns a socket: sends stop at once; the error frame and the 1008 close follow in a
   * microtask, outside any cork of that socket. Memory stays bounded: uWS frees the backlog
   * when the connection goes (the peer has seconds to read the close, then it is cut).
   */
  private slowConsumer(conn: Conn): void {
    if (conn.closed) return;
    conn.closed = true;
    this.slowConsumers++;
    wake(conn);
    queueMicrotask(() => {
      const ws = conn.ws;
      if (ws === null) return;
      const message = `output buffer past ${this.d.options.maxBufferedBytes} bytes; reconnect with since`;
      ws.send(encodeControl(conn.format, { op: 'error', code: WsErrorCode.slowConsumer, message }), conn.format === 'msgpack', false);
      ws.end(CLOSE_SLOW_CONSUMER, 'slow_consumer');
    });
  }
}

function wake(conn: Conn): void {
  const waiters = conn.waiters;
  conn.waiters = [];
  for (const w of waiters) w();
}
