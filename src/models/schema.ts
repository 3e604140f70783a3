import { z } from "zod";
import type { FieldDef, ModelDef } from "./types.ts";

/** A record as the API returns it: flat, with server-owned fields. */
export type RecordValue = string | string[] | null;
export type Fields = Record<string, RecordValue>;
export type ApiRecord = { id: string; createdAt: string; updatedAt: string } & Fields;

/**
 * Lone UTF-16 surrogates cannot be stored as UTF-8: SQLite would hand back U+FFFD, and a read
 * would no longer return exactly what was acknowledged. Refuse them up front.
 */
function clean<T extends z.ZodString | z.ZodEmail>(s: T) {
  return s
    .refine((v) => v.isWellFormed(), { message: "must be well-formed Unicode" })
    // every declared text is a one-line label: control characters are garbage or an attack
    .refine((v) => !CONTROL.test(v), { message: "must not contain control characters" });
}

function text(max: number, min = 0) {
  const s = clean(z.string().min(min).max(max));
  // a required text must say something: " " or a zero-width space is not a name
  return min > 0 ? s.refine((v) => VISIBLE.test(v), { message: "must not be blank" }) : s;
}

const CONTROL = /[\u0000-\u001f\u007f]/;
const VISIBLE = /[^\s\u200b-\u200f\u2060\ufeff]/;

function fieldSchema(def: FieldDef): z.ZodType {
  if (def.type === "string[]") return z.array(text(def.maxItemLength)).max(def.maxItems);
  // Internationalised addresses (josé@example.de) are valid mail addresses (RFC 6531).
  if (def.type === "email") return clean(z.email({ pattern: z.regexes.unicodeEmail }).max(def.max));
  return text(def.max, def.min);
}

/** Optional scalar fields without a default may be cleared with null. */
function clearable(def: FieldDef): boolean {
  return !def.required && def.type !== "string[]" && def.default === undefined;
}

/** What a client may send on create: strict (an unknown field is an error, never dropped). */
export function createSchema(model: ModelDef) {
  const shape: Record<string, z.ZodType> = {};
  for (const [name, def] of Object.entries(model.fields)) {
    const s = fieldSchema(def);
    shape[name] = (clearable(def) ? s.nullable() : s).optional();
    if (def.required) shape[name] = s;
  }
  return z.strictObject(shape);
}

/** Update is a strict partial; an empty object is refused because it would change nothing. */
export function updateSchema(model: ModelDef) {
  const shape: Record<string, z.ZodType> = {};
  for (const [name, def] of Object.entries(model.fields)) {
    const s = fieldSchema(def);
    shape[name] = (clearable(def) ? s.nullable() : s).optional();
  }
  return z
    .strictObject(shape)
    .refine((v) => Object.keys(v).length > 0, { message: "at least one field is required" });
}

/** List query: limit, cursor and one optional equality filter per indexed field. */
export function listQuerySchema(model: ModelDef, maxLimit: number) {
  const shape: Record<string, z.ZodType> = {
    // decimal digits only: "0x2", "1e2" or " 5" are not page sizes
    limit: z.string().regex(/^\d+$/, "expected a whole number").transform(Number).pipe(z.number().min(1).max(maxLimit)).optional(),
    cursor: z.uuid().optional(),
  };
  for (const [name, def] of Object.entries(model.fields)) {
    if (def.indexed && def.type !== "string[]") shape[name] = text(def.max).optional();
  }
  return z.strictObject(shape);
}

/** Fill defaults and absent optional fields so every stored record has every column. */
export function withDefaults(model: ModelDef, input: Fields): Fields {
  const out: Fields = {};
  for (const [name, def] of Object.entries(model.fields)) {
    const v = input[name];
    if (v !== undefined) out[name] = v;
    else if (def.type === "string[]") out[name] = [];
    else out[name] = def.default ?? null;
  }
  return out;
}
