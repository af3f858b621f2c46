/** @module api/streams/create-streams — real-time streams of the API: the event feed, the WebSocket hub and the SSE route, wired together. */
import type { TemplatedApp } from 'uWebSockets.js';
import type { Engine } from '../../engine/types.ts';
import type { Logger } from '../../common/logger.ts';
import { createEventFeed } from './event-feed.ts';
import { type SseCounters, sseHandlers } from './sse.ts';
import { type StreamOptions, resolveStreamOptions } from './options.ts';
import type { Gate } from '../auth/gate.ts';
import { type HubDeps, type HubStats, WsHub } from './ws/hub.ts';
import { mountWebSockets } from './ws/upgrade.ts';

export interface StreamsOptions {
  readonly engine: Engine;
  /** Bulk operations' events, published to firehose subscriptions that name their types. */
  readonly bulkEvents?: HubDeps['bulkEvents'];
  readonly logger: Logger;
  /** Limits; unset fields take the defaults of streams/options.ts. */
  readonly options?: Partial<StreamOptions> | undefined;
}

/** Counters of the stream endpoints right now. */
export interface StreamStats extends HubStats {
  /** SSE responses open. */
  readonly sseStreams: number;
  /** SSE responses ended because the client stopped reading. */
  readonly sseSlowConsumers: number;
}

export interface Streams {
  /** Route handlers for the route table (`streamExecution`). */
  readonly handlers: ReturnType<typeof sseHandlers>;
  /** Mounts the WebSocket routes; call before the router's catch-all. */
  mount(app: TemplatedApp, gate: Gate): void;
  stats(): StreamStats;
  /** Ends every socket (1001) and detaches from the engine. Idempotent. */
  close(): void;
}

/**
 * One listener on the engine feeds every stream. Options are validated here (throws on a bad value).
 * @example
 * const streams = createStreams({ engine, logger });
 * streams.mount(app, gate);
 */
export function createStreams(o: StreamsOptions): Streams {
  const options = resolveStreamOptions(o.options);
  const feed = createEventFeed(o.engine, o.logger);
  const counters: SseCounters = { open: 0, slowConsumers: 0 };
  let hub: WsHub | undefined;
  let closed = false;
  return {
    handlers: sseHandlers({ engine: o.engine, feed, logger: o.logger, options, counters }),
    mount: (app, gate) => {
      hub = new WsHub({ app, engine: o.engine, bulkEvents: o.bulkEvents, feed, logger: o.logger, options });
      mountWebSockets({ app, hub, engine: o.engine, logger: o.logger, options, gate });
    },
    stats: () => ({
      ...(hub?.stats() ?? { sockets: 0, subscriptions: 0, topics: 0, labelSubscriptions: 0, slowConsumers: 0 }),
      sseStreams: counters.open,
      sseSlowConsumers: counters.slowConsumers,
    }),
    close: () => {
      if (closed) return;
      closed = true;
      hub?.close();
      feed.close();
    },
  };
}
