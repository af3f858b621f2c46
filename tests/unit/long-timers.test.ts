/** Timers longer than Node's 2^31−1 ms: chained by the clock, one handle clearable at any link. */
import { afterEach, describe, expect, it } from 'vitest';
import { BUILTIN_AGENTS } from '../../src/agents/builtin-agents.ts';
import type { TaskContext } from '../../src/bus/types.ts';
import { chainTimers, MAX_TIMER_MS, systemClock, timeoutSignal, type Timers } from '../../src/common/clock.ts';
import { ManualClock } from '../support/manual-clock.ts';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Node's own timers, counting the links armed. */
function nodeTimers() {
  const t = {
    armed: [] as number[],
    setTimeout: (fn: () => void, ms: number) => (t.armed.push(ms), setTimeout(fn, ms)),
    clearTimeout: (h: unknown) => clearTimeout(h as NodeJS.Timeout),
  };
  return t;
}

/** Records TimeoutOverflowWarnings (Node fires an overflowing timer after 1 ms). */
const overflows: string[] = [];
const onWarning = (w: Error) => void (w.name === 'TimeoutOverflowWarning' && overflows.push(w.message));
process.on('warning', onWarning);
afterEach(() => void (overflows.length = 0));

describe('chainTimers on a manual clock (max 10 ms)', () => {
  const setup = () => {
    const clock = new ManualClock(0);
    const fired: number[] = [];
    return { clock, fired, timers: chainTimers(clock, 10) };
  };

  it('fires a delay above the max once, at its full length', async () => {
    const { clock, fired, timers } = setup();
    timers.setTimeout(() => fired.push(clock.now()), 35);
    await clock.advance(34);
    expect(fired).toEqual([]);
    expect(clock.pending).toBe(1); // one link at a time
    await clock.advance(1);
    expect(fired).toEqual([35]);
    expect(clock.pending).toBe(0);
    await clock.advance(100);
    expect(fired).toEqual([35]);
  });

  it('clears through the same handle before the first link and after re-arming', async () => {
    const { clock, fired, timers } = setup();
    const early = timers.setTimeout(() => fired.push(1), 35);
    const late = timers.setTimeout(() => fired.push(2), 35);
    await clock.advance(5);
    timers.clearTimeout(early);
    await clock.advance(20); // `late` has re-armed twice
    timers.clearTimeout(late);
    expect(clock.pending).toBe(0);
    await clock.advance(100);
    expect(fired).toEqual([]);
  });

  it('gives delays within the max the base handle; NaN and negatives are 0; Infinity never fires', async () => {
    const { clock, fired, timers } = setup();
    const h = timers.setTimeout(() => fired.push(clock.now()), 10);
    expect(typeof h).toBe('number'); // ManualClock's own id: no wrapper
    timers.setTimeout(() => fired.push(-1), Number.NaN);
    timers.setTimeout(() => fired.push(-2), -5);
    const never = timers.setTimeout(() => fired.push(-3), Number.POSITIVE_INFINITY);
    await clock.advance(10_000);
    expect(fired).toEqual([-1, -2, 10]);
    timers.clearTimeout(never);
    expect(clock.pending).toBe(0);
  });
});

describe('chainTimers on Node timers (tiny max)', () => {
  it('chains real timers: 4 links of ≤ 15 ms for 50 ms, firing after the whole delay', async () => {
    const base = nodeTimers();
    const timers = chainTimers(base, 15);
    const t0 = performance.now();
    const at = await new Promise<number>((resolve) => timers.setTimeout(() => resolve(performance.now() - t0), 50));
    expect(at).toBeGreaterThanOrEqual(45); // each link may fire up to 1 ms early
    expect(base.armed).toEqual([15, 15, 15, 5]);
  });

  it('clears a chain mid-way', async () => {
    const base = nodeTimers();
    const timers = chainTimers(base, 5);
    let fired = false;
    const h = timers.setTimeout(() => (fired = true), 2000);
    while (base.armed.length < 3) await sleep(2); // past two links
    timers.clearTimeout(h);
    const links = base.armed.length;
    await sleep(30);
    expect(base.armed.length).toBe(links); // no link re-armed after the clear
    expect(fired).toBe(false);
  });
});

describe('systemClock', () => {
  it('does not fire a delay above 2^31−1 ms early (Node would after 1 ms)', async () => {
    let fired = false;
    const h = systemClock.setTimeout(() => (fired = true), MAX_TIMER_MS + 5);
    const month = systemClock.setTimeout(() => (fired = true), 30 * 86_400_000);
    await sleep(30);
    systemClock.clearTimeout(h);
    systemClock.clearTimeout(month);
    expect(fired).toBe(false);
    expect(overflows).toEqual([]);
  });

  it('still fires short delays and clears them', async () => {
    let n = 0;
    systemClock.setTimeout(() => n++, 1);
    systemClock.clearTimeout(systemClock.setTimeout(() => (n += 10), 1));
    await sleep(20);
    expect(n).toBe(1);
  });
});

describe('timeoutSignal', () => {
  const tiny: Timers = chainTimers(nodeTimers(), 10);

  it('aborts with a TimeoutError after the whole delay when chained', async () => {
    const t0 = performance.now();
    const t = timeoutSignal(60, tiny, 10);
    await new Promise((r) => t.signal.addEventListener('abort', r, { once: true }));
    expect(performance.now() - t0).toBeGreaterThanOrEqual(54);
    expect((t.signal.reason as DOMException).name).toBe('TimeoutError');
  });

  it('never aborts once cleared', async () => {
    const t = timeoutSignal(60, tiny, 10);
    await sleep(15);
    t.clear();
    await sleep(80);
    expect(t.signal.aborted).toBe(false);
  });

  it('does not abort a month-long timeout after 1 ms', async () => {
    const t = timeoutSignal(30 * 86_400_000);
    await sleep(30);
    expect(t.signal.aborted).toBe(false);
    t.clear();
    expect(overflows).toEqual([]);
  });
});

describe('built-in sleep agent', () => {
  it('sleeps past Node’s timer range instead of 1 ms, and still aborts', async () => {
    const ac = new AbortController();
    const ctx = { kind: 'sleep', tenant: 'default', executionId: 'ex', stepId: 's', attempt: 1, input: { ms: MAX_TIMER_MS + 1000 }, signal: ac.signal, log: () => undefined, reportCost: () => undefined, saveDocument: () => undefined } satisfies TaskContext;
    let settled = false;
    const run = BUILTIN_AGENTS.sleep!(ctx).finally(() => (settled = true));
    await sleep(30);
    expect(settled).toBe(false);
    ac.abort();
    await expect(run).rejects.toMatchObject({ code: 'aborted' });
    expect(overflows).toEqual([]);
  });
});
