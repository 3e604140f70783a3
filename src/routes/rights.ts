import { Hono } from "hono";
import type { ModelDef } from "../models/types.ts";
import type { RecordStore } from "../db/records.ts";
import type { LruCache } from "../cache/lru.ts";
import type { AuditStore } from "../db/audit.ts";
import type { AuditLog } from "../audit/log.ts";
import type { AppEnv } from "../auth/env.ts";
import { audited, noteFields } from "../audit/middleware.ts";
import { notFound } from "../errors.ts";
import { methodNotAllowed } from "../middleware.ts";
import { recordId } from "./record-id.ts";
import { JSON_HEADERS } from "./record-headers.ts";
import { eventJson } from "./audit.ts";

/** Events scanned per event-loop turn during an export (a few ms each). */
const EXPORT_CHUNK = 20_000;

export interface RightsDeps {
  records: RecordStore;
  cache: LruCache;
  audit: { store: AuditStore; log: AuditLog };
  /** the pseudonyms the trail may name the record by: its own, and the clinical one of older trails */
  auditPseudonyms: (id: string) => [string, string];
}

/**
 * Data-subject rights on one model (mounted at /api/<model>): access and portability
 * (export), restriction of processing and its lifting. Admin only: they are acts on a
 * person's behalf, and an export holds everything, the audit events included.
 */
export function rightsRoutes(model: ModelDef, deps: RightsDeps): Hono<AppEnv> {
  const { records, cache } = deps;
  const admin = ["admin"] as const;
  const all = Object.freeze(Object.keys(model.fields)); // frozen: encoded once for the audit trail
  const app = new Hono<AppEnv>();

  app.get("/:id/export", audited("export", model.name, admin), async (c) => {
    const id = recordId(c);
    const found = records.read(id);
    if (!found) throw notFound();
    noteFields(c, all);
    // the events still queued are part of what is held about the person
    await deps.audit.log.settle();
    const [own, legacy] = deps.auditPseudonyms(id);
    const end = deps.audit.store.last()?.seq ?? 0;
    const events = [];
    // No index on the pseudonym (see db/audit.ts): scan the trail in chunks, letting other
    // requests run between them, so a long trail never holds up the server.
    for (let after = 0; after < end; after += EXPORT_CHUNK) {
      const upTo = Math.min(end, after + EXPORT_CHUNK);
      events.push(...deps.audit.store.eventsAbout(own, legacy, after, upTo).map(eventJson));
      if (after + EXPORT_CHUNK < end) await new Promise((r) => setImmediate(r));
    }
    const doc = { exportedAt: new Date().toISOString(), collection: model.name, record: found.record, restricted: found.restricted, auditEvents: events };
    return c.body(JSON.stringify(doc), 200, { ...JSON_HEADERS, "Content-Disposition": `attachment; filename="${model.name}-${id}.json"` });
  });

  for (const [method, on] of [["post", true], ["delete", false]] as const) {
    app[method]("/:id/restriction", audited(on ? "restrict" : "unrestrict", model.name, admin), (c) => {
      const id = recordId(c);
      // out of the cache first: from now on only an admin reads it, from the stores
      cache.delete(id);
      // Cached pages follow the lists: a restricted record leaves them (every page is dropped,
      // as for a delete), a lifted one comes back in the pages its id falls in. Also when the
      // change threw part way; not for an id that does not exist.
      const follow = () => (on ? cache.pages.removed() : cache.pages.added(id));
      let found: boolean;
      try {
        found = records.restrict(id, on);
      } catch (err) {
        follow();
        throw err;
      }
      if (!found) throw notFound();
      follow();
      return c.json({ id, restricted: on }, 200, { "Cache-Control": "no-store" });
    });
  }

  app.all("/:id/export", methodNotAllowed("GET, HEAD"));
  app.all("/:id/restriction", methodNotAllowed("POST, DELETE"));
  return app;
}
