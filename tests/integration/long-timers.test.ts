/**
 * A 30-day durable sleep on a manual clock that overflows like Node's timers (a delay above
 * 2^31−1 ms fires after 1 ms): the engine, through the clock's chained timers, ends it at 30 days.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryBus } from '../../src/bus/memory-bus.ts';
import { createEngine, type RunningEngine } from '../../src/engine/create-engine.ts';
import { chainTimers, type Clock, MAX_TIMER_MS } from '../../src/common/clock.ts';
import { createConsoleLogger } from '../../src/common/logger.ts';
import { openSqliteStores } from '../../src/store/sqlite/open-sqlite-stores.ts';
import { ManualClock } from '../support/manual-clock.ts';
import { waitForEnd } from '../support/wait.ts';

const DAY = 86_400_000;

/** Manual time with Node's limit: a delay above MAX_TIMER_MS fires after 1 ms. */
class NodeLikeClock extends ManualClock {
  override setTimeout(fn: () => void, ms: number): unknown {
    return super.setTimeout(fn, ms > MAX_TIMER_MS ? 1 : ms);
  }
}

const SLEEP_FLOW = { name: 'month-sleep', steps: [{ id: 's', type: 'sleep', ms: 30 * DAY }] };
const WAIT_FLOW = { name: 'month-wait', steps: [{ id: 'w', type: 'wait', signal: 'go', timeoutMs: 30 * DAY }] };

describe('timers beyond 2^31−1 ms in the engine', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  async function engineOn(clock: Clock): Promise<RunningEngine> {
    const dir = await mkdtemp(join(tmpdir(), 'actorflow-long-timers-'));
    const { store } = await openSqliteStores({ path: join(dir, 'actorflow.db'), sync: 'normal' });
    const bus = createMemoryBus();
    const engine = await createEngine({ store, bus, clock, logger: createConsoleLogger('error') });
    await engine.whenReady();
    cleanup.push(async () => {
      await engine.close();
      await bus.close();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    });
    return engine;
  }

  const status = async (engine: RunningEngine, id: string) => (await engine.get('default', id)).status;

  it('a 30-day sleep is still sleeping at 24.9 days and completes at 30 days', async () => {
    const manual = new NodeLikeClock('2026-01-01T00:00:00.000Z');
    const engine = await engineOn({ now: () => manual.now(), ...chainTimers(manual) });
    const sleeper = (await engine.start({ tenant: 'default', definition: SLEEP_FLOW })).execution.id;
    const waiter = (await engine.start({ tenant: 'default', definition: WAIT_FLOW })).execution.id;
    expect(await status(engine, sleeper)).toBe('waiting');

    await manual.advance(24.9 * DAY);
    expect(await status(engine, sleeper)).toBe('waiting');
    expect(await status(engine, waiter)).toBe('waiting');

    await manual.advance(5.1 * DAY - 1);
    expect(await status(engine, sleeper)).toBe('waiting');
    await manual.advance(1);
    // Both timers fired; their commits land asynchronously, so wait on the committed ends.
    const view = await waitForEnd(engine, sleeper);
    expect(view.status).toBe('completed');
    expect(Date.parse(view.finishedAt ?? '')).toBe(Date.parse('2026-01-31T00:00:00.000Z'));
    // The wait's 30-day timeout ran out at the same instant (wait_timeout, onError fail).
    const waited = await waitForEnd(engine, waiter);
    expect(waited.status).toBe('failed');
    expect(waited.error?.code).toBe('wait_timeout');
  });

  it('(control) the manual clock overflows like Node: unchained, a 30-day timer fires after 1 ms', async () => {
    const manual = new NodeLikeClock(0);
    let fired = -1;
    manual.setTimeout(() => (fired = manual.now()), 30 * DAY);
    await manual.advance(1);
    expect(fired).toBe(1);
  });
});
