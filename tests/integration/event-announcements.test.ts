/**
 * When a commit's events reach the engine's listeners (engine/runtime/commit-outcomes.ts): after the requests the
 * commit answers have resumed (a start's reply does not wait for its events to be fanned out), and still all of
 * them, in seq order.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveBuiltinAgents } from '../../src/agents/builtin-agents.ts';
import { createMemoryBus } from '../../src/bus/memory-bus.ts';
import type { EventView } from '../../src/common/execution.ts';
import { createConsoleLogger } from '../../src/common/logger.ts';
import { createEngine, type RunningEngine } from '../../src/engine/create-engine.ts';
import { openSqliteStores } from '../../src/store/sqlite/open-sqlite-stores.ts';

const echo = (id: string) => ({ id, type: 'task', agent: 'echo', input: { v: '$.input.v' } });

describe('event announcements', () => {
  let engine: RunningEngine;
  let close: () => Promise<void>;

  beforeAll(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'actorflow-announce-'));
    const { store } = await openSqliteStores({ path: join(dir, 'actorflow.db'), sync: 'normal' });
    const bus = createMemoryBus();
    const agents = serveBuiltinAgents(bus);
    engine = await createEngine({ store, bus, logger: createConsoleLogger('error') });
    await engine.whenReady();
    close = async () => {
      await engine.close();
      for (const a of agents) await a.close();
      await bus.close();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    };
  });
  afterAll(async () => close());

  it('come after the starts that committed them have resumed, all of them, in seq order', async () => {
    const definition = { name: 'announced', steps: [echo('a'), echo('b'), echo('c')] };
    const seen: { id: string; seq: number; type: string; afterStart: boolean }[] = [];
    const resumed = new Set<string>();
    let completions = 0;
    let allDone!: () => void;
    const done = new Promise<void>((r) => (allDone = r));
    const off = engine.onEvent((e: EventView) => {
      seen.push({ id: e.executionId, seq: e.seq, type: e.type, afterStart: resumed.has(e.executionId) });
      if (e.type === 'workflow.completed' && ++completions === 2) allDone();
    });
    try {
      // Two starts in one event-loop turn: one commit answers both.
      const [first, second] = await Promise.all([
        engine.start({ tenant: 'default', definition, input: { v: 1 } }).then((r) => (resumed.add(r.execution.id), r)),
        engine.start({ tenant: 'default', definition, input: { v: 2 } }).then((r) => (resumed.add(r.execution.id), r)),
      ]);
      await done;
      // The flow finished inside its start's commit: the start's answer says so without any event announced yet.
      expect(first.execution.status).toBe('completed');
      expect(second.execution.status).toBe('completed');
      const ids = [first.execution.id, second.execution.id];
      for (const id of ids) {
        const mine = seen.filter((s) => s.id === id);
        expect(mine.map((s) => s.seq)).toEqual(Array.from({ length: mine.length }, (_, i) => i + 1));
        expect(mine.at(-1)?.type).toBe('workflow.completed');
        expect(mine.every((s) => s.afterStart)).toBe(true);
      }
      expect(seen.every((s) => ids.includes(s.id))).toBe(true);
    } finally {
      off();
    }
  });
});
