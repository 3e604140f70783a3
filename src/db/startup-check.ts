import type { Database } from "bun:sqlite";

/**
 * A store that cannot be served: the message is one line that names the file, says what is
 * wrong and what to do, because main.ts prints exactly that line and exits non-zero.
 */
export class StoreOpenError extends Error {
  override name = "StoreOpenError";
}

/**
 * Refuse a damaged or unusable store before serving anything from it. quick_check walks every
 * page of the file (about 0.5 s for 1M records, against 4 s for integrity_check, which also
 * cross-checks every index entry): a torn, truncated or overwritten page would otherwise be
 * served until a request happens to read it, and a count(*) at startup reads only an index.
 * The write probe finds a file that is read-only or locked by another process now, with a
 * message naming it, instead of a bare "database is locked" at the first write.
 */
export function checkStore(db: Database): void {
  let problems: string[];
  try {
    problems = db.query<{ quick_check: string }, []>("PRAGMA quick_check(5)").all().map((r) => r.quick_check);
  } catch (err) {
    // SQLite throws for damage it meets before it can report it as a row
    problems = [(err as Error).message];
  }
  if (problems.length !== 1 || problems[0] !== "ok") {
    // the first problem is enough for one line ("*** in database main ***" is a heading)
    const first = problems.find((p) => !p.startsWith("***")) ?? "quick_check failed";
    throw Object.assign(new Error(first.replace(/\s+/g, " ")), { code: "SQLITE_CORRUPT" });
  }
  db.run("BEGIN IMMEDIATE"); // waits at most the busy timeout for another process's lock
  db.run("ROLLBACK");
}

const firstLine = (err: unknown) => String((err as Error)?.message ?? err).split("\n")[0];

/**
 * One line for an error met while opening `what` (a store file or the data dir), or `err`
 * itself when it is none of the faults an operator can fix. SQLite errors carry codes such as
 * SQLITE_CORRUPT; file-system errors (the data-dir lock file) carry errno names such as EROFS.
 */
export function explainOpenError(what: string, err: unknown): unknown {
  const code = String((err as { code?: unknown } | null)?.code ?? "");
  const why = firstLine(err);
  if (code === "SQLITE_CORRUPT" || code === "SQLITE_NOTADB") {
    return new StoreOpenError(`${what} is damaged (${why}); refusing to serve it: restore identity.db and clinical.db together from the same backup`);
  }
  if (code === "SQLITE_BUSY" || code === "SQLITE_LOCKED") {
    return new StoreOpenError(`${what} is locked by another process (${why}); stop that process and start again`);
  }
  if (code.startsWith("SQLITE_READONLY") || code === "SQLITE_CANTOPEN" || code === "EROFS" || code === "EACCES" || code === "EPERM") {
    return new StoreOpenError(`${what} cannot be written (${why}); privata needs a writable data dir`);
  }
  if (code === "SQLITE_FULL" || code === "ENOSPC" || code === "EDQUOT") {
    return new StoreOpenError(`${what}: no space left (${why}); free some space and start again`);
  }
  if (code.startsWith("SQLITE_IOERR") || code === "EIO") {
    return new StoreOpenError(`${what}: I/O error (${why}); check the disk`);
  }
  return err;
}
