import type { Database, Statement } from "bun:sqlite";
import type { ModelDef } from "../models/types.ts";
import type { Fields } from "../models/schema.ts";
import { Columns } from "./columns.ts";
import { MetaTable } from "./meta.ts";
import { ident, openStore, type Durability } from "./sqlite.ts";
import { RESTRICTED_DDL, type Filter } from "./identity.ts";
import { ensureColumn } from "./migrate.ts";
import { ShapedStatements, whereEquals } from "./shapes.ts";

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
  private readonly matchStmts: ShapedStatements<{ pseudonym: Uint8Array }>;
  private readonly countMatchStmts: ShapedStatements<{ n: number }>;
  private readonly restrictStmt: Statement;
  private readonly researchStmts: ShapedStatements<Record<string, unknown>>;

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
    ensureColumn(db, this.t, "restricted", RESTRICTED_DDL);
    for (const f of this.cols.indexed) {
      db.run(`CREATE INDEX IF NOT EXISTS "${model.name}_${f}" ON ${this.t} ("${f}", deidentified)`);
    }
    const all = ["pseudonym", ...names];
    this.insertStmt = db.prepare(`INSERT INTO ${this.t} (${all.map(ident).join(", ")}) VALUES (${all.map((n) => "$" + n).join(", ")})`);
    const sets = names.length ? names.map((n) => `"${n}" = $${n}`).join(", ") : "deidentified = deidentified";
    this.updateStmt = db.prepare(`UPDATE ${this.t} SET ${sets} WHERE pseudonym = $pseudonym AND deidentified = 0`);
    this.getStmt = db.prepare(`SELECT * FROM ${this.t} WHERE pseudonym = ? AND deidentified = 0`);
    this.deleteStmt = db.prepare(`DELETE FROM ${this.t} WHERE pseudonym = ? AND deidentified = 0`);
    this.deidentifyStmt = db.prepare(`UPDATE ${this.t} SET pseudonym = ?, deidentified = 1 WHERE pseudonym = ? AND deidentified = 0`);
    this.countStmt = db.prepare(`SELECT count(*) AS n, sum(deidentified) AS deidentified FROM ${this.t}`);
    this.linkedStmt = db.prepare(
      `SELECT pseudonym FROM ${this.t} WHERE deidentified = 0 AND pseudonym > $after ORDER BY pseudonym LIMIT $limit`,
    );
    const where = (shape: string[]) => [...whereEquals(shape), "deidentified = 0"].join(" AND ");
    this.matchStmts = new ShapedStatements(db, this.cols.indexed, [""], (s) => `SELECT pseudonym FROM ${this.t} WHERE ${where(s)}`);
    this.countMatchStmts = new ShapedStatements(db, this.cols.indexed, [""], (s) => `SELECT count(*) AS n FROM ${this.t} WHERE ${where(s)}`);
    this.restrictStmt = db.prepare(`UPDATE ${this.t} SET restricted = ? WHERE pseudonym = ? AND deidentified = 0`);
    // Research pages: linked and de-identified halves alike (keeping the latter for research is
    // what a gdprCompliant erasure is for), never a restricted one; in pseudonym order.
    this.researchStmts = new ShapedStatements(db, this.cols.indexed, [""], (s) =>
      `SELECT * FROM ${this.t} WHERE ${[...whereEquals(s), "restricted = 0", "pseudonym > $after"].join(" AND ")} ORDER BY pseudonym LIMIT $limit`);
  }

  insert(pseudonym: Uint8Array, fields: Fields): void {
    this.insertStmt.run({ ...this.cols.toRow(fields), pseudonym });
  }

  /** False when no linked half exists under this pseudonym. */
  update(pseudonym: Uint8Array, fields: Fields): boolean {
    return this.updateStmt.run({ ...this.cols.toRow(fields), pseudonym }).changes > 0;
  }

  get(pseudonym: Uint8Array): Fields | null {
    const r = this.getStmt.get(pseudonym);
    return r ? this.cols.fromRow(r, {}) : null;
  }

  delete(pseudonym: Uint8Array): boolean {
    return this.deleteStmt.run(pseudonym).changes > 0;
  }

  /** False when no linked half exists under this pseudonym. */
  setRestricted(pseudonym: Uint8Array, on: boolean): boolean {
    return this.restrictStmt.run(on ? 1 : 0, pseudonym).changes > 0;
  }

  /** One page of unrestricted halves matching `filter`, in pseudonym order after `after`. */
  research(filter: Filter, after: Uint8Array | null, limit: number): { pseudonym: Uint8Array; fields: Fields }[] {
    const rows = this.researchStmts.get(Object.keys(filter)).all({ ...filter, after: after ?? new Uint8Array(0), limit });
    return rows.map((r) => ({ pseudonym: r.pseudonym as Uint8Array, fields: this.cols.fromRow(r, {}) }));
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
    return this.matchStmts.get(Object.keys(filter)).all(filter).map((r) => r.pseudonym);
  }

  /** How many linked halves match (an index-only count, to plan a cross-store list). */
  countMatching(filter: Filter): number {
    return this.countMatchStmts.get(Object.keys(filter)).get(filter)?.n ?? 0;
  }

  /** The linked half under this pseudonym if it matches every filter. */
  getMatching(pseudonym: Uint8Array, filter: Filter): Fields | null {
    const f = this.get(pseudonym);
    return f && Object.entries(filter).every(([k, v]) => f[k] === v) ? f : null;
  }

  /** Linked halves in pseudonym order, one bounded chunk at a time (startup reconciliation). */
  linked(after: Uint8Array | null, limit: number): Uint8Array[] {
    // every blob sorts after the empty blob
    return this.linkedStmt.all({ after: after ?? new Uint8Array(0), limit }).map((r) => r.pseudonym);
  }

  clear(): void {
    this.db.run(`DELETE FROM ${this.t}`);
  }
}

/** clinical.db: the model tables plus a meta table holding only the store pair id. */
export class ClinicalStore {
  readonly tables = new Map<string, ClinicalTable>();
  readonly meta: MetaTable;

  constructor(
    readonly db: Database,
    models: readonly ModelDef[],
  ) {
    this.meta = new MetaTable(db);
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
