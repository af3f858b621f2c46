/** @module tests/support/ws-client — a real `ws` client speaking the actorflow protocol, with waits on frames (never sleeps). */
import WebSocket from 'ws';
import { msgpackCodec } from '../../src/common/codec.ts';
import type { EventView } from '../../src/common/execution.ts';

/** A decoded server frame (`ack`, `event`, `error`, `pong`). */
export type Frame = { op: string; id?: string; sub?: string; code?: string; message?: string; event?: any };

export interface WsClient {
  readonly ws: WebSocket;
  /** Every frame received so far, decoded from JSON text or msgpack binary. */
  readonly frames: Frame[];
  /** True for each frame that came as a binary frame. */
  readonly binary: boolean[];
  /** Sends JSON (text frame), or msgpack (binary frame) when `binary`. */
  send(msg: unknown, binary?: boolean): void;
  /** The first frame (already received or to come) matching `pred`, at or after index `from`. */
  waitFor(pred: (f: Frame) => boolean, opts?: { from?: number; timeoutMs?: number; what?: string }): Promise<Frame>;
  /** The events of subscription `sub`, in arrival order. */
  events(sub: string): EventView[];
  /** Resolves once subscription `sub` received an event matching `pred`. */
  waitEvent(sub: string, pred: (e: EventView) => boolean, timeoutMs?: number): Promise<EventView>;
  /** Close code and reason, once closed. */
  readonly closed: Promise<{ code: number; reason: string }>;
  /** Closes and waits for the close. */
  close(): Promise<void>;
}

export interface ConnectOptions {
  /** Subprotocols offered. */
  readonly protocols?: string | string[];
  readonly headers?: Record<string, string>;
  /** Passed to `ws` (e.g. `autoPong: false`). */
  readonly wsOptions?: WebSocket.ClientOptions;
}

/** Opens `origin + path` (`http://` → `ws://`) and resolves on open; rejects with the HTTP status on a refused upgrade. */
export function connectWs(origin: string, path = '/api/v1/ws', opts: ConnectOptions = {}): Promise<WsClient> {
  const url = origin.replace(/^http/, 'ws') + path;
  const ws = new WebSocket(url, opts.protocols ?? [], { perMessageDeflate: false, ...(opts.headers ? { headers: opts.headers } : {}), ...opts.wsOptions });
  const frames: Frame[] = [];
  const binary: boolean[] = [];
  const listeners = new Set<() => void>();
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  ws.on('message', (data, isBinary) => {
    const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    frames.push((isBinary ? msgpackCodec.decode(buf) : JSON.parse(buf.toString('utf8'))) as Frame);
    binary.push(isBinary);
    for (const l of [...listeners]) l();
  });
  ws.on('close', () => {
    for (const l of [...listeners]) l();
  });

  const waitFor: WsClient['waitFor'] = (pred, o = {}) =>
    new Promise((resolve, reject) => {
      let i = o.from ?? 0;
      const check = (): boolean => {
        for (; i < frames.length; i++) {
          const f = frames[i] as Frame;
          if (pred(f)) {
            done();
            resolve(f);
            return true;
          }
        }
        if (ws.readyState === WebSocket.CLOSED) {
          done();
          reject(new Error(`socket closed while waiting for ${o.what ?? 'a frame'}; ${frames.length} frames`));
          return true;
        }
        return false;
      };
      const listener = () => void check();
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out waiting for ${o.what ?? 'a frame'}; last frames: ${JSON.stringify(frames.slice(-3)).slice(0, 500)}`));
      }, o.timeoutMs ?? 10_000);
      const done = () => {
        clearTimeout(timer);
        listeners.delete(listener);
      };
      if (!check()) listeners.add(listener);
    });

  const client: WsClient = {
    ws,
    frames,
    binary,
    closed,
    send: (msg, asBinary = false) => ws.send(asBinary ? msgpackCodec.encode(msg) : JSON.stringify(msg), { binary: asBinary }),
    waitFor,
    events: (sub) => frames.filter((f) => f.op === 'event' && f.sub === sub).map((f) => f.event as EventView),
    waitEvent: async (sub, pred, timeoutMs) =>
      (await waitFor((f) => f.op === 'event' && f.sub === sub && pred(f.event as EventView), { what: `an event on ${sub}`, ...(timeoutMs ? { timeoutMs } : {}) })).event as EventView,
    close: async () => {
      if (ws.readyState === WebSocket.CLOSED) return;
      ws.close();
      await closed;
    },
  };
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(client));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => reject(Object.assign(new Error(`upgrade refused: ${res.statusCode} ${body}`), { status: res.statusCode, body })));
    });
    ws.once('error', reject);
  });
}

/** Seqs of a list of events. */
export const seqs = (events: readonly { seq: number }[]): number[] => events.map((e) => e.seq);

/** [from, from+1, …, to]. */
export const range = (from: number, to: number): number[] => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
