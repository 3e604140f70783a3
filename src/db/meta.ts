import type { Database, Statement } from "bun:sqlite";

/** A store's small key/value table (key check value, pair id, shutdown flag): never PHI. */
export class MetaTable {
  private readonly getStmt: Statement<{ value: string }>;
  private readonly putStmt: Statement;

  constructor(db: Database) {
    db.run("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID");
    this.getStmt = db.prepare("SELECT value FROM meta WHERE key = ?");
    this.putStmt = db.prepare("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value");
  }

  get(key: string): string | null {
    return this.getStmt.get(key)?.value ?? null;
  }

  set(key: string, value: string): void {
    this.putStmt.run(key, value);
  }
}
