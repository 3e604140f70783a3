import { Database } from "bun:sqlite";
import { chmodSync } from "node:fs";
import { BackupError } from "./files.ts";

const q = (name: string) => `"${name.replaceAll('"', '""')}"`;

type SchemaRow = { type: string; name: string; sql: string | null };

/**
 * A new store file at `outPath` with the live store `srcPath` attached as `src`, ready for
 * holdPairedSnapshots (snapshot.ts) and then copyHeldSnapshot. The copy is written with SQL
 * through SQLite, reading only what the held snapshot shows: never a file copy, which could
 * catch a page mid-write or miss what still sits in the WAL.
 */
export function openCopy(srcPath: string, outPath: string): Database {
  const out = new Database(outPath, { create: true, readwrite: true, strict: true });
  try {
    chmodSync(outPath, 0o600); // health data: owner-only, like the stores themselves
    // The source is attached read-write (this SQLite build takes no URI "mode=ro") but only
    // ever read: nothing below writes to `src`. The lock of its write transaction is taken by
    // the separate connections in snapshot.ts, never here.
    out.run("ATTACH DATABASE ? AS src", [srcPath]);
    // The copy is a plain rollback-journal file (not WAL): opening it read-only to verify it
    // creates no -wal/-shm beside it. The server turns it back into WAL when it opens it.
    // No journal and no sync while copying: a failed copy is deleted, a good one is fsynced.
    out.run("PRAGMA main.journal_mode = OFF");
    out.run("PRAGMA main.synchronous = OFF");
    // nothing of the copy (index sorts) may spill into a temp file outside the target dir
    out.run("PRAGMA temp_store = MEMORY");
    const pageSize = out.query<{ page_size: number }, []>("PRAGMA src.page_size").get()?.page_size ?? 4096;
    out.run(`PRAGMA main.page_size = ${pageSize}`);
    return out;
  } catch (err) {
    out.close(true);
    throw err;
  }
}

/**
 * Copy schema and rows from the snapshot `out` holds on `src` (inside the transaction that
 * holdPairedSnapshots opened), commit, and check the copy. Returns the rows per table.
 * The schema is read inside the snapshot too, so schema and rows are of the same instant.
 */
export function copyHeldSnapshot(out: Database): Record<string, number> {
  if (!out.inTransaction) throw new Error("copyHeldSnapshot needs the snapshot transaction open");
  const rows: Record<string, number> = {};
  try {
    const schema = out
      .query<SchemaRow, []>("SELECT type, name, sql FROM src.sqlite_schema WHERE sql IS NOT NULL ORDER BY type = 'table' DESC, rowid")
      .all();
    // sqlite_* objects are SQLite's own (created with their tables, or planner statistics
    // from ANALYZE, which the server never runs); every other object is recreated verbatim.
    const own = schema.filter((s) => !s.name.startsWith("sqlite_"));
    for (const s of own) out.run(s.sql!);
    for (const { name } of own.filter((s) => s.type === "table")) {
      // identical schema into an empty table: SQLite copies the records as they are (its
      // transfer optimisation), indexes included
      out.run(`INSERT INTO main.${q(name)} SELECT * FROM src.${q(name)}`);
      const count = (db: string) => out.query<{ n: number }, []>(`SELECT count(*) AS n FROM ${db}.${q(name)}`).get()?.n ?? -1;
      rows[name] = count("main");
      if (rows[name] !== count("src")) throw new BackupError(`copy of table ${name} has a different row count than the store`);
    }
    if (schema.some((s) => s.name === "sqlite_sequence")) out.run("INSERT INTO main.sqlite_sequence SELECT * FROM src.sqlite_sequence");
    out.run("COMMIT");
  } catch (err) {
    if (out.inTransaction) out.run("ROLLBACK");
    throw err;
  }
  out.run("DETACH DATABASE src");
  const check = out.query<{ integrity_check: string }, []>("PRAGMA main.integrity_check").all();
  if (check.length !== 1 || check[0]?.integrity_check !== "ok") {
    throw new BackupError(`integrity check of the copy failed: ${check[0]?.integrity_check ?? "no answer"}`);
  }
  return rows;
}
