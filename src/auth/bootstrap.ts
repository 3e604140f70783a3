import { createDurably } from "../crypto/durable-file.ts";
import { join } from "node:path";
import type { KeyStore } from "../db/keys.ts";
import { generateKey, hashKey } from "./keys.ts";

export const ADMIN_KEY_FILE = "admin.key";

/**
 * Secure by default: a data dir without any key gets one admin key on first start, so nobody
 * reads a record without one. Written to <data-dir>/admin.key (0600) unless the operator
 * supplied it (PRIVATA_ADMIN_KEY); only the path is ever printed, never the key.
 * Returns what to tell the operator, or null when keys exist already.
 */
export function ensureAdminKey(keys: KeyStore, dataDir: string, supplied: string | undefined): string | null {
  if (keys.list().length > 0) return null;
  const key = supplied ?? generateKey();
  const path = join(dataDir, ADMIN_KEY_FILE);
  // The file before the row: a key that exists in the store but was never shown would lock
  // the operator out. createDurably refuses an existing file (a stale admin.key: say so).
  if (!supplied) createDurably(path, key + "\n");
  if (!keys.create("admin", "admin", hashKey(key), new Date().toISOString())) return null;
  if (supplied) return "the first admin key (principal \"admin\") is the one given in PRIVATA_ADMIN_KEY";
  return `created the first admin key (principal "admin") in ${path}; keep it safe and remove the file`;
}
