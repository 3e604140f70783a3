import type { Database, Statement } from "bun:sqlite";
import type { ModelDef } from "../models/types.ts";
import type { Fields } from "../models/schema.ts";
import { Columns } from "./columns.ts";
import { ident, openStore, type Durability } from "./sqlite.ts";
import type { Filter } from "./identity.ts";

/**
 * clinical.db, one model's table: what is medically known, keyed ONLY by pseudonym.
 * No record id, no name, no timestamp: nothing here can be joined to identity.db without
 * the link key. WITHOUT ROWID keyed by pseudonym, so the physical row order is the
 * random-looking pseudonym order, not insertion order (which would correlate with ids).
 */
export class ClinicalTable {
  readonly cols: Columns;
  private readonly t: string;
  private readonly insertStmt: Statement;
  private readonly updateStmt: Statement;
  private readonly getStmt: Statement<Record<string, unknown>>;
  private readonly deleteStmt: Statement;
  private readonly deidentifyStmt: Statement;
  private readonly countStmt: Statement<{ n: number; deidentified: number | null }>;
  private readonly linkedStmt: Statement<{ pseudonym: Uint8Array }>;
  private readonly matchStmts = new Map<string, Statement<{ pseudonym: Uint8Array }>>();

  constructor(
    private readonly db: Database,
    model: ModelDef,
  ) {
    this.cols = new Columns(model, ["clinical"]);
    this.t = ident(model.name);
    const names = this.cols.names;
    const ddl = this.cols.ddl();
    // deidentified = 1 marks a half kept after a gdprCompliant erasure: reconciliation keeps it.
    db.run(`CREATE TABLE IF NOT EXISTS ${this.t} (pseudonym BLOB PRIMARY KEY,
      deidentified INTEGER NOT NULL DEFAULT 0${ddl ? ", " + ddl : ""}) WITHOUT ROWID`);
    for (const f of this.cols.indexed) {
      db.run(`CREATE INDEX IF NOT EXISTS "${model.name}_${f}" ON ${this.t} ("${f}", deidentified)`);
    }
    const all = ["pseudonym", ...names];
    this.insertStmt = db.prepare(`INSERT INTO ${this.t} (${all.map(ident).join(", ")}) VALUES (${all.map((n) => "$" + n).join(", ")})`);
    this.updateStmt = names.length
      ? db.prepare(`UPDATE ${this.t} SET ${names.map((n) => `"${n}" = $${n}`).join(", ")} WHERE pseudonym = $pseudonym`)
      : db.prepare(`SELECT $pseudonym`);
    this.getStmt = db.prepare(`SELECT * FROM ${this.t} WHERE pseudonym = ? AND deidentified = 0`);
    this.deleteStmt = db.prepare(`DELETE FROM ${this.t} WHERE pseudonym = ? AND deidentified = 0`);
    this.deidentifyStmt = db.prepare(`UPDATE ${this.t} SET pseudonym = ?, deidentified = 1 WHERE pseudonym = ? AND deidentified = 0`);
    this.countStmt = db.prepare(`SELECT count(*) AS n, sum(deidentified) AS deidentified FROM ${this.t}`);
    this.linkedStmt = db.prepare(`SELECT pseudonym FROM ${this.t} WHERE deidentified = 0`);
  }

  insert(pseudonym: Uint8Array, fields: Fields): void {
    this.insertStmt.run({ ...this.cols.toRow(fields), pseudonym });
  }

  update(pseudonym: Uint8Array, fields: Fields): void {
    this.updateStmt.run({ ...this.cols.toRow(fields), pseudonym });
  }

  get(pseudonym: Uint8Array): Fields | null {
    const r = this.getStmt.get(pseudonym);
    return r ? this.cols.fromRow(r, {}) : null;
  }

  delete(pseudonym: Uint8Array): boolean {
    return this.deleteStmt.run(pseudonym).changes > 0;
  }

  /** Re-key a half to a pseudonym derived from nothing and mark it de-identified. */
  deidentify(pseudonym: Uint8Array, fresh: Uint8Array): boolean {
    return this.deidentifyStmt.run(fresh, pseudonym).changes > 0;
  }

  counts(): { total: number; deidentified: number } {
    const r = this.countStmt.get();
    return { total: r?.n ?? 0, deidentified: r?.deidentified ?? 0 };
  }

  /** Pseudonyms of linked (not de-identified) halves matching every filter, via the index. */
  matching(filter: Filter): Uint8Array[] {
    const keys = Object.keys(filter).sort();
    const shape = keys.join(",");
    let stmt = this.matchStmts.get(shape);
    if (!stmt) {
      const where = keys.map((k) => `"${k}" = $${k}`).join(" AND ");
      stmt = this.db.prepare(`SELECT pseudonym FROM ${this.t} WHERE ${where} AND deidentified = 0`);
      this.matchStmts.set(shape, stmt);
    }
    return stmt.all(filter).map((r) => r.pseudonym);
  }

  /** Every linked half, streamed (startup reconciliation). */
  linked(): IterableIterator<{ pseudonym: Uint8Array }> {
    return this.linkedStmt.iterate();
  }

  clear(): void {
    this.db.run(`DELETE FROM ${this.t}`);
  }
}

export class ClinicalStore {
  readonly tables = new Map<string, ClinicalTable>();

  constructor(
    readonly db: Database,
    models: readonly ModelDef[],
  ) {
    for (const m of models) this.tables.set(m.name, new ClinicalTable(db, m));
  }

  static open(path: string, durability: Durability, models: readonly ModelDef[]): ClinicalStore {
    return new ClinicalStore(openStore(path, durability), models);
  }

  table(name: string): ClinicalTable {
    const t = this.tables.get(name);
    if (!t) throw new Error(`no clinical table ${name}`);
    return t;
  }

  /** Whether any model table holds a row (used to refuse a start without the link key). */
  hasRows(): boolean {
    for (const t of this.tables.values()) if (t.counts().total > 0) return true;
    return false;
  }
}
