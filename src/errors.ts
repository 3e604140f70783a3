import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { z } from "zod";

import { SERVER_FIELDS } from "./models/types.ts";

type ZodError = z.core.$ZodError;
/** An error names at most this many issues: a body of 5 000 unknown keys gets a short answer. */
const MAX_ISSUES = 20;

export type Issue = { path: (string | number)[]; code: string; message: string };
export type ErrorBody = { error: { code: string; message: string; issues?: Issue[] } };

/** An expected error: becomes the one JSON error shape with its status, never a 500. */
export class ApiError extends HTTPException {
  constructor(
    status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly issues?: Issue[],
    readonly headers?: Record<string, string>,
  ) {
    super(status, { message });
  }

  body(): ErrorBody {
    return { error: { code: this.code, message: this.message, ...(this.issues ? { issues: this.issues } : {}) } };
  }
}

export const notFound = () => new ApiError(404, "not_found", "no such resource");

/**
 * zod issues -> our issues. An unknown key is reported by name, and a server-owned key
 * (id, createdAt, updatedAt) says so, instead of being silently dropped.
 */
export function toIssues(error: ZodError): Issue[] {
  const out: Issue[] = [];
  for (const i of error.issues) {
    const path = i.path.map((p) => (typeof p === "symbol" ? String(p) : p));
    if (i.code === "unrecognized_keys") {
      for (const key of i.keys) {
        const owned = (SERVER_FIELDS as readonly string[]).includes(key);
        out.push({
          path: [...path, key],
          code: owned ? "server_owned_field" : "unknown_field",
          message: owned ? `${key} is set by the server and cannot be written` : `unknown field: ${key}`,
        });
      }
    } else {
      out.push({ path, code: i.code, message: i.message });
    }
  }
  if (out.length <= MAX_ISSUES) return out;
  return [...out.slice(0, MAX_ISSUES), { path: [], code: "too_many_issues", message: `and ${out.length - MAX_ISSUES} more` }];
}

export function validationError(error: ZodError, what: string): ApiError {
  const issues = toIssues(error);
  const first = issues[0];
  const where = first && first.path.length ? `${first.path.join(".")}: ` : "";
  return new ApiError(400, "validation_failed", `invalid ${what}: ${where}${first?.message ?? "bad value"}`, issues);
}
