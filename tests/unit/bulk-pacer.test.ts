/** The bulk pacer: calls in flight bounded, one started per loop turn, and none started past the loop budget (but never none at all). */
import { describe, expect, it } from 'vitest';
import { createPacer } from '../../src/bulk/pacer.ts';

const busy = (ms: number): void => {
  const end = performance.now() + ms;
  while (performance.now() < end);
};

describe('bulk pacer', () => {
  it('keeps at most maxInFlight calls running', async () => {
    const pacer = createPacer(3, 1);
    let running = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 20 }, () =>
        pacer.run(async () => {
          most = Math.max(most, ++running);
          await new Promise((r) => setTimeout(r, 2));
          running--;
        }),
      ),
    );
    expect(most).toBe(3);
  });

  it('starts fewer calls while the loop is over its budget, and still finishes them all', async () => {
    // Each call keeps the loop busy 3 ms and then waits 3 ms: run alone, the loop is ~50 % busy.
    const work = async (): Promise<void> => {
      busy(3);
      await new Promise((r) => setTimeout(r, 3));
    };
    const timed = async (share: number): Promise<number> => {
      const pacer = createPacer(8, share);
      const t0 = performance.now();
      await Promise.all(Array.from({ length: 40 }, () => pacer.run(work)));
      return performance.now() - t0;
    };
    const free = await timed(1);
    const budgeted = await timed(0.2);
    // 40 × 3 ms of busy work at most 20 % of the loop (one call at a time may exceed it) takes longer than unbounded.
    expect(budgeted).toBeGreaterThan(free * 1.5);
  });
});
