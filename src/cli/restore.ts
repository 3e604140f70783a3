import { join, resolve } from "node:path";
import { restore } from "../backup/restore.ts";
import { parseOptions, usage, UsageError, type Command, type OptionSpec } from "./args.ts";

const SPEC = {
  from: { type: "string", arg: "DIR", help: "the backup dir (as given to backup --to)" },
  "identity-from": { type: "string", arg: "DIR", help: "where identity.db is, if kept apart" },
  "clinical-from": { type: "string", arg: "DIR", help: "where clinical.db is, if kept apart" },
  "data-dir": { type: "string", arg: "DIR", env: "PRIVATA_DATA_DIR", help: "the new data dir (must not exist or be empty); required" },
  "key-file": { type: "string", arg: "FILE", env: "PRIVATA_LINK_KEY_FILE", help: "link key: checked if it exists, else written from the backup (default <data-dir>/link.key)" },
  "audit-from": { type: "string", arg: "DIR", help: "where backup --audit-to put audit.db: restore the audit trail too" },
  "audit-key-file": { type: "string", arg: "FILE", env: "PRIVATA_AUDIT_KEY_FILE", help: "with --audit-from: the audit key the trail was written with (required; not copied)" },
  "without-audit": { type: "boolean", help: "restore without the backup's audit.db: the server starts a new trail (audit.restart)" },
} satisfies Record<string, OptionSpec>;

const ABOUT = `Restore a backup into a new data dir. Before anything is written it checks the
manifest, the size and SHA-256 of every file, that both stores are of one pair, and that the
link key (an existing --key-file, or the one in the backup) matches the stores. Refuses a
non-empty target; on any failure it leaves nothing behind.`;

export const restoreCommand: Command = {
  name: "restore",
  summary: "verify a backup, then restore it into a new data dir",
  run(argv, env) {
    const v = parseOptions(SPEC, argv, env);
    if (!v) {
      process.stdout.write(usage("privata restore --from DIR --data-dir NEW [--key-file FILE] [--audit-from DIR --audit-key-file FILE | --without-audit]", ABOUT, SPEC));
      return 0;
    }
    const from = typeof v.from === "string" ? resolve(v.from) : null;
    const identityFrom = typeof v["identity-from"] === "string" ? resolve(v["identity-from"]) : from;
    const clinicalFrom = typeof v["clinical-from"] === "string" ? resolve(v["clinical-from"]) : from;
    if (!identityFrom || !clinicalFrom) throw new UsageError("missing --from DIR (or both --identity-from and --clinical-from)");
    // no default: a restore writes, so where it writes is always said explicitly (flag or env)
    if (typeof v["data-dir"] !== "string") throw new UsageError("missing --data-dir NEW (the dir to restore into)");
    const dataDir = resolve(v["data-dir"]);
    const keyFile = resolve(typeof v["key-file"] === "string" ? v["key-file"] : join(dataDir, "link.key"));

    const auditFrom = typeof v["audit-from"] === "string" ? resolve(v["audit-from"]) : null;
    const auditKeyFile = typeof v["audit-key-file"] === "string" ? resolve(v["audit-key-file"]) : null;
    if (v["without-audit"] && auditFrom) throw new UsageError("--without-audit and --audit-from contradict each other");
    const r = restore({ source: { from, identityFrom, clinicalFrom, auditFrom }, dataDir, keyFile, auditKeyFile, withoutAudit: v["without-audit"] === true });
    const n = Object.values(r.manifest.identity.records).reduce((a, b) => a + b, 0);
    console.log(
      `privata restore: restored ${n} record(s) from the snapshot of ${r.manifest.snapshotAt} into ${dataDir}; ` +
        `link key ${r.keyWritten ? "written to" : "checked:"} ${keyFile}`,
    );
    const audit = r.auditRestored
      ? `, with its audit trail (${r.manifest.audit!.events} event(s))`
      : r.manifest.audit
        ? ", without its audit trail (--without-audit): the server starts a new one"
        : " (the backup holds no audit trail: the server starts a new one)";
    if (auditFrom && !r.manifest.audit) console.error("privata restore: --audit-from ignored: this backup holds no audit trail");
    console.log(`privata restore: ${dataDir}${audit}`);
    console.error(`privata restore: start it with: privata --data-dir ${dataDir} --key-file ${keyFile}${r.auditRestored ? ` --audit-key-file ${auditKeyFile}` : ""}`);
    return 0;
  },
};
