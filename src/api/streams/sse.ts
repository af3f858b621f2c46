/** @module api/streams/sse — GET /executions/{id}/stream: server-sent events with gap-free resume, keep-alives and backpressure. */
import type { Engine } from '../../engine/types.ts';
import { ValidationError } from '../../common/errors.ts';
import { TERMINAL_STATUSES } from '../../common/execution.ts';
import { parseExecutionId } from '../../common/ids.ts';
import type { Logger } from '../../common/logger.ts';
import { type Exchange, writeCorsHeaders } from '../http/exchange.ts';
import type { EXECUTION_ROUTES } from '../resources/executions/routes.ts';
import type { HandlersOf } from '../routing/route-spec.ts';
import type { EncodedEvent, EventFeed } from './event-feed.ts';
import type { StreamOptions } from './options.ts';
import { type Resume, type ResumeTarget, resumeExecution } from './resume.ts';
import { TERMINAL_EVENT_TYPES, WsErrorCode } from './ws/protocol.ts';

/** How long a finished stream waits for a stalled client to read its last frames. */
const FLUSH_GRACE_MS = 30_000;

/** Executions a consolidated (`?children=true`) stream follows at most (the root included). */
export const MAX_STREAM_EXECUTIONS = 1000;

/**
 * Where a stream stands: the root's last seq, plus each child's in the consolidated variant.
 * Written as the SSE `id:` (`12`, or `12,ex_…:5,ex_…:3`) and read back from `Last-Event-ID`.
 */
export interface StreamCursor {
  readonly root: number;
  readonly children: ReadonlyMap<string, number>;
}

const SEQ = /^\d{1,15}$/;

/** Parses an SSE `id:` of this stream; undefined when malformed. */
export function parseCursor(text: string): StreamCursor | undefined {
  const [first, ...rest] = text.trim().split(',');
  if (first === undefined || !SEQ.test(first)) return undefined;
  const children = new Map<string, number>();
  for (const part of rest) {
    const colon = part.indexOf(':');
    const id = parseExecutionId(part.slice(0, colon));
    const seq = part.slice(colon + 1);
    if (colon < 0 || id === undefined || !SEQ.test(seq)) return undefined;
    children.set(id, Number(seq));
  }
  return { root: Number(first), children };
}

/** Counters of SSE streams (read by `Streams.stats()`). */
export interface SseCounters {
  /** Streams open right now. */
  open: number;
  /** Streams ended because the client stopped reading. */
  slowConsumers: number;
}

export interface SseDeps {
  readonly engine: Engine;
  readonly feed: EventFeed;
  readonly logger: Logger;
  readonly options: StreamOptions;
  readonly counters: SseCounters;
}

/** The handler of `streamExecution`. Unknown ids answer 404 before any stream starts. */
export function sseHandlers(d: SseDeps) {
  return {
    streamExecution: {
      handle: async ({ ctx, params, query, headers }) => {
        const id = params.id;
        const lastEventId = headers['last-event-id'];
        let cursor: StreamCursor = { root: query.since ?? 0, children: new Map() };
        if (lastEventId !== undefined) {
          const parsed = parseCursor(lastEventId);
          if (parsed === undefined) {
            throw new ValidationError('The request is invalid; see `errors`.', [{ path: '/headers/last-event-id', message: 'must be an event id sent by this stream' }]);
          }
          cursor = parsed;
        }
        const view = await d.engine.get(ctx.tenant, id);
        const finished = TERMINAL_STATUSES.has(view.status) && cursor.root >= view.lastSeq;
        const stream = new SseStream(d, ctx.tenant, id, cursor, query.children === true);
        return { kind: 'stream', start: (ex) => stream.start(ex, finished) };
      },
    },
  } satisfies HandlersOf<typeof EXECUTION_ROUTES>;
}

interface Track {
  readonly id: string;
  live: boolean;
  resume: Resume | null;
}

/**
 * One SSE response. Every followed execution is a track (a gap-free resume, live in JS); all
 * tracks write into one output that respects uWS backpressure: while the socket is full,
 * frames wait in a bounded queue and replays pause; past `maxBufferedBytes` queued the client
 * is a slow consumer (an `error` event, then the response ends; it may reconnect with
 * `Last-Event-ID`). The stream ends after the root's terminal event; in the consolidated
 * variant that event is held until every child track has caught up, so it comes last.
 */
class SseStream {
  private ex: Exchange | undefined;
  private readonly tracks = new Map<string, Track>();
  private readonly seqs = new Map<string, number>();
  private readonly offs: (() => void)[] = [];
  private queue: string[] = [];
  private queuedBytes = 0;
  private backpressured = false;
  /** No more events are taken (terminal written, slow, aborted). */
  private stopped = false;
  /** The response is ended (or aborted): nothing more is written. */
  private done = false;
  private endWhenFlushed = false;
  private waiters: (() => void)[] = [];
  private listings = 0;
  private held: EncodedEvent | null = null;
  private wrote = false;
  private keepAlive: NodeJS.Timeout | undefined;

  constructor(
    private readonly d: SseDeps,
    private readonly tenant: string,
    private readonly rootId: string,
    private readonly cursor: StreamCursor,
    private readonly consolidated: boolean,
  ) {
    this.seqs.set(rootId, cursor.root);
    for (const [id, seq] of cursor.children) this.seqs.set(id, seq);
  }

  start(ex: Exchange, finished: boolean): void {
    this.ex = ex;
    const res = ex.res;
    this.d.counters.open++;
    ex.onAbort = () => {
      if (!this.done) this.d.counters.open--;
      this.done = true;
      this.stop();
    };
    res.onWritable(() => this.writable());
    res.cork(() => {
      res
        .writeStatus('200 OK')
        .writeHeader('x-request-id', ex.requestId)
        .writeHeader('content-type', 'text/event-stream')
        .writeHeader('cache-control', 'no-cache')
        .writeHeader('x-accel-buffering', 'no');
      writeCorsHeaders(ex);
      res.write(': stream\n\n');
    });
    // The client already has the terminal event: nothing will follow.
    if (finished) return this.finish();
    const every = this.d.options.keepAliveMs;
    this.keepAlive = setInterval(() => {
      if (!this.wrote && !this.backpressured) this.write(': keep-alive\n\n');
      this.wrote = false;
    }, every);
    this.keepAlive.unref();
    this.follow(this.rootId, this.cursor.root);
    if (this.consolidated) this.discover(this.rootId);
  }

  private follow(executionId: string, since: number): void {
    if (this.stopped || this.tracks.has(executionId) || this.tracks.size >= MAX_STREAM_EXECUTIONS) return;
    const track: Track = { id: executionId, live: false, resume: null };
    this.tracks.set(executionId, track);
    const o = this.d.options;
    track.resume = resumeExecution({
      engine: this.d.engine,
      feed: this.d.feed,
      tenant: this.tenant,
      executionId,
      since,
      pageSize: o.replayPageSize,
      maxBuffered: o.maxReplayBuffer,
      target: this.target(track),
    });
    track.resume.ready.then(
      () => {
        track.live = true;
        this.releaseHeld();
      },
      (err: unknown) => this.fail(err),
    );
  }

  /** Follows the children of `parentId`: those starting from now on, and those listed by the engine. */
  private discover(parentId: string): void {
    this.offs.push(this.d.feed.watchChildren(this.tenant, parentId, (childId) => this.adopt(childId)));
    this.listings++;
    const list = async (): Promise<void> => {
      let cursor: string | undefined;
      do {
        const page = await this.d.engine.children(this.tenant, parentId, { limit: 1000, cursor });
        for (const child of page.items) this.adopt(child.id);
        cursor = page.nextCursor ?? undefined;
      } while (cursor !== undefined && !this.stopped);
    };
    list().then(
      () => {
        this.listings--;
        this.releaseHeld();
      },
      (err: unknown) => this.fail(err),
    );
  }

  private adopt(childId: string): void {
    if (this.tracks.has(childId)) return;
    this.follow(childId, this.cursor.children.get(childId) ?? 0);
    this.discover(childId);
  }

  private target(track: Track): ResumeTarget {
    return {
      deliver: (e) => this.deliver(track, e),
      writable: () => !this.stopped && !this.backpressured && this.queuedBytes < this.d.options.maxBufferedBytes / 2,
      waitWritable: () =>
        new Promise<void>((resolve) => {
          if (this.stopped) resolve();
          else this.waiters.push(resolve);
        }),
      closed: () => this.stopped,
      cork: (fn) => {
        if (this.done || this.ex === undefined) fn();
        else this.ex.res.cork(fn);
      },
    };
  }

  private deliver(track: Track, event: EncodedEvent): void {
    if (this.stopped) return;
    if (track.id === this.rootId && (this.held !== null || TERMINAL_EVENT_TYPES.has(event.value.type))) {
      // Nothing of the root goes out after its terminal event (a later retry is another stream).
      if (this.held !== null) return;
      this.held = event;
      this.releaseHeld();
      return;
    }
    this.writeEvent(event);
  }

  /** Writes the root's terminal event and ends, once every child has caught up. */
  private releaseHeld(): void {
    if (this.held === null || this.stopped) return;
    if (this.consolidated && (this.listings > 0 || [...this.tracks.values()].some((t) => !t.live && t.id !== this.rootId))) return;
    this.writeEvent(this.held);
    this.finish();
  }

  private writeEvent(event: EncodedEvent): void {
    const e = event.value;
    this.seqs.set(e.executionId, e.seq);
    this.write(`id: ${this.consolidated ? this.cursorText() : e.seq}\nevent: ${e.type}\ndata: ${event.json()}\n\n`);
  }

  private cursorText(): string {
    let text = String(this.seqs.get(this.rootId) ?? 0);
    for (const [id, seq] of this.seqs) if (id !== this.rootId && seq > 0) text += `,${id}:${seq}`;
    return text;
  }

  private write(chunk: string): void {
    if (this.done || this.ex === undefined) return;
    this.wrote = true;
    if (this.backpressured) {
      this.queue.push(chunk);
      this.queuedBytes += chunk.length;
      if (this.queuedBytes > this.d.options.maxBufferedBytes) this.slow();
      return;
    }
    const res = this.ex.res;
    let ok = true;
    res.cork(() => {
      ok = res.write(chunk);
    });
    if (!ok) this.backpressured = true;
  }

  /** uWS `onWritable`: any write drains uWS's own buffer first, so write the queue (or a comment). */
  private writable(): boolean {
    if (this.done || this.ex === undefined) return true;
    const res = this.ex.res;
    let ok = true;
    if (this.queue.length === 0) ok = res.write(':\n\n');
    let i = 0;
    while (ok && i < this.queue.length) {
      const chunk = this.queue[i++] as string;
      this.queuedBytes -= chunk.length;
      ok = res.write(chunk);
    }
    this.queue = i === 0 ? this.queue : this.queue.slice(i);
    if (ok) {
      this.backpressured = false;
      this.wake();
      if (this.endWhenFlushed) this.end();
    }
    return true;
  }

  private slow(): void {
    this.d.logger.warn('slow SSE consumer closed', { executionId: this.rootId, queuedBytes: this.queuedBytes });
    this.d.counters.slowConsumers++;
    this.queue = [];
    this.queuedBytes = 0;
    this.stop();
    const body = JSON.stringify({ code: WsErrorCode.slowConsumer, message: 'output buffer over the limit; reconnect with Last-Event-ID' });
    this.writeNow(`event: error\ndata: ${body}\n\n`);
    this.end();
  }

  private fail(err: unknown): void {
    if (this.stopped) return;
    this.d.logger.error('SSE stream failed', { executionId: this.rootId, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    this.stop();
    this.write(`event: error\ndata: ${JSON.stringify({ code: 'internal_error', message: 'the stream failed; it has been logged' })}\n\n`);
    this.finish();
  }

  /** Ends after the queued output is written; a client that never reads it is cut after a grace period. */
  private finish(): void {
    this.stop();
    if (!this.backpressured) return this.end();
    this.endWhenFlushed = true;
    setTimeout(() => {
      if (this.done || this.ex === undefined) return;
      this.done = true;
      this.d.counters.open--;
      this.ex.open = false;
      this.ex.res.close();
    }, FLUSH_GRACE_MS).unref();
  }

  private writeNow(chunk: string): void {
    if (this.done || this.ex === undefined) return;
    const res = this.ex.res;
    res.cork(() => res.write(chunk));
  }

  private end(): void {
    if (this.done || this.ex === undefined) return;
    this.done = true;
    this.d.counters.open--;
    this.ex.open = false;
    const res = this.ex.res;
    res.cork(() => res.end());
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** Stops following executions (idempotent); the response itself is ended by `end`. */
  private stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.keepAlive !== undefined) clearInterval(this.keepAlive);
    for (const t of this.tracks.values()) t.resume?.cancel();
    for (const off of this.offs) off();
    this.offs.length = 0;
    this.wake();
  }
}

