import { statSync } from "node:fs";
import { Hono } from "hono";
import type { Stores } from "../db/stores.ts";
import type { LruCache } from "../cache/lru.ts";
import type { ModelDef } from "../models/types.ts";
import { methodNotAllowed } from "../middleware.ts";
import { escapeLabel, type HttpMetrics } from "./http.ts";
import type { AuditLog } from "../audit/log.ts";

export interface MetricsDeps {
  metrics: HttpMetrics;
  stores: Stores;
  cache: LruCache;
  models: readonly ModelDef[];
  startedAt: number;
  audit: { log: Pick<AuditLog, "backlog" | "written"> };
}

const HEADERS = { "Content-Type": "text/plain; version=0.0.4; charset=utf-8", "Cache-Control": "no-store" };

/** One metric family: HELP and TYPE once, then its samples (`{labels} value` or ` value`). */
function family(name: string, type: string, help: string, samples: [labels: string, value: number][]): string {
  let out = `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n`;
  for (const [labels, value] of samples) out += `${name}${labels ? `{${labels}}` : ""} ${value}\n`;
  return out;
}

/** Bytes in a WAL file; 0 when it does not exist (a clean stop or a checkpoint removed it). */
function walBytes(dbFile: string): number {
  return statSync(`${dbFile}-wal`, { throwIfNoEntry: false })?.size ?? 0;
}

/**
 * GET /metrics, Prometheus text format 0.0.4. Only counts, sizes and route patterns: no id,
 * value or email can appear here. Everything is read at scrape time, nothing on requests.
 */
export function metricsRoutes(deps: MetricsDeps): Hono {
  const { stores, cache } = deps;
  const app = new Hono();

  app.get("/metrics", (c) => {
    const s = cache.stats();
    const records: [string, number][] = [];
    const deidentified: [string, number][] = [];
    for (const m of deps.models) {
      const n = stores.model(m.name).counts();
      const model = `model="${escapeLabel(m.name)}"`;
      records.push([`${model},store="identity"`, n.identity], [`${model},store="clinical"`, n.clinical]);
      deidentified.push([model, n.deidentified]);
    }
    const text =
      deps.metrics.render() +
      family("privata_cache_hits_total", "counter", "Reads by id answered from the cache (list-page lookups are not counted; reset by POST /reset).", [["", s.hits]]) +
      family("privata_cache_misses_total", "counter", "Reads by id the cache could not answer (reset by POST /reset).", [["", s.misses]]) +
      family("privata_cache_entries", "gauge", "Records currently cached.", [["", s.size]]) +
      family("privata_cache_bytes", "gauge", "Bytes of encoded records currently cached.", [["", s.bytes]]) +
      family("privata_cache_capacity_entries", "gauge", "Entry bound of the cache (--cache-entries).", [["", s.capacity]]) +
      family("privata_cache_capacity_bytes", "gauge", "Byte bound of the record cache (two thirds of --cache-bytes).", [["", s.maxBytes]]) +
      family("privata_page_cache_hits_total", "counter", "Unfiltered list pages answered whole from the page cache (reset by POST /reset).", [["", s.pages.hits]]) +
      family("privata_page_cache_misses_total", "counter", "Unfiltered list pages built from the stores and record cache (reset by POST /reset).", [["", s.pages.misses]]) +
      family("privata_page_cache_pages", "gauge", "List pages currently cached whole.", [["", s.pages.size]]) +
      family("privata_page_cache_bytes", "gauge", "Bytes counted for the cached pages (each page's joined size plus 4 bytes a record).", [["", s.pages.bytes]]) +
      family("privata_page_cache_capacity_bytes", "gauge", "Byte bound of the page cache (a third of --cache-bytes).", [["", s.pages.maxBytes]]) +
      family("privata_records", "gauge", "Rows per model and store (clinical includes de-identified halves).", records) +
      family("privata_records_deidentified", "gauge", "Clinical halves kept de-identified after a GDPR erasure.", deidentified) +
      family("privata_wal_bytes", "gauge", "Size of each store's -wal file (0 when absent).", [
        ['store="identity"', walBytes(stores.identity.db.filename)],
        ['store="clinical"', walBytes(stores.clinical.db.filename)],
      ]) +
      // what a crash would lose now: events appended and not yet committed (log.ts)
      family("privata_audit_backlog_events", "gauge", "Audit events appended and not yet written to audit.db.", [["", deps.audit.log.backlog]]) +
      family("privata_audit_written_total", "counter", "Audit events written to audit.db by this process.", [["", deps.audit.log.written]]) +
      family("process_resident_memory_bytes", "gauge", "Resident set size of the server process.", [["", process.memoryUsage.rss()]]) +
      family("process_start_time_seconds", "gauge", "Start of the app, in seconds since the Unix epoch.", [["", deps.startedAt / 1000]]) +
      family("privata_uptime_seconds", "gauge", "Seconds since the app started.", [["", (Date.now() - deps.startedAt) / 1000]]);
    return c.body(text, 200, HEADERS);
  });

  app.all("/metrics", methodNotAllowed("GET, HEAD"));
  return app;
}
