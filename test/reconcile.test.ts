// Write order and recovery (DESIGN §5): create writes the clinical half first, so the only
// leftover of a crash is a clinical half without identity; startup after an unclean stop
// removes such orphans and keeps de-identified halves (gdprCompliant erasures).
import { describe, test, expect, afterAll } from "bun:test";
import { Database } from "bun:sqlite";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Pseudonymizer } from "../src/crypto/pseudonym.ts";
import type { Fields } from "../src/models/schema.ts";
import { makeApp, removeDir, userBody } from "./helpers.ts";

const dirs: string[] = [];
afterAll(() => dirs.forEach(removeDir));

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

function withDb<T>(path: string, fn: (db: Database) => T): T {
  const db = new Database(path, { strict: true });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

type ClinicalRow = { pseudonym: Uint8Array; deidentified: number; diagnosis: string | null };
const clinicalRows = (dataDir: string) =>
  withDb(join(dataDir, "clinical.db"), (db) => db.query<ClinicalRow, []>("SELECT pseudonym, deidentified, diagnosis FROM users").all());

const setClean = (dataDir: string, value: "0" | "1") =>
  withDb(join(dataDir, "identity.db"), (db) => {
    expect(db.query<{ value: string }, []>("SELECT value FROM meta WHERE key = 'clean_shutdown'").get()?.value).toBe("1");
    db.run("UPDATE meta SET value = ? WHERE key = 'clean_shutdown'", [value]);
  });

/** Three live records and one gdprCompliant-erased record, closed cleanly. */
async function seeded() {
  const t = makeApp();
  dirs.push(t.dataDir);
  const live: Record<string, unknown>[] = [];
  for (let i = 0; i < 3; i++) {
    const res = await t.req("POST", "/api/users", userBody());
    expect(res.status).toBe(201);
    live.push((await res.json()) as Record<string, unknown>);
  }
  const erasedBody = userBody();
  const res = await t.req("POST", "/api/users", erasedBody);
  const erasedId = ((await res.json()) as { id: string }).id;
  expect((await t.req("DELETE", `/api/users/${erasedId}?gdprCompliant=true`)).status).toBe(204);
  expect(t.stores.counts()).toEqual({ identity: 3, clinical: 4, deidentified: 1 });
  t.close();
  const key = Buffer.from(readFileSync(t.keyFile, "utf8").trim(), "hex");
  return { dataDir: t.dataDir, keyFile: t.keyFile, live, deidentifiedDiagnosis: erasedBody.diagnosis as string, pz: new Pseudonymizer(key) };
}

describe("startup reconciliation", () => {
  test("after a clean close with no orphan, nothing is reconciled", async () => {
    const { dataDir, keyFile } = await seeded();
    const t = makeApp({ dataDir, keyFile });
    try {
      expect(t.stores.reconciled).toBe(0);
      const stats = (await (await t.req("GET", "/stats")).json()) as { reconciledAtStartup: number; database: unknown };
      expect(stats.reconciledAtStartup).toBe(0);
      expect(stats.database).toEqual({ identity: 3, clinical: 4, deidentified: 1 });
    } finally {
      t.close();
    }
  });

  test("an unclean stop with no orphan reconciles nothing and keeps everything", async () => {
    const { dataDir, keyFile } = await seeded();
    setClean(dataDir, "0");
    const t = makeApp({ dataDir, keyFile });
    try {
      expect(t.stores.reconciled).toBe(0);
      expect(t.stores.counts()).toEqual({ identity: 3, clinical: 4, deidentified: 1 });
    } finally {
      t.close();
    }
  });

  test("an orphaned clinical half is removed after an unclean stop; records and de-identified halves stay", async () => {
    const { dataDir, keyFile, live, deidentifiedDiagnosis, pz } = await seeded();
    // The leftover of a crash between the clinical and the identity commit of a create.
    const orphanId = Bun.randomUUIDv7();
    const orphanP = pz.pseudonym(orphanId);
    const orphanDiagnosis = `OrphanDiagnosis${hex(orphanP).slice(0, 12)}`;
    withDb(join(dataDir, "clinical.db"), (db) =>
      db.run("INSERT INTO users (pseudonym, diagnosis, medications) VALUES (?, ?, ?)", [
        orphanP,
        orphanDiagnosis,
        JSON.stringify(["OrphanMedication"]),
      ]),
    );
    setClean(dataDir, "0");
    expect(clinicalRows(dataDir).length).toBe(5);

    const t = makeApp({ dataDir, keyFile });
    try {
      expect(t.stores.reconciled).toBe(1);
      const stats = (await (await t.req("GET", "/stats")).json()) as { reconciledAtStartup: number; database: unknown };
      expect(stats.reconciledAtStartup).toBe(1);
      expect(stats.database).toEqual({ identity: 3, clinical: 4, deidentified: 1 });
      // the orphan is gone, from the table and from the index behind filters
      expect(clinicalRows(dataDir).map((r) => hex(r.pseudonym))).not.toContain(hex(orphanP));
      expect(await (await t.req("GET", `/api/users?diagnosis=${orphanDiagnosis}`)).json()).toEqual([]);
      expect((await t.req("GET", `/api/users/${orphanId}`)).status).toBe(404);
      // the real records are intact, whole, through the API
      for (const rec of live) {
        const res = await t.req("GET", `/api/users/${rec.id}`);
        expect(res.status).toBe(200);
        expect(await res.json()).toEqual(rec);
      }
      const list = (await (await t.req("GET", "/api/users")).json()) as { id: string }[];
      expect(list.map((r) => r.id)).toEqual(live.map((r) => r.id as string));
      // the de-identified half (gdprCompliant erasure before the stop) is kept
      const kept = clinicalRows(dataDir).filter((r) => r.deidentified === 1);
      expect(kept.map((r) => r.diagnosis)).toEqual([deidentifiedDiagnosis]);
      // linked halves all map back to live records
      const linked = clinicalRows(dataDir).filter((r) => r.deidentified === 0).map((r) => pz.recordId(r.pseudonym));
      expect(linked.sort()).toEqual(live.map((r) => r.id as string).sort());
    } finally {
      t.close();
    }
    // the next clean start reconciles nothing more and keeps the same state
    const u = makeApp({ dataDir, keyFile });
    try {
      expect(u.stores.reconciled).toBe(0);
      expect(u.stores.counts()).toEqual({ identity: 3, clinical: 4, deidentified: 1 });
    } finally {
      u.close();
    }
  });

  test("stores still open (no clean close yet) are marked not cleanly shut down", async () => {
    const t = makeApp();
    dirs.push(t.dataDir);
    try {
      expect((await t.req("POST", "/api/users", userBody())).status).toBe(201);
      const flag = withDb(join(t.dataDir, "identity.db"), (db) =>
        db.query<{ value: string }, []>("SELECT value FROM meta WHERE key = 'clean_shutdown'").get()?.value,
      );
      expect(flag).toBe("0");
    } finally {
      t.close();
    }
    const flag = withDb(join(t.dataDir, "identity.db"), (db) =>
      db.query<{ value: string }, []>("SELECT value FROM meta WHERE key = 'clean_shutdown'").get()?.value,
    );
    expect(flag).toBe("1");
  });
});

describe("reconciliation merge", () => {
  test("orphans before, between and after the live ids, across chunk boundaries, are all removed and only they", async () => {
    const t = makeApp();
    dirs.push(t.dataDir);
    const users = t.stores.model("users");
    const before = Bun.randomUUIDv7();
    const live: string[] = [];
    for (let i = 0; i < 30; i++) live.push(users.create(userBody() as Fields).id);
    const key = Buffer.from(readFileSync(t.keyFile, "utf8").trim(), "hex");
    const pz = new Pseudonymizer(key);
    // ids that sort before, among and after the live ones, with clinical halves only
    const orphanIds = ["00000000-0000-7000-8000-000000000000", before, live[10]!.slice(0, -1) + "0", "ffffffff-ffff-7fff-bfff-ffffffffffff"]
      .filter((id) => !live.includes(id));
    const clinical = t.stores.clinical.table("users");
    for (const id of orphanIds) clinical.insert(pz.pseudonym(id), { diagnosis: "Orphan", medications: [] });
    expect(users.reconcile(7)).toBe(orphanIds.length); // chunks of 7: the merge crosses chunk ends
    expect(users.counts()).toEqual({ identity: 30, clinical: 30, deidentified: 0 });
    for (const id of live) expect(users.get(id)?.id).toBe(id);
    expect(users.reconcile(7)).toBe(0);
    t.close();
  });
});
