import type { Database, Statement } from "bun:sqlite";
import type { ModelDef } from "../models/types.ts";
import type { Fields } from "../models/schema.ts";
import { Columns, type SqlValue } from "./columns.ts";
import { MetaTable } from "./meta.ts";
import { ensureColumn } from "./migrate.ts";
import { ident, openStore, type Durability } from "./sqlite.ts";
import { ShapedStatements, whereEquals } from "./shapes.ts";

export type IdentityRow = {
  id: string;
  createdAt: string;
  updatedAt: string;
  fields: Fields;
  /** processing restricted (GDPR art. 18): kept, left out of lists, read only by an admin */
  restricted?: boolean;
};
export type Filter = Record<string, string>;

/** Both stores carry the flag: identity for reads and lists, clinical for research queries. */
export const RESTRICTED_DDL = "INTEGER NOT NULL DEFAULT 0";

/** identity.db, one model's table: who the person is (identity + metadata), keyed by record id. */
export class IdentityTable {
  readonly cols: Columns;
  private readonly t: string;
  private readonly insertStmt: Statement;
  private readonly updateStmt: Statement;
  private readonly getStmt: Statement<Record<string, unknown>>;
  private readonly deleteStmt: Statement;
  private readonly idsStmt: Statement<{ id: string }>;
  private readonly countStmt: Statement<{ n: number }>;
  private readonly restrictStmt: Statement;
  private readonly listStmts: ShapedStatements<Record<string, unknown>>;
  private readonly pageIdStmts: ShapedStatements<{ id: string }>;

  constructor(
    private readonly db: Database,
    model: ModelDef,
  ) {
    this.cols = new Columns(model, ["identity", "metadata"]);
    this.t = ident(model.name);
    const names = this.cols.names;
    // WITHOUT ROWID keyed by the UUIDv7 id: the primary key is the keyset pagination order.
    db.run(`CREATE TABLE IF NOT EXISTS ${this.t} (id TEXT PRIMARY KEY, ${this.cols.ddl()},
      createdAt TEXT NOT NULL, updatedAt TEXT NOT NULL) WITHOUT ROWID`);
    ensureColumn(db, this.t, "restricted", RESTRICTED_DDL);
    for (const f of this.cols.indexed) {
      db.run(`CREATE INDEX IF NOT EXISTS "${model.name}_${f}" ON ${this.t} ("${f}", id)`);
    }
    const all = ["id", ...names, "createdAt", "updatedAt"];
    this.insertStmt = db.prepare(`INSERT INTO ${this.t} (${all.map(ident).join(", ")}) VALUES (${all.map((n) => "$" + n).join(", ")})`);
    this.updateStmt = db.prepare(
      `UPDATE ${this.t} SET ${[...names, "updatedAt"].map((n) => `"${n}" = $${n}`).join(", ")} WHERE id = $id`,
    );
    this.getStmt = db.prepare(`SELECT * FROM ${this.t} WHERE id = ?`);
    this.deleteStmt = db.prepare(`DELETE FROM ${this.t} WHERE id = ?`);
    this.idsStmt = db.prepare(`SELECT id FROM ${this.t} WHERE id > $after ORDER BY id LIMIT $limit`);
    this.countStmt = db.prepare(`SELECT count(*) AS n FROM ${this.t}`);
    this.restrictStmt = db.prepare(`UPDATE ${this.t} SET restricted = ? WHERE id = ?`);
    const page = (what: string) => (shape: string[], after: string) => {
      // a restricted record is in no list, for any role
      const where = [...whereEquals(shape), "restricted = 0"];
      if (after) where.push("id > $after");
      return `SELECT ${what} FROM ${this.t} ${where.length ? "WHERE " + where.join(" AND ") : ""} ORDER BY id LIMIT $limit`;
    };
    this.listStmts = new ShapedStatements(db, this.cols.indexed, ["", "after"], page("*"));
    // ids only: a page is served from cached encodings, so most rows never need decoding
    this.pageIdStmts = new ShapedStatements(db, this.cols.indexed, ["", "after"], page("id"));
  }

  insert(row: IdentityRow): void {
    this.insertStmt.run({ ...this.cols.toRow(row.fields), id: row.id, createdAt: row.createdAt, updatedAt: row.updatedAt });
  }

  update(row: IdentityRow): void {
    this.updateStmt.run({ ...this.cols.toRow(row.fields), id: row.id, updatedAt: row.updatedAt });
  }

  get(id: string): IdentityRow | null {
    const r = this.getStmt.get(id);
    return r ? this.toIdentityRow(r) : null;
  }

  /** Record ids in order after `after` ("" for the start), one bounded chunk at a time. */
  ids(after: string, limit: number): string[] {
    return this.idsStmt.all({ after, limit }).map((r) => r.id);
  }

  delete(id: string): boolean {
    return this.deleteStmt.run(id).changes > 0;
  }

  /** False when there is no such record. */
  setRestricted(id: string, on: boolean): boolean {
    return this.restrictStmt.run(on ? 1 : 0, id).changes > 0;
  }

  count(): number {
    return this.countStmt.get()?.n ?? 0;
  }

  /** One page in id order (= creation order), via the (field, id) indexes. */
  list(filter: Filter, after: string | null, limit: number): IdentityRow[] {
    const stmt = this.listStmts.get(Object.keys(filter), after ? "after" : "");
    const params: Record<string, SqlValue> = { ...filter, limit };
    if (after) params.after = after;
    return stmt.all(params).map((r) => this.toIdentityRow(r));
  }

  /** The ids of one page in id order: like list(), without reading the other columns. */
  listIds(filter: Filter, after: string | null, limit: number): string[] {
    const stmt = this.pageIdStmts.get(Object.keys(filter), after ? "after" : "");
    const params: Record<string, SqlValue> = { ...filter, limit };
    if (after) params.after = after;
    return stmt.all(params).map((r) => r.id);
  }

  clear(): void {
    this.db.run(`DELETE FROM ${this.t}`);
  }

  private toIdentityRow(r: Record<string, unknown>): IdentityRow {
    const row: IdentityRow = { id: String(r.id), createdAt: String(r.createdAt), updatedAt: String(r.updatedAt), fields: this.cols.fromRow(r, {}) };
    if (r.restricted === 1) row.restricted = true;
    return row;
  }
}

/** identity.db: the model tables plus a small meta table (key check value, shutdown flag). */
export class IdentityStore {
  readonly tables = new Map<string, IdentityTable>();
  readonly meta: MetaTable;

  constructor(
    readonly db: Database,
    models: readonly ModelDef[],
  ) {
    this.meta = new MetaTable(db);
    for (const m of models) this.tables.set(m.name, new IdentityTable(db, m));
  }

  static open(path: string, durability: Durability, models: readonly ModelDef[]): IdentityStore {
    return new IdentityStore(openStore(path, durability), models);
  }

  table(name: string): IdentityTable {
    const t = this.tables.get(name);
    if (!t) throw new Error(`no identity table ${name}`);
    return t;
  }
}
