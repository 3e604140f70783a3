import { Database } from "bun:sqlite";
import { join, resolve } from "node:path";
import { KeyStore } from "../db/keys.ts";
import { generateKey, hashKey, KEYS_SETTLE_MS, ROLES, validKeyName, type Role } from "../auth/keys.ts";
import { IDENTITY_FILE } from "../db/stores.ts";
import { parseOptions, usage, UsageError, type Command, type OptionSpec } from "./args.ts";
import { appendFromCli } from "../audit/open.ts";

const SPEC = {
  name: { type: "string", arg: "NAME", help: "the principal (create)" },
  role: { type: "string", arg: "ROLE", help: `one of ${ROLES.join(", ")} (create)` },
  "data-dir": { type: "string", arg: "DIR", env: "PRIVATA_DATA_DIR", help: "the data dir (default ./data)" },
  "audit-key-file": { type: "string", arg: "FILE", env: "PRIVATA_AUDIT_KEY_FILE", help: "audit key (default <data-dir>/audit.key)" },
} satisfies Record<string, OptionSpec>;

const SYNOPSIS = "privata keys create --name NAME --role ROLE | keys list | keys revoke NAME  [--data-dir DIR]";
const ABOUT = `API keys, one per named principal with one role. A new key is printed once, on
stdout, and stored only as a hash. Works while the server runs: once revoke has returned,
the key fails on every request. Names are never reused.`;

/** identity.db, opened beside a running server (WAL: both may write; short waits only). */
function openKeys(dataDir: string): { db: Database; keys: KeyStore } {
  const db = new Database(join(dataDir, IDENTITY_FILE), { readwrite: true, create: false, strict: true });
  db.run("PRAGMA busy_timeout = 2000");
  return { db, keys: new KeyStore(db) };
}

export const keysCommand: Command = {
  name: "keys",
  summary: "create, list or revoke API keys",
  run(argv, env) {
    const [action = "", ...rest] = argv;
    const positional = action === "revoke" && rest[0] !== undefined && !rest[0].startsWith("-") ? rest.shift() : undefined;
    const v = parseOptions(SPEC, action.startsWith("-") ? argv : rest, env);
    if (!v || action === "--help") {
      process.stdout.write(usage(SYNOPSIS, ABOUT, SPEC));
      return 0;
    }
    const dataDir = resolve(typeof v["data-dir"] === "string" ? v["data-dir"] : "./data");
    if (!["create", "list", "revoke"].includes(action)) throw new UsageError(`unknown action "${action}" (create, list, revoke)`);
    let opened: ReturnType<typeof openKeys>;
    try {
      opened = openKeys(dataDir);
    } catch {
      throw new Error(`no identity.db in ${dataDir} (start the server once to create the stores)`);
    }
    const { db, keys } = opened;
    try {
      const now = new Date().toISOString();
      if (action === "list") {
        for (const k of keys.list()) console.log(`${k.name}\t${k.role}\tcreated ${k.createdAt}${k.revokedAt ? `\trevoked ${k.revokedAt}` : ""}`);
        return 0;
      }
      const auditKey = resolve(typeof v["audit-key-file"] === "string" ? v["audit-key-file"] : join(dataDir, "audit.key"));
      // Key changes are audited like those made over HTTP (principal "cli").
      const audit = (what: "key.create" | "key.revoke", fields: string[]) =>
        appendFromCli(dataDir, auditKey, { time: Date.parse(now), principal: "cli", role: null, action: what, collection: null, pseudonym: null, fields, outcome: "ok", requestId: null });
      if (action === "revoke") {
        if (!positional) throw new UsageError("keys revoke needs the key's NAME");
        if (!keys.revoke(positional, now)) throw new Error(`no live key named ${positional}`);
        audit("key.revoke", [`name:${positional}`]); // revoked either way: the safe direction
        Bun.sleepSync(KEYS_SETTLE_MS); // a running server has seen it by the time we say so
        console.error(`privata keys: revoked ${positional}`);
        return 0;
      }
      const name = typeof v.name === "string" ? v.name : "";
      const role = typeof v.role === "string" ? v.role : "";
      if (!validKeyName(name)) throw new UsageError("--name: lowercase letters, digits, . _ - (1-63 characters), not no-auth");
      if (!(ROLES as readonly string[]).includes(role)) throw new UsageError(`--role: one of ${ROLES.join(", ")}`);
      const key = generateKey();
      if (!keys.create(name, role as Role, hashKey(key), now)) throw new Error(`a key named ${name} exists or existed; names are never reused`);
      try {
        audit("key.create", [`name:${name}`, `role:${role}`]);
      } catch (err) {
        keys.revoke(name, now); // a key whose creation is not in the trail must not work
        throw new Error(`the key was not created: its audit event could not be written (${(err as Error).message})`);
      }
      console.log(key); // the only time it is shown
      console.error(`privata keys: created ${name} (${role}); the key above is shown once`);
      return 0;
    } finally {
      db.close(true);
    }
  },
};
