import { Hono, type Context, type MiddlewareHandler } from "hono";
import { zValidator } from "@hono/zod-validator";
import { z } from "zod";
import type { ModelDef } from "../models/types.ts";
import type { ApiRecord, Fields } from "../models/schema.ts";
import type { RecordStore } from "../db/records.ts";
import type { RecordWrites } from "../db/record-writes.ts";
import type { LruCache } from "../cache/lru.ts";
import { PageCache } from "../cache/page-cache.ts";
import type { AppEnv } from "../auth/env.ts";
import { audited, noteFields } from "../audit/middleware.ts";
import { ApiError, notFound } from "../errors.ts";
import { noQuery, recordId, validId } from "./record-id.ts";
import { pageRecords } from "./record-pages.ts";
import { limitBody, methodNotAllowed, requireJson, requireUtf8 } from "../middleware.ts";
import { joinJsonArray } from "../cache/json-array.ts";
import { respond } from "../response-headers.ts";
import type { RecordHeaders } from "./record-headers.ts";
import { DEFAULT_PAGE, onInvalid, RECORD_ROLES, type ModelKits, type ViewKit } from "./record-views.ts";
import { nextLink } from "./next-link.ts";

export { DEFAULT_PAGE, MAX_PAGE } from "./record-views.ts";

export interface RecordDeps {
  records: RecordStore;
  cache: LruCache;
  /** creates and updates, each settled after both stores committed (db/record-writes.ts) */
  writes: RecordWrites;
  bodyLimit: number;
  /** after an erasure commits: checkpoint so erased values leave the WAL; false if it could not */
  purgeWal: () => boolean;
  headers: RecordHeaders;
  kits: ModelKits;
}

const deleteQuery = zValidator("query", z.strictObject({ gdprCompliant: z.enum(["true", "false"]).optional() }), onInvalid("query"));

/** What a validator middleware left for the handler (the routes are not typed per view). */
const valid = <T>(c: Context, target: "json" | "query") => (c.req.valid as (t: string) => unknown)(target) as T;
const isAdmin = (c: Context<AppEnv>) => c.get("principal").role === "admin";

/** The routes of one model, derived from its declaration; mounted at /api/<model.name>. */
export function recordRoutes(model: ModelDef, deps: RecordDeps): Hono<AppEnv> {
  const { records, cache } = deps;
  const { json: JSON_PREPARED, hit: HIT, miss: MISS } = deps.headers;
  const kitOf = (c: Context<AppEnv>) => deps.kits.of(c);
  const body = [requireJson, limitBody(deps.bodyLimit), requireUtf8] as const;
  // Authorization before the cache: the role is checked and its view chosen before any lookup,
  // and each view has its own cache namespace, so one role's bytes never answer another.
  const readers = RECORD_ROLES;
  // Deleting a record erases clinical data too: not a registrar's job.
  const erasers = ["admin", "clinician"] as const;
  const pages = pageRecords(cache, records);
  const inView = (pick: (k: ViewKit) => MiddlewareHandler): MiddlewareHandler<AppEnv> => (c, next) => pick(kitOf(c))(c, next);

  /**
   * Encode for the view and cache, unless the record is restricted: then only an admin may
   * read it, always from the stores, so its bytes never sit where another role could hit them.
   */
  function encode(k: ViewKit, rec: ApiRecord, restricted: boolean): Uint8Array<ArrayBuffer> {
    const bytes = k.encode(rec);
    if (!restricted) cache.set(rec.id, bytes, k.ns);
    return bytes;
  }

  const app = new Hono<AppEnv>();

  app.post("/", audited("create", model.name, readers), ...body, inView((k) => k.create), async (c) => {
    const k = kitOf(c);
    const input = valid<Fields>(c, "json");
    noteFields(c, Object.keys(input));
    // Rare, and whether a failed create left its record visible is not known here: every page goes.
    const rec = await deps.writes.create(input).catch((err: unknown) => {
      cache.pages.removed();
      throw err;
    });
    // after the commit, before the answer: pages the new id falls in are dropped
    cache.pages.added(rec.id);
    c.get("audit")!.id = rec.id;
    // Not cached (write-around): a burst of creates, or a bulk import, would push the records
    // being read out of the cache, and holding them measured ~3x the peak RSS under creates.
    return respond(c, k.encode(rec), 201, JSON_PREPARED, { Location: `/api/${model.name}/${rec.id}` });
  });

  // Cached unfiltered pages mostly go by the lane too (cached-lane.ts), like cached reads below.
  app.get("/", audited("list", model.name, readers), inView((k) => k.listQuery), (c) => {
    const k = kitOf(c);
    const { limit, cursor, ...filter } = valid<Record<string, string | number | undefined>>(c, "query");
    noteFields(c, k.fields);
    const after = (cursor as string | undefined)?.toLowerCase() ?? null;
    const take = (limit as number | undefined) ?? DEFAULT_PAGE;
    const link = (next: string | null) => (next ? { Link: nextLink(c.req.url, next) } : undefined);
    // Only unfiltered pages are kept whole: they are what clients walk, and their ids are all
    // a write needs to find them (see page-cache.ts). Keyed by view, like every cached byte.
    const key = Object.keys(filter).length === 0 ? PageCache.key(k.ns, after, take) : null;
    if (key !== null) {
      const hit = cache.pages.get(key, (id) => pages.reread(k, id));
      if (hit) return respond(c, hit.bytes, 200, HIT, link(hit.next));
    }
    const page = pages.parts(k, records.listIds(filter as Record<string, string>, after, take));
    const bytes = joinJsonArray(page.parts);
    if (key !== null) cache.pages.set(key, after, page, bytes);
    return respond(c, bytes, 200, key === null ? JSON_PREPARED : MISS, link(page.next));
  });

  // Most cached hits never get here: routes/cached-lane.ts answers them outside the chain with
  // the same steps, and test/cached-lane.test.ts holds the two to the same answers.
  app.get("/:id", audited("read", model.name, readers), (c) => {
    const k = kitOf(c);
    const id = recordId(c);
    // strict like every other input, but without a validator on the hottest route
    if (c.req.url.includes("?")) noQuery(c.req.url);
    noteFields(c, k.fields);
    const hit = cache.lookup(id, k.ns);
    if (hit) return respond(c, hit, 200, HIT);
    const found = records.read(id);
    // a restricted record is, for everyone but an admin, a record that does not exist
    if (!found || (found.restricted && !isAdmin(c))) throw notFound();
    return respond(c, encode(k, found.record, found.restricted), 200, MISS);
  });

  // PUT and PATCH are both partial updates (the seed's clients use PUT).
  for (const method of ["put", "patch"] as const) {
    app[method]("/:id", audited("update", model.name, readers), validId, ...body, inView((k) => k.update), async (c) => {
      const k = kitOf(c);
      const id = recordId(c);
      const patch = valid<Fields>(c, "json");
      noteFields(c, Object.keys(patch));
      // Invalidate before writing, and again if the write fails: a read while the write
      // waits for its batch may cache the old record, which a failed write can leave stale.
      // One entry per id, whatever its view: this drops every view's bytes.
      cache.delete(id);
      const admin = isAdmin(c);
      const done = await deps.writes.update(id, patch, admin).catch((err: unknown) => {
        cache.delete(id);
        cache.pages.changed(id);
        throw err;
      });
      if (!done) throw notFound();
      const bytes = encode(k, done.record, done.restricted);
      // After the commit, before the answer (which is what makes it correct); after the record
      // cache holds the new bytes only so that the pages' re-read finds them there.
      cache.pages.changed(id);
      return respond(c, bytes, 200, JSON_PREPARED);
    });
  }

  // decided before the role check, so a refused erasure is recorded as one
  const deleteAction = (c: Context) => (c.req.query("gdprCompliant") === "true" ? "erase" : "delete");
  app.delete("/:id", audited(deleteAction, model.name, erasers), validId, deleteQuery, (c) => {
    const id = recordId(c);
    const deidentify = valid<{ gdprCompliant?: string }>(c, "query").gdprCompliant === "true";
    cache.delete(id);
    let deleted: boolean;
    try {
      deleted = records.delete(id, deidentify, isAdmin(c));
    } catch (err) {
      // it may have removed part of the record: no page may keep a copy of what it removed
      cache.pages.removed();
      throw err;
    }
    if (!deleted) throw notFound();
    cache.pages.removed();
    // Erasure is only done when the values are out of the WAL too: never a 204 before that.
    if (!deps.purgeWal()) {
      throw new ApiError(503, "erasure_incomplete", "the record is deleted but another process is reading the store, so its values are not yet purged from the WAL; the server retries on its checkpoint timer");
    }
    return c.body(null, 204);
  });

  app.all("/", methodNotAllowed("GET, HEAD, POST"));
  app.all("/:id", methodNotAllowed("GET, HEAD, PUT, PATCH, DELETE"));
  return app;
}
