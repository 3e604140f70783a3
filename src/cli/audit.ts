import { Database } from "bun:sqlite";
import { join, resolve } from "node:path";
import { AUDIT_FILE, auditRows } from "../db/audit.ts";
import { verifyChain } from "../audit/chain.ts";
import { loadAuditKey, refuseOtherKey } from "../audit/open.ts";
import { parseOptions, usage, UsageError, type Command, type OptionSpec } from "./args.ts";

const SPEC = {
  "data-dir": { type: "string", arg: "DIR", env: "PRIVATA_DATA_DIR", help: "the data dir (default ./data)" },
  "audit-key-file": { type: "string", arg: "FILE", env: "PRIVATA_AUDIT_KEY_FILE", help: "audit key (default <data-dir>/audit.key)" },
} satisfies Record<string, OptionSpec>;

const ABOUT = `Walks the audit trail's HMAC chain from the first event and names the first event
that does not verify (changed, deleted or moved). Prints the chain's head on success: keep it
somewhere else, since events cut off at the end leave no gap for the chain to show.`;

export const auditCommand: Command = {
  name: "audit",
  summary: "verify the audit trail's hash chain (audit verify)",
  run(argv, env) {
    const [action = "", ...rest] = argv;
    const v = parseOptions(SPEC, rest, env);
    if (!v || action !== "verify") {
      if (v && action !== "verify" && action !== "--help") throw new UsageError(`unknown action "${action}" (verify)`);
      process.stdout.write(usage("privata audit verify [--data-dir DIR] [--audit-key-file FILE]", ABOUT, SPEC));
      return 0;
    }
    const dataDir = resolve(typeof v["data-dir"] === "string" ? v["data-dir"] : "./data");
    const keyFile = resolve(typeof v["audit-key-file"] === "string" ? v["audit-key-file"] : join(dataDir, "audit.key"));
    const key = loadAuditKey(keyFile);
    // Read-only, and no schema statements: verifying must never change the evidence (a file
    // whose triggers were dropped stays as it was found).
    const db = new Database(join(dataDir, AUDIT_FILE), { readonly: true, strict: true });
    try {
      db.run("PRAGMA busy_timeout = 2000");
      const kcv = db.query<{ value: string }, []>("SELECT value FROM meta WHERE key = 'key_check'").get()?.value;
      refuseOtherKey(kcv ?? null, key, keyFile);
      const r = verifyChain(key, auditRows(db));
      if (r.ok) {
        console.log(`privata audit verify: ok, ${r.events} events, last ${r.lastSeq}, head ${r.head}`);
        return 0;
      }
      console.log(`privata audit verify: BROKEN at event ${r.brokenSeq} (${r.events} events verified before it): ${r.reason}`);
      return 1;
    } finally {
      db.close(true);
    }
  },
};
