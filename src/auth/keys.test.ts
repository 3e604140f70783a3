// API keys on a real identity.db: shown once, stored as a hash, a revocation by another
// process (the CLI) fails the key on the very next request.
import { afterAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { openStore } from "../db/sqlite.ts";
import { KeyStore } from "../db/keys.ts";
import { Authenticator, KEYS_RECHECK_MS, KEYS_SETTLE_MS, generateKey, hashKey } from "./keys.ts";
import { removeDir, tempDir } from "../../test/helpers.ts";

const dirs: string[] = [];
afterAll(() => dirs.forEach(removeDir));
const NOW = "2026-11-27T00:00:00.000Z";

function setup() {
  const dir = tempDir("privata-keys-");
  dirs.push(dir);
  const path = join(dir, "identity.db");
  const db = openStore(path, "normal");
  const store = new KeyStore(db);
  return { path, db, store, auth: new Authenticator(store) };
}

describe("API keys", () => {
  test("a created key authenticates its principal; the key itself is never stored", () => {
    const { path, db, store, auth } = setup();
    const key = generateKey();
    expect(key).toMatch(/^prv_[A-Za-z0-9_-]{43}$/);
    expect(store.create("dr-a", "clinician", hashKey(key), NOW)).toBe(true);
    expect(auth.authenticate(`Bearer ${key}`)).toEqual({ name: "dr-a", role: "clinician" });
    db.run("PRAGMA wal_checkpoint(TRUNCATE)");
    expect(readFileSync(path).includes(key)).toBe(false);
    expect(store.list().map((k) => k.name)).toEqual(["dr-a"]);
    db.close(true);
  });

  test("refuses a missing, malformed, unknown or non-Bearer key", () => {
    const { db, store, auth } = setup();
    const key = generateKey();
    store.create("dr-a", "clinician", hashKey(key), NOW);
    for (const h of [undefined, "", "Bearer", `Bearer ${key}x`, `Basic ${key}`, `bearer ${key}`, `Bearer ${generateKey()}`, `Bearer ${key.slice(0, -1)}`, "Bearer short", `Bearer ${key} `]) {
      expect(auth.authenticate(h)).toBeNull();
    }
    db.close(true);
  });

  test("a key revoked by another process fails once that process has waited KEYS_SETTLE_MS", () => {
    const { path, db, store, auth } = setup();
    const key = generateKey();
    store.create("dr-a", "clinician", hashKey(key), NOW);
    expect(auth.authenticate(`Bearer ${key}`)).not.toBeNull();
    const cli = new Database(path, { strict: true }); // the `privata keys revoke` process
    expect(new KeyStore(cli).revoke("dr-a", NOW)).toBe(true);
    cli.close(true);
    Bun.sleepSync(KEYS_SETTLE_MS); // as the CLI does before it reports the revocation
    expect(auth.authenticate(`Bearer ${key}`)).toBeNull();
    db.close(true);
  });

  test("the key table is re-checked at most every KEYS_RECHECK_MS, well within the CLI's wait before it reports", () => {
    const { path, db, store } = setup();
    let t = 0;
    const auth = new Authenticator(store, () => t);
    const key = generateKey();
    store.create("dr-a", "clinician", hashKey(key), NOW);
    expect(auth.authenticate(`Bearer ${key}`)).not.toBeNull();
    const cli = new Database(path, { strict: true });
    new KeyStore(cli).revoke("dr-a", NOW);
    cli.close(true);
    t += KEYS_RECHECK_MS / 2;
    expect(auth.authenticate(`Bearer ${key}`)).not.toBeNull(); // not yet re-checked
    t += KEYS_RECHECK_MS / 2;
    expect(auth.authenticate(`Bearer ${key}`)).toBeNull();
    expect(KEYS_SETTLE_MS).toBeGreaterThanOrEqual(5 * KEYS_RECHECK_MS);
    db.close(true);
  });

  test("a key table that cannot be read fails every request until it can: no answer from the old table meanwhile", () => {
    const { store } = setup();
    const t = 1000;
    const auth = new Authenticator(store, () => t); // the clock stands still: within one KEYS_RECHECK_MS
    const key = generateKey();
    store.create("dr-c", "clinician", hashKey(key), NOW);
    const version = store.version.bind(store);
    store.version = () => {
      throw Object.assign(new Error("disk I/O error"), { name: "SQLiteError" });
    };
    expect(() => auth.authenticate(`Bearer ${key}`)).toThrow("disk I/O error");
    // the same millisecond: tried again, not taken from the table of before the failure
    expect(() => auth.authenticate(`Bearer ${key}`)).toThrow("disk I/O error");
    store.version = version;
    expect(auth.authenticate(`Bearer ${key}`)).toEqual({ name: "dr-c", role: "clinician" });
  });

  test("a key revoked through the server's own connection fails once invalidated", () => {
    const { db, store, auth } = setup();
    const key = generateKey();
    store.create("ops", "admin", hashKey(key), NOW);
    expect(auth.authenticate(`Bearer ${key}`)).not.toBeNull();
    expect(store.revoke("ops", NOW)).toBe(true);
    expect(store.revoke("ops", NOW)).toBe(false);
    auth.invalidate();
    expect(auth.authenticate(`Bearer ${key}`)).toBeNull();
    db.close(true);
  });

  test("a name is never reused, not even after revocation; an unknown role grants nothing", () => {
    const { db, store, auth } = setup();
    store.create("dr-a", "clinician", hashKey(generateKey()), NOW);
    store.revoke("dr-a", NOW);
    expect(store.create("dr-a", "clinician", hashKey(generateKey()), NOW)).toBe(false);
    const odd = generateKey();
    store.create("odd", "superuser", hashKey(odd), NOW);
    expect(auth.authenticate(`Bearer ${odd}`)).toBeNull();
    db.close(true);
  });
});
