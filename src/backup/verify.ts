import { Database } from "bun:sqlite";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { BackupError, hashFile } from "./files.ts";
import { readManifest, type Manifest } from "./manifest.ts";
import { deidentifiedCounts, META_KEY_CHECK, META_PAIR_ID, metaValue } from "./store-info.ts";
import { auditFacts, type AuditFacts } from "./audit-copy.ts";

export interface BackupSource {
  /** the backup dir (--from): both stores, the manifest and the key if it was included */
  from: string | null;
  identityFrom: string;
  clinicalFrom: string;
  /** the dir backup --audit-to wrote audit.db to; null: the trail is not checked (nor restored) */
  auditFrom?: string | null;
}

export interface VerifiedBackup {
  manifest: Manifest;
  files: { identity: string; clinical: string; key: string | null; audit: string | null };
}

/** The file is there, has the manifest's size, and its bytes hash to the manifest's SHA-256. */
function checkFile(path: string, entry: { bytes: number; sha256: string }): void {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st?.isFile()) throw new BackupError(`${path} is missing`);
  if (st.size !== entry.bytes) throw new BackupError(`${path} has ${st.size} bytes, the manifest says ${entry.bytes}`);
  if (hashFile(path).sha256 !== entry.sha256) throw new BackupError(`${path} does not match its SHA-256 in the manifest (changed or damaged)`);
}

function sameCounts(a: Record<string, number>, b: Record<string, number>): boolean {
  return JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());
}

function countRows(db: Database, tables: string[]): Record<string, number> {
  return Object.fromEntries(tables.map((t) => [t, db.query<{ n: number }, []>(`SELECT count(*) AS n FROM main."${t.replaceAll('"', '""')}"`).get()?.n ?? -1]));
}

/**
 * Check a backup without writing anything: one manifest (identical in every dir the backup
 * was split over), every file present with its size and SHA-256, both stores of the same pair
 * as the manifest says, with the manifest's key check value and record counts.
 */
export function verifyBackup(src: BackupSource): VerifiedBackup {
  const dirs = [...new Set([src.identityFrom, src.clinicalFrom, ...(src.from ? [src.from] : []), ...(src.auditFrom ? [src.auditFrom] : [])])];
  const read = dirs.map((d) => ({ dir: d, ...readManifest(d) }));
  const first = read[0]!;
  for (const r of read) {
    if (r.text !== first.text) throw new BackupError(`the manifests in ${first.dir} and ${r.dir} differ: not parts of the same backup`);
  }
  const { manifest } = first;
  const files = { identity: join(src.identityFrom, manifest.identity.file), clinical: join(src.clinicalFrom, manifest.clinical.file) };
  checkFile(files.identity, manifest.identity);
  checkFile(files.clinical, manifest.clinical);
  // the key, if included, sits in the --from dir (backup --with-key writes it to --to)
  let key: string | null = null;
  if (manifest.key) {
    key = join(src.from ?? dirs.find((d) => existsSync(join(d, manifest.key!.file))) ?? first.dir, manifest.key.file);
    checkFile(key, manifest.key);
  }

  // the audit trail, when asked for: in a dir of its own (backup --audit-to)
  const audit = manifest.audit && src.auditFrom ? join(src.auditFrom, manifest.audit.file) : null;
  if (audit) checkFile(audit, manifest.audit!);

  // Checksums prove the bytes are the ones the backup wrote; these prove the manifest
  // describes these stores (and catch a manifest edited by hand to match other files).
  // Read-only: the copies are rollback-journal files, so nothing is created beside them.
  const identity = new Database(files.identity, { readonly: true, strict: true });
  const clinical = new Database(files.clinical, { readonly: true, strict: true });
  try {
    if (metaValue(identity, META_PAIR_ID) !== manifest.pairId || metaValue(clinical, META_PAIR_ID) !== manifest.pairId) {
      throw new BackupError("the stores of this backup do not belong together (store pair id differs from the manifest)");
    }
    if (metaValue(identity, META_KEY_CHECK) !== manifest.keyCheck) throw new BackupError("identity.db's key check value differs from the manifest");
    const idTables = Object.keys(manifest.identity.records);
    const clTables = Object.keys(manifest.clinical.records);
    if (
      !sameCounts(countRows(identity, idTables), manifest.identity.records) ||
      !sameCounts(countRows(clinical, clTables), manifest.clinical.records) ||
      !sameCounts(deidentifiedCounts(clinical, clTables), manifest.clinical.deidentified)
    ) {
      throw new BackupError("the record counts in the stores differ from the manifest");
    }
  } catch (err) {
    if (err instanceof BackupError) throw err;
    throw new BackupError(`a store of this backup cannot be read: ${(err as Error).message.split("\n")[0]}`);
  } finally {
    identity.close(true);
    clinical.close(true);
  }
  if (audit) checkAudit(audit, manifest.audit!);
  return { manifest, files: { ...files, key, audit } };
}

/** The copy of audit.db is the trail the manifest describes: its events, head and key check. */
function checkAudit(path: string, entry: NonNullable<Manifest["audit"]>): void {
  const db = new Database(path, { readonly: true, strict: true });
  let facts: AuditFacts;
  try {
    facts = auditFacts(db);
  } catch (err) {
    if (err instanceof BackupError) throw err;
    throw new BackupError(`audit.db of this backup cannot be read: ${(err as Error).message.split("\n")[0]}`);
  } finally {
    db.close(true);
  }
  if (facts.events !== entry.events || facts.head !== entry.head || facts.keyCheck !== entry.keyCheck) {
    throw new BackupError("audit.db of this backup differs from the manifest (events, head or key check value)");
  }
}
