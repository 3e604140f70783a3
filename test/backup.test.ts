// privata backup / restore on real files: a store open in this process (it holds the data dir
// lock, like a running server) is backed up by the CLI as a separate process, restored, and
// reopened. Every refusal is checked to change nothing, in the backup and in the target.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { backup } from "../src/backup/backup.ts";
import { hashFile } from "../src/backup/files.ts";
import { metaValue } from "../src/backup/store-info.ts";
import { verifyChain } from "../src/audit/chain.ts";
import { filesContaining, makeApp, removeDir, tempDir, userBody, type TestApp } from "./helpers.ts";
import { runSync } from "./process.ts";

const MAIN = join(import.meta.dir, "..", "src", "main.ts");
const dirs: string[] = [];
const dir = () => {
  const d = tempDir("privata-backup-");
  dirs.push(d);
  return d;
};
const cli = (...args: string[]) => runSync([process.execPath, MAIN, ...args]);

/**
 * Every file of a dir with its SHA-256, or "absent": to prove a refusal changed nothing. Not
 * a -shm file: that is the WAL index in shared memory, which every reader updates.
 */
function state(d: string): string {
  if (!existsSync(d)) return "absent";
  const files = readdirSync(d).filter((f) => !f.endsWith("-shm")).sort();
  return JSON.stringify(files.map((f) => [f, statSync(join(d, f)).isFile() ? hashFile(join(d, f)).sha256 : "dir"]));
}

const mode = (p: string) => statSync(p).mode & 0o777;
const auditKey = () => join(app.dataDir, "audit.key");
const withKeys = () => ["--key-file", app.keyFile];
/** One byte of a file changed, as damage on the backup medium would. */
const flipByte = (p: string) => {
  const b = readFileSync(p);
  b[Math.floor(b.length / 2)]! ^= 0x01;
  writeFileSync(p, b);
};
let app: TestApp;
let expected: Record<string, unknown>[] = [];
const gone: string[] = [];
let bk: string; // one good backup of `app`, made by the first test

beforeAll(async () => {
  app = makeApp();
  dirs.push(app.dataDir);
  const ids: string[] = [];
  for (let i = 0; i < 40; i++) ids.push(((await (await app.req("POST", "/api/users", userBody())).json()) as { id: string }).id);
  for (const id of ids.slice(0, 10)) expect((await app.req("PATCH", `/api/users/${id}`, { diagnosis: `Changed ${id}`, lastName: "Changed" })).status).toBe(200);
  for (const [i, id] of ids.slice(30).entries()) {
    expect((await app.req("DELETE", `/api/users/${id}${i % 2 ? "?gdprCompliant=true" : ""}`)).status).toBe(204);
    gone.push(id);
  }
  expected = await Promise.all(ids.slice(0, 30).map(async (id) => (await (await app.req("GET", `/api/users/${id}`)).json()) as Record<string, unknown>));
});

afterAll(() => {
  app?.close();
  dirs.forEach(removeDir);
});

describe("privata backup", () => {
  test("a running store: manifest, checksums, integrity, modes, no key, data dir untouched", () => {
    bk = join(dir(), "bk");
    const before = readdirSync(app.dataDir).sort();
    const r = cli("backup", "--data-dir", app.dataDir, "--to", bk);
    expect(r.stderr).not.toContain("error");
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^privata backup: wrote .*identity 30, clinical 35, de-identified 5; write locks held [\d.]+ ms/);
    expect(readdirSync(bk).sort()).toEqual(["clinical.db", "identity.db", "manifest.json"]);
    expect(readdirSync(app.dataDir).sort()).toEqual(before);
    expect(mode(bk)).toBe(0o700);
    for (const f of readdirSync(bk)) expect(mode(join(bk, f))).toBe(0o600);

    const text = readFileSync(join(bk, "manifest.json"), "utf8");
    const m = JSON.parse(text);
    expect(m).toMatchObject({ format: "privata-backup", version: 2, key: null, audit: null }); // the trail only with --audit-to
    expect(r.stderr).toContain("the audit trail was not copied (--audit-to DIR");
    expect(m.identity).toEqual({ file: "identity.db", ...hashFile(join(bk, "identity.db")), records: { users: 30 } });
    expect(m.clinical).toEqual({ file: "clinical.db", ...hashFile(join(bk, "clinical.db")), records: { users: 35 }, deidentified: { users: 5 } });
    expect(Math.abs(Date.parse(m.snapshotAt) - Date.now())).toBeLessThan(60_000);
    expect(m.keyCheck).toBe(metaValue(app.stores.identity.db, "key_check"));
    expect(m.pairId).toBe(metaValue(app.stores.clinical.db, "pair_id"));
    expect(text).not.toContain(readFileSync(app.keyFile, "utf8").trim()); // the check value, never the key

    for (const f of ["identity.db", "clinical.db"]) {
      const db = new Database(join(bk, f), { readonly: true });
      expect(db.query("PRAGMA integrity_check").all()).toEqual([{ integrity_check: "ok" }]);
      db.close();
    }
    // a standalone file: reading it created no -wal/-shm beside it
    expect(readdirSync(bk).length).toBe(3);
    // the copies keep the separation: no clinical value in identity.db, no identity value in clinical.db
    const rec = expected[15]!; // not updated (an update's diagnosis names the id)
    expect(filesContaining(bk, String(rec.diagnosis))).toEqual(["clinical.db"]);
    expect(filesContaining(bk, String(rec.email))).toEqual(["identity.db"]);
    expect(filesContaining(bk, String(rec.id))).toEqual(["identity.db"]);
  });

  test("restore: every record back, deleted ones absent, the existing key checked and not copied", async () => {
    const target = join(dir(), "new");
    const r = cli("restore", "--from", bk, "--data-dir", target, ...withKeys());
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain(`restored 30 record(s)`);
    expect(r.stdout).toContain(`link key checked: ${app.keyFile}`);
    expect(r.stdout).toContain("the backup holds no audit trail");
    expect(readdirSync(target).sort()).toEqual(["clinical.db", "identity.db"]);
    for (const f of readdirSync(target)) expect(mode(join(target, f))).toBe(0o600);
    const t = makeApp({ dataDir: target, keyFile: app.keyFile });
    try {
      for (const rec of expected) expect(await (await t.req("GET", `/api/users/${rec.id}`)).json()).toEqual(rec);
      for (const id of gone) expect((await t.req("GET", `/api/users/${id}`)).status).toBe(404);
      expect(t.stores.counts()).toEqual({ identity: 30, clinical: 35, deidentified: 5 });
      expect((await t.req("POST", "/api/users", userBody())).status).toBe(201);
    } finally {
      t.close();
    }
  });

  test("--with-key: the key is copied (0600) and a restore writes it into the new data dir", async () => {
    const to = join(dir(), "bk");
    expect(cli("backup", "--data-dir", app.dataDir, "--to", to, "--with-key").exitCode).toBe(0);
    expect(readFileSync(join(to, "link.key"), "utf8")).toBe(readFileSync(app.keyFile, "utf8"));
    expect(mode(join(to, "link.key"))).toBe(0o600);
    expect(JSON.parse(readFileSync(join(to, "manifest.json"), "utf8")).key).toEqual({ file: "link.key", ...hashFile(join(to, "link.key")) });
    const target = join(dir(), "new");
    const r = cli("restore", "--from", to, "--data-dir", target);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain(`link key written to ${join(target, "link.key")}`);
    expect(mode(join(target, "link.key"))).toBe(0o600);
    const t = makeApp({ dataDir: target });
    expect(t.stores.counts().identity).toBe(30);
    t.close();
  });

  test("--identity-to / --clinical-to: the stores apart, each with the manifest, the key in neither", () => {
    const [a, b] = [join(dir(), "id"), join(dir(), "cl")];
    expect(cli("backup", "--data-dir", app.dataDir, "--identity-to", a, "--clinical-to", b, "--with-key").exitCode).toBe(2);
    expect(existsSync(a) || existsSync(b)).toBe(false);
    expect(cli("backup", "--data-dir", app.dataDir, "--identity-to", a, "--clinical-to", b).exitCode).toBe(0);
    expect(readdirSync(a).sort()).toEqual(["identity.db", "manifest.json"]);
    expect(readdirSync(b).sort()).toEqual(["clinical.db", "manifest.json"]);
    expect(readFileSync(join(a, "manifest.json"), "utf8")).toBe(readFileSync(join(b, "manifest.json"), "utf8"));
    const target = join(dir(), "new");
    expect(cli("restore", "--identity-from", a, "--clinical-from", b, "--data-dir", target, ...withKeys()).exitCode).toBe(0);
    expect(readdirSync(target).sort()).toEqual(["clinical.db", "identity.db"]);
  });

  test("--audit-to: the trail in a dir of its own, never beside a store; restored with --audit-from and its key, the chain goes on", async () => {
    const [to, au] = [join(dir(), "bk"), join(dir(), "audit")];
    for (const same of [to, join(dir(), "x")]) {
      // beside a store (the --to dir, or a store's own dir) it is refused, and nothing is written
      const args = same === to ? ["--to", to, "--audit-to", to] : ["--identity-to", same, "--clinical-to", to, "--audit-to", same];
      const r = cli("backup", "--data-dir", app.dataDir, ...args);
      expect([r.exitCode, r.stderr.includes("give it a dir of its own")]).toEqual([1, true]);
      expect(existsSync(same) && readdirSync(same).length > 0).toBe(false);
    }
    app.audit.log.flush(); // the last batching window too (the CLI blocks this process)
    expect(cli("backup", "--data-dir", app.dataDir, "--to", to, "--audit-to", au).exitCode).toBe(0);
    expect(readdirSync(to).sort()).toEqual(["clinical.db", "identity.db", "manifest.json"]);
    expect(readdirSync(au).sort()).toEqual(["audit.db", "manifest.json"]);
    expect(mode(join(au, "audit.db"))).toBe(0o600);
    const m = JSON.parse(readFileSync(join(au, "manifest.json"), "utf8"));
    expect(readFileSync(join(to, "manifest.json"), "utf8")).toBe(readFileSync(join(au, "manifest.json"), "utf8"));
    const trail = [...app.audit.store.all()];
    expect(m.audit).toEqual({
      file: "audit.db", ...hashFile(join(au, "audit.db")), events: trail.length,
      head: Buffer.from(trail.at(-1)!.mac).toString("hex"), keyCheck: app.audit.store.meta.get("key_check"),
    });
    expect(readFileSync(join(au, "manifest.json"), "utf8")).not.toContain(readFileSync(auditKey(), "utf8").trim()); // never the key
    // no record id or value in the trail's copy: pseudonyms and field names only
    for (const rec of expected.slice(0, 5)) for (const v of [rec.id, rec.email, rec.diagnosis]) expect(filesContaining(au, String(v))).toEqual([]);

    // without --audit-from the restore says what it needs; --without-audit leaves the trail out
    const refused = join(dir(), "new");
    let r = cli("restore", "--from", to, "--data-dir", refused, ...withKeys());
    expect([r.exitCode, r.stderr.includes("pass --audit-from DIR and --audit-key-file FILE")]).toEqual([1, true]);
    expect(state(refused)).toBe("absent");
    r = cli("restore", "--from", to, "--audit-from", au, "--data-dir", refused, ...withKeys());
    expect([r.exitCode, r.stderr.includes("pass --audit-key-file FILE")]).toEqual([1, true]);
    expect(state(refused)).toBe("absent");
    const wrongKey = join(dir(), "other-audit.key");
    writeFileSync(wrongKey, "cd".repeat(32) + "\n", { mode: 0o600 });
    r = cli("restore", "--from", to, "--audit-from", au, "--data-dir", refused, ...withKeys(), "--audit-key-file", wrongKey);
    expect([r.exitCode, r.stderr.includes("does not match audit.db (key check value differs)")]).toEqual([1, true]);
    expect(state(refused)).toBe("absent");

    const target = join(dir(), "new");
    r = cli("restore", "--from", to, "--audit-from", au, "--data-dir", target, ...withKeys(), "--audit-key-file", auditKey());
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain(`with its audit trail (${trail.length} event(s))`);
    expect(readdirSync(target).sort()).toEqual(["audit.db", "clinical.db", "identity.db"]);
    // the operator puts the audit key where the server reads it (here the default, <data-dir>/audit.key)
    cpSync(auditKey(), join(target, "audit.key"));
    const t = makeApp({ dataDir: target, keyFile: app.keyFile });
    try {
      // the same chain goes on: no audit.restart, every event verifies, the backup's events first
      await t.req("GET", `/api/users/${expected[0]!.id}`);
      t.audit.log.flush();
      const after = [...t.audit.store.all()];
      expect(after.length).toBe(trail.length + 1);
      expect(after.some((e) => e.action === "audit.restart")).toBe(false);
      const key = Buffer.from(readFileSync(auditKey(), "utf8").trim(), "hex");
      expect(verifyChain(key, after)).toMatchObject({ ok: true, events: trail.length + 1 });
    } finally {
      t.close();
    }

    // a trail edited with its manifest made to match (nothing signs the manifest): the chain itself refuses it
    const [to2, au2] = [join(dir(), "bk"), join(dir(), "audit")];
    cpSync(to, to2, { recursive: true });
    cpSync(au, au2, { recursive: true });
    const edit = new Database(join(au2, "audit.db"));
    edit.run("DROP TRIGGER events_no_update");
    edit.run("UPDATE events SET principal = 'someone-else' WHERE seq = 3");
    edit.close();
    const mm = JSON.parse(readFileSync(join(au2, "manifest.json"), "utf8"));
    Object.assign(mm.audit, hashFile(join(au2, "audit.db")));
    for (const d of [to2, au2]) writeFileSync(join(d, "manifest.json"), JSON.stringify(mm, null, 2) + "\n");
    const forged = join(dir(), "new");
    r = cli("restore", "--from", to2, "--audit-from", au2, "--data-dir", forged, ...withKeys(), "--audit-key-file", auditKey());
    expect([r.exitCode, r.stderr.includes("does not verify: event 3")]).toEqual([1, true]);
    expect(state(forged)).toBe("absent");

    // a damaged trail blocks its own restore, never the records' (--without-audit)
    flipByte(join(au, "audit.db"));
    const damaged = join(dir(), "new");
    r = cli("restore", "--from", to, "--audit-from", au, "--data-dir", damaged, ...withKeys(), "--audit-key-file", auditKey());
    expect([r.exitCode, r.stderr.includes("does not match its SHA-256")]).toEqual([1, true]);
    r = cli("restore", "--from", to, "--data-dir", damaged, ...withKeys(), "--without-audit");
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain("without its audit trail (--without-audit)");
    expect(readdirSync(damaged).sort()).toEqual(["clinical.db", "identity.db"]); // the server starts a new trail (audit.restart)
  });

  test("no server running: the data dir is only read (every byte as before)", async () => {
    const t = makeApp();
    dirs.push(t.dataDir);
    await t.req("POST", "/api/users", userBody());
    t.close();
    const [before, files] = [state(t.dataDir), readdirSync(t.dataDir).sort()];
    const to = join(dir(), "bk");
    backup({ dataDir: t.dataDir, keyFile: t.keyFile, identityTo: to, clinicalTo: to, keyTo: null });
    expect(state(t.dataDir)).toBe(before);
    expect(readdirSync(t.dataDir).sort()).toEqual(files); // no -wal or -shm left behind either
    expect(JSON.parse(readFileSync(join(to, "manifest.json"), "utf8")).identity.records).toEqual({ users: 1 });
  });

  test("waits for a group commit in progress: both snapshots are after it, never between its two commits", async () => {
    // A writer shaped like the server's group commit: both write locks, clinical commits, then
    // (still holding identity's lock) identity commits 300 ms later.
    const script = `
      import { Database } from "bun:sqlite";
      const [c, i] = ["clinical.db", "identity.db"].map((f) => new Database(process.env.DIR + "/" + f));
      c.run("BEGIN IMMEDIATE"); i.run("BEGIN IMMEDIATE");
      c.run("INSERT INTO meta VALUES ('probe', 'c')"); i.run("INSERT INTO meta VALUES ('probe', 'i')");
      c.run("COMMIT"); console.log("between"); Bun.sleepSync(300); i.run("COMMIT");`;
    const writer = Bun.spawn([process.execPath, "-e", script], { stdout: "pipe", env: { ...process.env, DIR: app.dataDir } });
    const reader = writer.stdout.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toContain("between");
    const to = join(dir(), "bk");
    const t0 = performance.now();
    const r = backup({ dataDir: app.dataDir, keyFile: app.keyFile, identityTo: to, clinicalTo: to, keyTo: null });
    expect(performance.now() - t0).toBeGreaterThan(150);
    expect(r.window.attempts).toBeGreaterThan(1);
    expect(r.window.heldMs).toBeLessThan(50);
    await writer.exited;
    for (const f of ["clinical.db", "identity.db"]) {
      const db = new Database(join(to, f), { readonly: true });
      expect(metaValue(db, "probe")).toBe(f.slice(0, 1));
      db.close();
    }
    for (const db of [app.stores.clinical.db, app.stores.identity.db]) db.run("DELETE FROM meta WHERE key = 'probe'");
  });

  test("refusals change nothing: target in the data dir, non-empty target, wrong key, no stores, no parent", () => {
    const full = dir();
    writeFileSync(join(full, "x"), "keep");
    const otherKey = join(dir(), "other.key");
    writeFileSync(otherKey, "ab".repeat(32) + "\n", { mode: 0o600 });
    const empty = dir();
    const cases: [string[], string, string][] = [
      [["--to", join(app.dataDir, "bk")], join(app.dataDir, "bk"), "inside the data dir"],
      [["--to", full], full, "is not empty"],
      [["--to", join(full, "..", "k"), "--with-key", "--key-file", otherKey], join(full, "..", "k"), "does not match these stores"],
      [["--to", join(full, "..", "n"), "--data-dir", empty], join(full, "..", "n"), "no store"],
      [["--to", join(full, "no", "such", "bk")], join(full, "no"), "does not exist"],
    ];
    for (const [args, target, message] of cases) {
      const before = [state(target), state(app.dataDir)];
      const r = cli("backup", "--data-dir", app.dataDir, ...args);
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toContain(message);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect([state(target), state(app.dataDir)]).toEqual(before);
    }
  });
});

describe("privata restore refuses before it writes anything", () => {
  /** A fresh copy of the good backup, changed by `spoil`. */
  function spoiled(spoil: (d: string) => void): string {
    const d = join(dir(), "bk");
    cpSync(bk, d, { recursive: true });
    spoil(d);
    return d;
  }
  const editManifest = (d: string, edit: (m: any) => void) => {
    const m = JSON.parse(readFileSync(join(d, "manifest.json"), "utf8"));
    edit(m);
    writeFileSync(join(d, "manifest.json"), JSON.stringify(m, null, 2) + "\n");
  };
  const otherKey = () => {
    const p = join(dir(), "other.key");
    writeFileSync(p, "cd".repeat(32) + "\n", { mode: 0o600 });
    return p;
  };

  test.each([
    ["a checksum in the manifest", (d: string) => editManifest(d, (m) => (m.identity.sha256 = "0".repeat(64))), withKeys, "does not match its SHA-256"],
    ["one changed byte in a store", (d: string) => flipByte(join(d, "clinical.db")), withKeys, "does not match its SHA-256"],
    ["a size in the manifest", (d: string) => editManifest(d, (m) => (m.clinical.bytes += 1)), withKeys, "bytes, the manifest says"],
    ["a missing store", (d: string) => rmSync(join(d, "identity.db")), withKeys, "is missing"],
    ["a missing manifest", (d: string) => rmSync(join(d, "manifest.json")), withKeys, "no readable manifest.json"],
    ["a manifest of another format", (d: string) => editManifest(d, (m) => (m.version = 3)), withKeys, "not a privata backup manifest"],
    ["a record count in the manifest", (d: string) => editManifest(d, (m) => (m.identity.records.users = 29)), withKeys, "record counts"],
    ["a mismatched key", () => {}, () => ["--key-file", otherKey()], "does not match this backup"],
    // no --key-file: the default <target>/link.key does not exist, and this backup has no key
    ["no key anywhere", () => {}, () => [], "the backup holds no key"],
  ] as [string, (d: string) => void, () => string[], string][])("%s", (_name, spoil, keyArgs, message) => {
    const from = spoiled(spoil);
    const target = join(dir(), "new");
    const before = state(from);
    const r = cli("restore", "--from", from, "--data-dir", target, ...keyArgs());
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(message);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(state(target)).toBe("absent");
    expect(state(from)).toBe(before);
  });

  test("a non-empty target, a missing target parent, split parts of different backups", () => {
    const full = dir();
    writeFileSync(join(full, "x"), "keep");
    const before = state(full);
    let r = cli("restore", "--from", bk, "--data-dir", full, ...withKeys());
    expect([r.exitCode, r.stderr.includes("is not empty")]).toEqual([1, true]);
    expect(state(full)).toBe(before);
    r = cli("restore", "--from", bk, "--data-dir", join(full, "no", "new"), ...withKeys());
    expect([r.exitCode, r.stderr.includes("does not exist")]).toEqual([1, true]);
    expect(state(join(full, "no"))).toBe("absent");
    // identity.db of one backup, clinical.db of another (taken later, another manifest)
    const later = join(dir(), "later");
    expect(cli("backup", "--data-dir", app.dataDir, "--to", later).exitCode).toBe(0);
    const target = join(dir(), "new");
    r = cli("restore", "--identity-from", bk, "--clinical-from", later, "--data-dir", target, ...withKeys());
    expect([r.exitCode, r.stderr.includes("not parts of the same backup")]).toEqual([1, true]);
    expect(state(target)).toBe("absent");
  });

  test("an empty target dir is used and stays empty on failure", () => {
    const target = dir();
    const from = spoiled((d) => flipByte(join(d, "identity.db")));
    expect(cli("restore", "--from", from, "--data-dir", target, ...withKeys()).exitCode).toBe(1);
    expect(readdirSync(target)).toEqual([]);
    expect(cli("restore", "--from", bk, "--data-dir", target, ...withKeys()).exitCode).toBe(0);
    expect(readdirSync(target).sort()).toEqual(["clinical.db", "identity.db"]);
  });

  test("a backup of the first format (version 1, no audit trail) restores as before, without an audit key", () => {
    const from = spoiled((d) =>
      editManifest(d, (m) => {
        m.version = 1;
        delete m.audit;
      }),
    );
    const target = join(dir(), "new");
    const r = cli("restore", "--from", from, "--data-dir", target, "--key-file", app.keyFile);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain("the backup holds no audit trail");
    expect(readdirSync(target).sort()).toEqual(["clinical.db", "identity.db"]);
  });
});

describe("the command line", () => {
  test("--help lists the commands; an unknown command or a bad flag is one line and exit 2", () => {
    const help = cli("--help");
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toContain("Usage: privata [options]");
    expect(help.stdout).toMatch(/backup +consistent online copy/);
    expect(help.stdout).toMatch(/restore +verify a backup/);
    for (const cmd of ["backup", "restore"]) {
      const r = cli(cmd, "--help");
      expect([r.exitCode, r.stdout.startsWith(`Usage: privata ${cmd}`)]).toEqual([0, true]);
    }
    for (const [args, message] of [
      [["bogus"], 'privata: unknown command "bogus"'],
      [["backup"], "privata backup: missing --to DIR"],
      [["backup", "--to="], "privata backup: --to needs a value"],
      [["backup", "--to", "x", "--nope"], "privata backup: Unknown option '--nope'"],
      [["backup", "--to", "x", "extra"], "privata backup: Unexpected argument 'extra'"],
      [["restore", "--from", "x"], "privata restore: missing --data-dir NEW"],
      [["restore", "--data-dir", "x"], "privata restore: missing --from DIR"],
    ] as [string[], string][]) {
      const r = cli(...args);
      expect(r.exitCode).toBe(2);
      expect(r.stderr.trim().split("\n")).toEqual([expect.stringContaining(message)]);
    }
  });
});
