/**
 * A bounded LRU of encoded responses (bytes, not objects: a hit is one Map lookup and no
 * JSON work, and a large cache of byte arrays costs the GC little). Counters are honest:
 * each lookup counts exactly once, as a hit or as a miss.
 */
export class LruCache {
  private readonly map = new Map<string, Uint8Array<ArrayBuffer>>();
  private bytesUsed = 0;
  hits = 0;
  misses = 0;
  /** lookups made to build list pages, counted apart so `hitRate` stays the rate of reads */
  pageHits = 0;
  pageMisses = 0;

  /** Bounded twice: by entries and by bytes (records vary from ~300 B to tens of KiB). */
  constructor(
    readonly capacity: number,
    readonly maxBytes = Number.MAX_SAFE_INTEGER,
  ) {}

  get bytes(): number {
    return this.bytesUsed;
  }

  get size(): number {
    return this.map.size;
  }

  /** Look up a read by id and count it. Refreshes recency on a hit (Map keeps insertion order). */
  lookup(key: string): Uint8Array<ArrayBuffer> | undefined {
    const v = this.take(key);
    if (v === undefined) this.misses++;
    else this.hits++;
    return v;
  }

  /** Look up a record for a list page; counted in pageHits/pageMisses. */
  lookupForPage(key: string): Uint8Array<ArrayBuffer> | undefined {
    const v = this.take(key);
    if (v === undefined) this.pageMisses++;
    else this.pageHits++;
    return v;
  }

  private take(key: string): Uint8Array<ArrayBuffer> | undefined {
    const v = this.map.get(key);
    if (v === undefined) return undefined;
    this.map.delete(key);
    this.map.set(key, v);
    return v;
  }

  set(key: string, value: Uint8Array<ArrayBuffer>): void {
    this.delete(key);
    if (this.capacity === 0 || value.byteLength > this.maxBytes) return;
    this.map.set(key, value);
    this.bytesUsed += value.byteLength;
    while (this.map.size > this.capacity || this.bytesUsed > this.maxBytes) {
      const oldest = this.map.keys().next().value;
      if (oldest === undefined) break;
      this.delete(oldest);
    }
  }

  delete(key: string): void {
    const v = this.map.get(key);
    if (v === undefined) return;
    this.map.delete(key);
    this.bytesUsed -= v.byteLength;
  }

  clear(): void {
    this.map.clear();
    this.bytesUsed = 0;
  }

  resetCounters(): void {
    this.hits = 0;
    this.misses = 0;
    this.pageHits = 0;
    this.pageMisses = 0;
  }

  stats() {
    const total = this.hits + this.misses;
    return {
      hits: this.hits,
      misses: this.misses,
      hitRate: total ? this.hits / total : 0,
      pageHits: this.pageHits,
      pageMisses: this.pageMisses,
      size: this.size,
      capacity: this.capacity,
      bytes: this.bytesUsed,
      maxBytes: this.maxBytes,
    };
  }
}
