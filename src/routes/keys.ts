import { Hono } from "hono";
import { zValidator } from "@hono/zod-validator";
import { z } from "zod";
import type { KeyStore } from "../db/keys.ts";
import { generateKey, hashKey, NAME_SHAPE, ROLES, validKeyName, type Authenticator } from "../auth/keys.ts";
import type { AppEnv } from "../auth/env.ts";
import { audited, noteFields } from "../audit/middleware.ts";
import { ApiError, notFound } from "../errors.ts";
import { limitBody, methodNotAllowed, requireJson, requireUtf8 } from "../middleware.ts";
import { onInvalid } from "./record-views.ts";

const createKey = z.strictObject({ name: z.string().refine(validKeyName, "lowercase letters, digits, . _ - (1-63), not no-auth"), role: z.enum(ROLES) });

/** /api/keys (admin): list, create (the key is in this one answer only), revoke. */
export function keyRoutes(keys: KeyStore, auth: Authenticator | null): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const admin = ["admin"] as const;
  const view = (k: ReturnType<KeyStore["list"]>[number]) => ({ name: k.name, role: k.role, createdAt: k.createdAt, revokedAt: k.revokedAt });

  app.get("/", audited("key.list", null, admin), (c) => c.json(keys.list().map(view), 200, { "Cache-Control": "no-store" }));

  app.post("/", audited("key.create", null, admin), requireJson, limitBody(4096), requireUtf8, zValidator("json", createKey, onInvalid("body")), (c) => {
    const { name, role } = c.req.valid("json");
    noteFields(c, [`name:${name}`, `role:${role}`]);
    const key = generateKey();
    if (!keys.create(name, role, hashKey(key), new Date().toISOString())) {
      throw new ApiError(409, "conflict", `a key named ${name} exists or existed; names are never reused`);
    }
    auth?.invalidate(); // our own write: data_version does not move for this connection
    return c.json({ name, role, key }, 201, { "Cache-Control": "no-store" });
  });

  app.delete("/:name", audited("key.revoke", null, admin), (c) => {
    const name = c.req.param("name");
    // only a well-formed name goes into the trail, which can never be erased
    if (!NAME_SHAPE.test(name)) throw notFound();
    noteFields(c, [`name:${name}`]);
    if (!keys.revoke(name, new Date().toISOString())) throw notFound();
    auth?.invalidate(); // the revoked key fails from the next request on
    return c.body(null, 204);
  });

  app.all("/", methodNotAllowed("GET, HEAD, POST"));
  app.all("/:name", methodNotAllowed("DELETE"));
  return app;
}
