/** @module tests/support/sse-client — a server-sent events client over real HTTP (node:http), parsing frames as they arrive. */
import { type IncomingMessage, request } from 'node:http';

export interface SseFrame {
  readonly id?: string;
  readonly event?: string;
  readonly data: string;
}

export interface SseClient {
  readonly status: number;
  readonly headers: IncomingMessage['headers'];
  /** Frames with data, in order. */
  readonly frames: SseFrame[];
  /** Comment lines (`: …`), without the colon. */
  readonly comments: string[];
  /** The whole body for a non-stream answer (e.g. a problem). */
  readonly body: () => string;
  /** Resolves when the server ends the response. */
  readonly ended: Promise<void>;
  /** Resolves once `pred` holds over what was received (re-checked on each chunk). */
  until(pred: (c: SseClient) => boolean, timeoutMs?: number): Promise<void>;
  /** Stops reading from the socket (backpressure builds up on the server). */
  pause(): void;
  resume(): void;
  close(): void;
}

/** GETs `url` and parses `text/event-stream`; resolves once the status line arrived. */
export function openSse(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { accept: 'text/event-stream', ...headers }, agent: false });
    req.on('error', reject);
    req.on('response', (res) => {
      const frames: SseFrame[] = [];
      const comments: string[] = [];
      const listeners = new Set<() => void>();
      let raw = '';
      let pending = '';
      let finished = false;
      const ended = new Promise<void>((done) => {
        res.on('end', () => {
          finished = true;
          done();
          for (const l of [...listeners]) l();
        });
        res.on('close', () => {
          finished = true;
          done();
          for (const l of [...listeners]) l();
        });
      });
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        raw += chunk;
        pending += chunk;
        let cut = pending.indexOf('\n\n');
        while (cut >= 0) {
          const block = pending.slice(0, cut);
          pending = pending.slice(cut + 2);
          const frame: { id?: string; event?: string; data?: string } = {};
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) comments.push(line.slice(1).trim());
            else if (line.startsWith('id: ')) frame.id = line.slice(4);
            else if (line.startsWith('event: ')) frame.event = line.slice(7);
            else if (line.startsWith('data: ')) frame.data = frame.data === undefined ? line.slice(6) : `${frame.data}\n${line.slice(6)}`;
          }
          if (frame.data !== undefined) frames.push(frame as SseFrame);
          cut = pending.indexOf('\n\n');
        }
        for (const l of [...listeners]) l();
      });
      const client: SseClient = {
        status: res.statusCode ?? 0,
        headers: res.headers,
        frames,
        comments,
        body: () => raw,
        ended,
        until: (pred, timeoutMs = 10_000) =>
          new Promise((ok, fail) => {
            const check = () => {
              if (pred(client)) {
                stop();
                ok();
              } else if (finished) {
                stop();
                fail(new Error(`stream ended before the condition held; ${frames.length} frames, last ${JSON.stringify(frames.at(-1))?.slice(0, 300)}`));
              }
            };
            const timer = setTimeout(() => (stop(), fail(new Error(`timed out; ${frames.length} frames`))), timeoutMs);
            const stop = () => {
              clearTimeout(timer);
              listeners.delete(check);
            };
            listeners.add(check);
            check();
          }),
        pause: () => res.socket.pause(),
        resume: () => res.socket.resume(),
        close: () => req.destroy(),
      };
      resolve(client);
    });
    req.end();
  });
}

/** The event JSON of each data frame. */
export const dataOf = (frames: readonly SseFrame[]): any[] => frames.filter((f) => f.event !== 'error').map((f) => JSON.parse(f.data));
