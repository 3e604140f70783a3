// Keys and the audit trail across processes: the server's first start creates an admin key
// (path on stderr, never the key), `privata keys` creates and revokes keys while the server
// runs (a revoked key fails on its next request), `privata audit verify` checks the chain and
// names the first broken event.
import { afterAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { readFileSync, statSync, existsSync } from "node:fs";
import { join } from "node:path";
import { removeDir, tempDir } from "./helpers.ts";
import { killAll, runSync, startProcess } from "./process.ts";

const MAIN = join(import.meta.dir, "..", "src", "main.ts");
const dirs: string[] = [];
afterAll(async () => {
  await killAll();
  dirs.forEach(removeDir);
});
const cli = (...args: string[]) => runSync([process.execPath, MAIN, ...args], { env: { PRIVATA_NO_AUTH: "0" } });

describe("keys and audit across processes", () => {
  test("first start writes admin.key (0600, path only on stderr); keys made and revoked by the CLI work at once; audit verify", async () => {
    const dir = tempDir();
    dirs.push(dir);
    const s = await startProcess([process.execPath, MAIN, "--port", "0", "--data-dir", dir], { env: { PRIVATA_NO_AUTH: "0" } });
    const adminKey = readFileSync(join(dir, "admin.key"), "utf8").trim();
    expect(statSync(join(dir, "admin.key")).mode & 0o777).toBe(0o600);
    expect(s.stderr()).toContain(join(dir, "admin.key"));
    expect(s.stderr()).not.toContain(adminKey);
    const get = (key: string | null, path = "/api/users") => fetch(s.url + path, { headers: key ? { authorization: `Bearer ${key}` } : {} });
    expect((await get(null)).status).toBe(401);
    expect((await get(adminKey)).status).toBe(200);

    const made = cli("keys", "create", "--name", "dr-who", "--role", "clinician", "--data-dir", dir);
    expect(made.exitCode).toBe(0);
    const key = made.stdout.trim();
    expect(key).toMatch(/^prv_/);
    expect((await get(key)).status).toBe(200);
    expect((await get(key, "/api/keys")).status).toBe(403);
    expect(cli("keys", "create", "--name", "dr-who", "--role", "admin", "--data-dir", dir).exitCode).toBe(1);
    expect(cli("keys", "create", "--name", "x", "--role", "root", "--data-dir", dir).exitCode).toBe(2);
    expect(cli("keys", "revoke", "dr-who", "--data-dir", dir).exitCode).toBe(0);
    expect((await get(key)).status).toBe(401); // the very next request
    expect(cli("keys", "list", "--data-dir", dir).stdout).toMatch(/dr-who\tclinician\tcreated .*\trevoked /);

    expect(await s.stop()).toBe(0); // a clean stop writes every queued event
    const ok = cli("audit", "verify", "--data-dir", dir);
    expect(ok.exitCode).toBe(0);
    expect(ok.stdout).toMatch(/ok, \d+ events/);
    // the CLI's key changes are in the same chain, interleaved with the server's own events
    const byCli = new Database(join(dir, "audit.db"), { readonly: true })
      .query<{ action: string; fields: string }, []>("SELECT action, fields FROM events WHERE principal = 'cli' ORDER BY seq").all();
    expect(byCli).toEqual([
      { action: "key.create", fields: '["name:dr-who","role:clinician"]' },
      { action: "key.revoke", fields: '["name:dr-who"]' },
    ]);
    // one changed byte in one event: the verifier names that event
    const db = new Database(join(dir, "audit.db"));
    db.run("DROP TRIGGER events_no_update");
    const victim = db.query<{ seq: number }, []>("SELECT seq FROM events WHERE action = 'auth.fail' ORDER BY seq LIMIT 1").get()!.seq;
    db.run("UPDATE events SET outcome = 'ok' WHERE seq = ?", [victim]);
    db.close();
    const bad = cli("audit", "verify", "--data-dir", dir);
    expect(bad.exitCode).toBe(1);
    expect(bad.stdout).toContain(`BROKEN at event ${victim}`);
    // verifying changes nothing: the dropped trigger stays dropped (evidence kept as found)
    const triggers = () => new Database(join(dir, "audit.db"), { readonly: true }).query("SELECT name FROM sqlite_schema WHERE type = 'trigger'").all();
    expect(triggers()).toEqual([{ name: "events_no_delete" }]);
    // another key is named as such, not reported as a broken chain
    const other = join(dir, "other.key");
    await Bun.write(other, "ab".repeat(32) + "\n");
    const wrong = cli("audit", "verify", "--data-dir", dir, "--audit-key-file", other);
    expect(wrong.exitCode).toBe(1);
    expect(wrong.stderr).toContain("does not match");
  });

  test("PRIVATA_ADMIN_KEY supplies the first admin key (no file written); --no-auth is refused off loopback", async () => {
    const dir = tempDir();
    dirs.push(dir);
    const supplied = "operator-chosen-admin-key-0123456789abcdef";
    const s = await startProcess([process.execPath, MAIN, "--port", "0", "--data-dir", dir], { env: { PRIVATA_ADMIN_KEY: supplied, PRIVATA_NO_AUTH: "0" } });
    expect(existsSync(join(dir, "admin.key"))).toBe(false);
    expect((await fetch(`${s.url}/api/users`, { headers: { authorization: `Bearer ${supplied}` } })).status).toBe(200);
    expect(s.stderr()).not.toContain(supplied);
    expect(await s.stop()).toBe(0);
    const refused = runSync([process.execPath, MAIN, "--host", "0.0.0.0", "--port", "0", "--no-auth", "--data-dir", dir]);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain("loopback");
  });
});
