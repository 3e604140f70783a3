import { join, resolve } from "node:path";
import { backup } from "../backup/backup.ts";
import { KEY_FILE } from "../backup/manifest.ts";
import { parseOptions, usage, UsageError, type Command, type OptionSpec } from "./args.ts";

const SPEC = {
  to: { type: "string", arg: "DIR", help: "backup dir (new or empty): both stores and the manifest" },
  "identity-to": { type: "string", arg: "DIR", help: "put identity.db (and a manifest) here instead" },
  "clinical-to": { type: "string", arg: "DIR", help: "put clinical.db (and a manifest) here instead" },
  "with-key": { type: "boolean", help: "also copy the link key into the --to dir (mode 0600)" },
  "audit-to": { type: "string", arg: "DIR", help: "also copy the audit trail (audit.db) here: a dir apart from both stores" },
  "data-dir": { type: "string", arg: "DIR", env: "PRIVATA_DATA_DIR", help: "the data dir to back up (default ./data)" },
  "key-file": { type: "string", arg: "FILE", env: "PRIVATA_LINK_KEY_FILE", help: "link key, read only with --with-key (default <data-dir>/link.key)" },
} satisfies Record<string, OptionSpec>;

const ABOUT = `A consistent copy of both stores, taken while the server runs (or not): the two
snapshots are of one instant, the copies pass PRAGMA integrity_check, and a manifest
(time, record counts, SHA-256 and size of each file, the key check value) is written last.
The audit trail (audit.db) is copied only with --audit-to, into a dir of its own: its events
give record pseudonyms times, so beside identity.db they would show whose record was read
when, and trails written before session 7 name records by their clinical pseudonyms, which
would link the stores. Its key is never copied. The link key is not copied unless
--with-key is given: keep it apart from the data.`;

export const backupCommand: Command = {
  name: "backup",
  summary: "consistent online copy of both stores, with a manifest",
  run(argv, env) {
    const v = parseOptions(SPEC, argv, env);
    if (!v) {
      process.stdout.write(usage("privata backup --to DIR [--identity-to DIR] [--clinical-to DIR] [--audit-to DIR] [--with-key] [--data-dir DIR]", ABOUT, SPEC));
      return 0;
    }
    const to = typeof v.to === "string" ? resolve(v.to) : null;
    const identityTo = typeof v["identity-to"] === "string" ? resolve(v["identity-to"]) : to;
    const clinicalTo = typeof v["clinical-to"] === "string" ? resolve(v["clinical-to"]) : to;
    if (!identityTo || !clinicalTo) throw new UsageError("missing --to DIR (or both --identity-to and --clinical-to)");
    // the key goes only where the operator named a backup dir, never beside a store by default
    if (v["with-key"] && !to) throw new UsageError("--with-key needs --to DIR (the key is written there)");
    const dataDir = resolve(typeof v["data-dir"] === "string" ? v["data-dir"] : "./data");
    const keyFile = resolve(typeof v["key-file"] === "string" ? v["key-file"] : join(dataDir, "link.key"));

    const auditTo = typeof v["audit-to"] === "string" ? resolve(v["audit-to"]) : null;
    const r = backup({ dataDir, keyFile, identityTo, clinicalTo, keyTo: v["with-key"] ? to : null, alsoManifestTo: to ? [to] : [], auditTo });
    const m = r.manifest;
    const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);
    console.log(
      `privata backup: wrote ${r.dirs.join(", ")} (snapshot at ${m.snapshotAt}; records: identity ${sum(m.identity.records)}, ` +
        `clinical ${sum(m.clinical.records)}, de-identified ${sum(m.clinical.deidentified)}; ` +
        `write locks held ${r.window.heldMs.toFixed(1)} ms, copy ${Math.round(r.copyMs)} ms; ` +
        `audit trail: ${m.audit ? `${m.audit.events} event(s)` : "none"})`,
    );
    if (m.key) console.error(`privata backup: the link key is in ${join(to!, KEY_FILE)}: with it this backup unlocks every record; store it apart`);
    else console.error("privata backup: the link key was not copied; restoring needs it (--key-file), so back it up separately");
    if (!m.audit) console.error("privata backup: the audit trail was not copied (--audit-to DIR, a dir apart from both stores)");
    return 0;
  },
};
