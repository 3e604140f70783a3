// The data files as the crash left them, read while no server runs (or while it only reads):
// SQLite's own integrity check, and which clinical halves have no identity half.
import { Database } from "bun:sqlite";
import { join } from "node:path";
import type { Pseudonymizer } from "../../src/crypto/pseudonym.ts";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

function readOnly<T>(path: string, fn: (db: Database) => T): T {
  const db = new Database(path, { readonly: true, strict: true });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

/** "identity.db: …" for each store whose PRAGMA integrity_check is not "ok"; [] when both are. */
export function integrityProblems(dataDir: string): string[] {
  const problems: string[] = [];
  for (const f of ["identity.db", "clinical.db"]) {
    try {
      const rows = readOnly(join(dataDir, f), (db) => db.query<{ integrity_check: string }, []>("PRAGMA integrity_check").all());
      const text = rows.map((r) => r.integrity_check).join("; ");
      if (text !== "ok") problems.push(`${f}: ${text}`);
    } catch (err) {
      problems.push(`${f}: ${(err as Error).message}`);
    }
  }
  return problems;
}

export interface RawState {
  identityIds: string[];
  /** pseudonyms (hex) of the clinical halves that are not de-identified */
  linked: Set<string>;
  deidentified: number;
}

export function rawState(dataDir: string): RawState {
  const identityIds = readOnly(join(dataDir, "identity.db"), (db) =>
    db.query<{ id: string }, []>("SELECT id FROM users").all().map((r) => r.id),
  );
  return readOnly(join(dataDir, "clinical.db"), (db) => {
    const rows = db.query<{ pseudonym: Uint8Array; deidentified: number }, []>("SELECT pseudonym, deidentified FROM users").all();
    return {
      identityIds,
      linked: new Set(rows.filter((r) => r.deidentified === 0).map((r) => hex(r.pseudonym))),
      deidentified: rows.filter((r) => r.deidentified !== 0).length,
    };
  });
}

/** Identity halves whose clinical half is missing (a visible half record), and the orphans. */
export function splitHalves(raw: RawState, pz: Pseudonymizer): { halfVisible: string[]; orphans: number } {
  const expected = new Set(raw.identityIds.map((id) => hex(pz.pseudonym(id))));
  const halfVisible = raw.identityIds.filter((id) => !raw.linked.has(hex(pz.pseudonym(id))));
  const orphans = [...raw.linked].filter((p) => !expected.has(p)).length;
  return { halfVisible, orphans };
}
