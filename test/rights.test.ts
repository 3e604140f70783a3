// Data-subject rights and role views over HTTP (app.request on real files): restriction,
// export, what a registrar and a researcher can and cannot see, and a cache that never
// serves one role's view to another.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { makeApp, removeDir, type TestApp } from "./helpers.ts";
import { generateKey, hashKey, ROLES } from "../src/auth/keys.ts";

let t: TestApp;
const auth: Record<string, Record<string, string>> = {};
const NOW = "2026-11-27T00:00:00.000Z";

beforeAll(() => {
  t = makeApp({ auth: true });
  for (const [name, role] of [...ROLES.map((r) => [r, r]), ["researcher-2", "researcher"]] as const) {
    const k = generateKey();
    t.stores.keys.create(name, role, hashKey(k), NOW);
    auth[name] = { authorization: `Bearer ${k}` };
  }
});
afterAll(() => {
  t.close();
  removeDir(t.dataDir);
});

const as = (who: string, method: string, path: string, body?: unknown) => t.req(method, path, body, auth[who]);
async function create(diagnosis = "Asthma"): Promise<string> {
  const res = await as("clinician", "POST", "/api/users", { firstName: "Ada", lastName: "Byron", email: "ada@x.org", diagnosis });
  return ((await res.json()) as { id: string }).id;
}
const ids = async (who: string, path: string) => ((await (await as(who, "GET", path)).json()) as { id?: string; researchId?: string }[]).map((r) => r.id ?? r.researchId);

describe("restriction", () => {
  test("a restricted record is 404 to everyone but an admin, never cached, in no list or research page; lifting it restores all", async () => {
    const id = await create("Restricted-dx");
    expect((await as("clinician", "GET", `/api/users/${id}`)).status).toBe(200);
    expect((await as("clinician", "GET", `/api/users/${id}`)).headers.get("x-cache-hit")).toBe("true"); // cached now
    expect((await as("admin", "POST", `/api/users/${id}/restriction`)).status).toBe(200);
    for (const who of ["clinician", "registrar"]) {
      expect((await as(who, "GET", `/api/users/${id}`)).status).toBe(404);
      expect((await as(who, "PATCH", `/api/users/${id}`, { lastName: "X" })).status).toBe(404);
    }
    expect((await as("clinician", "DELETE", `/api/users/${id}`)).status).toBe(404);
    for (let i = 0; i < 2; i++) {
      const res = await as("admin", "GET", `/api/users/${id}`);
      expect(res.status).toBe(200);
      expect(res.headers.get("x-cache-hit")).toBe("false"); // read from the stores each time
    }
    expect((await as("admin", "PATCH", `/api/users/${id}`, { lastName: "Kept" })).status).toBe(200);
    expect((await as("clinician", "GET", `/api/users/${id}`)).status).toBe(404); // the admin's update was not cached either
    expect(await ids("admin", "/api/users?limit=500")).not.toContain(id);
    expect(await ids("researcher", "/api/research/users?diagnosis=Restricted-dx")).toEqual([]);
    expect((await as("admin", "DELETE", `/api/users/${id}/restriction`)).status).toBe(200);
    expect((await as("clinician", "GET", `/api/users/${id}`)).status).toBe(200);
    expect(await ids("clinician", "/api/users?limit=500")).toContain(id);
    expect(await ids("researcher", "/api/research/users?diagnosis=Restricted-dx")).toHaveLength(1);
  });

  test("restricting a record that does not exist is 404", async () => {
    expect((await as("admin", "POST", "/api/users/01900000-0000-7000-8000-000000000000/restriction")).status).toBe(404);
  });
});

describe("views", () => {
  test("a registrar never gets clinical values, whichever role's read filled the cache", async () => {
    const id = await create("Secret-dx");
    await as("clinician", "GET", `/api/users/${id}`); // full view cached
    const reg = await (await as("registrar", "GET", `/api/users/${id}`)).text();
    expect(reg).not.toContain("Secret-dx");
    expect(JSON.parse(reg)).not.toHaveProperty("diagnosis");
    const page = await (await as("registrar", "GET", "/api/users?limit=500")).text();
    expect(page).not.toContain("Secret-dx");
    const full = await (await as("clinician", "GET", `/api/users/${id}`)).json();
    expect(full).toMatchObject({ diagnosis: "Secret-dx" }); // and the other way round
  });

  test("a registrar cannot write or filter on clinical fields (400, nothing stored)", async () => {
    const before = t.stores.counts().identity;
    const bad = await as("registrar", "POST", "/api/users", { firstName: "A", lastName: "B", email: "a@x.org", diagnosis: "x" });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { issues: { path: string[] }[] } }).error.issues[0]!.path).toEqual(["diagnosis"]);
    expect(t.stores.counts().identity).toBe(before);
    const id = await create();
    expect((await as("registrar", "PATCH", `/api/users/${id}`, { medications: ["x"] })).status).toBe(400);
    expect((await as("registrar", "GET", "/api/users?diagnosis=Asthma")).status).toBe(400);
    const created = await (await as("registrar", "POST", "/api/users", { firstName: "R", lastName: "S", email: "r@x.org" })).json();
    const back = await (await as("clinician", "GET", `/api/users/${(created as { id: string }).id}`)).json();
    expect(back).toMatchObject({ diagnosis: null, medications: [] });
  });

  test("researchers see research ids of their own, page with them, and never an id or a name", async () => {
    const id = await create("Research-dx");
    const a = await (await as("researcher", "GET", "/api/research/users?diagnosis=Research-dx")).text();
    const b = await (await as("researcher-2", "GET", "/api/research/users?diagnosis=Research-dx")).text();
    for (const body of [a, b]) for (const v of [id, "Ada", "Byron", "ada@x.org"]) expect(body).not.toContain(v);
    expect(JSON.parse(a)[0].researchId).not.toBe(JSON.parse(b)[0].researchId);
    expect(JSON.parse(a)[0].researchId).not.toBe(t.stores.pseudonymHex(id));
    const all: string[] = [];
    for (let path: string | null = "/api/research/users?limit=2"; path; ) {
      const res: Response = await as("researcher", "GET", path);
      all.push(...((await res.json()) as { researchId: string }[]).map((r) => r.researchId));
      path = res.headers.get("link")?.match(/^<([^>]+)>/)?.[1] ?? null;
    }
    expect(new Set(all).size).toBe(all.length);
    expect(all.length).toBe(t.stores.counts().clinical);
    expect((await as("researcher", "GET", "/api/research/users?cursor=nope")).status).toBe(400);
    expect((await as("researcher", "GET", "/api/research/users?lastName=Byron")).status).toBe(400);
  });
});

describe("audit events", () => {
  test("an id written in capitals is audited under the record's pseudonym, and shows in its export", async () => {
    const id = await create("Caps-dx");
    expect((await as("clinician", "GET", `/api/users/${id.toUpperCase()}`)).status).toBe(200);
    t.audit.log.flush();
    const last = t.audit.store.page({}, 0, 1_000_000).rows.at(-1)!;
    expect(last).toMatchObject({ action: "read", pseudonym: t.stores.auditPseudonymHex(id) });
    const doc = (await (await as("admin", "GET", `/api/users/${id.toUpperCase()}/export`)).json()) as { auditEvents: { action: string }[] };
    expect(doc.auditEvents.map((e) => e.action)).toEqual(["create", "read"]);
  });

  test("the trail, the key list and restriction answers are never cached along the way", async () => {
    const id = await create();
    for (const [method, path] of [["GET", "/api/audit"], ["GET", "/api/keys"], ["POST", `/api/users/${id}/restriction`]] as const) {
      expect((await as("admin", method, path)).headers.get("cache-control")).toBe("no-store");
    }
  });
});

describe("export", () => {
  test("holds the record, its restriction state and exactly the audit events about it", async () => {
    const id = await create("Export-dx");
    const other = await create();
    await as("clinician", "GET", `/api/users/${id}`);
    await as("registrar", "PATCH", `/api/users/${id}`, { lastName: "Lovelace" });
    await as("clinician", "GET", `/api/users/${other}`);
    const res = await as("admin", "GET", `/api/users/${id}/export`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-disposition")).toContain("attachment");
    const doc = (await res.json()) as { record: Record<string, unknown>; restricted: boolean; auditEvents: { action: string; principal: string; pseudonym: string }[] };
    expect(doc.record).toMatchObject({ id, lastName: "Lovelace", diagnosis: "Export-dx" });
    expect(doc.restricted).toBe(false);
    expect(doc.auditEvents.map((e) => `${e.action}:${e.principal}`)).toEqual(["create:clinician", "read:clinician", "update:registrar"]);
    expect(new Set(doc.auditEvents.map((e) => e.pseudonym))).toEqual(new Set([t.stores.auditPseudonymHex(id)!]));
  });

  test("also finds the events a trail written before it had pseudonyms of its own names by the clinical pseudonym", async () => {
    const id = await create();
    // an event as earlier versions wrote it, in the same chain
    t.audit.log.append({ time: Date.now(), principal: "old", role: "clinician", action: "read", collection: "users", pseudonym: t.stores.pseudonymHex(id), fields: [], outcome: "ok", requestId: null });
    await as("clinician", "GET", `/api/users/${id}`);
    const doc = (await (await as("admin", "GET", `/api/users/${id}/export`)).json()) as { auditEvents: { action: string; principal: string; seq: number }[] };
    expect(doc.auditEvents.map((e) => `${e.action}:${e.principal}`)).toEqual(["create:clinician", "read:old", "read:clinician"]); // in chain order
  });
});

describe("with the audit writer thread (as the server runs)", () => {
  test("GET /api/audit and an export include the events of the requests just before them", async () => {
    const w = makeApp({ thread: true }); // --no-auth: the local operator, an admin
    try {
      const created = (await (await w.req("POST", "/api/users", { firstName: "A", lastName: "B", email: "a@x.org" })).json()) as { id: string };
      expect((await w.req("GET", `/api/users/${created.id}`)).status).toBe(200);
      const trail = (await (await w.req("GET", "/api/audit?action=read")).json()) as { pseudonym: string }[];
      expect(trail).toHaveLength(1); // written by the thread before the answer (settle)
      expect(trail[0]!.pseudonym).toBe(w.stores.auditPseudonymHex(created.id)!);
      const doc = (await (await w.req("GET", `/api/users/${created.id}/export`)).json()) as { auditEvents: { action: string }[] };
      expect(doc.auditEvents.map((e) => e.action)).toEqual(["create", "read"]);
    } finally {
      await w.close();
      removeDir(w.dataDir);
    }
  });
});
