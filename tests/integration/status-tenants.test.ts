/**
 * Engine.status(tenant): a tenant's counts and stalled steps only (every tenant's without one), on a
 * manual clock so a step can stall (no agent serves its kind for 30 s) without waiting 30 s.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryBus } from '../../src/bus/memory-bus.ts';
import { createEngine, type RunningEngine } from '../../src/engine/create-engine.ts';
import { createConsoleLogger } from '../../src/common/logger.ts';
import { openSqliteStores } from '../../src/store/sqlite/open-sqlite-stores.ts';
import { ManualClock } from '../support/manual-clock.ts';

const STUCK = { name: 'stuck', steps: [{ id: 'a', type: 'task', agent: 'nobody-serves-this', input: {} }] };
const PARKED = { name: 'parked', steps: [{ id: 'w', type: 'wait', signal: 'go' }] };

let engine: RunningEngine;
let cleanup: () => Promise<void>;
const clock = new ManualClock('2026-01-01T00:00:00.000Z');

beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'actorflow-status-'));
  const { store } = await openSqliteStores({ path: join(dir, 'actorflow.db'), sync: 'normal' });
  const bus = createMemoryBus();
  engine = await createEngine({ store, bus, clock, logger: createConsoleLogger('error') });
  await engine.whenReady();
  cleanup = async () => {
    await engine.close();
    await bus.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  };
});

afterAll(async () => {
  await cleanup?.();
});

describe('engine status by tenant', () => {
  it("counts a tenant's executions and stalled steps only; every tenant's without one", async () => {
    for (const [tenant, definition] of [['acme', STUCK], ['default', STUCK], ['default', STUCK], ['default', PARKED], ['globex', PARKED]] as const) {
      await engine.start({ tenant, definition });
    }
    const counts = async (tenant?: string) => {
      const s = await engine.status(tenant);
      return { executions: s.executions, stalled: s.stalled };
    };
    expect(await counts('acme')).toEqual({ executions: { running: 1 }, stalled: 0 });
    expect(await counts('default')).toEqual({ executions: { running: 2, waiting: 1 }, stalled: 0 });
    expect(await counts('nobody')).toEqual({ executions: {}, stalled: 0 });

    // No agent takes the steps: past 30 s they are stalled, each counted for its own tenant.
    await clock.advance(31_000);
    const expected = {
      acme: { executions: { running: 1 }, stalled: 1 },
      default: { executions: { running: 2, waiting: 1 }, stalled: 2 },
      globex: { executions: { waiting: 1 }, stalled: 0 },
      all: { executions: { running: 3, waiting: 2 }, stalled: 3 },
    };
    const check = async () => {
      expect(await counts('acme')).toEqual(expected.acme);
      expect(await counts('default')).toEqual(expected.default);
      expect(await counts('globex')).toEqual(expected.globex);
      expect(await counts()).toEqual(expected.all);
    };
    await check();
    // The same once idle executions may have left memory (their tenant then comes from their row).
    await new Promise((r) => setTimeout(r, 400));
    await check();
  });
});
