import type { MiddlewareHandler } from "hono";
import { ApiError } from "../errors.ts";
import type { AppEnv } from "./env.ts";
import type { Authenticator, Principal, Role } from "./keys.ts";

/** Who a request is under --no-auth (loopback only, see config.ts): the local operator. */
export const NO_AUTH_PRINCIPAL: Principal = { name: "no-auth", role: "admin" };

const unauthorized = () =>
  new ApiError(401, "unauthorized", "a valid API key is required: Authorization: Bearer <key>", undefined, {
    "WWW-Authenticate": 'Bearer realm="privata"',
  });

/**
 * Every protected route starts here: no principal, no further step (and no cache lookup).
 * A missing, malformed, unknown or revoked key is the same 401: the answer must not tell a
 * guesser which of these it hit.
 */
export function authenticate(auth: Authenticator | null): MiddlewareHandler<AppEnv> {
  return async function authenticate(c, next) {
    if (auth === null) {
      c.set("principal", NO_AUTH_PRINCIPAL);
    } else {
      const principal = auth.authenticate(c.req.header("authorization"));
      if (!principal) throw unauthorized();
      c.set("principal", principal);
    }
    await next();
  };
}

/** 403 for a role that may not use the route (after authentication, before any work). */
export function allow(...roles: Role[]): MiddlewareHandler<AppEnv> {
  const allowed = new Set<Role>(roles);
  return async function allow(c, next) {
    if (!allowed.has(c.get("principal").role)) throw new ApiError(403, "forbidden", "this role may not use this route");
    await next();
  };
}
