import type { Database } from "bun:sqlite";

/**
 * Add a column that a later version introduced to a table created by an earlier one.
 * `CREATE TABLE IF NOT EXISTS` leaves an existing table as it is, so a data dir from before
 * the column existed needs this once; afterwards it is a cheap no-op at each start.
 */
export function ensureColumn(db: Database, table: string, column: string, ddl: string): void {
  const cols = db.query<{ name: string }, []>(`PRAGMA table_info(${table})`).all();
  if (!cols.some((c) => c.name === column)) db.run(`ALTER TABLE ${table} ADD COLUMN "${column}" ${ddl}`);
}
