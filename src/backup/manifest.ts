import { readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { BackupError } from "./files.ts";

export const MANIFEST_FILE = "manifest.json";
export const KEY_FILE = "link.key";

const hex = (n: number) => z.string().regex(new RegExp(`^[0-9a-f]{${n}}$`), `expected ${n} hex digits`);
// a bare file name: a manifest must never send a restore reading or writing outside its dirs
const fileName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,100}$/, "expected a plain file name");
const count = z.number().int().min(0);

const fileEntry = z.strictObject({ file: fileName, bytes: count, sha256: hex(64) });

/**
 * What a backup holds, written last (after every file is synced): a directory without it is
 * an incomplete backup. Holds the key's check value, never the key; counts, never values.
 */
export const manifestSchema = z.strictObject({
  format: z.literal("privata-backup"),
  /** 2 since backups carry the audit trail; a version 1 backup (no `audit`) restores as before */
  version: z.union([z.literal(1), z.literal(2)]),
  /** the instant both snapshots were taken (the write locks were held then) */
  snapshotAt: z.iso.datetime(),
  /** the store pair id both files carry (src/db/pairing.ts) */
  pairId: hex(32),
  /** the link key's check value, as identity.db keeps it (src/crypto/link-key.ts) */
  keyCheck: hex(32),
  identity: fileEntry.extend({ records: z.record(z.string(), count) }),
  clinical: fileEntry.extend({ records: z.record(z.string(), count), deidentified: z.record(z.string(), count) }),
  /** the link key, only when the backup was asked to include it (--with-key) */
  key: fileEntry.nullable(),
  /** audit.db, in a dir of its own (backup --audit-to, src/backup/audit-copy.ts); null: not copied */
  audit: fileEntry.extend({ file: z.literal("audit.db"), events: count, head: hex(64).nullable(), keyCheck: hex(32) }).nullable().optional(),
});

export type Manifest = z.output<typeof manifestSchema>;

export function manifestText(m: Manifest): string {
  return JSON.stringify(m, null, 2) + "\n";
}

/** Read and validate `<dir>/manifest.json`; returns the parsed manifest and its exact text. */
export function readManifest(dir: string): { manifest: Manifest; text: string } {
  const path = join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    throw new BackupError(`no readable ${MANIFEST_FILE} in ${dir}: not a complete privata backup`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new BackupError(`${path} is not valid JSON`);
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new BackupError(`${path} is not a privata backup manifest (${issue?.path.join(".") || "root"}: ${issue?.message ?? "invalid"})`);
  }
  return { manifest: parsed.data, text };
}
