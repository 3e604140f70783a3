import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ModelDef } from "./models/types.ts";
import type { Stores } from "./db/stores.ts";
import type { LruCache } from "./cache/lru.ts";
import { ApiError, notFound, type ErrorBody } from "./errors.ts";
import { ErasurePendingError, IncompleteRecordError } from "./db/errors.ts";
import { recordRoutes } from "./routes/records.ts";
import { recordHeaders } from "./routes/record-headers.ts";
import { cachedLane } from "./routes/cached-lane.ts";
import { ModelKits } from "./routes/record-views.ts";
import { groupCommitted } from "./db/record-writes.ts";
import { systemRoutes } from "./routes/system.ts";
import { HttpMetrics } from "./metrics/http.ts";
import { metricsRoutes } from "./metrics/routes.ts";
import type { AppEnv } from "./auth/env.ts";
import type { Authenticator } from "./auth/keys.ts";
import { allow, authenticate } from "./auth/middleware.ts";
import { RateLimiter } from "./auth/rate-limit.ts";
import { FAILED_AUTH_BURST, FailedAuthLimiter } from "./auth/failed-auth.ts";
import type { AuditTrail } from "./audit/open.ts";
import { requestFrame } from "./request-frame.ts";
import { AnswerHeaders } from "./response-headers.ts";
import { audited } from "./audit/middleware.ts";
import { auditRoutes } from "./routes/audit.ts";
import { keyRoutes } from "./routes/keys.ts";
import { researchRoutes } from "./routes/research.ts";
import { rightsRoutes } from "./routes/rights.ts";

export interface AppDeps {
  stores: Stores;
  cache: LruCache;
  models: readonly ModelDef[];
  bodyLimit: number;
  allowReset: boolean;
  durability: string;
  /** who a key belongs to; null only under --no-auth (refused off loopback, config.ts) */
  auth: Authenticator | null;
  audit: Pick<AuditTrail, "store" | "log">;
  /** requests/s per key (bursts of twice that); 0 = no limit */
  rateLimit?: number;
  /** failed authentications/s per client address (bursts of 20 times that); 0 = no limit */
  authFailRate?: number;
  /** served over TLS (--tls-cert): only then do answers carry Strict-Transport-Security */
  tls?: boolean;
  /** false: cached reads and pages go through the chain too (test/cached-lane.test.ts compares the two) */
  cachedLane?: boolean;
}

/**
 * Problems of the stores, not of the request: 503, so a client knows to retry later.
 * SQLite's own errors (busy, disk full, read-only) land here too instead of a 500.
 */
function storeProblem(err: Error): { code: string; message: string } | null {
  if (err instanceof IncompleteRecordError) return { code: "record_incomplete", message: err.message };
  if (err instanceof ErasurePendingError) return { code: "erasure_incomplete", message: err.message };
  if (err.name === "SQLiteError") return { code: "store_unavailable", message: "a store cannot be used right now; retry later" };
  return null;
}

/** Hono's own exceptions (malformed JSON, …) mapped to our codes. */
function codeFor(err: HTTPException): string {
  if (err.status === 400 && /json/i.test(err.message)) return "malformed_json";
  return err.status === 413 ? "payload_too_large" : "bad_request";
}

export function createApp(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const startedAt = Date.now();
  const metrics = new HttpMetrics();
  const answers = new AnswerHeaders(deps.tls ?? false);

  // Request id, audit event, security headers, metrics: first, outside authentication, so a
  // failed one is recorded too, and timing every other step.
  app.use(requestFrame(metrics, deps.audit.log, answers));
  // an export finds a record's events by the trail's pseudonym, and by the clinical one that
  // events written before the trail had its own pseudonyms carry
  // (export reads an existing record, so the id is a valid one and both are there)
  const auditPseudonyms = (id: string): [string, string] => [deps.stores.auditPseudonymHex(id)!, deps.stores.pseudonymHex(id)!];
  // Secure by default: every record route, and every system route but /health, needs a key.
  const rate = deps.rateLimit ?? 0;
  const failRate = deps.authFailRate ?? 0;
  const failures = deps.auth && failRate > 0 ? new FailedAuthLimiter(failRate, FAILED_AUTH_BURST * failRate) : null;
  const limiter = deps.auth && rate > 0 ? new RateLimiter(rate, 2 * rate) : null;
  const authn = authenticate(deps.auth, limiter, failures);
  app.use("/api/*", authn);
  app.use("/stats", authn, allow("stats.read", "admin"));
  app.use("/metrics", authn, allow("metrics.read", "admin"));
  // a reset empties both stores: every attempt is in the trail, which it leaves as it is
  app.use("/reset", authn, audited("reset", null, ["admin"]));
  app.route("/", systemRoutes({ ...deps, startedAt, auditFailing: () => deps.audit.log.failing }));
  app.route("/", metricsRoutes({ ...deps, metrics, startedAt }));
  app.route("/api/keys", keyRoutes(deps.stores.keys, deps.auth));
  app.route("/api/audit", auditRoutes(deps.audit));
  const headers = recordHeaders(answers);
  const kits = deps.models.map((model) => new ModelKits(model));
  for (const modelKits of kits) {
    const model = modelKits.model;
    const records = deps.stores.model(model.name);
    app.route(`/api/research/${model.name}`, researchRoutes(model, records, deps.stores.researchIds));
    app.route(`/api/${model.name}`, rightsRoutes(model, { records, cache: deps.cache, audit: deps.audit, auditPseudonyms }));
    app.route(
      `/api/${model.name}`,
      recordRoutes(model, {
        records,
        cache: deps.cache,
        writes: groupCommitted(records, deps.stores.commits),
        bodyLimit: deps.bodyLimit,
        purgeWal: () => deps.stores.checkpoint(),
        headers,
        kits: modelKits,
      }),
    );
  }

  app.notFound((c) => c.json(notFound().body(), 404));

  // The one error handler: every error leaves as the one JSON shape. Unexpected errors are
  // logged by class name only (never a message or stack that could carry PHI) and answer 500.
  app.onError((err, c) => {
    if (err instanceof ApiError) return c.json(err.body(), err.status, err.headers);
    // The client went away mid-body: nobody reads this answer, and it is no server fault.
    if (err.name === "AbortError") return c.json({ error: { code: "aborted", message: "request aborted" } } satisfies ErrorBody, 400);
    const unavailable = storeProblem(err);
    if (unavailable) {
      // a write that failed on a store (not a record the stores disagree on) marks /health
      if (!(err instanceof IncompleteRecordError)) deps.stores.noteFailure();
      console.error(`privata: ${unavailable.code}`);
      return c.json({ error: unavailable } satisfies ErrorBody, 503);
    }
    if (err instanceof HTTPException) {
      const body: ErrorBody = { error: { code: codeFor(err), message: err.message || "bad request" } };
      return c.json(body, err.status);
    }
    console.error(`privata: internal error (${err.name})`);
    return c.json({ error: { code: "internal_error", message: "internal error" } } satisfies ErrorBody, 500);
  });

  // Cached reads by id and list pages skip the chain above when every step of it would let
  // them through (routes/cached-lane.ts); every other request, and every refusal, is the chain's.
  if (deps.cachedLane === false) return app;
  const read = cachedLane({ kits, cache: deps.cache, auth: deps.auth, limiter, log: deps.audit.log, metrics, headers });
  const chain = app.fetch;
  // Hono's fetch is an own property, and app.request() calls it: tests go through the lane too.
  app.fetch = (req, ...rest) => read(req) ?? chain(req, ...rest);
  return app;
}
