/** @module tests/support/wait — wait on an execution's committed events, never on a guessed sleep. */
import type { Engine } from '../../src/engine/types.ts';
import type { EventView, ExecutionView } from '../../src/common/execution.ts';

/** Resolves with the execution once `pred` holds; re-checked after each committed event of that execution. */
export function waitForExecution(engine: Engine, id: string, pred: (x: ExecutionView) => boolean, timeoutMs = 10_000): Promise<ExecutionView> {
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (err: Error | null, x?: ExecutionView) => {
      if (done) return;
      done = true;
      off();
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(x as ExecutionView);
    };
    const check = () =>
      engine.get('default', id).then(
        (x) => {
          if (pred(x)) finish(null, x);
        },
        (err: Error) => finish(err),
      );
    const off = engine.onEvent((e) => {
      if (e.executionId === id) void check();
    });
    const timer = setTimeout(() => {
      void engine.get('default', id).then((x) => finish(new Error(`timed out waiting on ${id}: status ${x.status}, steps ${x.currentSteps.join(',')}`)));
    }, timeoutMs);
    void check();
  });
}

export const TERMINAL = new Set(['completed', 'failed', 'cancelled', 'timed_out']);

export function waitForEnd(engine: Engine, id: string, timeoutMs?: number): Promise<ExecutionView> {
  return waitForExecution(engine, id, (x) => TERMINAL.has(x.status), timeoutMs);
}

export function waitForStatus(engine: Engine, id: string, status: string, timeoutMs?: number): Promise<ExecutionView> {
  return waitForExecution(engine, id, (x) => x.status === status, timeoutMs);
}

/** Resolves on the first committed event matching `pred` (from now on). */
export function nextEvent(engine: Engine, pred: (e: EventView) => boolean, timeoutMs = 10_000): Promise<EventView> {
  return new Promise((resolve, reject) => {
    const off = engine.onEvent((e) => {
      if (!pred(e)) return;
      off();
      clearTimeout(timer);
      resolve(e);
    });
    const timer = setTimeout(() => (off(), reject(new Error('timed out waiting for an event'))), timeoutMs);
  });
}

/**
 * Polls `probe` until it returns a value, with a deadline. Only for state in another process or
 * on disk, where there is no in-process event to wait on.
 */
export async function pollUntil<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 20_000, everyMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
