// Erasure (DESIGN §1.5, §4): DELETE removes both halves; DELETE ?gdprCompliant=true erases the
// identity half and keeps the clinical half de-identified, re-keyed so that not even the link
// key ties it back. Checked on the raw bytes of every file of the data dir right after the 204
// (the delete route checkpoints before answering), without closing the stores.
import { describe, test, expect, afterAll } from "bun:test";
import { Database } from "bun:sqlite";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Pseudonymizer } from "../src/crypto/pseudonym.ts";
import { makeApp, distinctBody, filesContaining, removeDir, type TestApp } from "./helpers.ts";

const dirs: string[] = [];
afterAll(() => dirs.forEach(removeDir));

const distinct = () => distinctBody("gd");


const identityValues = (b: Record<string, unknown>) => [b.firstName, b.lastName, b.email, b.accountType] as string[];
const clinicalValues = (b: Record<string, unknown>) => [b.diagnosis, ...(b.medications as string[])] as string[];
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

/** An app with three records; the first one is also updated (old values end up in the WAL). */
async function setup(): Promise<{ t: TestApp; id: string; old: Record<string, unknown>[]; keep: Record<string, unknown> }> {
  const t = makeApp();
  dirs.push(t.dataDir);
  const bodies = [distinct(), distinct(), distinct()];
  const ids: string[] = [];
  for (const b of bodies) {
    const res = await t.req("POST", "/api/users", b);
    expect(res.status).toBe(201);
    ids.push(((await res.json()) as { id: string }).id);
  }
  const upd = distinct();
  const res = await t.req("PATCH", `/api/users/${ids[0]}`, upd);
  expect(res.status).toBe(200);
  // cached now, so the cache has to forget it too
  expect((await t.req("GET", `/api/users/${ids[0]}`)).headers.get("X-Cache-Hit")).toBe("true");
  // the values are really on disk before the erasure (the later searches are not vacuous)
  for (const v of [...identityValues(upd), ...identityValues(bodies[0]!)]) expect(filesContaining(t.dataDir, v).length).toBeGreaterThan(0);
  for (const v of clinicalValues(upd)) expect(filesContaining(t.dataDir, v).length).toBeGreaterThan(0);
  return { t, id: ids[0]!, old: [bodies[0]!, upd], keep: bodies[1]! };
}

function pseudonyms(dataDir: string): { pseudonym: Uint8Array; deidentified: number; diagnosis: string }[] {
  const db = new Database(join(dataDir, "clinical.db"), { readonly: true });
  try {
    return db.query<{ pseudonym: Uint8Array; deidentified: number; diagnosis: string }, []>("SELECT pseudonym, deidentified, diagnosis FROM users").all();
  } finally {
    db.close();
  }
}

describe("DELETE ?gdprCompliant=true", () => {
  test("erases the identity half from every file, keeps the clinical half de-identified", async () => {
    const { t, id, old, keep } = await setup();
    const key = Buffer.from(readFileSync(t.keyFile, "utf8").trim(), "hex");
    const oldP = new Pseudonymizer(key).pseudonym(id);
    expect(filesContaining(t.dataDir, oldP, /^clinical/).length).toBeGreaterThan(0);

    const res = await t.req("DELETE", `/api/users/${id}?gdprCompliant=true`);
    expect(res.status).toBe(204);

    // identity values (current and previous) are gone from identity.db, its -wal and -shm —
    // indeed from every file of the data dir — and so is the record id
    for (const v of [...identityValues(old[0]!), ...identityValues(old[1]!), id, id.replaceAll("-", "")]) {
      expect({ value: v, in: filesContaining(t.dataDir, v) }).toEqual({ value: v, in: [] });
    }
    for (const f of ["identity.db", "identity.db-wal", "identity.db-shm"]) {
      if (existsSync(join(t.dataDir, f))) expect(filesContaining(t.dataDir, old[1]!.email as string, new RegExp(`^${f}$`))).toEqual([]);
    }
    // another record is untouched
    for (const v of identityValues(keep)) expect(filesContaining(t.dataDir, v)).toEqual(["identity.db"]);
    // the clinical half is still there, counted as clinical and as de-identified
    expect(filesContaining(t.dataDir, old[1]!.diagnosis as string, /^clinical\.db$/)).toEqual(["clinical.db"]);
    const stats = (await (await t.req("GET", "/stats")).json()) as { database: { identity: number; clinical: number; deidentified: number } };
    expect(stats.database).toEqual({ identity: 2, clinical: 3, deidentified: 1 });
    // the record is gone for clients, including from the cache
    const get = await t.req("GET", `/api/users/${id}`);
    expect(get.status).toBe(404);
    expect(get.headers.get("X-Cache-Hit")).not.toBe("true");
    expect((await t.req("DELETE", `/api/users/${id}?gdprCompliant=true`)).status).toBe(404);
    const byDiagnosis = await t.req("GET", `/api/users?diagnosis=${old[1]!.diagnosis}`);
    expect(await byDiagnosis.json()).toEqual([]);
    // the old pseudonym's bytes are gone from the clinical files (secure_delete + checkpoint)
    expect(filesContaining(t.dataDir, oldP)).toEqual([]);

    t.close();
    // no pseudonym derivable from the old id is stored, and no stored pseudonym decrypts to it
    const rows = pseudonyms(t.dataDir);
    expect(rows.length).toBe(3);
    const kept = rows.filter((r) => r.deidentified === 1);
    expect(kept.map((r) => r.diagnosis)).toEqual([old[1]!.diagnosis as string]);
    const pz = new Pseudonymizer(key);
    for (const r of rows) {
      expect(hex(r.pseudonym)).not.toBe(hex(oldP));
      expect(pz.recordId(r.pseudonym)).not.toBe(id);
    }
    // the linked rows still decrypt to live records, so the check above is a real one
    expect(rows.filter((r) => r.deidentified === 0).map((r) => pz.recordId(r.pseudonym)).length).toBe(2);
  });

  test("the de-identified half survives a restart and stays counted", async () => {
    const { t, id, old } = await setup();
    expect((await t.req("DELETE", `/api/users/${id}?gdprCompliant=true`)).status).toBe(204);
    t.close();
    const u = makeApp({ dataDir: t.dataDir, keyFile: t.keyFile });
    try {
      const stats = (await (await u.req("GET", "/stats")).json()) as { database: Record<string, number> };
      expect(stats.database).toEqual({ identity: 2, clinical: 3, deidentified: 1 });
      expect((await u.req("GET", `/api/users/${id}`)).status).toBe(404);
      expect(filesContaining(u.dataDir, old[1]!.diagnosis as string, /^clinical/).length).toBeGreaterThan(0);
    } finally {
      u.close();
    }
  });
});

describe("plain DELETE", () => {
  test("removes both halves from every file right after the 204, and from the cache", async () => {
    const { t, id, old, keep } = await setup();
    const key = Buffer.from(readFileSync(t.keyFile, "utf8").trim(), "hex");
    const p = new Pseudonymizer(key).pseudonym(id);

    const res = await t.req("DELETE", `/api/users/${id}`);
    expect(res.status).toBe(204);
    // no close: the server's own checkpoint must already have cleaned the WAL and free pages
    for (const b of old) {
      for (const v of [...identityValues(b), ...clinicalValues(b)]) {
        expect({ value: v, in: filesContaining(t.dataDir, v) }).toEqual({ value: v, in: [] });
      }
    }
    for (const v of [id, id.replaceAll("-", ""), p]) {
      const label = typeof v === "string" ? v : hex(v);
      expect({ value: label, in: filesContaining(t.dataDir, v) }).toEqual({ value: label, in: [] });
    }
    // The audit trail keeps its events about the record, by its own pseudonym and without values
    // (the values were checked in every file above, audit.db included); the clinical pseudonym
    // is nowhere, audit.db included, and the trail's is in audit.db only.
    expect(filesContaining(t.dataDir, hex(p))).toEqual([]);
    const trailName = t.stores.auditPseudonymHex(id)!;
    t.audit.log.flush(); // the last window's events too
    expect(filesContaining(t.dataDir, trailName).length).toBeGreaterThan(0);
    expect(filesContaining(t.dataDir, trailName).every((f) => f.startsWith("audit.db"))).toBe(true);
    // other records' values are still on disk (the search works on these files)
    for (const v of identityValues(keep)) expect(filesContaining(t.dataDir, v)).toEqual(["identity.db"]);
    for (const v of clinicalValues(keep)) expect(filesContaining(t.dataDir, v)).toEqual(["clinical.db"]);

    const get = await t.req("GET", `/api/users/${id}`);
    expect(get.status).toBe(404);
    expect(get.headers.get("X-Cache-Hit")).not.toBe("true");
    const stats = (await (await t.req("GET", "/stats")).json()) as { database: Record<string, number> };
    expect(stats.database).toEqual({ identity: 2, clinical: 2, deidentified: 0 });
    expect((await t.req("DELETE", `/api/users/${id}`)).status).toBe(404);
    t.close();
    expect(pseudonyms(t.dataDir).map((r) => hex(r.pseudonym))).not.toContain(hex(p));
  });
});
