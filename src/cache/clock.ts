/**
 * One eviction passes over at most this many entries marked as hit since it last passed them:
 * in a cache where everything was hit, an unbounded sweep moved all of it for one insertion
 * (42 ms at 100 000 entries).
 */
export const SECOND_CHANCES = 16;

/**
 * CLOCK ("second chance") eviction over a Map kept in insertion order, shared by the record
 * cache (lru.ts) and the page cache (page-cache.ts): a marked entry passed over moves to the
 * young end, unmarked; the first unmarked one (or the one after SECOND_CHANCES) is dropped.
 * Returns false when the map is empty.
 */
export function evictOne<E extends { hit: boolean }>(map: Map<string, E>, drop: (key: string, e: E) => void): boolean {
  let chances = SECOND_CHANCES;
  for (const [key, e] of map) {
    if (e.hit && chances-- > 0) {
      e.hit = false;
      map.delete(key);
      map.set(key, e);
      continue;
    }
    drop(key, e);
    return true;
  }
  return false;
}
