import type { MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import { UNMATCHED, type HttpMetrics } from "./http.ts";

/**
 * Installed first, so it times everything else. Labels a request by the route PATTERN that
 * answered it (`/api/users/:id`), never by its path: paths carry record ids (personal data)
 * and would give every record its own series.
 */
export function recordMetrics(metrics: HttpMetrics): MiddlewareHandler {
  return async function recordMetrics(c, next) {
    const start = performance.now();
    const mine = c.req.routeIndex;
    try {
      // Hono catches a handler's error where it is thrown and runs onError there, so when
      // next() returns, c.res is already the final answer (a 404, a 400, a 503, …).
      await next();
    } catch (err) {
      // Only non-Error throws or a failing onError get here; they end as a 500 outside the app.
      metrics.record(c.req.method, route(c, mine), 500, (performance.now() - start) / 1000);
      throw err;
    }
    metrics.record(c.req.method, route(c, mine), c.res.status, (performance.now() - start) / 1000);
  };
}

/**
 * The pattern of the last handler that ran (sub-app patterns include their mount prefix).
 * If that is still this middleware, or another middleware mounted on a wildcard (request id,
 * audit, authentication), no route matched and the not-found handler (or a 401) answered.
 */
function route(c: Parameters<MiddlewareHandler>[0], mine: number): string {
  const last = c.req.routeIndex;
  if (last === mine) return UNMATCHED;
  const path = matchedRoutes(c)[last]?.path;
  return path === undefined || path.endsWith("*") ? UNMATCHED : path;
}
