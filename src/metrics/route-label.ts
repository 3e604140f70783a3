import type { Context } from "hono";
import { matchedRoutes } from "hono/route";
import { UNMATCHED } from "./http.ts";

/**
 * A request's metrics label: the route PATTERN that answered it (`/api/users/:id`), never its
 * path. Paths carry record ids (personal data) and would give every record its own series.
 * `mine` is the routeIndex of the first step of the chain (requestFrame): if the last handler
 * that ran is still that step, or another middleware mounted on a wildcard (authentication),
 * no route matched and the not-found handler (or a 401) answered.
 */
export function routeLabel(c: Context, mine: number): string {
  const last = c.req.routeIndex;
  if (last === mine) return UNMATCHED;
  const path = matchedRoutes(c)[last]?.path;
  return path === undefined || path.endsWith("*") ? UNMATCHED : path;
}
