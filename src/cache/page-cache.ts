import { jsonArrayEnds, replaceJsonArrayPart } from "./json-array.ts";
import { evictOne } from "./clock.ts";
import { RangeIndex, TOP } from "./range-index.ts";

/** A page as the list route built it: its records' encodings in id order, and the next cursor. */
export interface PageParts {
  ids: string[];
  parts: Uint8Array[];
  next: string | null;
}

/**
 * A cached page keeps its ids and joined bytes, with where each record ends in them, but not
 * the records' own arrays: those would keep alive every record of every page, long after the
 * record cache let them go. On a 1 000 000-record copy, ~600 warm pages held ~30 000 records
 * that way (with their record cache entries: 16 MB of a 40 MB JS heap), and the heap grows to
 * about twice what it keeps between full collections (bench/results/FINDINGS.md, session 11).
 */
type Entry = {
  ids: string[];
  next: string | null;
  /** where each record's encoding ends in `bytes` (jsonArrayEnds) */
  ends: Uint32Array;
  key: string;
  lo: string;
  hi: string;
  bytes: Uint8Array<ArrayBuffer>;
  /** ids whose record changed since the page was built: re-read before it is served again */
  stale: string[] | null;
  size: number;
  /** served since eviction last passed it (a second chance, as in lru.ts) */
  hit: boolean;
};

/**
 * Whole list pages (unfiltered ones: the pages everyone walks), so a cached page is one Map
 * lookup instead of a keyset query and 50 record lookups. A page depends on exactly the ids
 * in (cursor, last id], or (cursor, ∞) when it is the last page, so a write tells the cache
 * which record changed and only the pages holding that id are touched:
 * - `changed(id)` (an update): those pages re-read that one record before they are served
 *   again; the rest of the page is still what the stores hold.
 * - `added(id)` (a create, a lifted restriction): those pages are dropped; the new record
 *   moves every later record of the page along.
 * - `removed()` (a delete, an erasure, a restriction): every page is dropped. Rare, and a
 *   removal can also end the page before, whose next link then points at nothing; and an
 *   erasure must leave no copy of the values anywhere in the cache.
 * Like the record cache, callers invalidate after the write committed and before answering.
 *
 * A page is counted its joined size (and its record ends) against maxBytes. Eviction takes the
 * oldest page not served since it last passed (CLOCK, like lru.ts), so a client walking every
 * page once does not push out the pages everyone reads.
 */
export class PageCache {
  private readonly map = new Map<string, Entry>();
  private readonly ranges = new RangeIndex<Entry>();
  private bytesUsed = 0;
  hits = 0;
  misses = 0;
  /** hits that first re-read updated records (counted in hits too) */
  patched = 0;

  constructor(
    readonly capacity: number,
    readonly maxBytes: number,
  ) {}

  /** One key per view namespace, cursor and page size. */
  static key(ns: string, cursor: string | null, limit: number): string {
    return `${ns}\n${cursor ?? ""}\n${limit}`;
  }

  /** Whether get() would hit without re-reading a record; nothing counted or marked (cached-lane.ts). */
  holds(key: string): boolean {
    return this.map.get(key)?.stale === null;
  }

  /**
   * The cached page, its stale records re-read through `reread` (the record's current
   * encoding in this page's view, or undefined if it cannot be in the page any more: then the
   * page is dropped and this is a miss).
   */
  get(key: string, reread: (id: string) => Uint8Array | undefined): { bytes: Uint8Array<ArrayBuffer>; next: string | null } | undefined {
    const e = this.map.get(key);
    if (e !== undefined && (e.stale === null || this.patch(e, reread))) {
      this.hits++;
      e.hit = true;
      return { bytes: e.bytes, next: e.next };
    }
    this.misses++;
    return undefined;
  }

  /** Store a page built from the stores after `cursor`; its bytes are the join of its parts. */
  set(key: string, cursor: string | null, page: PageParts, bytes: Uint8Array<ArrayBuffer>): void {
    const old = this.map.get(key);
    if (old) this.drop(old);
    const ends = jsonArrayEnds(page.parts);
    const size = bytes.byteLength + ends.byteLength;
    if (this.capacity === 0 || size > this.maxBytes) return;
    while (this.map.size >= this.capacity || this.bytesUsed + size > this.maxBytes) if (!evictOne(this.map, (_, e) => this.drop(e))) break;
    const hi = page.next ?? TOP;
    const e: Entry = { ids: page.ids, next: page.next, ends, key, lo: cursor ?? "", hi, bytes, stale: null, size, hit: false };
    this.map.set(key, e);
    this.ranges.add(e);
    this.bytesUsed += size;
  }

  /** A record's values changed (an update): the pages holding it re-read it. */
  changed(id: string): void {
    for (const e of this.ranges.holding(id)) {
      // a page written to often and not read keeps no growing list: it is dropped
      if (e.stale !== null && e.stale.length >= e.ids.length) this.drop(e);
      else (e.stale ??= []).push(id);
    }
  }

  /** A record entered the lists (a create, a lifted restriction): pages it falls in are dropped. */
  added(id: string): void {
    for (const e of this.ranges.holding(id)) this.drop(e);
  }

  /** A record left the lists (a delete, an erasure, a restriction): every page is dropped. */
  removed(): void {
    this.clear();
  }

  clear(): void {
    this.map.clear();
    this.ranges.clear();
    this.bytesUsed = 0;
  }

  get size(): number {
    return this.map.size;
  }

  get bytes(): number {
    return this.bytesUsed;
  }

  resetCounters(): void {
    this.hits = 0;
    this.misses = 0;
    this.patched = 0;
  }

  stats() {
    return { hits: this.hits, misses: this.misses, patched: this.patched, size: this.size, bytes: this.bytesUsed, maxBytes: this.maxBytes };
  }

  /** Pages in the interval index: always `size` (each page once), checked by the tests. */
  get indexed(): number {
    return this.ranges.size;
  }

  private patch(e: Entry, reread: (id: string) => Uint8Array | undefined): boolean {
    let bytes = e.bytes;
    // on a copy: a re-read that throws (a 503) leaves the page as it was, stale ids and all
    const ends = e.ends.slice();
    for (const id of e.stale!) {
      const at = e.ids.indexOf(id);
      const fresh = at < 0 ? undefined : reread(id);
      if (fresh === undefined) {
        this.drop(e);
        return false;
      }
      bytes = replaceJsonArrayPart(bytes, ends, at, fresh);
    }
    e.stale = null;
    e.ends = ends;
    const size = bytes.byteLength + ends.byteLength;
    this.bytesUsed += size - e.size;
    e.size = size;
    e.bytes = bytes;
    // grown past the bound: this page goes (the next request builds it under the bound)
    if (this.bytesUsed > this.maxBytes) {
      this.drop(e);
      return false;
    }
    this.patched++;
    return true;
  }

  private drop(e: Entry): void {
    if (this.map.get(e.key) !== e) return;
    this.map.delete(e.key);
    this.ranges.remove(e);
    this.bytesUsed -= e.size;
  }
}
