import { chmodSync, copyFileSync, constants, existsSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { CLINICAL_FILE, IDENTITY_FILE } from "../db/stores.ts";
import { Database } from "bun:sqlite";
import { AUDIT_FILE, auditRows } from "../db/audit.ts";
import { verifyChain } from "../audit/chain.ts";
import { loadAuditKey, refuseOtherKey } from "../audit/open.ts";
import { keyCheckValue, loadLinkKey, sameCheckValue } from "../crypto/link-key.ts";
import { BackupError, checkEmptyTarget, Created, fsyncPath, hashFile } from "./files.ts";
import type { Manifest } from "./manifest.ts";
import { verifyBackup, type BackupSource } from "./verify.ts";

export interface RestoreOptions {
  source: BackupSource;
  /** the new data dir: must not exist or be empty */
  dataDir: string;
  /** the key the restored server will use: checked if it exists, else written from the backup */
  keyFile: string;
  /** the audit key the backup's audit.db was written with (required to restore it); it is not copied */
  auditKeyFile: string | null;
  /** restore without the backup's audit.db (the server then starts a new trail with audit.restart) */
  withoutAudit?: boolean;
}

export interface RestoreResult {
  manifest: Manifest;
  /** whether audit.db was restored */
  auditRestored: boolean;
  /** whether the key was written to keyFile (from the backup) or an existing one was checked */
  keyWritten: boolean;
}

/**
 * Restore a backup into a new data dir. Everything is checked before anything is created
 * (manifest, every checksum, the pair, the key against the key check value, the target), each
 * file is written under a temporary name, synced, hashed again and only then renamed; on any
 * failure everything this run created is removed.
 */
export function restore(opts: RestoreOptions): RestoreResult {
  // --without-audit: the trail is neither checked nor restored (a damaged one never blocks the records)
  const { manifest, files } = verifyBackup(opts.withoutAudit ? { ...opts.source, auditFrom: null } : opts.source);
  const withAudit = files.audit !== null;
  if (manifest.audit && !opts.withoutAudit && !withAudit) {
    throw new BackupError("this backup holds the audit trail in a dir of its own (backup --audit-to): pass --audit-from DIR and --audit-key-file FILE, or --without-audit to restore without it (the restored server then starts a new trail with an audit.restart event)");
  }
  if (withAudit) verifyTrail(files.audit!, checkAuditKey(opts.auditKeyFile, manifest.audit!.keyCheck));

  // The key: an existing key file must be the stores' key; a missing one is written from the
  // backup, and only if the backup holds it (a restore never invents a key for data).
  const keyExists = existsSync(opts.keyFile);
  if (!keyExists && !files.key) {
    throw new BackupError(`link key file ${opts.keyFile} does not exist and the backup holds no key; pass --key-file with the link key of these stores`);
  }
  const key = loadLinkKey(keyExists ? opts.keyFile : files.key!, false);
  if (!sameCheckValue(keyCheckValue(key), manifest.keyCheck)) {
    throw new BackupError(`link key ${keyExists ? opts.keyFile : files.key} does not match this backup (key check value differs)`);
  }
  checkEmptyTarget(opts.dataDir, "restore target");
  const dataDir = resolve(opts.dataDir);
  if (!keyExists && dirname(resolve(opts.keyFile)) !== dataDir && !existsSync(dirname(opts.keyFile))) {
    throw new BackupError(`the directory of key file ${opts.keyFile} does not exist`);
  }

  const created = new Created();
  try {
    created.dir(dataDir);
    const targets = [
      { from: files.identity, to: join(dataDir, IDENTITY_FILE), entry: manifest.identity },
      { from: files.clinical, to: join(dataDir, CLINICAL_FILE), entry: manifest.clinical },
      ...(withAudit ? [{ from: files.audit!, to: join(dataDir, AUDIT_FILE), entry: manifest.audit! }] : []),
    ];
    for (const t of targets) {
      const tmp = `${t.to}.partial`;
      created.file(tmp);
      // The backup files are closed, verified, rollback-journal databases: a byte copy is
      // exact here (unlike a copy of live stores, which backup never makes).
      copyFileSync(t.from, tmp, constants.COPYFILE_EXCL);
      chmodSync(tmp, 0o600);
      fsyncPath(tmp);
      // hashed again as written: catches a backup file changed since it was verified
      if (hashFile(tmp).sha256 !== t.entry.sha256) throw new BackupError(`${t.from} changed while it was being restored`);
      created.file(t.to);
      renameSync(tmp, t.to);
    }
    let keyWritten = false;
    if (!keyExists) {
      // wx, not a rename: a key file that appeared meanwhile is never replaced
      writeFileSync(opts.keyFile, key.toString("hex") + "\n", { mode: 0o600, flag: "wx" });
      created.file(opts.keyFile);
      fsyncPath(opts.keyFile);
      fsyncPath(dirname(resolve(opts.keyFile)));
      keyWritten = true;
    }
    fsyncPath(dataDir);
    created.keep();
    return { manifest, keyWritten, auditRestored: withAudit };
  } catch (err) {
    created.undo();
    throw err;
  }
}

/**
 * A backup never holds the audit key (like the link key without --with-key): the trail is
 * restored only with the key it was written with, or the restored server could neither verify
 * nor continue it (it refuses to start with another key).
 */
function checkAuditKey(keyFile: string | null, keyCheck: string): Buffer {
  if (keyFile === null || !existsSync(keyFile)) {
    throw new BackupError(
      `restoring the audit trail needs the key it was written with: ${keyFile === null ? "pass --audit-key-file FILE" : `audit key file ${keyFile} does not exist`} ` +
        "(or --without-audit to restore without it; the restored server then starts a new trail with an audit.restart event)",
    );
  }
  const key = loadAuditKey(keyFile);
  refuseOtherKey(keyCheck, key, keyFile); // the server's own check at start (audit/open.ts)
  return key;
}

/**
 * The whole chain, with its key, before the copy goes into place: the manifest's count and
 * head only show the file is the one the backup wrote, and nothing signs the manifest. A trail
 * changed since (or before) would otherwise be continued by the restored server as if whole.
 */
function verifyTrail(path: string, key: Buffer): void {
  const db = new Database(path, { readonly: true, strict: true });
  try {
    const r = verifyChain(key, auditRows(db));
    if (!r.ok) throw new BackupError(`the audit trail of this backup does not verify: event ${r.brokenSeq}: ${r.reason}`);
  } finally {
    db.close(true);
  }
}
