import { Database } from "bun:sqlite";
import { BackupError } from "./files.ts";

export interface Window {
  /** when both snapshots were fixed */
  at: Date;
  /** how long the write locks were held (ms) */
  heldMs: number;
  /** attempts needed to find both write locks free at once */
  attempts: number;
}

function isBusy(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code ?? "";
  return code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED");
}

function rollback(db: Database): void {
  try {
    if (db.inTransaction) db.run("ROLLBACK");
  } catch {
    // nothing was written; closing the connection releases whatever is left
  }
}

/**
 * Fix read snapshots of BOTH stores at one instant, and return with them held (each reader
 * is left inside an open read transaction; the caller copies from it, then commits).
 *
 * Why the write locks: the two files cannot commit together. A create commits clinical then
 * identity, a delete removes identity then clinical; two snapshots taken at different instants
 * could pair an identity row with a missing clinical half (no order of two separate snapshots
 * avoids that for both creates and deletes). While this function holds the write lock of both
 * stores no commit can land in either, so both snapshots see the same set of commits, and
 * every pair the server can be in at such an instant (the group commit holds both locks from
 * its first commit to its second) is one a crash at that instant could leave: at worst a
 * clinical half without identity (a delete between its two steps), which the restored
 * server's startup reconciliation removes (the copy's clean-shutdown flag is 0 while a server
 * runs). The locks are taken in the server's write order, clinical then identity, without
 * waiting (like the server's group commit), so neither side ever waits while holding one, and
 * released within milliseconds. The server's group commit retries a taken lock for up to
 * 100 ms (BUSY_TIMEOUT_MS in src/db/sqlite.ts) and a delete waits as long, so a window of a
 * few ms costs a write a few ms, never an error.
 */
export function holdPairedSnapshots(
  paths: { clinical: string; identity: string },
  /** connections with the store attached as `src`: each is left inside its read transaction */
  readers: { clinical: Database; identity: Database },
  timeoutMs = 10_000,
): Window {
  // Own connections for the locks: a reader must keep its snapshot after the locks go.
  // readwrite without create: a missing store must fail, never become a new empty file.
  const lockers = [paths.clinical, paths.identity].map((p) => new Database(p, { readwrite: true, create: false, strict: true }));
  const ordered = [readers.clinical, readers.identity];
  try {
    for (const l of lockers) l.run("PRAGMA busy_timeout = 0");
    // A reader's snapshot may wait briefly (WAL recovery by another connection); never long
    // while the locks are held.
    for (const r of ordered) r.run("PRAGMA busy_timeout = 5");
    const deadline = Date.now() + timeoutMs;
    for (let attempts = 1; ; attempts++) {
      let t0 = 0;
      let at: Date | null = null;
      try {
        for (const l of lockers) {
          l.run("BEGIN IMMEDIATE");
          t0 ||= performance.now();
        }
        for (const r of ordered) {
          r.run("BEGIN");
          // the first read of `src` inside the transaction fixes that store's snapshot
          r.query("SELECT count(*) FROM src.sqlite_schema").get();
        }
        at = new Date();
      } catch (err) {
        if (!isBusy(err)) throw err;
      } finally {
        // release at once, identity first (the reverse of taking them); nothing was written
        for (const l of [...lockers].reverse()) rollback(l);
      }
      const heldMs = t0 ? performance.now() - t0 : 0;
      if (at) return { at, heldMs, attempts };
      // a lock or a snapshot was busy: let go of any snapshot and try again
      for (const r of ordered) rollback(r);
      if (Date.now() > deadline) {
        throw new BackupError(`could not find a moment when both stores were free for ${timeoutMs / 1000} s (a long write or checkpoint holds them); try again`);
      }
      Bun.sleepSync(Math.min(2 * attempts, 20));
    }
  } finally {
    for (const r of ordered) r.run("PRAGMA busy_timeout = 5000");
    for (const l of lockers) l.close(true);
  }
}
