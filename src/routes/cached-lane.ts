// The hottest request, a read by id whose bytes are cached, answered without Hono's chain of
// steps. Over HTTP (oha, cached reads, per-thread CPU) the chain's own cost was ~3.5 µs of the
// event loop's ~14 µs a read: a Context, a router match, and an async step each for the frame,
// authentication and the audit note. This lane runs the same steps, in the same order, for
// the one case where every step lets the request through, and hands every other request to
// the app unchanged (null): no key, a bad or revoked one, a role that may not read, a
// malformed id, a query, a cache miss, a key past its rate, a trail that cannot take the event.
// The app then answers it as if the lane were not there, with its 401, 403, 404, 429 or 503.
import type { AuditLog } from "../audit/log.ts";
import { auditEvent } from "../audit/middleware.ts";
import type { Authenticator } from "../auth/keys.ts";
import { NO_AUTH_PRINCIPAL } from "../auth/middleware.ts";
import type { RateLimiter } from "../auth/rate-limit.ts";
import type { LruCache } from "../cache/lru.ts";
import type { HttpMetrics } from "../metrics/http.ts";
import { answer, nextRequestId } from "../response-headers.ts";
import { RECORD_ROLES, type ModelKits } from "./record-views.ts";
import { isRecordId, type RecordHeaders } from "./records.ts";

export interface CachedReadDeps {
  kits: readonly ModelKits[];
  cache: LruCache;
  /** null only under --no-auth, as in the app */
  auth: Authenticator | null;
  limiter: RateLimiter | null;
  log: AuditLog;
  metrics: HttpMetrics;
  headers: RecordHeaders;
}

const READERS: ReadonlySet<string> = new Set(RECORD_ROLES);

/** A function that answers a cached read by id, or returns null for the app to answer. */
export function cachedReads(deps: CachedReadDeps): (req: Request) => Response | null {
  const { cache, auth, limiter, log, metrics } = deps;
  // by the path's second segment: /api/<model>/<id>; the metrics label the app's route has
  const models = new Map(deps.kits.map((kits) => [kits.model.name, { kits, label: `/api/${kits.model.name}/:id` }]));

  return function cachedRead(req) {
    const start = performance.now();
    // the app answers 503 before any work while the trail cannot take events (unauditable)
    if (req.method !== "GET" || log.full) return null;
    // The path as Hono finds it (after the scheme and host). Only /api/<model>/<id> exactly:
    // a query, a trailing slash or a percent-encoded character goes to the app.
    const url = req.url;
    const path = url.indexOf("/", url.indexOf(":") + 4);
    if (path < 0 || !url.startsWith("/api/", path)) return null;
    const slash = url.indexOf("/", path + 5);
    if (slash < 0) return null;
    const model = models.get(url.slice(path + 5, slash));
    const raw = url.slice(slash + 1);
    if (model === undefined || !isRecordId(raw)) return null;
    // Authentication, then the role, then the view: before the cache is asked anything.
    let principal;
    try {
      principal = auth === null ? NO_AUTH_PRINCIPAL : auth.authenticate(req.headers.get("authorization") ?? undefined);
    } catch {
      return null; // the key store could not be read: the app answers (503) and notes it
    }
    if (principal === null || !READERS.has(principal.role)) return null;
    const k = model.kits.forRole(principal.role);
    if (k === null) return null;
    // Lowercased as the app does, for the same cache entry and the same audit pseudonym.
    const id = raw.toLowerCase();
    // Asked without counting or marking, so a request that goes to the app leaves no trace
    // here: after this point nothing sends it there, and what follows changes state in the
    // app's order (the key's token, then the counted lookup, then the event).
    if (!cache.holds(id, k.ns)) return null;
    // A key past its rate: the app takes again (an empty bucket stays empty) and answers 429.
    if (limiter !== null && limiter.take(principal.name) > 0) return null;
    const bytes = cache.lookup(id, k.ns)!;
    const requestId = nextRequestId();
    const res = answer(requestId, bytes, 200, deps.headers.hit);
    log.append(auditEvent(principal, { action: "read", collection: model.kits.model.name, id, fields: k.fields }, 200, requestId));
    metrics.record("GET", model.label, 200, (performance.now() - start) / 1000);
    return res;
  };
}
