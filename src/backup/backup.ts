import type { Database } from "bun:sqlite";
import { existsSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CLINICAL_FILE, IDENTITY_FILE } from "../db/stores.ts";
import { keyCheckValue, loadLinkKey, sameCheckValue } from "../crypto/link-key.ts";
import { copyHeldSnapshot, openCopy } from "./copy-store.ts";
import { BackupError, checkEmptyTarget, Created, fsyncPath, hashFile, isInside } from "./files.ts";
import { KEY_FILE, MANIFEST_FILE, manifestText, type Manifest } from "./manifest.ts";
import { holdPairedSnapshots, type Window } from "./snapshot.ts";
import { deidentifiedCounts, META_KEY_CHECK, META_PAIR_ID, metaValue, recordCounts } from "./store-info.ts";
import { AUDIT_FILE } from "../db/audit.ts";
import { copyAudit } from "./audit-copy.ts";

export interface BackupOptions {
  dataDir: string;
  /** the link key file, read only when `keyTo` is set */
  keyFile: string;
  identityTo: string;
  clinicalTo: string;
  /** where to put a copy of the link key (--with-key); null: the key is not copied */
  keyTo: string | null;
  /** more dirs that get the manifest (the --to dir when both stores go elsewhere) */
  alsoManifestTo?: string[];
  /** where audit.db goes (--audit-to): a dir apart from both stores; null: not copied */
  auditTo?: string | null;
}

export interface BackupResult {
  manifest: Manifest;
  dirs: string[];
  window: Window;
  copyMs: number;
}

/** Write `text` to `path` via a temporary name, synced, so `path` is only ever complete. */
function writeDurably(path: string, text: string, created: Created, mode = 0o600): void {
  const tmp = `${path}.partial`;
  created.file(tmp);
  writeFileSync(tmp, text, { mode, flag: "wx" });
  fsyncPath(tmp);
  created.file(path);
  renameSync(tmp, path);
}

/**
 * A consistent online copy of both stores: see holdPairedSnapshots for how the pair is kept
 * consistent while the server keeps writing. Never takes the server's data dir lock, so a
 * running server goes on (and one can start meanwhile). On failure nothing is left behind.
 */
export function backup(opts: BackupOptions): BackupResult {
  const src = { identity: join(opts.dataDir, IDENTITY_FILE), clinical: join(opts.dataDir, CLINICAL_FILE) };
  for (const p of Object.values(src)) if (!existsSync(p)) throw new BackupError(`no store ${p}: is ${opts.dataDir} a privata data dir?`);
  const auditTo = opts.auditTo ?? null;
  const storeDirs = new Set([opts.identityTo, opts.clinicalTo, ...(opts.alsoManifestTo ?? [])]);
  // The trail gives record pseudonyms times and identity.db gives ids their createdAt: beside
  // identity.db it would show whose record was read when, and a trail from before session 7
  // names records by their clinical pseudonyms, which would link the two stores (DESIGN §1.2).
  if (auditTo && storeDirs.has(auditTo)) throw new BackupError(`--audit-to ${auditTo} is also a store's backup dir; audit.db beside a store could be matched with it by time: give it a dir of its own`);
  const dirs = [...new Set([...storeDirs, ...(opts.keyTo ? [opts.keyTo] : []), ...(auditTo ? [auditTo] : [])])];
  for (const dir of dirs) {
    // Erasure is erasure (DESIGN §1.5): the data dir must hold no copy an erasure cannot reach.
    if (isInside(dir, opts.dataDir)) throw new BackupError(`backup target ${dir} is inside the data dir; a copy there would keep erased records in it`);
    checkEmptyTarget(dir, "backup target");
  }
  const key = opts.keyTo ? loadLinkKey(opts.keyFile, false) : null;

  const created = new Created();
  const open: Database[] = [];
  try {
    for (const dir of dirs) created.dir(dir);
    const part = { identity: join(opts.identityTo, `${IDENTITY_FILE}.partial`), clinical: join(opts.clinicalTo, `${CLINICAL_FILE}.partial`) };
    for (const p of Object.values(part)) created.file(p);
    const out = { clinical: openCopy(src.clinical, part.clinical), identity: openCopy(src.identity, part.identity) };
    open.push(out.clinical, out.identity);

    const window = holdPairedSnapshots(src, out);
    const t0 = performance.now();
    const rows = { clinical: copyHeldSnapshot(out.clinical), identity: copyHeldSnapshot(out.identity) };
    const copyMs = performance.now() - t0;

    const keyCheck = metaValue(out.identity, META_KEY_CHECK);
    const pairId = metaValue(out.identity, META_PAIR_ID);
    if (!keyCheck || !pairId) throw new BackupError("identity.db has no key check value or pair id: not a privata store that was ever started");
    if (metaValue(out.clinical, META_PAIR_ID) !== pairId) throw new BackupError("identity.db and clinical.db do not belong together (store pair id differs)");
    if (key && !sameCheckValue(keyCheckValue(key), keyCheck)) throw new BackupError(`link key ${opts.keyFile} does not match these stores (key check value differs)`);
    const clinicalRecords = recordCounts(rows.clinical);
    const deidentified = deidentifiedCounts(out.clinical, Object.keys(clinicalRecords));
    for (const db of open.splice(0)) db.close(true);

    const final = { identity: join(opts.identityTo, IDENTITY_FILE), clinical: join(opts.clinicalTo, CLINICAL_FILE) };
    for (const store of ["identity", "clinical"] as const) {
      fsyncPath(part[store]);
      created.file(final[store]);
      renameSync(part[store], final[store]);
    }
    // The audit trail, only where asked and apart from both stores (see above), copied after
    // the stores (see copyAudit).
    const auditSrc = join(opts.dataDir, AUDIT_FILE);
    let audit: Manifest["audit"] = null;
    if (auditTo) {
      if (!existsSync(auditSrc)) throw new BackupError(`--audit-to: ${opts.dataDir} has no ${AUDIT_FILE}`);
      const to = join(auditTo, AUDIT_FILE);
      const facts = copyAudit(auditSrc, to, created);
      audit = { file: AUDIT_FILE, ...hashFile(to), ...facts };
    }
    let keyEntry: Manifest["key"] = null;
    if (opts.keyTo && key) {
      // only when asked (--with-key), owner-only, never over an existing file
      const path = join(opts.keyTo, KEY_FILE);
      writeDurably(path, key.toString("hex") + "\n", created);
      keyEntry = { file: KEY_FILE, ...hashFile(path) };
    }
    const manifest: Manifest = {
      format: "privata-backup",
      version: 2,
      snapshotAt: window.at.toISOString(),
      pairId,
      keyCheck,
      identity: { file: IDENTITY_FILE, ...hashFile(final.identity), records: recordCounts(rows.identity) },
      clinical: { file: CLINICAL_FILE, ...hashFile(final.clinical), records: clinicalRecords, deidentified },
      key: keyEntry,
      audit,
    };
    // the manifest last: a dir without one is an incomplete backup, which restore refuses
    for (const dir of dirs) writeDurably(join(dir, MANIFEST_FILE), manifestText(manifest), created);
    for (const dir of dirs) fsyncPath(dir);
    created.keep();
    return { manifest, dirs, window, copyMs };
  } catch (err) {
    for (const db of open) db.close(true);
    created.undo();
    throw err;
  }
}
