import { Hono } from "hono";
import { zValidator } from "@hono/zod-validator";
import { z } from "zod";
import type { AuditStore } from "../db/audit.ts";
import type { AuditLog } from "../audit/log.ts";
import { AUDIT_ACTIONS, type AuditRow } from "../audit/types.ts";
import type { AppEnv } from "../auth/env.ts";
import { audited } from "../audit/middleware.ts";
import { methodNotAllowed } from "../middleware.ts";
import { onInvalid } from "./record-views.ts";
import { nextLink } from "./next-link.ts";

/** An event as the API shows it: fields as a list, the MAC in hex. */
export function eventJson(r: AuditRow) {
  return { ...r, fields: JSON.parse(r.fields) as string[], mac: Buffer.from(r.mac).toString("hex") };
}

const iso = z.iso.datetime({ offset: true });
const query = z.strictObject({
  principal: z.string().min(1).max(64).optional(),
  action: z.enum(AUDIT_ACTIONS).optional(),
  from: iso.optional(),
  to: iso.optional(),
  cursor: z.string().regex(/^\d{1,15}$/, "expected an event number").transform(Number).optional(),
  limit: z.string().regex(/^\d+$/, "expected a whole number").transform(Number).pipe(z.number().min(1).max(1000)).optional(),
});

/** GET /api/audit (admin): the trail, filtered, in event order, in pages (Link: next). */
export function auditRoutes(deps: { store: AuditStore; log: AuditLog }): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get("/", audited("audit.read", null, ["admin"]), zValidator("query", query, onInvalid("query")), async (c) => {
    const { cursor, limit = 100, from, to, ...f } = c.req.valid("query");
    await deps.log.settle(); // what happened up to this request is in the answer
    // stored times are UTC ISO strings: compare like with like
    const range = { ...(from ? { from: new Date(from).toISOString() } : {}), ...(to ? { to: new Date(to).toISOString() } : {}) };
    // A page is at most `limit` events and may be fewer, even none, with a next link: the
    // filters scan a bounded stretch of the trail per page (AuditStore.page).
    const { rows, next } = deps.store.page({ ...f, ...range }, cursor ?? 0, limit);
    const headers: Record<string, string> = { "Cache-Control": "no-store" };
    if (next !== null) headers.Link = nextLink(c.req.url, String(next));
    return c.json(rows.map(eventJson), 200, headers);
  });
  app.all("/", methodNotAllowed("GET, HEAD"));
  return app;
}
