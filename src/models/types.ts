/**
 * A model is declared once (one file in src/models/); the DDL, zod schemas, response shape
 * and routes are all derived from this declaration.
 */
export type FieldClass = "identity" | "clinical" | "metadata";

interface FieldBase {
  /** identity and metadata live in identity.db; clinical lives in clinical.db. */
  class: FieldClass;
  required?: boolean;
  /** indexed fields get an index and may be used as list filters. */
  indexed?: boolean;
}

export interface StringField extends FieldBase {
  type: "string" | "email";
  min?: number;
  max: number;
  default?: string;
}

export interface StringArrayField extends FieldBase {
  type: "string[]";
  maxItems: number;
  maxItemLength: number;
}

export type FieldDef = StringField | StringArrayField;

export interface ModelDef {
  /** collection name: the table name in both stores and the path segment /api/<name>. */
  name: string;
  fields: Record<string, FieldDef>;
}

/** Fields the server owns: never accepted from a client. */
export const SERVER_FIELDS = ["id", "createdAt", "updatedAt"] as const;

export function defineModel<M extends ModelDef>(model: M): M {
  if (!/^[a-z][a-z0-9_]{0,62}$/.test(model.name)) throw new Error(`bad model name ${model.name}`);
  // these paths under /api/ belong to the server itself
  if (["keys", "audit", "research"].includes(model.name)) throw new Error(`model name ${model.name} is reserved`);
  for (const name of Object.keys(model.fields)) {
    // Field names become SQL column names: restrict them here, once, at declaration time.
    if (!/^[a-zA-Z][a-zA-Z0-9]{0,62}$/.test(name)) throw new Error(`bad field name ${name}`);
    if ((SERVER_FIELDS as readonly string[]).includes(name)) throw new Error(`${name} is server-owned`);
  }
  return model;
}
