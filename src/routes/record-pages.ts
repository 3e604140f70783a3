import type { LruCache } from "../cache/lru.ts";
import type { PageParts } from "../cache/page-cache.ts";
import type { Page, RecordStore } from "../db/records.ts";
import type { ViewKit } from "./record-views.ts";

/**
 * How list pages get their records' bytes: from the record cache, and only the misses from
 * the stores. Misses are not put in the cache (read-around, like creates): a client walking
 * every page would push out the records being read (at 1 000 000 records, ~30 000 after ~600
 * pages: see page-cache.ts).
 */
export function pageRecords(cache: LruCache, records: RecordStore) {
  /** A page's records, in its order, as one view encodes them. */
  function parts(k: ViewKit, { ids, record, next }: Page): PageParts {
    // Holding the cached arrays until the join is safe: the cache never writes into an array
    // it handed out, it only drops its reference (see lru.ts). Lists never hold restricted records.
    const out: PageParts = { ids: [], parts: [], next };
    for (const id of ids) {
      let bytes = cache.lookupForPage(id, k.ns);
      if (bytes === undefined) {
        const rec = record(id);
        if (!rec) continue; // gone since the ids were read
        bytes = k.encode(rec);
      }
      out.ids.push(id);
      out.parts.push(bytes);
    }
    return out;
  }

  /** A record's bytes for a cached page that holds it, or undefined if it left the lists. */
  function reread(k: ViewKit, id: string): Uint8Array | undefined {
    const hit = cache.lookupForPage(id, k.ns);
    if (hit) return hit;
    const found = records.read(id);
    return found && !found.restricted ? k.encode(found.record) : undefined;
  }

  return { parts, reread };
}
