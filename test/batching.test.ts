// Group commit through the real app: concurrent writes share transactions, each request
// still gets exactly its own outcome, and the in-memory counters match the files.
import { afterAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { join } from "node:path";
import { makeApp, removeDir, userBody, type TestApp } from "./helpers.ts";
import { Pseudonymizer } from "../src/crypto/pseudonym.ts";

const apps: TestApp[] = [];
afterAll(() => apps.forEach((t) => (t.close(), removeDir(t.dataDir))));
function fresh(): TestApp {
  const t = makeApp();
  apps.push(t);
  return t;
}
type Rec = Record<string, any>;

/** Rows per store, counted by a separate connection on the files themselves. */
function countFiles(dataDir: string) {
  const q = (file: string, sql: string) => {
    const db = new Database(join(dataDir, file), { readonly: true });
    try {
      return (db.query(sql).get() as { n: number }).n;
    } finally {
      db.close();
    }
  };
  return {
    identity: q("identity.db", "SELECT count(*) AS n FROM users"),
    clinical: q("clinical.db", "SELECT count(*) AS n FROM users"),
    deidentified: q("clinical.db", "SELECT count(*) AS n FROM users WHERE deidentified = 1"),
  };
}

describe("group commit through the API", () => {
  test("200 concurrent creates: all 201 with distinct ids, in far fewer transactions than requests", async () => {
    const t = fresh();
    const before = t.stores.commits.batches;
    const res = await Promise.all(Array.from({ length: 200 }, () => t.req("POST", "/api/users", userBody())));
    expect(res.map((r) => r.status)).toEqual(Array(200).fill(201));
    const ids = new Set(await Promise.all(res.map(async (r) => ((await r.json()) as Rec).id)));
    expect(ids.size).toBe(200);
    expect(t.stores.commits.batches - before).toBeLessThan(20);
    for (const id of ids) expect((await t.req("GET", `/api/users/${id}`)).status).toBe(200);
    expect(countFiles(t.dataDir)).toMatchObject({ identity: 200, clinical: 200 });
  });

  test("concurrent updates of one record apply in arrival order; each answer shows its own state", async () => {
    const t = fresh();
    const rec = (await (await t.req("POST", "/api/users", userBody())).json()) as Rec;
    const res = await Promise.all(
      ["A", "B", "C", "D"].map((d, i) => t.req("PATCH", `/api/users/${rec.id}`, i % 2 ? { diagnosis: d } : { diagnosis: d, lastName: `L${d}` })),
    );
    const bodies = (await Promise.all(res.map((r) => r.json()))) as Rec[];
    expect(bodies.map((b) => [b.diagnosis, b.lastName])).toEqual([["A", "LA"], ["B", "LA"], ["C", "LC"], ["D", "LC"]]);
    t.cache.clear();
    const now = (await (await t.req("GET", `/api/users/${rec.id}`)).json()) as Rec;
    expect([now.diagnosis, now.lastName]).toEqual(["D", "LC"]);
  });

  test("a failing write fails alone: its batch neighbours are stored", async () => {
    const t = fresh();
    const broken = (await (await t.req("POST", "/api/users", userBody())).json()) as Rec;
    // remove the clinical half behind the server's back: updating this record must fail
    const key = Buffer.from(await Bun.file(t.keyFile).text().then((s) => s.trim()), "hex");
    t.stores.clinical.table("users").delete(new Pseudonymizer(key).pseudonym(broken.id));
    const res = await Promise.all([
      t.req("POST", "/api/users", userBody({ lastName: "Before" })),
      t.req("PATCH", `/api/users/${broken.id}`, { diagnosis: "X" }),
      t.req("POST", "/api/users", userBody({ lastName: "After" })),
    ]);
    expect(res.map((r) => r.status)).toEqual([201, 503, 201]);
    expect(((await res[1]!.json()) as Rec).error.code).toBe("record_incomplete");
    t.cache.clear();
    for (const [i, name] of [[0, "Before"], [2, "After"]] as const) {
      const id = ((await res[i]!.json()) as Rec).id;
      expect(((await (await t.req("GET", `/api/users/${id}`)).json()) as Rec).lastName).toBe(name);
    }
  });

  test("/stats counts are kept in memory and equal the rows in the files after every kind of write", async () => {
    const t = fresh();
    const ids = await Promise.all(
      Array.from({ length: 12 }, async () => ((await (await t.req("POST", "/api/users", userBody())).json()) as Rec).id as string),
    );
    await Promise.all(ids.slice(0, 4).map((id) => t.req("PUT", `/api/users/${id}`, { diagnosis: "Y" })));
    expect((await t.req("DELETE", `/api/users/${ids[4]}`)).status).toBe(204);
    expect((await t.req("DELETE", `/api/users/${ids[5]}?gdprCompliant=true`)).status).toBe(204);
    expect((await t.req("DELETE", `/api/users/${ids[5]}`)).status).toBe(404);
    const stats = (await (await t.req("GET", "/stats")).json()) as Rec;
    expect(stats.database).toEqual(countFiles(t.dataDir));
    expect(stats.database).toEqual({ identity: 10, clinical: 11, deidentified: 1 });
  });
});
