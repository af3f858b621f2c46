/**
 * @module engine/runtime/timer-queue — every durable timer of every execution (sleeps, backoffs, timeouts)
 * in one min-heap with a single clock timer for the earliest. A passivated execution keeps only its
 * entries here (tens of bytes each), never a Node timer or an actor.
 */
import type { Clock } from '../../common/clock.ts';

interface Entry {
  readonly executionId: string;
  readonly key: string;
  readonly dueAt: number;
}

/** Cleared entries stay in the heap until popped; past this many stale ones per live one, it is rebuilt. */
const STALE_FACTOR = 2;

export class TimerQueue {
  private heap: Entry[] = [];
  /** The live entry of each (execution, key); a heap entry that is not here is stale. */
  private readonly live = new Map<string, Map<string, Entry>>();
  private count = 0;
  private handle: unknown = undefined;
  private armedFor = Infinity;

  constructor(
    private readonly clock: Clock,
    private readonly onDue: (executionId: string, key: string) => void,
  ) {}

  /** Timers set, over all executions. */
  get size(): number {
    return this.count;
  }

  /** Sets (or moves) the timer `key` of an execution. */
  set(executionId: string, key: string, dueAt: number): void {
    let keys = this.live.get(executionId);
    if (!keys) this.live.set(executionId, (keys = new Map()));
    if (!keys.has(key)) this.count++;
    const e: Entry = { executionId, key, dueAt };
    keys.set(key, e);
    this.push(e);
    if (dueAt < this.armedFor) this.arm();
  }

  delete(executionId: string, key: string): void {
    const keys = this.live.get(executionId);
    if (!keys?.delete(key)) return;
    this.count--;
    if (keys.size === 0) this.live.delete(executionId);
    this.compactIfStale();
  }

  /** Drops every timer of an execution (it finished, or goes back to its last durable state). */
  deleteAll(executionId: string): void {
    const keys = this.live.get(executionId);
    if (!keys) return;
    this.count -= keys.size;
    this.live.delete(executionId);
    this.compactIfStale();
  }

  /** The earliest due time of an execution's timers, or null. */
  nextDue(executionId: string): number | null {
    let min: number | null = null;
    for (const e of this.live.get(executionId)?.values() ?? []) if (min === null || e.dueAt < min) min = e.dueAt;
    return min;
  }

  close(): void {
    if (this.handle !== undefined) this.clock.clearTimeout(this.handle);
    this.handle = undefined;
    this.heap = [];
    this.live.clear();
    this.count = 0;
  }

  private isLive(e: Entry): boolean {
    return this.live.get(e.executionId)?.get(e.key) === e;
  }

  private arm(): void {
    if (this.handle !== undefined) this.clock.clearTimeout(this.handle);
    this.handle = undefined;
    while (this.heap.length > 0 && !this.isLive(this.heap[0] as Entry)) this.pop();
    const top = this.heap[0];
    this.armedFor = top?.dueAt ?? Infinity;
    if (top) this.handle = this.clock.setTimeout(this.fire, Math.max(0, top.dueAt - this.clock.now()));
  }

  private readonly fire = (): void => {
    this.handle = undefined;
    this.armedFor = Infinity;
    const now = this.clock.now();
    for (let top = this.heap[0]; top !== undefined && top.dueAt <= now; top = this.heap[0]) {
      this.pop();
      if (!this.isLive(top)) continue;
      this.delete(top.executionId, top.key);
      this.onDue(top.executionId, top.key);
    }
    if (this.handle === undefined) this.arm();
  };

  private compactIfStale(): void {
    if (this.heap.length <= 64 || this.heap.length <= (this.count + 1) * (STALE_FACTOR + 1)) return;
    this.heap = this.heap.filter((e) => this.isLive(e));
    // Floyd's heapify: linear in the entries kept.
    for (let i = (this.heap.length >> 1) - 1; i >= 0; i--) this.down(i);
  }

  private push(e: Entry): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if ((h[p] as Entry).dueAt <= e.dueAt) break;
      h[i] = h[p] as Entry;
      i = p;
    }
    h[i] = e;
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop();
    if (last === undefined || h.length === 0) return;
    h[0] = last;
    this.down(0);
  }

  private down(i: number): void {
    const h = this.heap;
    const e = h[i] as Entry;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const c = r < h.length && (h[r] as Entry).dueAt < (h[l] as Entry).dueAt ? r : l;
      if ((h[c] as Entry).dueAt >= e.dueAt) break;
      h[i] = h[c] as Entry;
      i = c;
    }
    h[i] = e;
  }
}
