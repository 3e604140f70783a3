import type { MiddlewareHandler } from "hono";
import { zValidator } from "@hono/zod-validator";
import type { z } from "zod";
import type { ModelDef } from "../models/types.ts";
import { createSchema, listQuerySchema, updateSchema, type ApiRecord } from "../models/schema.ts";
import { RECORD_VIEW, project, viewModel, type View } from "../auth/views.ts";
import type { AppEnv } from "../auth/env.ts";
import type { Role } from "../auth/keys.ts";
import { ApiError, validationError } from "../errors.ts";

export const DEFAULT_PAGE = 50;
export const MAX_PAGE = 500;
const encoder = new TextEncoder();

/** zod-validator hook: a failed parse becomes our 400. */
export function onInvalid(what: string) {
  return (result: { success: boolean; error?: z.core.$ZodError }) => {
    if (!result.success) throw validationError(result.error!, what);
  };
}

/** Everything that differs between two roles' views of one model, built once at startup. */
export interface ViewKit {
  view: View;
  /** the model as this view sees it */
  vm: ModelDef;
  /** its field names, for audit events */
  fields: readonly string[];
  /** the cache namespace: one view's bytes are never served to another view */
  ns: string;
  /** body and query validators: a field outside the view is an unknown field (400) */
  create: MiddlewareHandler;
  update: MiddlewareHandler;
  listQuery: MiddlewareHandler;
  /** the record as this view sees it, encoded once */
  encode: (rec: ApiRecord) => Uint8Array<ArrayBuffer>;
}

function kit(model: ModelDef, view: Exclude<View, "research">): ViewKit {
  const vm = viewModel(model, view);
  const whole = view === "full";
  return {
    view,
    vm,
    fields: Object.freeze(Object.keys(vm.fields)), // frozen: encoded once for the audit trail
    ns: whole ? model.name : `${model.name}:${view}`,
    create: zValidator("json", createSchema(vm), onInvalid("body")),
    update: zValidator("json", updateSchema(vm), onInvalid("body")),
    listQuery: zValidator("query", listQuerySchema(vm, MAX_PAGE), onInvalid("query")),
    // the full view is the record as stored: no copy on the hottest path
    encode: (rec) => encoder.encode(JSON.stringify(whole ? rec : project(rec, vm))),
  };
}

/** Who reads and writes records at /api/<model> (a researcher uses /api/research only). */
export const RECORD_ROLES = ["admin", "clinician", "registrar"] as const satisfies readonly Role[];

/**
 * The kits of one model, built once per app: its routes and the cached lane
 * (cached-lane.ts) share them, so both find a view's bytes under the same namespace.
 */
export class ModelKits {
  private readonly kits: Record<Exclude<View, "research">, ViewKit>;

  constructor(readonly model: ModelDef) {
    this.kits = { full: kit(model, "full"), registry: kit(model, "registry") };
  }

  /** The kit of a role's view; null for a role that has none at /api/<model>. */
  forRole(role: Role): ViewKit | null {
    const view = RECORD_VIEW[role];
    return view === null ? null : this.kits[view];
  }

  /** The kit of the request's principal. */
  of(c: Parameters<MiddlewareHandler<AppEnv>>[0]): ViewKit {
    const k = this.forRole(c.get("principal").role);
    // the role guard runs first (records.ts); this is the backstop, never a default view
    if (k === null) throw new ApiError(403, "forbidden", "this role may not use this route");
    return k;
  }
}
