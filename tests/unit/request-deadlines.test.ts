/** The request deadline sweeper answers 503 `request_timeout` once, and leaves answered requests alone. */
import { describe, expect, it } from 'vitest';
import type { Exchange } from '../../src/api/http/exchange.ts';
import { RequestDeadlines } from '../../src/api/http/deadlines.ts';

/** A uWS response stand-in that records what was written (uWS needs a live socket otherwise). */
function exchange(t0: number) {
  const written: string[] = [];
  const res = {
    cork: (f: () => void) => f(),
    writeStatus: (s: string) => (written.push(s), res),
    writeHeader: (k: string, v: string) => (written.push(`${k}: ${v}`), res),
    end: (b?: string) => (written.push(b ?? ''), res),
    close: () => res,
  };
  const ex = { res, requestId: 'r1', open: true, t0, timer: undefined } as unknown as Exchange;
  return { ex, written };
}

describe('RequestDeadlines', () => {
  it('answers a request still running past its deadline with request_timeout, once', async () => {
    const d = new RequestDeadlines(20);
    const slow = exchange(performance.now());
    const quick = exchange(performance.now());
    d.track(slow.ex);
    d.track(quick.ex);
    d.done(quick.ex);
    await new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (!slow.ex.open) (clearInterval(check), resolve());
      }, 5);
    });
    d.close();
    expect(slow.written[0]).toMatch(/^503/);
    expect(slow.written.join('\n')).toContain('request_timeout');
    expect(quick.written).toEqual([]);
  });
});
