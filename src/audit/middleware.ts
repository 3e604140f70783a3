import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv, AuditNote } from "../auth/env.ts";
import type { AuditLog } from "./log.ts";
import type { AuditAction, AuditInput, AuditOutcome } from "./types.ts";
import { ApiError } from "../errors.ts";
import { refuseRole } from "../auth/middleware.ts";
import type { Principal, Role } from "../auth/keys.ts";

function outcomeOf(status: number): AuditOutcome {
  if (status < 400) return "ok";
  if (status === 401 || status === 403) return "denied";
  if (status === 404) return "not_found";
  return status < 500 ? "invalid" : "error";
}

/**
 * First on each audited route: names the action (the handler adds the field names it
 * touched), then refuses a role not in `roles` with 403, so a denied attempt is recorded too.
 */
export function audited(action: AuditAction | ((c: Context<AppEnv>) => AuditAction), collection: string | null, roles: readonly Role[]): MiddlewareHandler<AppEnv> {
  const allowed = new Set(roles);
  return async function audited(c, next) {
    // Lowercased as the routes do (recordId): an id in capitals reads the same record, so it
    // must map to the same pseudonym, or such a read would leave no trace tied to the record.
    c.set("audit", { action: typeof action === "function" ? action(c) : action, collection, id: c.req.param("id")?.toLowerCase(), fields: [] });
    refuseRole(c, allowed);
    await next();
  };
}

/** The names of the fields a request read or wrote (never their values). */
export function noteFields(c: Context<AppEnv>, fields: readonly string[]): void {
  const note = c.get("audit");
  if (note) note.fields = fields;
}

/**
 * Appends one event per audited request once its answer is settled (errors included: Hono
 * has turned them into the response by then), and one per failed authentication. Only
 * queued here: the log writes a window's events in one transaction (log.ts). Called by
 * requestFrame, outside authentication, so a failed one is recorded too.
 */
export function appendEvent(log: AuditLog, c: Context<AppEnv>): void {
  const note = c.get("audit");
  const status = c.res.status;
  if (note === undefined && status !== 401) return;
  log.append(auditEvent(c.get("principal"), note, status, c.get("requestId") ?? null));
}

/** The event of one finished request (appendEvent's, and the cached lane's). */
export function auditEvent(principal: Principal | undefined, note: AuditNote | undefined, status: number, requestId: string | null): AuditInput {
  return {
    time: Date.now(),
    principal: principal?.name ?? null,
    role: principal?.role ?? null,
    action: note?.action ?? "auth.fail",
    collection: note?.collection ?? null,
    pseudonym: null,
    recordId: note?.collection ? note.id : undefined, // made a pseudonym when the batch is written
    fields: note?.fields ?? [],
    outcome: outcomeOf(status),
    requestId,
  };
}

/**
 * Fail closed when it must: while audit.db cannot be written, or the writer falls behind, the
 * events wait in memory (reads and writes go on; /health says 503 while writes fail), but once
 * the backlog is at its bound every /api request is refused before any work rather than done
 * without a trace, or with more of the trail at risk in a crash.
 */
export function unauditable(log: AuditLog, c: Context<AppEnv>): ApiError | null {
  if (!log.full || !c.req.path.startsWith("/api/")) return null;
  return new ApiError(503, "audit_unavailable", "requests cannot be audited right now; retry later");
}
