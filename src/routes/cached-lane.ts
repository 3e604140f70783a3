// The hottest requests, a read by id or an unfiltered list page whose bytes are cached,
// answered without Hono's chain of steps. Over HTTP (oha, cached reads, per-thread CPU) the
// chain's own cost was ~3 µs of the event loop's ~15 µs a read: a Context, a router match,
// and an async step each for the frame, authentication and the audit note. The lane runs the
// chain's steps for the one case where every step lets the request through, and hands every
// other request to the app unchanged (null): no key, a bad or revoked one, a key table that
// cannot be read, a role that may not read, a malformed id or query, a filter, a miss or a
// page to re-read, a key past its rate, a trail that cannot take the event. The app then
// answers it as if the lane were not there, with its 401, 403, 404, 429 or 503. One step
// moves: the chain takes the key's token right after the key, the lane after the checks that
// change nothing (role, view, whether the cache holds the bytes), so that a request it hands
// over has spent nothing here. A refused take spends nothing either, so the outcome is the same.
import type { AuditLog } from "../audit/log.ts";
import { auditEvent } from "../audit/middleware.ts";
import type { Authenticator, Principal } from "../auth/keys.ts";
import { NO_AUTH_PRINCIPAL } from "../auth/middleware.ts";
import type { RateLimiter } from "../auth/rate-limit.ts";
import type { LruCache } from "../cache/lru.ts";
import { PageCache } from "../cache/page-cache.ts";
import type { HttpMetrics } from "../metrics/http.ts";
import { answer, nextRequestId } from "../response-headers.ts";
import { DEFAULT_PAGE, MAX_PAGE, RECORD_ROLES, type ModelKits } from "./record-views.ts";
import { isRecordId } from "./record-id.ts";
import type { RecordHeaders } from "./record-headers.ts";
import { nextLink } from "./next-link.ts";

export interface CachedLaneDeps {
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
const DIGITS = /^\d+$/; // the list validator's own test of a limit (models/schema.ts)

/** A model the lane serves: its kits and the metrics labels of the app's two routes it stands in for. */
interface Served {
  kits: ModelKits;
  readLabel: string;
  listLabel: string;
}

/** A cached read (`id`) or page (`after`, `take`) of one model, as the request names it. */
type Wanted = { model: Served; id: string } | { model: Served; id: null; after: string | null; take: number };

/**
 * The page a list query asks for, read as the app's validator reads it; null for any other
 * query (a filter, a key given twice, anything percent-encoded): those go to the app.
 */
export function pageQuery(query: string | null): { after: string | null; take: number } | null {
  if (query === null) return { after: null, take: DEFAULT_PAGE };
  let after: string | null = null;
  let take: number | null = null;
  for (const part of query.split("&")) {
    const eq = part.indexOf("=");
    const [k, v] = [part.slice(0, eq), part.slice(eq + 1)];
    if (eq > 0 && k === "limit" && take === null && DIGITS.test(v)) take = Number(v);
    else if (eq > 0 && k === "cursor" && after === null && isRecordId(v)) after = v.toLowerCase();
    else return null;
  }
  if (take !== null && (take < 1 || take > MAX_PAGE)) return null;
  return { after, take: take ?? DEFAULT_PAGE };
}

/** A function that answers a cached read or page, or returns null for the app to answer. */
export function cachedLane(deps: CachedLaneDeps): (req: Request) => Response | null {
  const { cache, auth, limiter, log, metrics } = deps;
  const models = new Map<string, Served>(deps.kits.map((kits) => [kits.model.name, { kits, readLabel: `/api/${kits.model.name}/:id`, listLabel: `/api/${kits.model.name}` }]));

  /** What the path and query ask for: /api/<model>/<id> exactly, or /api/<model>[?page query]. */
  function wanted(url: string): Wanted | null {
    // the path as Hono finds it, after the scheme and host
    const path = url.indexOf("/", url.indexOf(":") + 4);
    if (path < 0 || !url.startsWith("/api/", path)) return null;
    let end = path + 5;
    while (end < url.length && url.charCodeAt(end) !== 47 /* / */ && url.charCodeAt(end) !== 63 /* ? */) end++;
    const model = models.get(url.slice(path + 5, end));
    if (model === undefined) return null;
    if (url.charCodeAt(end) === 47) {
      const raw = url.slice(end + 1);
      // lowercased as the app does, for the same cache entry and the same audit pseudonym
      return isRecordId(raw) ? { model, id: raw.toLowerCase() } : null;
    }
    const page = pageQuery(end < url.length ? url.slice(end + 1) : null);
    return page && { model, id: null, ...page };
  }

  function principalOf(req: Request): Principal | null {
    if (auth === null) return NO_AUTH_PRINCIPAL;
    try {
      return auth.authenticate(req.headers.get("authorization") ?? undefined);
    } catch {
      // The key table could not be read: the app reads it again (Authenticator.refresh keeps
      // no half-done check) and answers 503, noting the failure.
      return null;
    }
  }

  return function cachedLane(req) {
    const start = performance.now();
    // the app answers 503 before any work while the trail cannot take events (unauditable)
    if (req.method !== "GET" || log.full) return null;
    const want = wanted(req.url);
    if (want === null) return null;
    // Authentication, then the role, then the view: before the cache is asked anything.
    const principal = principalOf(req);
    if (principal === null || !READERS.has(principal.role)) return null;
    const k = want.model.kits.forRole(principal.role);
    if (k === null) return null;
    const pageKey = want.id === null ? PageCache.key(k.ns, want.after, want.take) : null;
    // Asked without counting or marking, so a request that goes to the app leaves no trace
    // here. After this point only a key past its rate goes there (its refused take spent
    // nothing); the rest changes state in the app's order: token, counted lookup, event.
    if (pageKey === null ? !cache.holds(want.id!, k.ns) : !cache.pages.holds(pageKey)) return null;
    // A key past its rate: the app takes again (an empty bucket stays empty) and answers 429.
    if (limiter !== null && limiter.take(principal.name) > 0) return null;
    const requestId = nextRequestId();
    let res: Response;
    if (pageKey === null) {
      res = answer(requestId, cache.lookup(want.id!, k.ns)!, 200, deps.headers.hit);
    } else {
      // holds() said the page has nothing to re-read, so nothing is
      const page = cache.pages.get(pageKey, () => undefined)!;
      res = answer(requestId, page.bytes, 200, deps.headers.hit, page.next ? { Link: nextLink(req.url, page.next) } : undefined);
    }
    const read = pageKey === null;
    log.append(auditEvent(principal, { action: read ? "read" : "list", collection: want.model.kits.model.name, id: read ? want.id! : undefined, fields: k.fields }, 200, requestId));
    metrics.record("GET", read ? want.model.readLabel : want.model.listLabel, 200, (performance.now() - start) / 1000);
    return res;
  };
}
