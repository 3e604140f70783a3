// Store integrity: one server per data dir, stores that belong together, no half record
// served as if whole, an erasure never acknowledged before its values leave the WAL.
import { afterAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { copyFileSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { Stores } from "../src/db/stores.ts";
import { MODELS } from "../src/models/registry.ts";
import { makeApp, removeDir, tempDir, userBody } from "./helpers.ts";

const dirs: string[] = [];
afterAll(() => dirs.forEach(removeDir));
const open = (dataDir: string) => Stores.open({ dataDir, keyFile: join(dataDir, "link.key"), durability: "normal", models: MODELS });

async function withRecord() {
  const t = makeApp();
  dirs.push(t.dataDir);
  const res = await t.req("POST", "/api/users", userBody());
  expect(res.status).toBe(201);
  return { t, id: ((await res.json()) as { id: string }).id };
}

describe("one server per data dir", () => {
  test("a second open of a data dir in use is refused, and works once the first closes", () => {
    const dir = tempDir();
    dirs.push(dir);
    const a = open(dir);
    expect(() => open(dir)).toThrow(/in use/);
    a.close();
    open(dir).close();
  });
});

describe("the data dir", () => {
  test("is created when missing, but not a missing parent path", () => {
    const base = tempDir();
    dirs.push(base);
    open(join(base, "new")).close();
    expect(() => open(join(base, "no", "such", "parent"))).toThrow(/parent/);
  });
});

describe("stores that do not belong together are refused", () => {
  test("a clinical.db from another deployment", () => {
    const [d1, d2] = [tempDir(), tempDir()];
    dirs.push(d1, d2);
    open(d1).close();
    open(d2).close();
    copyFileSync(join(d2, "clinical.db"), join(d1, "clinical.db"));
    expect(() => open(d1)).toThrow(/do not belong together/);
  });

  test("a lost clinical.db", async () => {
    const { t } = await withRecord();
    t.close();
    rmSync(join(t.dataDir, "clinical.db"));
    expect(() => open(t.dataDir)).toThrow(/do not belong together/);
  });

  test("a lost identity.db", async () => {
    const { t } = await withRecord();
    t.close();
    rmSync(join(t.dataDir, "identity.db"));
    expect(() => open(t.dataDir)).toThrow(/key/);
  });
});

describe("a missing clinical half is an error, never defaults", () => {
  test("read, update and list answer 503 record_incomplete and change nothing", async () => {
    const { t, id } = await withRecord();
    const before = await (await t.req("GET", `/api/users/${id}`)).json();
    t.stores.clinical.db.run("DELETE FROM users"); // the stores now disagree
    t.cache.clear();
    for (const [method, body] of [["GET"], ["PATCH", { diagnosis: "Changed" }], ["PUT", { firstName: "Changed" }]] as const) {
      const res = await t.req(method, `/api/users/${id}`, body);
      expect(res.status).toBe(503);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("record_incomplete");
    }
    expect((await t.req("GET", "/api/users")).status).toBe(503);
    const row = t.stores.identity.table("users").get(id);
    expect(row?.fields.firstName).toBe((before as { firstName: string }).firstName);
    t.close();
  });
});

describe("erasure is acknowledged only once the WAL is purged", () => {
  test("a reader holding the WAL makes DELETE answer 503, and a later checkpoint completes it", async () => {
    const { t, id } = await withRecord();
    const reader = new Database(join(t.dataDir, "identity.db"), { readonly: true });
    reader.run("BEGIN");
    reader.query("SELECT count(*) FROM users").get(); // holds a read snapshot on the WAL
    const res = await t.req("DELETE", `/api/users/${id}`);
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("erasure_incomplete");
    expect((await t.req("GET", `/api/users/${id}`)).status).toBe(404);
    reader.run("COMMIT");
    reader.close();
    expect(t.stores.checkpoint()).toBe(true);
    t.close();
  });
});

describe("health sees a store that went away", () => {
  test("/health is 503 once clinical.db is removed under the server", async () => {
    const { t } = await withRecord();
    expect((await t.req("GET", "/health")).status).toBe(200);
    rmSync(join(t.dataDir, "clinical.db"));
    const res = await t.req("GET", "/health");
    expect(res.status).toBe(503);
    expect(((await res.json()) as { status: string }).status).toBe("unavailable");
    t.close();
  });
});

describe("system routes", () => {
  test("unsupported methods get 405 with Allow; /reset stays 404 without --allow-reset", async () => {
    const t = makeApp();
    dirs.push(t.dataDir);
    for (const [method, path, allow] of [["DELETE", "/health", "GET"], ["POST", "/stats", "GET"]] as const) {
      const res = await t.req(method, path);
      expect(res.status).toBe(405);
      expect(res.headers.get("Allow")).toBe(allow);
    }
    expect((await t.req("GET", "/reset")).status).toBe(404);
    t.close();
    const r = makeApp({ allowReset: true });
    dirs.push(r.dataDir);
    const res = await r.req("GET", "/reset");
    expect(res.status).toBe(405);
    expect(res.headers.get("Allow")).toBe("POST");
    r.close();
  });
});

/** Another connection's write lock on one store: that store's step of a write fails. */
function lockStore(dataDir: string, file: "clinical.db" | "identity.db"): () => void {
  const other = new Database(join(dataDir, file));
  other.run("BEGIN IMMEDIATE");
  return () => {
    other.run("ROLLBACK");
    other.close();
  };
}
const lockClinical = (dataDir: string) => lockStore(dataDir, "clinical.db");

describe("a failed second write step", () => {
  test("a delete whose clinical step fails answers 503 and maintenance finishes the erasure", async () => {
    const { t, id } = await withRecord();
    const release = lockClinical(t.dataDir);
    const res = await t.req("DELETE", `/api/users/${id}`);
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("erasure_incomplete");
    expect((await t.req("GET", `/api/users/${id}`)).status).toBe(404);
    expect(t.stores.counts()).toMatchObject({ identity: 0, clinical: 1 });
    release();
    t.stores.maintain();
    expect(t.stores.counts()).toMatchObject({ identity: 0, clinical: 0 });
    t.close();
  });

  test("a pending cleanup is never marked clean: the next start reconciles it", async () => {
    const { t, id } = await withRecord();
    const release = lockClinical(t.dataDir);
    expect((await t.req("DELETE", `/api/users/${id}`)).status).toBe(503);
    release();
    t.close(); // no maintenance ran
    const again = open(t.dataDir);
    expect(again.reconciled).toBe(1);
    expect(again.counts()).toMatchObject({ identity: 0, clinical: 0 });
    again.close();
  });

  test("a create that cannot be written answers 503 store_unavailable and stores nothing", async () => {
    const { t } = await withRecord();
    const release = lockClinical(t.dataDir);
    const res = await t.req("POST", "/api/users", userBody());
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("store_unavailable");
    release();
    expect(t.stores.counts()).toMatchObject({ identity: 1, clinical: 1 });
    t.close();
  });
});

describe("a clean close", () => {
  test("leaves no -wal or -shm file behind", async () => {
    const { t } = await withRecord();
    expect(readdirSync(t.dataDir).some((f) => f.endsWith("-wal"))).toBe(true);
    t.close();
    expect(readdirSync(t.dataDir).filter((f) => f.endsWith("-wal") || f.endsWith("-shm"))).toEqual([]);
  });

  test("/reset with a reader holding the WAL is not acknowledged as done", async () => {
    const t = makeApp({ allowReset: true });
    dirs.push(t.dataDir);
    await t.req("POST", "/api/users", userBody());
    const reader = new Database(join(t.dataDir, "clinical.db"), { readonly: true });
    reader.run("BEGIN");
    reader.query("SELECT count(*) FROM users").get();
    expect((await t.req("POST", "/reset")).status).toBe(503);
    reader.run("COMMIT");
    reader.close();
    expect((await t.req("POST", "/reset")).status).toBe(200);
    t.close();
  });
});

describe("health tells the truth about the stores", () => {
  test("503 while another process holds a store's write lock, 200 again once it lets go", async () => {
    const { t } = await withRecord();
    const release = lockClinical(t.dataDir);
    expect((await t.req("GET", "/health")).status).toBe(503);
    release();
    expect((await t.req("GET", "/health")).status).toBe(200);
    t.close();
  });

  test("503 right after a request failed on a store (a probe cannot see a full disk or a bad page)", async () => {
    const { t } = await withRecord();
    const release = lockClinical(t.dataDir);
    expect((await t.req("POST", "/api/users", userBody())).status).toBe(503);
    release();
    const res = await t.req("GET", "/health");
    expect(res.status).toBe(503);
    expect(((await res.json()) as { status: string }).status).toBe("unavailable");
    t.close();
  });
});

describe("record responses", () => {
  test("are never cached along the way (Cache-Control: no-store) and are application/json", async () => {
    const { t, id } = await withRecord();
    for (const [method, path, body] of [["GET", `/api/users/${id}`], ["GET", "/api/users"], ["PATCH", `/api/users/${id}`, { diagnosis: "X" }], ["POST", "/api/users", userBody()]] as const) {
      const res = await t.req(method, path, body);
      expect(res.status).toBeLessThan(300);
      expect(res.headers.get("cache-control")).toBe("no-store");
      expect(res.headers.get("content-type")).toBe("application/json");
    }
    t.close();
  });
});


describe("a failed write is not left half applied", () => {
  test("an update whose identity step fails answers 503 and leaves the record as it was", async () => {
    const { t, id } = await withRecord();
    const before = await (await t.req("GET", `/api/users/${id}`)).json();
    const release = lockStore(t.dataDir, "identity.db");
    const res = await t.req("PUT", `/api/users/${id}`, { diagnosis: "Changed", firstName: "Changed" });
    expect(res.status).toBe(503);
    release();
    t.cache.clear();
    expect(await (await t.req("GET", `/api/users/${id}`)).json()).toEqual(before);
    expect(((await (await t.req("GET", "/api/users?diagnosis=Changed")).json()) as unknown[]).length).toBe(0);
    t.close();
  });

  test("a gdprCompliant delete whose clinical step fails is de-identified by maintenance, not dropped", async () => {
    const { t, id } = await withRecord();
    const release = lockClinical(t.dataDir);
    expect((await t.req("DELETE", `/api/users/${id}?gdprCompliant=true`)).status).toBe(503);
    release();
    t.stores.maintain();
    expect(t.stores.counts()).toEqual({ identity: 0, clinical: 1, deidentified: 1 });
    t.close();
  });
});
