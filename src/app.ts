import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ModelDef } from "./models/types.ts";
import type { Stores } from "./db/stores.ts";
import type { LruCache } from "./cache/lru.ts";
import { ApiError, notFound, type ErrorBody } from "./errors.ts";
import { IncompleteRecordError } from "./db/records.ts";
import { recordRoutes } from "./routes/records.ts";
import { systemRoutes } from "./routes/system.ts";

export interface AppDeps {
  stores: Stores;
  cache: LruCache;
  models: readonly ModelDef[];
  bodyLimit: number;
  allowReset: boolean;
  durability: string;
}

/** Hono's own exceptions (malformed JSON, …) mapped to our codes. */
function codeFor(err: HTTPException): string {
  if (err.status === 400 && /json/i.test(err.message)) return "malformed_json";
  return err.status === 413 ? "payload_too_large" : "bad_request";
}

export function createApp(deps: AppDeps): Hono {
  const app = new Hono();
  const startedAt = Date.now();

  app.route("/", systemRoutes({ ...deps, startedAt }));
  for (const model of deps.models) {
    app.route(
      `/api/${model.name}`,
      recordRoutes(model, {
        records: deps.stores.model(model.name),
        cache: deps.cache,
        bodyLimit: deps.bodyLimit,
        purgeWal: () => deps.stores.checkpoint(),
      }),
    );
  }

  app.notFound((c) => c.json(notFound().body(), 404));

  // The one error handler: every error leaves as the one JSON shape. Unexpected errors are
  // logged by class name only (never a message or stack that could carry PHI) and answer 500.
  app.onError((err, c) => {
    if (err instanceof ApiError) return c.json(err.body(), err.status, err.headers);
    if (err instanceof IncompleteRecordError) {
      // Not the client's fault and not a bug in the request: the two stores disagree.
      console.error("privata: a record's clinical half is missing; check the data dir");
      return c.json({ error: { code: "record_incomplete", message: err.message } } satisfies ErrorBody, 503);
    }
    if (err instanceof HTTPException) {
      const body: ErrorBody = { error: { code: codeFor(err), message: err.message || "bad request" } };
      return c.json(body, err.status);
    }
    console.error(`privata: internal error (${err.name})`);
    return c.json({ error: { code: "internal_error", message: "internal error" } } satisfies ErrorBody, 500);
  });

  return app;
}
