import { Database } from "bun:sqlite";
import { renameSync } from "node:fs";
import { copyHeldSnapshot, openCopy } from "./copy-store.ts";
import { BackupError, fsyncPath, type Created } from "./files.ts";
import { META_KEY_CHECK, metaValue } from "./store-info.ts";

/** What a manifest says of the audit trail it holds, beside the file's size and SHA-256. */
export interface AuditFacts {
  /** events in the copy */
  events: number;
  /** the last event's MAC (hex): compare it with a head kept elsewhere (`privata audit verify`) */
  head: string | null;
  /** the audit key's check value (the key itself is never in a backup) */
  keyCheck: string;
}

/** The facts of an audit.db (a backup's copy, read-only); throws a BackupError when it is not one. */
export function auditFacts(db: Database, schema = "main"): AuditFacts {
  const keyCheck = metaValue(db, META_KEY_CHECK, schema);
  if (!keyCheck) throw new BackupError("audit.db has no key check value: not a privata audit trail");
  const n = db.query<{ n: number }, []>(`SELECT count(*) AS n FROM ${schema}.events`).get()?.n ?? 0;
  const last = db.query<{ mac: Uint8Array }, []>(`SELECT mac FROM ${schema}.events ORDER BY seq DESC LIMIT 1`).get();
  return { events: n, head: last ? Buffer.from(last.mac).toString("hex") : null, keyCheck };
}

/**
 * A copy of the audit trail at `src`, written to `to` through SQLite like the stores (never a
 * file copy of a live file). Its snapshot is taken after the stores' (backup.ts), so it covers
 * every request the stores' snapshot shows but the last batching window's events, which the
 * writer had not committed yet (log.ts): a restored trail may also hold a few events about
 * writes the restored stores do not have. The trail is a chain of its own, not tied to the
 * store pair, so the two need not be of one instant.
 */
export function copyAudit(src: string, to: string, created: Created): AuditFacts {
  const part = `${to}.partial`;
  created.file(part);
  const out = openCopy(src, part);
  let facts: AuditFacts;
  try {
    out.run("BEGIN"); // the read snapshot of src is fixed by the copy's first read
    const rows = copyHeldSnapshot(out);
    facts = auditFacts(out);
    if (facts.events !== rows.events) throw new BackupError("the copy of audit.db has a different event count than the trail");
  } finally {
    out.close(true);
  }
  fsyncPath(part);
  created.file(to);
  renameSync(part, to);
  return facts;
}
