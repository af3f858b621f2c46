/** @module api/http/deadlines — 503 `request_timeout` for handlers that do not answer in time; one sweeper, no timer per request. */
import { ErrorCode } from '../../common/errors.ts';
import type { Exchange } from './exchange.ts';
import { writeProblem } from './reply.ts';
import { problemFor } from './problem.ts';

/** How long a handler may take when the server sets no other limit. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

export class RequestDeadlines {
  private readonly pending = new Set<Exchange>();
  private readonly sweeper: NodeJS.Timeout;

  /** Requests are answered within `timeoutMs` plus at most one sweep interval. */
  constructor(private readonly timeoutMs: number) {
    this.sweeper = setInterval(() => this.sweep(), Math.max(10, Math.min(1000, Math.floor(timeoutMs / 4))));
    this.sweeper.unref();
  }

  /** An async handler started: watched until `done`. */
  track(ex: Exchange): void {
    this.pending.add(ex);
  }

  done(ex: Exchange): void {
    this.pending.delete(ex);
  }

  private sweep(): void {
    const now = performance.now();
    for (const ex of this.pending) {
      if (!ex.open) {
        this.pending.delete(ex);
        continue;
      }
      if (now - ex.t0 < this.timeoutMs) continue;
      this.pending.delete(ex);
      // The handler may still finish (its state change stands); the client learns it took too long.
      writeProblem(ex, problemFor(ErrorCode.requestTimeout, `The request took longer than ${this.timeoutMs} ms.`));
    }
  }

  close(): void {
    clearInterval(this.sweeper);
    this.pending.clear();
  }
}
