import { Hono, type Context, type MiddlewareHandler } from "hono";
import { zValidator } from "@hono/zod-validator";
import { z } from "zod";
import type { ModelDef } from "../models/types.ts";
import { createSchema, listQuerySchema, updateSchema, type ApiRecord, type Fields } from "../models/schema.ts";
import type { Page, RecordStore } from "../db/records.ts";
import type { WriteContext } from "../db/group-commit.ts";
import type { LruCache } from "../cache/lru.ts";
import { ApiError, notFound, validationError } from "../errors.ts";
import { limitBody, methodNotAllowed, requireJson, requireUtf8 } from "../middleware.ts";
import { joinJsonArray } from "./json-array.ts";

export const DEFAULT_PAGE = 50;
export const MAX_PAGE = 500;

export interface RecordDeps {
  records: RecordStore;
  cache: LruCache;
  /** runs a create or update in the next group commit; settles after both stores committed */
  write: <T>(job: (ctx: WriteContext) => T) => Promise<T>;
  bodyLimit: number;
  /** after an erasure commits: checkpoint so erased values leave the WAL; false if it could not */
  purgeWal: () => boolean;
}

// Health data must not be kept by browsers or proxies along the way.
const JSON_HEADERS = { "Content-Type": "application/json", "Cache-Control": "no-store" };
const encoder = new TextEncoder();

const HIT_HEADERS = { ...JSON_HEADERS, "X-Cache-Hit": "true" };
const MISS_HEADERS = { "X-Cache-Hit": "false" };

// z.uuid()'s own pattern, tested by hand: a zod parse of the id was about an eighth of a
// cached read's time in the app.
const UUID = z.regexes.uuid();

/** The :id of the path, lowercased. A malformed id is a record that does not exist: 404. */
function recordId(c: Context): string {
  const raw = c.req.param("id");
  if (raw === undefined || !UUID.test(raw)) throw notFound();
  return raw.toLowerCase();
}

/** For routes with a body: the 404 for a malformed id comes before any body validation. */
const validId: MiddlewareHandler = async function validId(c, next) {
  recordId(c);
  await next();
};
const deleteQuery = z.strictObject({ gdprCompliant: z.enum(["true", "false"]).optional() });

/** A read by id takes no query parameters: any given is an unknown field (400). */
function noQuery(url: string): void {
  const keys = [...new URL(url).searchParams.keys()];
  if (keys.length === 0) return;
  const issues = keys.map((k) => ({ path: [k], code: "unknown_field", message: `unknown field: ${k}` }));
  throw new ApiError(400, "validation_failed", `invalid query: ${issues[0]!.message}`, issues);
}

/** zod-validator hook: a failed parse becomes our 400. */
function onInvalid(what: string) {
  return (result: { success: boolean; error?: z.core.$ZodError }) => {
    if (!result.success) throw validationError(result.error!, what);
  };
}

/** The routes of one model, derived from its declaration; mounted at /api/<model.name>. */
export function recordRoutes(model: ModelDef, deps: RecordDeps): Hono {
  const { records, cache } = deps;
  const ns = model.name;
  const body = [requireJson, limitBody(deps.bodyLimit), requireUtf8] as const;

  /** Encode once and cache: the same bytes answer this request, later reads and list pages. */
  function encode(rec: ApiRecord): Uint8Array<ArrayBuffer> {
    const bytes = encoder.encode(JSON.stringify(rec));
    cache.set(rec.id, bytes, ns);
    return bytes;
  }

  function respond(c: Context, rec: ApiRecord, status: 200 | 201, extra?: Record<string, string>) {
    return c.body(encode(rec), status, { ...JSON_HEADERS, ...extra });
  }

  /** A page's records from the cache; only the misses are read from the stores. */
  function pageBody({ ids, record }: Page): Uint8Array<ArrayBuffer> {
    // Holding the cached arrays until the join is safe: the cache never writes into an array
    // it handed out, it only drops its reference (see lru.ts).
    const parts: Uint8Array[] = [];
    for (const id of ids) {
      const hit = cache.lookupForPage(id, ns);
      if (hit) {
        parts.push(hit);
        continue;
      }
      const rec = record(id);
      if (rec) parts.push(encode(rec));
    }
    return joinJsonArray(parts);
  }

  const app = new Hono();

  app.post("/", ...body, zValidator("json", createSchema(model), onInvalid("body")), async (c) => {
    const input = c.req.valid("json") as Fields;
    const rec = await deps.write((ctx) => records.create(input, ctx));
    // Not cached (write-around): a burst of creates, or a bulk import, would push the records
    // being read out of the cache, and holding them measured ~3x the peak RSS under creates.
    return c.body(encoder.encode(JSON.stringify(rec)), 201, { ...JSON_HEADERS, Location: `/api/${model.name}/${rec.id}` });
  });

  app.get("/", zValidator("query", listQuerySchema(model, MAX_PAGE), onInvalid("query")), (c) => {
    const { limit, cursor, ...filter } = c.req.valid("query") as Record<string, string | number | undefined>;
    const page = records.listIds(filter as Record<string, string>, (cursor as string | undefined)?.toLowerCase() ?? null, (limit as number | undefined) ?? DEFAULT_PAGE);
    const headers: Record<string, string> = { ...JSON_HEADERS };
    if (page.next) {
      const url = new URL(c.req.url);
      url.searchParams.set("cursor", page.next);
      headers.Link = `<${url.pathname}${url.search}>; rel="next"`;
    }
    return c.body(pageBody(page), 200, headers);
  });

  app.get("/:id", (c) => {
    const id = recordId(c);
    // strict like every other input, but without a validator on the hottest route
    if (c.req.url.includes("?")) noQuery(c.req.url);
    const hit = cache.lookup(id, ns);
    if (hit) return c.body(hit, 200, HIT_HEADERS);
    const rec = records.get(id);
    if (!rec) throw notFound();
    return respond(c, rec, 200, MISS_HEADERS);
  });

  // PUT and PATCH are both partial updates (the seed's clients use PUT).
  for (const method of ["put", "patch"] as const) {
    app[method]("/:id", validId, ...body, zValidator("json", updateSchema(model), onInvalid("body")), async (c) => {
      const id = recordId(c);
      const patch = c.req.valid("json") as Fields;
      // Invalidate before writing, and again if the write fails: a read while the write
      // waits for its batch may cache the old record, which a failed write can leave stale.
      cache.delete(id);
      const rec = await deps.write((ctx) => records.update(id, patch, ctx)).catch((err: unknown) => {
        cache.delete(id);
        throw err;
      });
      if (!rec) throw notFound();
      return respond(c, rec, 200);
    });
  }

  app.delete("/:id", validId, zValidator("query", deleteQuery, onInvalid("query")), (c) => {
    const id = recordId(c);
    cache.delete(id);
    if (!records.delete(id, c.req.valid("query").gdprCompliant === "true")) throw notFound();
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
