/**
 * @module engine/concurrency/concurrency-queues — the in-memory index of concurrency limits: per (tenant, workflow,
 * key) group, how many executions hold a slot and a binary heap of the queued ones (priority, then
 * creation order). Taking, releasing and choosing the next are O(log n) in the queued count, never a scan;
 * the engine rebuilds it at boot from one indexed read (concurrency-gate.ts).
 */
import { Heap } from '@datastructures-js/heap';

/** Where a queued execution is: its queued commit in flight, in the heap, chosen and being started, or being cancelled. */
export type QueuedState = 'pending' | 'queued' | 'starting' | 'cancelling';

export interface QueuedEntry {
  readonly id: string;
  readonly priority: number;
  /** The limit its definition version declares: it starts once fewer than this hold a slot of its group. */
  readonly limit: number;
  readonly group: SlotGroup;
  state: QueuedState;
  /** In the heap (a cancelled entry stays there until it reaches the top: removal is lazy). */
  inHeap: boolean;
}

/** Higher priority first, then the older id (ids are monotonic ULIDs: creation order). */
const nextFirst = (a: QueuedEntry, b: QueuedEntry): number => b.priority - a.priority || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** The executions of one workflow (and key value) of one tenant that share a limit. */
export class SlotGroup {
  /** Executions holding a slot: non-terminal and not queued (paused and waiting ones included). */
  running = 0;
  /** Queued executions in the heap that are not being cancelled. */
  queued = 0;
  /** Queued starts whose commit is in flight: a start that comes meanwhile queues behind them. */
  pending = 0;
  /** Entries of this group known by id, in any state (the group is kept while any exists). */
  members = 0;
  readonly heap = new Heap<QueuedEntry>(nextFirst);

  constructor(
    readonly name: string,
    readonly tenant: string,
    readonly workflow: string,
    readonly key: string,
  ) {}
}

/** Heap entries left by cancellations past which the heap is rebuilt without them (bounded garbage). */
const COMPACT_AFTER = 1024;

export class ConcurrencyQueues {
  private readonly groups = new Map<string, SlotGroup>();
  /** Queued executions by id (any state): what cancel and reads look up. */
  private readonly entries = new Map<string, QueuedEntry>();
  /** Queued executions per `tenant\0workflow` (the figures of /status and /metrics, without walking groups). */
  private readonly perWorkflow = new Map<string, number>();

  /** The group of `key` within `tenant`'s `workflow` (made on first use). */
  group(tenant: string, workflow: string, key: string): SlotGroup {
    const name = `${tenant}\u0000${workflow}\u0000${key}`;
    let g = this.groups.get(name);
    if (g === undefined) {
      g = new SlotGroup(name, tenant, workflow, key);
      this.groups.set(name, g);
    }
    return g;
  }

  /** A slot now when fewer than `limit` hold one and nobody waits ahead; false: the start must queue. */
  tryTake(g: SlotGroup, limit: number): boolean {
    if (g.running >= limit || g.queued > 0 || g.pending > 0) return false;
    g.running++;
    return true;
  }

  /** A slot counted whatever the limit (child executions; executions found holding one at boot). */
  take(g: SlotGroup): void {
    g.running++;
  }

  release(g: SlotGroup): void {
    g.running = Math.max(0, g.running - 1);
    this.forgetIfIdle(g);
  }

  entry(id: string): QueuedEntry | undefined {
    return this.entries.get(id);
  }

  /** A queued start whose commit is in flight (`queue` it once durable). */
  enqueue(g: SlotGroup, id: string, priority: number, limit: number): QueuedEntry {
    const e = this.add(g, id, priority, limit);
    g.pending++;
    return e;
  }

  /** An execution that is queued durably (found at boot, or back after its start did not commit): into the heap. */
  restore(g: SlotGroup, id: string, priority: number, limit: number): QueuedEntry {
    const e = this.add(g, id, priority, limit);
    this.push(e);
    return e;
  }

  /** Its queued state is durable: into the heap. */
  queue(e: QueuedEntry): void {
    e.group.pending--;
    this.push(e);
  }

  /** Its queued commit failed: the start never happened. */
  dropPending(e: QueuedEntry): void {
    e.group.pending--;
    this.remove(e);
  }

  /**
   * The next queued execution of `g` when a slot is free for it (the slot is taken: `running` + 1, the
   * entry `starting`), else undefined. O(log n); cancelled entries met at the top are dropped on the way.
   */
  next(g: SlotGroup): QueuedEntry | undefined {
    for (let top = g.heap.top(); top !== null; top = g.heap.top()) {
      if (top.state !== 'queued') {
        g.heap.pop();
        top.inHeap = false;
        continue;
      }
      if (g.running >= top.limit) return undefined;
      g.heap.pop();
      top.inHeap = false;
      top.state = 'starting';
      g.queued--;
      this.count(g, -1);
      g.running++;
      return top;
    }
    return undefined;
  }

  /** A chosen execution is live now (it holds the slot `next` took). */
  started(e: QueuedEntry): void {
    this.remove(e);
  }

  /** A chosen execution could not be started (it could not be read): back into the heap, the slot `next` took given back. */
  requeue(e: QueuedEntry): void {
    e.group.running = Math.max(0, e.group.running - 1);
    this.push(e);
  }

  /** A queued execution is being cancelled: no longer counted, skipped when it reaches the top. */
  cancelling(e: QueuedEntry): void {
    e.state = 'cancelling';
    e.group.queued--;
    this.count(e.group, -1);
    this.compact(e.group);
  }

  /** Its cancel is durable: gone. */
  cancelled(e: QueuedEntry): void {
    this.remove(e);
  }

  /** Its cancel did not commit: queued again, in its old place. */
  uncancel(e: QueuedEntry): void {
    this.push(e);
  }

  /** Queued executions per workflow of `tenant` (of every tenant, summed by workflow, without one); workflows with none are absent. */
  queuedByWorkflow(tenant?: string): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, n] of this.perWorkflow) {
      const at = k.indexOf('\u0000');
      if (tenant !== undefined && k.slice(0, at) !== tenant) continue;
      const workflow = k.slice(at + 1);
      out[workflow] = (out[workflow] ?? 0) + n;
    }
    return out;
  }

  /** Groups with a free slot and a queued execution (after a boot, or a limit that changed). */
  *startable(): Iterable<SlotGroup> {
    for (const g of this.groups.values()) if (g.queued > 0) yield g;
  }

  private add(g: SlotGroup, id: string, priority: number, limit: number): QueuedEntry {
    const e: QueuedEntry = { id, priority, limit, group: g, state: 'pending', inHeap: false };
    this.entries.set(id, e);
    g.members++;
    return e;
  }

  private remove(e: QueuedEntry): void {
    if (this.entries.get(e.id) !== e) return;
    this.entries.delete(e.id);
    e.group.members--;
    this.forgetIfIdle(e.group);
  }

  private push(e: QueuedEntry): void {
    e.state = 'queued';
    if (!e.inHeap) {
      e.group.heap.push(e);
      e.inHeap = true;
    }
    e.group.queued++;
    this.count(e.group, 1);
  }

  private count(g: SlotGroup, delta: number): void {
    const k = `${g.tenant}\u0000${g.workflow}`;
    const n = (this.perWorkflow.get(k) ?? 0) + delta;
    if (n <= 0) this.perWorkflow.delete(k);
    else this.perWorkflow.set(k, n);
  }

  /** Rebuilds a heap that holds more cancelled entries than queued ones (O(n), amortized over those cancels). */
  private compact(g: SlotGroup): void {
    const garbage = g.heap.size() - g.queued;
    if (garbage < COMPACT_AFTER || garbage < g.queued) return;
    const kept: QueuedEntry[] = [];
    for (const e of g.heap.toArray()) {
      if (e.state === 'queued') kept.push(e);
      else e.inHeap = false;
    }
    g.heap.clear();
    for (const e of kept) g.heap.push(e);
  }

  /** A group with nothing left is dropped: keyed limits make one per customer, which must not pile up. */
  private forgetIfIdle(g: SlotGroup): void {
    // With no member left, what the heap still holds are cancelled entries.
    if (g.running === 0 && g.members === 0) this.groups.delete(g.name);
  }
}
