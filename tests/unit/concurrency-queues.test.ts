/** @module tests/unit/concurrency-queues — the in-memory index of concurrency limits: slots, heap order, cancels, groups. */
import { describe, expect, it } from 'vitest';
import { ConcurrencyQueues } from '../../src/engine/concurrency/concurrency-queues.ts';

const id = (n: number) => `ex_${String(n).padStart(26, '0')}`;

describe('ConcurrencyQueues', () => {
  it('takes slots up to the limit, then queues; hands out the queued in priority, then creation order, one per free slot', () => {
    const q = new ConcurrencyQueues();
    const g = q.group('t', 'wf', '');
    expect([q.tryTake(g, 2), q.tryTake(g, 2), q.tryTake(g, 2)]).toEqual([true, true, false]);
    for (const [n, priority] of [[1, 0], [2, 5], [3, 0], [4, -10], [5, 5]] as const) q.restore(g, id(n), priority, 2);
    expect(q.next(g)).toBeUndefined(); // both slots held
    const order: string[] = [];
    for (let i = 0; i < 5; i++) {
      q.release(g);
      const e = q.next(g);
      expect(e?.state).toBe('starting');
      order.push(e?.id ?? '');
      q.started(e!);
      expect(q.next(g)).toBeUndefined();
    }
    expect(order).toEqual([id(2), id(5), id(1), id(3), id(4)]);
    expect(g.running).toBe(2);
    expect(q.queuedByWorkflow('t')).toEqual({});
  });

  it('lets no start pass executions queued (or being queued) before it', () => {
    const q = new ConcurrencyQueues();
    const g = q.group('t', 'wf', '"a"');
    expect(q.tryTake(g, 1)).toBe(true);
    const pending = q.enqueue(g, id(1), 0, 1);
    q.release(g);
    expect(q.tryTake(g, 1)).toBe(false); // its commit is in flight: it goes first
    q.queue(pending);
    expect(q.next(g)?.id).toBe(id(1));
  });

  it('skips cancelled entries, puts back one whose cancel failed in its place, and compacts a heap of cancelled entries', () => {
    const q = new ConcurrencyQueues();
    const g = q.group('t', 'wf', '');
    q.take(g);
    const entries = Array.from({ length: 3000 }, (_, i) => q.restore(g, id(i + 1), 0, 1));
    expect(q.queuedByWorkflow()).toEqual({ wf: 3000 });
    for (const e of entries.slice(0, 2500)) q.cancelling(e);
    expect(g.heap.size()).toBeLessThan(3000); // rebuilt without the cancelled ones
    q.uncancel(entries[0]!);
    for (const e of entries.slice(1, 2500)) q.cancelled(e);
    expect(q.queuedByWorkflow('t')).toEqual({ wf: 501 });
    expect(q.queuedByWorkflow('other')).toEqual({});
    q.release(g);
    expect(q.next(g)?.id).toBe(id(1));
  });

  it('forgets a group with nothing left, and gives a slot back to a start that could not begin', () => {
    const q = new ConcurrencyQueues();
    const g = q.group('t', 'wf', '"x"');
    q.take(g);
    const e = q.restore(g, id(1), 3, 1);
    q.release(g);
    const chosen = q.next(g)!;
    q.requeue(chosen);
    expect(g.running).toBe(0);
    expect(q.next(g)).toBe(chosen);
    q.started(chosen);
    q.release(g);
    expect(q.group('t', 'wf', '"x"')).not.toBe(g);
    expect(e.id).toBe(id(1));
  });
});
