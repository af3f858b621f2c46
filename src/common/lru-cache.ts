/** @module common/lru-cache — a bounded least-recently-used map. */

/**
 * Least-recently-used map bounded by entry count and by the total cost of its entries (by default
 * the key's length: e.g. query texts, whose parsed forms grow with them). A Map keeps insertion
 * order: a hit is re-inserted at the end, eviction takes from the front. An entry costing more
 * than the whole budget is not kept.
 */
export class LruCache<V> {
  private readonly entries = new Map<string, { readonly value: V; readonly cost: number }>();
  private total = 0;
  hits = 0;
  misses = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly maxCost: number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** Sum of the costs of the entries kept. */
  get cost(): number {
    return this.total;
  }

  get(key: string): V | undefined {
    const e = this.entries.get(key);
    if (e === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.entries.delete(key);
    this.entries.set(key, e);
    return e.value;
  }

  set(key: string, value: V, cost: number = key.length): void {
    if (cost > this.maxCost || this.maxEntries < 1) return;
    this.delete(key);
    this.entries.set(key, { value, cost });
    this.total += cost;
    while (this.entries.size > this.maxEntries || this.total > this.maxCost) {
      const oldest = this.entries.keys().next();
      if (oldest.done === true) break;
      this.delete(oldest.value);
    }
  }

  delete(key: string): boolean {
    const e = this.entries.get(key);
    if (e === undefined) return false;
    this.entries.delete(key);
    this.total -= e.cost;
    return true;
  }
}
