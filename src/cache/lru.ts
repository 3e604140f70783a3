/**
 * A bounded LRU of encoded responses (bytes, not objects: a hit is one Map lookup and no
 * JSON work, and a large cache of byte arrays costs the GC little). Counters are honest:
 * each lookup counts exactly once, as a hit or as a miss.
 */
export class LruCache {
  private readonly map = new Map<string, Uint8Array<ArrayBuffer>>();
  hits = 0;
  misses = 0;

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.map.size;
  }

  /** Look up and count. Refreshes recency on a hit (Map keeps insertion order). */
  lookup(key: string): Uint8Array<ArrayBuffer> | undefined {
    const v = this.map.get(key);
    if (v === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.map.delete(key);
    this.map.set(key, v);
    return v;
  }

  set(key: string, value: Uint8Array<ArrayBuffer>): void {
    if (this.capacity === 0) return;
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.capacity) {
      const oldest = this.map.keys().next().value;
      if (oldest !== undefined) this.map.delete(oldest);
    }
  }

  delete(key: string): void {
    this.map.delete(key);
  }

  clear(): void {
    this.map.clear();
  }

  resetCounters(): void {
    this.hits = 0;
    this.misses = 0;
  }

  stats(): { hits: number; misses: number; hitRate: number; size: number; capacity: number } {
    const total = this.hits + this.misses;
    return { hits: this.hits, misses: this.misses, hitRate: total ? this.hits / total : 0, size: this.size, capacity: this.capacity };
  }
}
