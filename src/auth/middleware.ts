import type { Context, MiddlewareHandler } from "hono";
import { ApiError } from "../errors.ts";
import type { AppEnv } from "./env.ts";
import type { Authenticator, Principal, Role } from "./keys.ts";
import type { AuditAction } from "../audit/types.ts";
import { refuseOverLimit, type RateLimiter } from "./rate-limit.ts";
import { tooManyFailures, UNKNOWN_ADDRESS, type FailedAuthLimiter } from "./failed-auth.ts";

/** Who a request is under --no-auth (loopback only, see config.ts): the local operator. */
export const NO_AUTH_PRINCIPAL: Principal = { name: "no-auth", role: "admin" };

const unauthorized = () =>
  new ApiError(401, "unauthorized", "a valid API key is required: Authorization: Bearer <key>", undefined, {
    "WWW-Authenticate": 'Bearer realm="privata"',
  });

/**
 * Every protected route starts here: no principal, no further step (and no cache lookup).
 * A missing, malformed, unknown or revoked key is the same 401: the answer must not tell a
 * guesser which of these it hit. The key's rate limit is checked here too, as soon as the
 * key is known and before any work (one step, not two: each costs ~0.3 µs a request).
 */
export function authenticate(auth: Authenticator | null, limiter: RateLimiter | null = null, failures: FailedAuthLimiter | null = null): MiddlewareHandler<AppEnv> {
  return async function authenticate(c, next) {
    const principal = auth === null ? NO_AUTH_PRINCIPAL : auth.authenticate(c.req.header("authorization"));
    if (!principal) {
      // Past its address's budget a failure is a 429, which the audit does not record one by
      // one (audit/middleware.ts records 401s): what bounds audit.db's growth from keyless clients.
      const taken = failures?.take(clientAddress(c));
      if (taken && taken.wait > 0) throw tooManyFailures(taken.wait);
      // the auth.fail event tells how many failures from this address went unrecorded before it
      if (taken && taken.suppressed > 0) c.set("audit", { action: "auth.fail", collection: null, fields: [`suppressed_before:${taken.suppressed}`] });
      throw unauthorized();
    }
    c.set("principal", principal);
    if (limiter) refuseOverLimit(limiter, principal.name);
    await next();
  };
}

/** 403 for a role that may not use the route (after authentication, before any work). */
export function refuseRole(c: Context<AppEnv>, allowed: ReadonlySet<Role>): void {
  if (!allowed.has(c.get("principal").role)) throw new ApiError(403, "forbidden", "this role may not use this route");
}

/**
 * refuseRole as a step of its own, for routes whose use is not audited (/stats, /metrics): an
 * admin's reads of these aggregates hold no record and a scraper's once a second would flood
 * the trail, but a refused attempt (another role probing admin routes) is recorded as `action`.
 */
export function allow(action: AuditAction, ...roles: Role[]): MiddlewareHandler<AppEnv> {
  const allowed = new Set<Role>(roles);
  return async function allow(c, next) {
    if (!allowed.has(c.get("principal").role)) {
      c.set("audit", { action, collection: null, fields: [] }); // so the refusal is recorded
      refuseRole(c, allowed); // throws the 403
    }
    await next();
  };
}

/** The peer's address, from the Bun server the app was given as its env (server.ts); tests have none. */
function clientAddress(c: Context<AppEnv>): string {
  return c.env?.requestIP?.(c.req.raw)?.address ?? UNKNOWN_ADDRESS;
}
