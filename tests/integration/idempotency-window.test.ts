/**
 * An idempotency key answers its execution for 24 h (API.md). After that, a start with the key creates a new
 * execution once the first one has ended (the old one keeps its history, without the key); while the first is
 * still open the key keeps answering it. On a manual clock, with a real SQLite store, across a restart.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { serveBuiltinAgents } from '../../src/agents/builtin-agents.ts';
import { createMemoryBus } from '../../src/bus/memory-bus.ts';
import { createEngine, type RunningEngine } from '../../src/engine/create-engine.ts';
import { createConsoleLogger } from '../../src/common/logger.ts';
import { IDEMPOTENCY_WINDOW_MS } from '../../src/common/idempotency.ts';
import { openSqliteStores } from '../../src/store/sqlite/open-sqlite-stores.ts';
import { ManualClock } from '../support/manual-clock.ts';

const ONCE = { name: 'once', steps: [{ id: 'a', type: 'task', agent: 'echo', input: { ok: true } }] };
const PARK = { name: 'park', steps: [{ id: 'w', type: 'wait', signal: 'go' }] };

describe('idempotency keys after 24 h', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  async function engineIn(dir: string, clock: ManualClock): Promise<{ engine: RunningEngine; close: () => Promise<void> }> {
    const { store } = await openSqliteStores({ path: join(dir, 'actorflow.db'), sync: 'normal' });
    const bus = createMemoryBus();
    serveBuiltinAgents(bus, 10);
    const engine = await createEngine({ store, bus, clock, logger: createConsoleLogger('error') });
    await engine.whenReady();
    let open = true;
    const close = async () => {
      if (!open) return;
      open = false;
      await engine.close();
      await bus.close();
      await store.close();
    };
    cleanup.push(close);
    return { engine, close };
  }

  it('replays within 24 h; then a finished execution gives its key to a new start, which keeps it across a restart', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'actorflow-idem-window-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const clock = new ManualClock('2026-03-01T00:00:00.000Z');
    let { engine, close } = await engineIn(dir, clock);
    await engine.registerDefinition('default', ONCE);
    const start = (hash: string) => engine.start({ tenant: 'default', workflow: 'once', idempotencyKey: 'daily', requestHash: hash });

    const first = await start('h1');
    expect(first.replayed).toBe(false);
    expect((await engine.settled('default', first.execution.id, 5_000)).status).toBe('completed');

    await clock.advance(IDEMPOTENCY_WINDOW_MS - 1);
    const again = await start('h1');
    expect(again).toMatchObject({ replayed: true, execution: { id: first.execution.id } });
    await expect(start('h2')).rejects.toMatchObject({ code: 'idempotency_key_conflict' });

    await clock.advance(1);
    // Past the window, even another body: a new execution takes the key.
    const second = await start('h2');
    expect(second.replayed).toBe(false);
    expect(second.execution.id).not.toBe(first.execution.id);
    expect((await engine.get('default', first.execution.id)).status).toBe('completed');
    expect((await start('h2')).execution.id).toBe(second.execution.id);

    await close();
    ({ engine, close } = await engineIn(dir, clock));
    expect(await engine.start({ tenant: 'default', workflow: 'once', idempotencyKey: 'daily', requestHash: 'h2' })).toMatchObject({ replayed: true, execution: { id: second.execution.id } });
    expect((await engine.events('default', first.execution.id, 0, { limit: 100 })).items.map((e) => e.type)).toContain('workflow.completed');
  });

  it('keeps answering an execution that is still open after 24 h', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'actorflow-idem-window-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const clock = new ManualClock('2026-03-01T00:00:00.000Z');
    const { engine } = await engineIn(dir, clock);
    await engine.registerDefinition('default', PARK);
    const first = await engine.start({ tenant: 'default', workflow: 'park', idempotencyKey: 'open', requestHash: 'h' });
    await clock.advance(IDEMPOTENCY_WINDOW_MS + 3_600_000);
    expect(await engine.start({ tenant: 'default', workflow: 'park', idempotencyKey: 'open', requestHash: 'h' })).toMatchObject({ replayed: true, execution: { id: first.execution.id, status: 'waiting' } });
  });
});
