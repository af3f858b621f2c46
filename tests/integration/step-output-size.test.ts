/**
 * A step output over LIMITS.maxPayloadBytes (encoded) fails its attempt with `payload_too_large`; one under it is
 * kept whole. Most outputs are judged by a bound of their size walked without encoding (task-dispatch.ts), so the
 * cases here sit on both sides of that bound: under the limit though the bound is over it, over the walk's budget
 * of values, and not JSON at all.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryBus } from '../../src/bus/memory-bus.ts';
import { LIMITS } from '../../src/common/flow.ts';
import { createConsoleLogger } from '../../src/common/logger.ts';
import { createEngine, type RunningEngine } from '../../src/engine/create-engine.ts';
import { openSqliteStores } from '../../src/store/sqlite/open-sqlite-stores.ts';
import { waitForEnd } from '../support/wait.ts';

const LIMIT = LIMITS.maxPayloadBytes;

/** What the agent returns for each case name (the step's input). */
const OUTPUTS: Record<string, () => unknown> = {
  // 0.6 MiB of ASCII: its bound (3 bytes per character) is over the limit, its encoding is not.
  asciiUnder: () => ({ text: 'a'.repeat(Math.floor(LIMIT * 0.6)) }),
  asciiOver: () => ({ text: 'a'.repeat(LIMIT + 16) }),
  // 0.4 MiB of 3-byte characters: 1.2 MiB encoded.
  utf8Over: () => ({ text: '€'.repeat(Math.floor(LIMIT * 0.4)) }),
  // More values than the bound walks (it gives up and encodes): 5,000 small objects, ~60 KB.
  manySmall: () => Array.from({ length: 5_000 }, (_, i) => ({ i })),
  manyOver: () => Array.from({ length: 5_000 }, (_, i) => ({ i, pad: 'p'.repeat(256) })),
  // Not JSON (a Map): encoded to measure.
  mapUnder: () => ({ m: new Map([['k', 'v']]) }),
  listOver: () => [{ a: 'b'.repeat(LIMIT / 2) }, { a: 'b'.repeat(LIMIT / 2) }],
};

describe('step output size limit', () => {
  let engine: RunningEngine;
  let close: () => Promise<void>;

  beforeAll(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'actorflow-output-size-'));
    const { store } = await openSqliteStores({ path: join(dir, 'actorflow.db'), sync: 'normal' });
    const bus = createMemoryBus();
    bus.serve({ name: 'sizer', kinds: ['sized'], concurrency: 4 }, async (ctx) => (OUTPUTS[String((ctx.input as { case: string }).case)] as () => unknown)());
    engine = await createEngine({ store, bus, logger: createConsoleLogger('error') });
    await engine.whenReady();
    close = async () => {
      await engine.close();
      await bus.close();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    };
  });
  afterAll(async () => close());

  const run = async (name: string) => {
    const definition = { name: `size-${name}`, steps: [{ id: 'a', type: 'task', agent: 'sized', input: { case: name } }] };
    const { execution } = await engine.start({ tenant: 'default', definition });
    return waitForEnd(engine, execution.id);
  };

  it.each(['asciiUnder', 'manySmall', 'mapUnder'])('%s: kept whole', async (name) => {
    const done = await run(name);
    expect(done.status).toBe('completed');
    const expected = (OUTPUTS[name] as () => unknown)();
    // The Map comes back as what the journal keeps of it; the others exactly.
    if (name === 'mapUnder') expect(done.output).toBeTruthy();
    else expect(done.output).toEqual(expected);
  });

  it.each(['asciiOver', 'utf8Over', 'manyOver', 'listOver'])('%s: the attempt fails with payload_too_large', async (name) => {
    const done = await run(name);
    expect(done.status).toBe('failed');
    expect(done.error?.code).toBe('payload_too_large');
  });
});
