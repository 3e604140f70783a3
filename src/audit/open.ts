import { join } from "node:path";
import { KeyError, keyCheckValue, loadKeyFile, sameCheckValue } from "../crypto/link-key.ts";
import { AUDIT_FILE, AuditStore } from "../db/audit.ts";
import { openStore, type Durability } from "../db/sqlite.ts";
import { AuditLog, type Pseudonymize } from "./log.ts";
import type { MetaTable } from "../db/meta.ts";
import { Database } from "bun:sqlite";
import { auditPseudonymKey } from "../crypto/pseudonym.ts";
import type { AuditInput } from "./types.ts";

export const AUDIT_CHECK_LABEL = "privata audit key check v1";

export interface AuditTrail {
  store: AuditStore;
  log: AuditLog;
  /** write what is queued, then close audit.db */
  close: () => Promise<void>;
  /** write on a thread of its own from now on (the server); needs the link key for pseudonyms */
  startThread: (linkKey: Uint8Array) => void;
}

/**
 * audit.db, the third file, with its key. The key is kept outside the file (like the link
 * key) and checked against a check value inside it: a chain verified with another key would
 * report every event as forged, so a wrong or lost key is refused at start.
 */
export function openAuditTrail(dataDir: string, keyFile: string, durability: Durability, stores?: MetaTable, pseudonymize?: Pseudonymize): AuditTrail {
  const store = new AuditStore(openStore(join(dataDir, AUDIT_FILE), durability));
  try {
    const kcv = store.meta.get("key_check");
    const key = loadKeyFile(keyFile, kcv === null && store.last() === null, "audit key", "--audit-key-file");
    const check = keyCheckValue(key, AUDIT_CHECK_LABEL);
    if (kcv === null) store.meta.set("key_check", check);
    else refuseOtherKey(kcv, key, keyFile);
    const log = new AuditLog(store, key, undefined, pseudonymize);
    if (stores) noteRestart(stores, store, log, check);
    return {
      store,
      log,
      // without a thread (tests, the CLI) this is done when it returns, audit.db closed
      close: async () => {
        if (log.threaded) await log.close();
        else log.closeHere();
        store.db.close(true);
      },
      // the thread gets the key of the trail's pseudonyms only, never the link key itself
      startThread: (linkKey) => log.startThread({ path: store.db.filename, auditKey: key, pseudonymKey: auditPseudonymKey(Buffer.from(linkKey)), durability, retryMs: 1000 }),
    };
  } catch (err) {
    store.db.close(true);
    throw err;
  }
}

/** A chain checked or continued under another key would be all forged: refuse it by name. */
export function refuseOtherKey(kcv: string | null, key: Buffer, keyFile: string): void {
  if (kcv === null || !sameCheckValue(kcv, keyCheckValue(key, AUDIT_CHECK_LABEL))) {
    throw new KeyError(`audit key ${keyFile} does not match audit.db (key check value differs)`);
  }
}

/**
 * identity.db remembers that a trail was kept (and under which key): a new, empty audit.db in
 * a data dir that had one (deleted, emptied, or a restore, which does not carry audit.db)
 * starts its chain with an `audit.restart` event saying so, and the server says it on stderr.
 * Whoever wipes the trail cannot make the new one look like the first.
 */
function noteRestart(stores: MetaTable, store: AuditStore, log: AuditLog, check: string): void {
  const known = stores.get("audit_key_check");
  if (store.last() === null && known !== null) {
    console.error("privata: warning: audit.db is new but this data dir kept an audit trail before; the new chain starts with an audit.restart event");
    log.append({ time: Date.now(), principal: null, role: null, action: "audit.restart", collection: null, pseudonym: null, fields: [`previous_key_check:${known}`], outcome: "ok", requestId: null });
    log.flush();
  }
  if (known !== check) stores.set("audit_key_check", check);
}

/**
 * One event appended by another process than the server (`privata keys`), with the chain
 * continued from the file's head (the server re-reads it under the write lock before each
 * batch, so the two never fork the chain). Throws when audit.db or its key is not usable.
 */
export function appendFromCli(dataDir: string, keyFile: string, event: AuditInput): void {
  const db = new Database(join(dataDir, AUDIT_FILE), { readwrite: true, create: false, strict: true });
  try {
    db.run("PRAGMA busy_timeout = 2000");
    const store = new AuditStore(db);
    const key = loadAuditKey(keyFile);
    refuseOtherKey(store.meta.get("key_check"), key, keyFile);
    const log = new AuditLog(store, key);
    log.append(event);
    log.closeHere();
    if (log.backlog > 0) throw new Error("the audit event could not be written");
  } finally {
    db.close(true);
  }
}

/** For `privata audit verify`: the key alone, never created. */
export function loadAuditKey(keyFile: string): Buffer {
  return loadKeyFile(keyFile, false, "audit key", "--audit-key-file");
}
