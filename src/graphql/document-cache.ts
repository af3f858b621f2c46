/** @module graphql/document-cache — a bounded LRU of prepared (parsed and validated) documents, keyed by query text. */

/**
 * Least-recently-used map bounded by entry count and by the total length of its keys (query
 * texts; their ASTs grow with them). A Map keeps insertion order: a hit is re-inserted at the end,
 * eviction takes from the front.
 */
export class DocumentCache<V> {
  private readonly entries = new Map<string, V>();
  private chars = 0;
  hits = 0;
  misses = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly maxChars: number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: string): V | undefined {
    const value = this.entries.get(key);
    if (value === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.entries.delete(key);
    this.entries.set(key, value);
    return value;
  }

  set(key: string, value: V): void {
    if (key.length > this.maxChars || this.maxEntries < 1) return;
    if (this.entries.delete(key)) this.chars -= key.length;
    this.entries.set(key, value);
    this.chars += key.length;
    while (this.entries.size > this.maxEntries || this.chars > this.maxChars) {
      const oldest = this.entries.keys().next();
      if (oldest.done === true) break;
      this.entries.delete(oldest.value);
      this.chars -= oldest.value.length;
    }
  }
}
