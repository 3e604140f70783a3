import type { Database, Statement } from "bun:sqlite";

export interface KeyRow {
  name: string;
  role: string;
  /** SHA-256 of the key: the key itself is shown once and never stored */
  hash: Uint8Array;
  createdAt: string;
  revokedAt: string | null;
}

export const KEYS_TABLE = "api_keys";

/**
 * API keys, in identity.db (so a backup of the stores carries them): one named principal per
 * key, one role each. A name is never reused, so audit events that name it stay unambiguous.
 */
export class KeyStore {
  private readonly insertStmt: Statement;
  private readonly revokeStmt: Statement;
  private readonly listStmt: Statement<KeyRow>;
  private readonly activeStmt: Statement<KeyRow>;
  private readonly versionStmt: Statement<{ data_version: number }>;

  constructor(private readonly db: Database) {
    db.run(`CREATE TABLE IF NOT EXISTS ${KEYS_TABLE} (name TEXT PRIMARY KEY, role TEXT NOT NULL,
      hash BLOB NOT NULL UNIQUE, created_at TEXT NOT NULL, revoked_at TEXT) WITHOUT ROWID`);
    const cols = "name, role, hash, created_at AS createdAt, revoked_at AS revokedAt";
    this.insertStmt = db.prepare("INSERT INTO api_keys (name, role, hash, created_at) VALUES (?, ?, ?, ?)");
    this.revokeStmt = db.prepare("UPDATE api_keys SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL");
    this.listStmt = db.prepare(`SELECT ${cols} FROM api_keys ORDER BY created_at, name`);
    this.activeStmt = db.prepare(`SELECT ${cols} FROM api_keys WHERE revoked_at IS NULL`);
    this.versionStmt = db.prepare("PRAGMA data_version");
  }

  /** False when the name is taken (by a live or a revoked key). */
  create(name: string, role: string, hash: Uint8Array, now: string): boolean {
    try {
      this.insertStmt.run(name, role, hash, now);
      return true;
    } catch (err) {
      if ((err as { code?: string }).code?.startsWith("SQLITE_CONSTRAINT")) return false;
      throw err;
    }
  }

  /** False when there is no live key of that name. */
  revoke(name: string, now: string): boolean {
    return this.revokeStmt.run(now, name).changes === 1;
  }

  list(): KeyRow[] {
    return this.listStmt.all();
  }

  active(): KeyRow[] {
    return this.activeStmt.all();
  }

  /**
   * Changes whenever another connection (the `privata keys` CLI) commits to this file: a
   * cheap check that lets the server keep keys in memory and still see a revocation at once.
   */
  version(): number {
    return this.versionStmt.get()?.data_version ?? 0;
  }
}
