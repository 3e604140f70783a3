// Every route x every kind of caller: no key, a malformed key, a revoked key, and each role.
// For each: the status, the exact set of fields returned, and the audit event produced.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { keysPerRole, makeApp, removeDir, type TestApp } from "./helpers.ts";
import { generateKey, hashKey, ROLES } from "../src/auth/keys.ts";
import { verifyChain } from "../src/audit/chain.ts";

const FULL = ["id", "firstName", "lastName", "email", "accountType", "diagnosis", "medications", "createdAt", "updatedAt"];
const REGISTRY = FULL.filter((f) => f !== "diagnosis" && f !== "medications");
const RESEARCH = ["researchId", "diagnosis", "medications"];
const NOW = "2026-11-27T00:00:00.000Z";

type Caller = "none" | "malformed" | "revoked" | (typeof ROLES)[number];
const CALLERS: Caller[] = ["none", "malformed", "revoked", ...ROLES];
let t: TestApp;
const keyOf = new Map<Caller, string>();

beforeAll(() => {
  t = makeApp({ auth: true });
  for (const [caller, k] of keysPerRole(t.stores, NOW)) keyOf.set(caller, k);
  keyOf.set("malformed", "not a key at all");
});
afterAll(() => {
  t.close();
  removeDir(t.dataDir);
});

const seedRecord = () => t.stores.model("users").create({ firstName: "Ada", lastName: "Byron", email: "ada@x.org", diagnosis: "Asthma", medications: ["salbutamol"] }).id;

interface Case {
  name: string;
  method: string;
  path: (id: string) => string;
  body?: (caller: Caller) => unknown;
  action: string;
  /** status per allowed role; every other role gets 403 */
  ok: Partial<Record<(typeof ROLES)[number], number>>;
  /** field set of a 2xx JSON answer (objects: their keys; arrays: their first element's) */
  fields?: (caller: Caller) => string[] | null;
  /** audit event carries the record's pseudonym */
  record?: boolean;
}

const person = (c: Caller) => (c === "registrar" ? { firstName: "New", lastName: "Person", email: "n@x.org" } : { firstName: "New", lastName: "Person", email: "n@x.org", diagnosis: "Flu" });
const patch = (c: Caller) => (c === "registrar" ? { lastName: "Changed" } : { diagnosis: "Changed" });
const recordFields = (c: Caller) => (c === "registrar" ? REGISTRY : FULL);

const CASES: Case[] = [
  { name: "read", method: "GET", path: (id) => `/api/users/${id}`, action: "read", ok: { admin: 200, clinician: 200, registrar: 200 }, fields: recordFields, record: true },
  { name: "list", method: "GET", path: () => "/api/users?limit=5", action: "list", ok: { admin: 200, clinician: 200, registrar: 200 }, fields: recordFields },
  { name: "create", method: "POST", path: () => "/api/users", body: person, action: "create", ok: { admin: 201, clinician: 201, registrar: 201 }, fields: recordFields, record: true },
  { name: "update (PATCH)", method: "PATCH", path: (id) => `/api/users/${id}`, body: patch, action: "update", ok: { admin: 200, clinician: 200, registrar: 200 }, fields: recordFields, record: true },
  { name: "update (PUT)", method: "PUT", path: (id) => `/api/users/${id}`, body: patch, action: "update", ok: { admin: 200, clinician: 200, registrar: 200 }, fields: recordFields, record: true },
  { name: "delete", method: "DELETE", path: (id) => `/api/users/${id}`, action: "delete", ok: { admin: 204, clinician: 204 }, record: true },
  { name: "erase (gdprCompliant)", method: "DELETE", path: (id) => `/api/users/${id}?gdprCompliant=true`, action: "erase", ok: { admin: 204, clinician: 204 }, record: true },
  { name: "export", method: "GET", path: (id) => `/api/users/${id}/export`, action: "export", ok: { admin: 200 }, fields: () => ["exportedAt", "collection", "record", "restricted", "auditEvents"], record: true },
  { name: "restrict", method: "POST", path: (id) => `/api/users/${id}/restriction`, action: "restrict", ok: { admin: 200 }, fields: () => ["id", "restricted"], record: true },
  { name: "lift restriction", method: "DELETE", path: (id) => `/api/users/${id}/restriction`, action: "unrestrict", ok: { admin: 200 }, fields: () => ["id", "restricted"], record: true },
  { name: "research list", method: "GET", path: () => "/api/research/users?limit=5", action: "list", ok: { admin: 200, researcher: 200 }, fields: () => RESEARCH },
  { name: "audit trail", method: "GET", path: () => "/api/audit?limit=3", action: "audit.read", ok: { admin: 200 }, fields: () => ["seq", "time", "principal", "role", "action", "collection", "pseudonym", "fields", "outcome", "requestId", "mac"] },
  { name: "create key", method: "POST", path: () => "/api/keys", body: () => ({ name: `k-${crypto.randomUUID().slice(0, 8)}`, role: "clinician" }), action: "key.create", ok: { admin: 201 }, fields: () => ["name", "role", "key"] },
  { name: "revoke key", method: "DELETE", path: () => `/api/keys/victim-${victims++}`, action: "key.revoke", ok: { admin: 204 } },
];
let victims = 0;

async function lastEvent() {
  t.audit.log.flush();
  return t.audit.store.page({}, 0, 1_000_000).rows.at(-1)!;
}

describe("every route x every caller", () => {
  for (const c of CASES) {
    for (const caller of CALLERS) {
      const expected = caller === "none" || caller === "malformed" || caller === "revoked" ? 401 : (c.ok[caller] ?? 403);
      test(`${c.name} as ${caller}: ${expected}`, async () => {
        const id = seedRecord();
        if (c.name === "revoke key") t.stores.keys.create(`victim-${victims}`, "clinician", hashKey(generateKey()), NOW);
        const before = (await lastEvent())?.seq ?? 0;
        const headers: Record<string, string> = {};
        const key = keyOf.get(caller);
        if (key) headers.authorization = `Bearer ${key}`;
        const res = await t.req(c.method, c.path(id), c.body?.(caller), headers);
        expect(res.status).toBe(expected);
        if (expected === 401) expect(res.headers.get("www-authenticate")).toContain("Bearer");
        const text = await res.text();
        if (expected >= 400) expect(JSON.parse(text).error.code).toBe(expected === 401 ? "unauthorized" : "forbidden");
        if (expected < 300 && c.fields && text) {
          const json = JSON.parse(text);
          const one = Array.isArray(json) ? json[0] : json;
          expect(Object.keys(one).sort()).toEqual([...c.fields(caller)!].sort());
          if (c.name === "export") expect(Object.keys(json.record).sort()).toEqual([...FULL].sort());
        }
        const ev = await lastEvent();
        expect(ev.seq).toBe(before + 1); // exactly one event per request
        expect(ev.action).toBe(expected === 401 ? "auth.fail" : c.action);
        expect(ev.outcome).toBe(expected < 400 ? "ok" : "denied");
        expect(ev.principal).toBe(expected === 401 ? null : `the-${caller}`);
        if (c.record && expected !== 401 && c.name !== "create") expect(ev.pseudonym).toBe(t.stores.auditPseudonymHex(id));
        // never an id or a value in the trail
        expect(JSON.stringify(ev)).not.toContain(id);
        expect(JSON.stringify(ev)).not.toContain("Asthma");
      });
    }
  }

  test("/health needs no key; /stats and /metrics need an admin's; a refused attempt is in the trail, an admin's read is not", async () => {
    expect((await t.req("GET", "/health")).status).toBe(200);
    for (const [path, action] of [["/stats", "stats.read"], ["/metrics", "metrics.read"]] as const) {
      let before = (await lastEvent()).seq;
      expect((await t.req("GET", path)).status).toBe(401);
      expect(await lastEvent()).toMatchObject({ seq: before + 1, action: "auth.fail", outcome: "denied" });
      for (const role of ["clinician", "registrar", "researcher"] as const) {
        expect((await t.req("GET", path, undefined, { authorization: `Bearer ${keyOf.get(role)}` })).status).toBe(403);
        expect(await lastEvent()).toMatchObject({ seq: before + 2, action, outcome: "denied", principal: `the-${role}`, role });
        before++;
      }
      expect((await t.req("GET", path, undefined, { authorization: `Bearer ${keyOf.get("admin")}` })).status).toBe(200);
      expect((await lastEvent()).seq).toBe(before + 1); // no event for an admin's read of the aggregates
    }
  });

  test("the whole trail of this suite verifies", async () => {
    t.audit.log.flush();
    const key = Buffer.from((await Bun.file(`${t.dataDir}/audit.key`).text()).trim(), "hex");
    expect(verifyChain(key, t.audit.store.all())).toMatchObject({ ok: true });
  });
});

describe("/reset (with --allow-reset) is in the trail", () => {
  test("an admin's reset, a refused one and one on a server without --allow-reset each leave an event; the trail survives the reset", async () => {
    const withReset = makeApp({ auth: true, allowReset: true });
    const without = makeApp({ auth: true });
    try {
      const keys = new Map<string, string>();
      for (const app of [withReset, without]) {
        for (const role of ["admin", "clinician"] as const) {
          const k = generateKey();
          app.stores.keys.create(`r-${role}`, role, hashKey(k), "2026-11-27T00:00:00.000Z");
          keys.set(`${app.dataDir}:${role}`, k);
        }
      }
      const post = (app: TestApp, role: string) => app.req("POST", "/reset", undefined, { authorization: `Bearer ${keys.get(`${app.dataDir}:${role}`)}` });
      const last = (app: TestApp) => {
        app.audit.log.flush();
        return app.audit.store.page({}, 0, 1_000_000).rows.at(-1)!;
      };
      expect((await post(withReset, "clinician")).status).toBe(403);
      expect(last(withReset)).toMatchObject({ action: "reset", outcome: "denied", principal: "r-clinician" });
      const before = last(withReset).seq;
      expect((await post(withReset, "admin")).status).toBe(200);
      expect(last(withReset)).toMatchObject({ seq: before + 1, action: "reset", outcome: "ok", principal: "r-admin" });
      expect((await post(without, "admin")).status).toBe(404);
      expect(last(without)).toMatchObject({ action: "reset", outcome: "not_found", principal: "r-admin" });
    } finally {
      await withReset.close();
      await without.close();
      removeDir(withReset.dataDir);
      removeDir(without.dataDir);
    }
  });
});
