import type { Context, MiddlewareHandler } from "hono";
import { z } from "zod";
import { ApiError, notFound } from "../errors.ts";

// z.uuid()'s own pattern, tested by hand: a zod parse of the id was about an eighth of a
// cached read's time in the app.
const UUID = z.regexes.uuid();
export const isRecordId = (raw: string) => UUID.test(raw);

/** The :id of the path, lowercased. A malformed id is a record that does not exist: 404. */
export function recordId(c: Context): string {
  const raw = c.req.param("id");
  if (raw === undefined || !isRecordId(raw)) throw notFound();
  return raw.toLowerCase();
}

/** For routes with a body: the 404 for a malformed id comes before any body validation. */
export const validId: MiddlewareHandler = async function validId(c, next) {
  recordId(c);
  await next();
};

/** A read by id takes no query parameters: any given is an unknown field (400). */
export function noQuery(url: string): void {
  const keys = [...new URL(url).searchParams.keys()];
  if (keys.length === 0) return;
  const issues = keys.map((k) => ({ path: [k], code: "unknown_field", message: `unknown field: ${k}` }));
  throw new ApiError(400, "validation_failed", `invalid query: ${issues[0]!.message}`, issues);
}
