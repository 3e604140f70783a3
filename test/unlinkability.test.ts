// Guarantee 2 (DESIGN §1.2, §6): a clinical row carries only a pseudonym; mapping id <-> pseudonym
// needs the link key, which lives outside both database files; the server refuses to start on
// existing stores with a wrong or missing key.
import { describe, test, expect, afterAll } from "bun:test";
import { Database } from "bun:sqlite";
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { basename, join, resolve } from "node:path";
import { Stores } from "../src/db/stores.ts";
import { Pseudonymizer } from "../src/crypto/pseudonym.ts";
import { MODELS } from "../src/models/registry.ts";
import { makeApp, removeDir, tempDir, userBody } from "./helpers.ts";

const DB_FILES = ["identity.db", "identity.db-wal", "identity.db-shm", "clinical.db", "clinical.db-wal", "clinical.db-shm"];
const dirs: string[] = [];
afterAll(() => dirs.forEach(removeDir));

function filesContaining(dir: string, files: string[], needle: string | Uint8Array): string[] {
  return files.filter((f) => existsSync(join(dir, f)) && readFileSync(join(dir, f)).indexOf(needle) !== -1);
}

function readKey(keyFile: string): Buffer {
  const text = readFileSync(keyFile, "utf8").trim();
  expect(text).toMatch(/^[0-9a-f]{64}$/i);
  return Buffer.from(text, "hex");
}

/** A data dir with three records, closed cleanly. Returns the ids and the key file. */
async function seeded(): Promise<{ dataDir: string; keyFile: string; ids: string[] }> {
  const t = makeApp();
  dirs.push(t.dataDir);
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) {
    const res = await t.req("POST", "/api/users", userBody());
    expect(res.status).toBe(201);
    ids.push(((await res.json()) as { id: string }).id);
  }
  t.close();
  return { dataDir: t.dataDir, keyFile: t.keyFile, ids };
}

function storedPseudonyms(dataDir: string): Uint8Array[] {
  const db = new Database(join(dataDir, "clinical.db"), { readonly: true });
  try {
    return db.query<{ pseudonym: Uint8Array }, []>("SELECT pseudonym FROM users").all().map((r) => r.pseudonym);
  } finally {
    db.close();
  }
}

const open = (dataDir: string, keyFile: string) => Stores.open({ dataDir, keyFile, durability: "normal", models: MODELS });
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

describe("the audit trail does not join the stores (guarantee 2)", () => {
  test("audit.db names records by pseudonyms of its own: never an id, never a clinical pseudonym", async () => {
    const t = makeApp();
    dirs.push(t.dataDir);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(((await (await t.req("POST", "/api/users", userBody())).json()) as { id: string }).id);
    for (const id of ids) {
      expect((await t.req("GET", `/api/users/${id}`)).status).toBe(200);
      expect((await t.req("PATCH", `/api/users/${id}`, { diagnosis: "Changed" })).status).toBe(200);
    }
    t.audit.log.flush();
    const trail = [...t.audit.store.all()];
    const named = new Set(trail.map((e) => e.pseudonym).filter((p) => p !== null));
    // every record is followed through the trail by one stable pseudonym of its own
    expect(named).toEqual(new Set(ids.map((id) => t.stores.auditPseudonymHex(id)!)));
    const files = ["audit.db", "audit.db-wal"];
    for (const clinical of storedPseudonyms(t.dataDir)) {
      // neither as hex (how events hold pseudonyms) nor as bytes, in the file or its WAL
      for (const needle of [hex(clinical), clinical]) expect(filesContaining(t.dataDir, files, needle)).toEqual([]);
      expect(named.has(hex(clinical))).toBe(false);
    }
    for (const id of ids) expect(filesContaining(t.dataDir, files, id)).toEqual([]);
    await t.close();
  });
});

describe("the link key (guarantee 2)", () => {
  test("lives in its own file, mode 0600, and appears in neither database file", async () => {
    const { dataDir, keyFile } = await seeded();
    expect(resolve(keyFile)).not.toBe(resolve(dataDir, "identity.db"));
    expect(resolve(keyFile)).not.toBe(resolve(dataDir, "clinical.db"));
    expect(DB_FILES).not.toContain(basename(keyFile));
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const key = readKey(keyFile);
    expect(key.length).toBe(32);
    const keyHex = key.toString("hex");
    for (const needle of [key, keyHex, keyHex.toUpperCase()]) expect(filesContaining(dataDir, DB_FILES, needle)).toEqual([]);
    // also while the stores are open (WAL and SHM present)
    const t = makeApp({ dataDir, keyFile });
    await t.req("POST", "/api/users", userBody());
    expect(existsSync(join(dataDir, "identity.db-wal"))).toBe(true);
    for (const needle of [key, keyHex]) expect(filesContaining(dataDir, DB_FILES, needle)).toEqual([]);
    t.close();
  });

  test("a clinical row is keyed by a keyed pseudonym, not the id; another key gives another pseudonym", async () => {
    const { dataDir, keyFile, ids } = await seeded();
    const key = readKey(keyFile);
    const mine = new Pseudonymizer(key);
    const other = new Pseudonymizer(randomBytes(32));
    const stored = storedPseudonyms(dataDir).map(hex).sort();
    expect(stored.length).toBe(ids.length);
    const expected = ids.map((id) => hex(mine.pseudonym(id))).sort();
    expect(stored).toEqual(expected);
    for (const id of ids) {
      const p = mine.pseudonym(id);
      expect(p.length).toBe(16);
      expect(hex(p)).not.toBe(id.replaceAll("-", ""));
      expect(mine.recordId(p)).toBe(id);
      const q = other.pseudonym(id);
      expect(hex(q)).not.toBe(hex(p));
      expect(stored).not.toContain(hex(q));
      expect(other.recordId(p)).not.toBe(id); // the wrong key does not map back
      // the pseudonym never reaches identity.db: it would link the two files
      expect(filesContaining(dataDir, ["identity.db", "identity.db-wal"], p)).toEqual([]);
      expect(filesContaining(dataDir, ["identity.db", "identity.db-wal"], hex(p))).toEqual([]);
    }
  });

  test("restart with the right key works and the records are there", async () => {
    const { dataDir, keyFile, ids } = await seeded();
    const t = makeApp({ dataDir, keyFile });
    try {
      for (const id of ids) {
        const res = await t.req("GET", `/api/users/${id}`);
        expect(res.status).toBe(200);
        const rec = (await res.json()) as Record<string, unknown>;
        expect(rec.id).toBe(id);
        expect(String(rec.diagnosis)).toStartWith("Diagnosis");
        expect(String(rec.firstName)).toStartWith("Firstname");
      }
    } finally {
      t.close();
    }
  });

  test("a wrong key is refused, and the key file is left as it was", async () => {
    const { dataDir, keyFile, ids } = await seeded();
    const right = readFileSync(keyFile, "utf8");
    const wrong = randomBytes(32).toString("hex") + "\n";
    writeFileSync(keyFile, wrong, { mode: 0o600 });
    expect(() => open(dataDir, keyFile)).toThrow(/key/i);
    expect(readFileSync(keyFile, "utf8")).toBe(wrong);
    // the refusal changed nothing: the right key still opens the same records
    writeFileSync(keyFile, right, { mode: 0o600 });
    const t = makeApp({ dataDir, keyFile });
    try {
      expect(t.stores.reconciled).toBe(0);
      expect((await t.req("GET", `/api/users/${ids[0]}`)).status).toBe(200);
    } finally {
      t.close();
    }
  });

  test("a missing key on existing stores is refused and no new key file is created", async () => {
    const { dataDir, keyFile } = await seeded();
    rmSync(keyFile);
    expect(() => open(dataDir, keyFile)).toThrow(/key/i);
    expect(existsSync(keyFile)).toBe(false);
    // the same with a --key-file pointing somewhere else
    const elsewhere = join(tempDir("privata-key-"), "link.key");
    dirs.push(resolve(elsewhere, ".."));
    expect(() => open(dataDir, elsewhere)).toThrow(/key/i);
    expect(existsSync(elsewhere)).toBe(false);
  });

  test("a fresh data dir creates a 0600 key (also at a --key-file path outside the data dir)", () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const keyFile = join(dataDir, "link.key");
    expect(existsSync(keyFile)).toBe(false);
    open(dataDir, keyFile).close();
    expect(readKey(keyFile).length).toBe(32);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);

    const other = tempDir();
    const keyDir = tempDir("privata-keydir-");
    dirs.push(other, keyDir);
    const outside = join(keyDir, "nested", "privata.key");
    open(other, outside).close();
    expect(statSync(outside).mode & 0o777).toBe(0o600);
    expect(existsSync(join(other, "link.key"))).toBe(false);
    expect(readKey(outside).equals(readKey(keyFile))).toBe(false); // each fresh store gets its own key
  });

  test("the real server process refuses a wrong key: non-zero exit, one line on stderr", async () => {
    const { dataDir, keyFile } = await seeded();
    writeFileSync(keyFile, randomBytes(32).toString("hex") + "\n", { mode: 0o600 });
    const proc = Bun.spawn([process.execPath, "src/main.ts", "--data-dir", dataDir, "--port", "0"], {
      cwd: resolve(import.meta.dir, ".."),
      stdout: "pipe",
      stderr: "pipe",
      env: { ...process.env, PRIVATA_LINK_KEY_FILE: "" },
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), 20_000)));
    const outcome = await Promise.race([proc.exited, timedOut]);
    clearTimeout(timer);
    if (outcome === "timeout") proc.kill(9);
    expect(outcome).not.toBe("timeout");
    expect(proc.exitCode).not.toBe(0);
    const stderr = (await new Response(proc.stderr).text()).trim();
    expect(stderr.split("\n").length).toBe(1);
    expect(stderr).toMatch(/key/i);
    expect(stderr).not.toMatch(/\bat .*\.ts:\d+/); // no stack trace
  }, 30_000);
});
