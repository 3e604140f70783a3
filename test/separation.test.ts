// Guarantee 1 (DESIGN §1.1): identity.db holds no clinical value; clinical.db holds no identity
// value (no name, email, record id, timestamp). Checked on the raw bytes of each file, its -wal
// and -shm, both while the server runs (data still in the WAL) and after a clean close.
import { describe, test, expect, beforeAll, afterAll } from "bun:test";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { makeApp, distinctBody, removeDir, type TestApp } from "./helpers.ts";

const IDENTITY_FILES = ["identity.db", "identity.db-wal", "identity.db-shm"];
const CLINICAL_FILES = ["clinical.db", "clinical.db-wal", "clinical.db-shm"];

/** Names of the given files (those that exist) whose raw bytes contain the needle. */
function filesContaining(dir: string, files: string[], needle: string | Buffer): string[] {
  return files.filter((f) => {
    const p = join(dir, f);
    return existsSync(p) && readFileSync(p).indexOf(needle) !== -1;
  });
}

const distinct = () => distinctBody("sep", 3);

interface Written {
  id: string;
  identity: string[]; // every identity/metadata value ever written for this record
  clinical: string[]; // every clinical value ever written
  timestamps: string[];
  current: { identity: string[]; clinical: string[] }; // values after the last write
}

function split(body: Record<string, unknown>): { identity: string[]; clinical: string[] } {
  const identity = ["firstName", "lastName", "email", "accountType"].map((k) => body[k]).filter((v) => typeof v === "string") as string[];
  const clinical = [...(typeof body.diagnosis === "string" ? [body.diagnosis] : []), ...((body.medications as string[] | undefined) ?? [])];
  return { identity, clinical };
}

describe("separation of identity and clinical stores (guarantee 1)", () => {
  let t: TestApp;
  const written: Written[] = [];

  beforeAll(async () => {
    t = makeApp();
    for (let i = 0; i < 6; i++) {
      const body = distinct();
      const res = await t.req("POST", "/api/users", body);
      expect(res.status).toBe(201);
      const rec = (await res.json()) as Record<string, string>;
      const s = split(body);
      written.push({ id: rec.id!, identity: [...s.identity], clinical: [...s.clinical], timestamps: [rec.createdAt!, rec.updatedAt!], current: s });
    }
    // Update some fields of half the records to new distinctive values (identity and clinical).
    for (const w of written.slice(0, 3)) {
      const fresh = distinct();
      const patch = { lastName: fresh.lastName, email: fresh.email, diagnosis: fresh.diagnosis, medications: fresh.medications };
      const res = await t.req("PUT", `/api/users/${w.id}`, patch);
      expect(res.status).toBe(200);
      const rec = (await res.json()) as Record<string, unknown>;
      const s = split(patch);
      w.identity.push(...s.identity);
      w.clinical.push(...s.clinical);
      w.timestamps.push(rec.updatedAt as string);
      w.current = split(rec);
      expect(rec.diagnosis).toBe(fresh.diagnosis);
      expect(rec.lastName).toBe(fresh.lastName);
    }
  });

  afterAll(() => {
    t.close();
    removeDir(t.dataDir);
  });

  function assertSeparated(): void {
    const dir = t.dataDir;
    for (const w of written) {
      // identity store: no clinical value
      for (const v of w.clinical) expect({ value: v, in: filesContaining(dir, IDENTITY_FILES, v) }).toEqual({ value: v, in: [] });
      // clinical store: no identity value, no record id in any form, no timestamp
      const idForms: (string | Buffer)[] = [w.id, w.id.replaceAll("-", ""), w.id.toUpperCase(), Buffer.from(w.id.replaceAll("-", ""), "hex")];
      for (const v of [...w.identity, ...w.timestamps, ...idForms]) {
        const label = typeof v === "string" ? v : `bytes ${v.toString("hex")}`;
        expect({ value: label, in: filesContaining(dir, CLINICAL_FILES, v) }).toEqual({ value: label, in: [] });
      }
      // The searches are not vacuous: each value is where it belongs.
      for (const v of [...w.current.identity, w.id]) expect({ value: v, n: filesContaining(dir, IDENTITY_FILES, v).length > 0 }).toEqual({ value: v, n: true });
      for (const v of w.current.clinical) expect({ value: v, n: filesContaining(dir, CLINICAL_FILES, v).length > 0 }).toEqual({ value: v, n: true });
    }
  }

  test("while the app is open (writes still in the -wal files)", async () => {
    const wal = join(t.dataDir, "identity.db-wal");
    expect(existsSync(wal)).toBe(true);
    expect(statSync(wal).size).toBeGreaterThan(0);
    expect(statSync(join(t.dataDir, "clinical.db-wal")).size).toBeGreaterThan(0);
    // the written values are in the WAL, so this phase really searches the WAL
    expect(filesContaining(t.dataDir, ["identity.db-wal"], written[0]!.current.identity[0]!)).toEqual(["identity.db-wal"]);
    expect(filesContaining(t.dataDir, ["clinical.db-wal"], written[0]!.current.clinical[0]!)).toEqual(["clinical.db-wal"]);
    assertSeparated();
    // and the API still joins the halves into one record
    const res = await t.req("GET", `/api/users/${written[0]!.id}`);
    expect(res.status).toBe(200);
    const rec = (await res.json()) as Record<string, unknown>;
    expect(split(rec)).toEqual(written[0]!.current);
  });

  test("after a clean close (everything checkpointed into the main files)", () => {
    t.close();
    for (const f of ["identity.db-wal", "clinical.db-wal"]) {
      const p = join(t.dataDir, f);
      expect(existsSync(p) ? statSync(p).size : 0).toBe(0);
    }
    // the values now live in the main files themselves
    expect(filesContaining(t.dataDir, ["identity.db"], written[5]!.current.identity[0]!)).toEqual(["identity.db"]);
    expect(filesContaining(t.dataDir, ["clinical.db"], written[5]!.current.clinical[0]!)).toEqual(["clinical.db"]);
    assertSeparated();
  });

  test("a record's JSON never carries its pseudonym (only id, declared fields, timestamps)", async () => {
    const u = makeApp();
    try {
      const res = await u.req("POST", "/api/users", distinct());
      const rec = (await res.json()) as Record<string, unknown>;
      expect(Object.keys(rec).sort()).toEqual(
        ["id", "firstName", "lastName", "email", "accountType", "diagnosis", "medications", "createdAt", "updatedAt"].sort(),
      );
    } finally {
      u.close();
      removeDir(u.dataDir);
    }
  });
});
