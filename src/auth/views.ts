import type { ModelDef } from "../models/types.ts";
import type { ApiRecord } from "../models/schema.ts";
import type { Role } from "./keys.ts";

/**
 * What a role sees of a record, fixed per role (DESIGN §8):
 * - full: every field (admin, clinician);
 * - registry: identity and metadata fields only, never a clinical value (registrar);
 * - research: clinical fields and a research id, only through /api/research (researcher).
 */
export type View = "full" | "registry" | "research";

/** The view a role reads and writes records through at /api/<model>; null: not at all. */
export const RECORD_VIEW: Record<Role, Exclude<View, "research"> | null> = {
  admin: "full",
  clinician: "full",
  registrar: "registry",
  researcher: null,
};

const CLASSES: Record<View, readonly string[]> = {
  full: ["identity", "metadata", "clinical"],
  registry: ["identity", "metadata"],
  research: ["clinical"],
};

/** The model as one view sees it: schemas, filters and responses all derive from this. */
export function viewModel(model: ModelDef, view: View): ModelDef {
  const fields = Object.fromEntries(Object.entries(model.fields).filter(([, d]) => CLASSES[view].includes(d.class)));
  return { name: model.name, fields };
}

/** A record cut down to a view's fields, in declaration order; server fields kept. */
export function project(rec: ApiRecord, vm: ModelDef): ApiRecord {
  const out: Record<string, unknown> = { id: rec.id };
  for (const name of Object.keys(vm.fields)) out[name] = rec[name] ?? null;
  out.createdAt = rec.createdAt;
  out.updatedAt = rec.updatedAt;
  return out as ApiRecord;
}
