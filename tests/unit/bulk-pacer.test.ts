/** The bulk pacer: calls in flight bounded, one started per loop turn, and none started past the loop budget (but never none at all). */
import { describe, expect, it } from 'vitest';
import { createPacer, loopShareMeter } from '../../src/bulk/pacer.ts';

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

  it('starts one call at a time while the loop is over its budget, and still finishes them all', async () => {
    // The loop's share is given, not measured: the pacing, not this machine's load at the moment, is under test.
    const overlap = async (share: number): Promise<{ most: number; done: number }> => {
      const pacer = createPacer(8, 0.5, () => share);
      let running = 0;
      let most = 0;
      let done = 0;
      await Promise.all(
        Array.from({ length: 40 }, () =>
          pacer.run(async () => {
            most = Math.max(most, ++running);
            await new Promise((r) => setTimeout(r, 2));
            running--;
            done++;
          }),
        ),
      );
      return { most, done };
    };
    expect(await overlap(0.1)).toEqual({ most: 8, done: 40 });
    expect(await overlap(0.9)).toEqual({ most: 1, done: 40 });
  });

  it('reads the loop as busy while work holds it', async () => {
    const share = loopShareMeter();
    await new Promise((r) => setTimeout(r, 15));
    share();
    busy(30);
    expect(share()).toBeGreaterThan(0.5);
    await new Promise((r) => setTimeout(r, 40));
    share();
    await new Promise((r) => setTimeout(r, 40));
    expect(share()).toBeLessThan(0.5);
  });
});
