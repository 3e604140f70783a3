import { evictOne } from "./clock.ts";
import { PageCache } from "./page-cache.ts";

/**
 * `ns` is the collection a record belongs to. Keys are bare ids, not "<collection>/<id>": a
 * built key is a new rope string that a lookup must flatten, which measured ~2x the cost of
 * a lookup with the id string as it comes from SQLite (50 lookups per list page). An entry
 * answers only a lookup from its own collection; two collections sharing an id (UUIDv7: never
 * in practice) would only evict each other, never serve one's record for the other.
 */
type Entry = { bytes: Uint8Array<ArrayBuffer>; ns: string; hit: boolean };

/**
 * Whole list pages kept beside the records (see page-cache.ts): at most this many, whatever
 * the byte bound allows (small pages), since adding or evicting one costs O(pages) in the
 * interval index (array splices): bounded, so a page-cache miss stays a few µs of that.
 */
const PAGE_CAPACITY = 4096;

/**
 * A bounded cache of encoded responses (bytes, not decoded objects: a hit is one Map lookup
 * and no JSON work), evicting about the least recently used. Counters are honest: each lookup
 * counts exactly once, as a hit or a miss. An array handed out is never written to again
 * (eviction only drops the reference), so a caller may hold it while the cache changes (list
 * pages do).
 *
 * Recency is the Map's insertion order, kept as a CLOCK ("second chance"): a hit only marks
 * its entry, and eviction, taking the oldest, moves a marked entry to the young end (unmarked)
 * instead of dropping it. Moving on every hit (a Map delete and set, ~0.5 µs) was most of a
 * list page's cost in the mixed bench, 50 lookups a page; moving only entries in the older
 * half still left half of all hits moving. Now a hit moves nothing. One eviction passes over
 * at most SECOND_CHANCES marked entries (clock.ts, shared with the page cache): in a cache
 * where everything was hit, an unbounded sweep moved all of it for one insertion.
 */
export class LruCache {
  private readonly map = new Map<string, Entry>();
  private bytesUsed = 0;
  hits = 0;
  misses = 0;
  /** lookups made to build list pages, counted apart so `hitRate` stays the rate of reads */
  pageHits = 0;
  pageMisses = 0;
  /** unfiltered list pages, invalidated by the ids they cover; cleared with the cache */
  readonly pages: PageCache;

  /**
   * Records are bounded twice: by entries and by bytes (they vary from ~300 B to tens of KiB).
   * Whole pages get their own byte bound (server.ts splits --cache-bytes between the two).
   */
  constructor(
    readonly capacity: number,
    readonly maxBytes = Number.MAX_SAFE_INTEGER,
    pageBytes = maxBytes,
  ) {
    this.pages = new PageCache(capacity === 0 ? 0 : PAGE_CAPACITY, pageBytes);
  }

  get bytes(): number {
    return this.bytesUsed;
  }

  get size(): number {
    return this.map.size;
  }

  /** Look up a read by id and count it. A hit marks the entry as recently used. */
  lookup(key: string, ns = ""): Uint8Array<ArrayBuffer> | undefined {
    const v = this.take(key, ns);
    if (v === undefined) this.misses++;
    else this.hits++;
    return v;
  }

  /** Whether lookup() would hit, without counting it or marking the entry (cached-lane.ts). */
  holds(key: string, ns = ""): boolean {
    return this.map.get(key)?.ns === ns;
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
    e.hit = true;
    return e.bytes;
  }

  set(key: string, value: Uint8Array<ArrayBuffer>, ns = ""): void {
    this.delete(key);
    if (this.capacity === 0 || value.byteLength > this.maxBytes) return;
    // Room first, then the new entry: inserted before the sweep, it would be the unmarked
    // entry a sweep over a fully hit cache ends on, and evicted at once.
    while (this.map.size >= this.capacity || this.bytesUsed + value.byteLength > this.maxBytes) if (!evictOne(this.map, (k) => this.delete(k))) break;
    this.map.set(key, { bytes: value, ns, hit: false });
    this.bytesUsed += value.byteLength;
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
    this.pages.clear();
  }

  resetCounters(): void {
    this.hits = 0;
    this.misses = 0;
    this.pageHits = 0;
    this.pageMisses = 0;
    this.pages.resetCounters();
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
      pages: this.pages.stats(),
    };
  }
}
