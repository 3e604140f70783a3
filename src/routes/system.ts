import { Hono } from "hono";
import type { Stores } from "../db/stores.ts";
import type { LruCache } from "../cache/lru.ts";
import { ApiError, notFound } from "../errors.ts";
import { methodNotAllowed } from "../middleware.ts";

export interface SystemDeps {
  stores: Stores;
  cache: LruCache;
  allowReset: boolean;
  durability: string;
  startedAt: number;
  /** true while audit.db cannot be written (every /api request is refused then) */
  auditFailing: () => boolean;
}

/** /health, /stats and the opt-in /reset. */
export function systemRoutes(deps: SystemDeps): Hono {
  const { stores, cache } = deps;
  const app = new Hono();
  const uptime = () => Math.round((Date.now() - deps.startedAt) / 1000);

  app.get("/health", (c) => {
    try {
      stores.ping();
      // the stores first (the more basic problem), then the audit trail
      if (deps.auditFailing()) {
        return c.json({ status: "unavailable", error: { code: "audit_unavailable", message: "audit.db cannot be written" } }, 503);
      }
      return c.json({ status: "ok", stores: { identity: "ok", clinical: "ok" }, uptimeSeconds: uptime() });
    } catch {
      return c.json(
        { status: "unavailable", error: { code: "store_unavailable", message: "a store cannot be read" } },
        503,
      );
    }
  });

  app.get("/stats", (c) => {
    const counts = stores.counts();
    return c.json({
      cache: cache.stats(),
      database: counts,
      durability: deps.durability,
      walCheckpoints: stores.checkpointStats(),
      reconciledAtStartup: stores.reconciled,
      uptimeSeconds: uptime(),
    });
  });

  app.post("/reset", (c) => {
    // Without --allow-reset the route does not exist for clients: 404, not 403.
    if (!deps.allowReset) throw notFound();
    let purged: boolean;
    try {
      purged = stores.reset();
    } finally {
      // even when it failed part way: nothing cached may outlive what it emptied
      cache.clear();
      cache.resetCounters();
    }
    // like an erasure: not done until the emptied values are out of the WAL too
    if (!purged) throw new ApiError(503, "erasure_incomplete", "emptied, but another process holds the WAL open; the values are purged on the next checkpoint");
    return c.json({ status: "reset" });
  });

  app.all("/health", methodNotAllowed("GET"));
  app.all("/stats", methodNotAllowed("GET"));
  // /reset without --allow-reset stays a plain 404 for every method
  app.all("/reset", deps.allowReset ? methodNotAllowed("POST") : () => { throw notFound(); });
  return app;
}
