import { Hono } from "hono";
import { zValidator } from "@hono/zod-validator";
import { z } from "zod";
import type { ModelDef } from "../models/types.ts";
import { listQuerySchema } from "../models/schema.ts";
import type { RecordStore } from "../db/records.ts";
import type { ResearchIdRegistry } from "../crypto/research-id.ts";
import type { AppEnv } from "../auth/env.ts";
import { audited, noteFields } from "../audit/middleware.ts";
import { ApiError } from "../errors.ts";
import { methodNotAllowed } from "../middleware.ts";
import { viewModel } from "../auth/views.ts";
import { DEFAULT_PAGE, MAX_PAGE, onInvalid } from "./record-views.ts";
import { JSON_HEADERS } from "./record-headers.ts";
import { nextLink } from "./next-link.ts";

/**
 * GET /api/research/<model>: clinical fields only, under a research id of the caller's own
 * (see research-id.ts), never a record id, a name or a timestamp; filters on indexed clinical
 * fields; restricted records never appear; de-identified halves do.
 */
export function researchRoutes(model: ModelDef, records: RecordStore, ids: ResearchIdRegistry): Hono<AppEnv> {
  const vm = viewModel(model, "research");
  const fields = Object.freeze(Object.keys(vm.fields)); // frozen: encoded once for the audit trail
  const query = listQuerySchema(vm, MAX_PAGE).extend({ cursor: z.string().regex(/^[0-9a-f]{32}$/, "expected a research id").optional() });
  const app = new Hono<AppEnv>();

  app.get("/", audited("list", model.name, ["researcher", "admin"]), zValidator("query", query, onInvalid("query")), (c) => {
    const { limit, cursor, ...filter } = c.req.valid("query") as Record<string, string | number | undefined>;
    noteFields(c, fields);
    const mine = ids.for(c.get("principal").name);
    const after = cursor === undefined ? null : mine.pseudonym(cursor as string);
    if (cursor !== undefined && after === null) throw new ApiError(400, "validation_failed", "invalid query: cursor is not a research id");
    const take = (limit as number | undefined) ?? DEFAULT_PAGE;
    const rows = records.research(filter as Record<string, string>, after, take + 1);
    const more = rows.length > take;
    if (more) rows.length = take;
    const out = rows.map((r) => ({ researchId: mine.of(r.pseudonym), ...Object.fromEntries(fields.map((f) => [f, r.fields[f] ?? null])) }));
    const headers: Record<string, string> = { ...JSON_HEADERS };
    if (more) headers.Link = nextLink(c.req.url, out.at(-1)!.researchId);
    return c.body(JSON.stringify(out), 200, headers);
  });
  app.all("/", methodNotAllowed("GET, HEAD"));
  return app;
}
