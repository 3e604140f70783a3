/**
 * `ns` is the collection a record belongs to. Keys are bare ids, not "<collection>/<id>": a
 * built key is a new rope string that a lookup must flatten, which measured ~2x the cost of
 * a lookup with the id string as it comes from SQLite (50 lookups per list page). An entry
 * answers only a lookup from its own collection; two collections sharing an id (UUIDv7: never
 * in practice) would only evict each other, never serve one's record for the other.
 */
type Entry = { bytes: Uint8Array<ArrayBuffer>; gen: number; ns: string };

/**
 * A bounded LRU of encoded responses (bytes, not decoded objects: a hit is one Map lookup
 * and no JSON work). Counters are honest: each lookup counts exactly once, as a hit or a miss.
 * An array handed out is never written to again (eviction only drops the reference), so a
 * caller may hold it while the cache changes (list pages do).
 *
 * Recency is the Map's insertion order. Moving an entry to the young end costs a delete and
 * a set (measured at ~0.5 µs, half of a list page's time when done for each of its 50
 * records), so a hit moves only an entry in the older half: an entry that was hit is still
 * kept for at least half the cache's size of further insertions.
 */
export class LruCache {
  private readonly map = new Map<string, Entry>();
  /** advances on every insertion and every move to the young end */
  private tick = 0;
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
  lookup(key: string, ns = ""): Uint8Array<ArrayBuffer> | undefined {
    const v = this.take(key, ns);
    if (v === undefined) this.misses++;
    else this.hits++;
    return v;
  }

  /** Look up a record for a list page; counted in pageHits/pageMisses. */
  lookupForPage(key: string, ns = ""): Uint8Array<ArrayBuffer> | undefined {
    const v = this.take(key, ns);
    if (v === undefined) this.pageMisses++;
    else this.pageHits++;
    return v;
  }

  private take(key: string, ns: string): Uint8Array<ArrayBuffer> | undefined {
    const e = this.map.get(key);
    if (e === undefined || e.ns !== ns) return undefined;
    if (this.tick - e.gen >= this.map.size >>> 1) {
      this.map.delete(key);
      this.map.set(key, e);
      e.gen = ++this.tick;
    }
    return e.bytes;
  }

  set(key: string, value: Uint8Array<ArrayBuffer>, ns = ""): void {
    this.delete(key);
    if (this.capacity === 0 || value.byteLength > this.maxBytes) return;
    this.map.set(key, { bytes: value, gen: ++this.tick, ns });
    this.bytesUsed += value.byteLength;
    while (this.map.size > this.capacity || this.bytesUsed > this.maxBytes) {
      const oldest = this.map.keys().next().value;
      if (oldest === undefined) break;
      this.delete(oldest);
    }
  }

  delete(key: string): void {
    const e = this.map.get(key);
    if (e === undefined) return;
    this.map.delete(key);
    this.bytesUsed -= e.bytes.byteLength;
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
