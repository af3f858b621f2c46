/** @module api/streams/options — limits of WebSocket and SSE streams, with their defaults and validation. */

export interface StreamOptions {
  /**
   * Output a socket (or an SSE response) may have buffered and unread; past it the client is a
   * slow consumer: `{ op: "error", code: "slow_consumer" }` and close 1008 (SSE: an `error`
   * event, then the response ends). @default 1048576 (1 MiB)
   */
  readonly maxBufferedBytes: number;
  /**
   * uWS `maxBackpressure` is `maxBufferedBytes` plus this: the hard cap per socket, reached only
   * between two sweeps; a socket that hits it is dropped by uWS (`closeOnBackpressureLimit`),
   * so a dropped frame never leaves a silent gap. @default 4194304 (4 MiB)
   */
  readonly backpressureHeadroomBytes: number;
  /** uWS idle timeout of a socket, in seconds; pings are sent automatically. 0 disables, else ≥ 8. @default 120 */
  readonly idleTimeoutS: number;
  /** @default 100 (docs/api/streams.md) */
  readonly maxSubscriptionsPerSocket: number;
  /** Largest client frame; bigger ones close the socket (uWS `maxPayloadLength`). @default 65536 */
  readonly maxMessageBytes: number;
  /** Interval of SSE keep-alive comments. @default 15000 */
  readonly keepAliveMs: number;
  /** Events per journal page during a replay. @default 256 */
  readonly replayPageSize: number;
  /** Live events held per resuming stream while its history is replayed. @default 4096 */
  readonly maxReplayBuffer: number;
  /** Executions whose labels the label-filtered firehose keeps (LRU). @default 10000 */
  readonly labelCacheSize: number;
}

export const DEFAULT_MAX_BUFFERED_BYTES = 1 << 20;
export const DEFAULT_BACKPRESSURE_HEADROOM_BYTES = 4 << 20;
export const DEFAULT_IDLE_TIMEOUT_S = 120;
export const DEFAULT_MAX_SUBSCRIPTIONS = 100;
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024;
export const DEFAULT_KEEP_ALIVE_MS = 15_000;
export const DEFAULT_REPLAY_PAGE_SIZE = 256;
export const DEFAULT_MAX_REPLAY_BUFFER = 4096;
export const DEFAULT_LABEL_CACHE_SIZE = 10_000;

export const DEFAULT_STREAM_OPTIONS: StreamOptions = {
  maxBufferedBytes: DEFAULT_MAX_BUFFERED_BYTES,
  backpressureHeadroomBytes: DEFAULT_BACKPRESSURE_HEADROOM_BYTES,
  idleTimeoutS: DEFAULT_IDLE_TIMEOUT_S,
  maxSubscriptionsPerSocket: DEFAULT_MAX_SUBSCRIPTIONS,
  maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES,
  keepAliveMs: DEFAULT_KEEP_ALIVE_MS,
  replayPageSize: DEFAULT_REPLAY_PAGE_SIZE,
  maxReplayBuffer: DEFAULT_MAX_REPLAY_BUFFER,
  labelCacheSize: DEFAULT_LABEL_CACHE_SIZE,
};

/** Fills defaults and checks ranges; throws a plain Error at startup on a bad value. */
export function resolveStreamOptions(given: Partial<StreamOptions> = {}): StreamOptions {
  const o: StreamOptions = { ...DEFAULT_STREAM_OPTIONS, ...given };
  for (const [k, v] of Object.entries(o)) {
    if (!Number.isSafeInteger(v) || (v as number) < 0) throw new Error(`stream option ${k} must be an integer ≥ 0, got ${String(v)}`);
  }
  if (o.idleTimeoutS !== 0 && o.idleTimeoutS < 8) throw new Error('stream option idleTimeoutS must be 0 or ≥ 8 (uWS)');
  if (o.maxBufferedBytes < 1024) throw new Error('stream option maxBufferedBytes must be ≥ 1024');
  for (const k of ['maxSubscriptionsPerSocket', 'replayPageSize', 'maxReplayBuffer', 'labelCacheSize', 'keepAliveMs', 'maxMessageBytes'] as const) {
    if (o[k] < 1) throw new Error(`stream option ${k} must be ≥ 1`);
  }
  return o;
}
