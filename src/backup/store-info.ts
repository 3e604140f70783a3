import type { Database } from "bun:sqlite";
import { KEYS_TABLE } from "../db/keys.ts";

// The stores' own small key/value table (src/db/meta.ts) and the keys a backup relies on.
const META_TABLE = "meta";
export const META_KEY_CHECK = "key_check"; // src/db/pairing.ts: the link key's check value
export const META_PAIR_ID = "pair_id"; // src/db/pairing.ts: the same random id in both files

const q = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** A value of the meta table of `schema` (main by default); null when absent. */
export function metaValue(db: Database, key: string, schema = "main"): string | null {
  try {
    return db.query<{ value: string }, [string]>(`SELECT value FROM ${schema}.${META_TABLE} WHERE key = ?`).get(key)?.value ?? null;
  } catch {
    return null; // no meta table: not a privata store
  }
}

/** Rows per model table: every table but the server's own (meta, API keys) and SQLite's. */
export function recordCounts(rows: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(rows).filter(([t]) => t !== META_TABLE && t !== KEYS_TABLE));
}

/** De-identified clinical halves per model table (the `deidentified` flag of src/db/clinical.ts). */
export function deidentifiedCounts(db: Database, tables: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of tables) {
    out[t] = db.query<{ n: number }, []>(`SELECT coalesce(sum(deidentified), 0) AS n FROM main.${q(t)}`).get()?.n ?? 0;
  }
  return out;
}
