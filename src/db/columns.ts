import type { FieldDef, FieldClass, ModelDef } from "../models/types.ts";
import type { Fields, RecordValue } from "../models/schema.ts";

export type SqlValue = string | null | Uint8Array | number;

/** The declared fields of one model that one store holds, with their column conversions. */
export class Columns {
  readonly names: string[];
  readonly indexed: string[];

  constructor(
    readonly model: ModelDef,
    classes: FieldClass[],
  ) {
    const own = Object.entries(model.fields).filter(([, d]) => classes.includes(d.class));
    this.names = own.map(([n]) => n);
    this.indexed = own.filter(([, d]) => d.indexed).map(([n]) => n);
  }

  def(name: string): FieldDef {
    const d = this.model.fields[name];
    if (!d) throw new Error(`unknown field ${name}`);
    return d;
  }

  /** Typed columns: strings are TEXT; arrays are JSON text (never a blob of the whole record). */
  ddl(): string {
    return this.names
      .map((n) => {
        const d = this.def(n);
        const notNull = d.required || d.type === "string[]" ? " NOT NULL" : "";
        return `"${n}" TEXT${notNull}`;
      })
      .join(", ");
  }

  toRow(fields: Fields): Record<string, SqlValue> {
    const row: Record<string, SqlValue> = {};
    for (const n of this.names) {
      const v = fields[n] ?? null;
      row[n] = Array.isArray(v) ? JSON.stringify(v) : v;
    }
    return row;
  }

  fromRow(row: Record<string, unknown>, into: Fields): Fields {
    for (const n of this.names) {
      const v = row[n];
      into[n] = this.def(n).type === "string[]" ? (JSON.parse(String(v ?? "[]")) as string[]) : ((v ?? null) as RecordValue);
    }
    return into;
  }
}
