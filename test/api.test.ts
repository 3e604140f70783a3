// End-to-end success paths of every route, through app.request() on real SQLite files.
import { describe, test, expect, afterAll, beforeAll } from "bun:test";
import { makeApp, removeDir, userBody, type TestApp } from "./helpers.ts";

type Rec = Record<string, any>;
const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const FIELDS = ["id", "firstName", "lastName", "email", "accountType", "diagnosis", "medications", "createdAt", "updatedAt"];

const apps: TestApp[] = [];
function fresh(opts: Parameters<typeof makeApp>[0] = {}): TestApp {
  const t = makeApp(opts);
  apps.push(t);
  return t;
}
afterAll(() => apps.forEach((t) => (t.close(), removeDir(t.dataDir))));

const json = async (res: Response): Promise<any> => res.json();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function create(t: TestApp, body: Rec): Promise<Rec> {
  const res = await t.req("POST", "/api/users", body);
  expect(res.status).toBe(201);
  return json(res);
}
async function stats(t: TestApp): Promise<Rec> {
  const res = await t.req("GET", "/stats");
  expect(res.status).toBe(200);
  return json(res);
}
/** Follows rel="next" links from `path`; returns every id in page order and the page count. */
async function walk(t: TestApp, path: string): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let next: string | null = path;
  let pages = 0;
  while (next !== null) {
    const res = await t.req("GET", next);
    expect(res.status).toBe(200);
    const page = (await json(res)) as Rec[];
    pages++;
    ids.push(...page.map((r) => r.id as string));
    const link = res.headers.get("link");
    const m = link === null ? null : /^<([^>]+)>;\s*rel="next"$/.exec(link);
    if (link !== null) expect(m).not.toBeNull();
    next = m ? m[1]! : null;
    expect(pages).toBeLessThan(1000);
  }
  return { ids, pages };
}

describe("POST /api/users", () => {
  const t = fresh();

  test("201 with the full flat record and a Location header", async () => {
    const input = userBody();
    const res = await t.req("POST", "/api/users", input);
    expect(res.status).toBe(201);
    expect(res.headers.get("content-type")).toContain("application/json");
    const rec = await json(res);
    expect(Object.keys(rec)).toEqual(FIELDS);
    expect(rec.id).toMatch(UUID_V7);
    expect(rec).toMatchObject(input);
    expect(rec.createdAt).toMatch(ISO);
    expect(rec.updatedAt).toBe(rec.createdAt);
    expect(Math.abs(Date.parse(rec.createdAt) - Date.now())).toBeLessThan(60_000);
    expect(res.headers.get("location")).toBe(`/api/users/${rec.id}`);
    expect(JSON.stringify(rec)).not.toMatch(/pseudonym/i);
  });

  test("defaults: accountType standard, diagnosis null, medications []", async () => {
    const rec = await create(t, { firstName: "Ada", lastName: "Lovelace", email: "ada@example.org" });
    expect(rec).toEqual({
      id: rec.id, firstName: "Ada", lastName: "Lovelace", email: "ada@example.org",
      accountType: "standard", diagnosis: null, medications: [], createdAt: rec.createdAt, updatedAt: rec.updatedAt,
    });
    const got = await json(await t.req("GET", `/api/users/${rec.id}`));
    expect(got).toEqual(rec);
  });
});

describe("GET /api/users/:id and the cache", () => {
  const t = fresh();

  test("a create is not cached; the first read misses and caches it; clear() makes the next read a miss; counters move by 1", async () => {
    const rec = await create(t, userBody());
    const s0 = (await stats(t)).cache;
    expect(s0.size).toBe(0); // write-around: creates do not push read records out

    const r0 = await t.req("GET", `/api/users/${rec.id}`);
    expect(r0.headers.get("x-cache-hit")).toBe("false");
    expect(await json(r0)).toEqual(rec);
    const sa = (await stats(t)).cache;
    expect([sa.hits, sa.misses, sa.size]).toEqual([s0.hits, s0.misses + 1, 1]);

    const r1 = await t.req("GET", `/api/users/${rec.id}`);
    expect(r1.status).toBe(200);
    expect(r1.headers.get("x-cache-hit")).toBe("true");
    expect(await json(r1)).toEqual(rec);
    const s1 = (await stats(t)).cache;
    expect([s1.hits, s1.misses]).toEqual([sa.hits + 1, sa.misses]);

    t.cache.clear();
    const r2 = await t.req("GET", `/api/users/${rec.id}`);
    expect(r2.headers.get("x-cache-hit")).toBe("false");
    expect(await json(r2)).toEqual(rec);
    const s2 = (await stats(t)).cache;
    expect([s2.hits, s2.misses]).toEqual([s1.hits, s1.misses + 1]);

    const r3 = await t.req("GET", `/api/users/${rec.id}`);
    expect(r3.headers.get("x-cache-hit")).toBe("true");
    expect(await json(r3)).toEqual(rec);
    const s3 = (await stats(t)).cache;
    expect([s3.hits, s3.misses]).toEqual([s2.hits + 1, s2.misses]);
    expect(s3.hitRate).toBeCloseTo(s3.hits / (s3.hits + s3.misses), 10);
  });

  test("an update puts the updated record in the cache (write-through)", async () => {
    const rec = await create(t, userBody());
    const upd = await json(await t.req("PATCH", `/api/users/${rec.id}`, { diagnosis: "Cached" }));
    const r = await t.req("GET", `/api/users/${rec.id}`);
    expect(r.headers.get("x-cache-hit")).toBe("true");
    expect(await json(r)).toEqual(upd);
  });

  test("an uppercase id finds the same record", async () => {
    const rec = await create(t, userBody());
    const res = await t.req("GET", `/api/users/${rec.id.toUpperCase()}`);
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual(rec);
  });
});

describe("PUT and PATCH (partial update)", () => {
  const t = fresh();

  for (const method of ["PUT", "PATCH"]) {
    test(`${method} returns the whole updated record; reads return exactly it`, async () => {
      const rec = await create(t, userBody({ accountType: "standard" }));
      await sleep(5);
      const res = await t.req(method, `/api/users/${rec.id}`, { lastName: "Changed", medications: ["X"] });
      expect(res.status).toBe(200);
      const upd = await json(res);
      expect(upd).toEqual({ ...rec, lastName: "Changed", medications: ["X"], updatedAt: upd.updatedAt });
      expect(upd.updatedAt).toMatch(ISO);
      expect(upd.updatedAt > rec.updatedAt).toBe(true);
      expect(upd.createdAt).toBe(rec.createdAt);

      expect(await json(await t.req("GET", `/api/users/${rec.id}`))).toEqual(upd);
      t.cache.clear();
      const miss = await t.req("GET", `/api/users/${rec.id}`);
      expect(miss.headers.get("x-cache-hit")).toBe("false");
      expect(await json(miss)).toEqual(upd);

      await sleep(5);
      const cleared = await json(await t.req(method, `/api/users/${rec.id}`, { diagnosis: null }));
      expect(cleared.diagnosis).toBeNull();
      expect(cleared.medications).toEqual(["X"]);
      expect(cleared.updatedAt > upd.updatedAt).toBe(true);
      const again = await t.req("GET", `/api/users/${rec.id}`);
      expect(await json(again)).toEqual(cleared);
      t.cache.clear();
      expect(await json(await t.req("GET", `/api/users/${rec.id}`))).toEqual(cleared);
      expect((await stats(t)).database).toMatchObject({ identity: 1, clinical: 1 });
      expect((await t.req("DELETE", `/api/users/${rec.id}`)).status).toBe(204);
    });
  }
});

describe("DELETE", () => {
  const t = fresh();

  test("204, then GET 404 and a second DELETE 404; both halves gone", async () => {
    const rec = await create(t, userBody());
    const res = await t.req("DELETE", `/api/users/${rec.id}`);
    expect(res.status).toBe(204);
    expect(await res.text()).toBe("");
    expect((await t.req("GET", `/api/users/${rec.id}`)).status).toBe(404);
    expect((await t.req("DELETE", `/api/users/${rec.id}`)).status).toBe(404);
    expect((await stats(t)).database).toMatchObject({ identity: 0, clinical: 0, deidentified: 0 });
    expect((await stats(t)).cache.size).toBe(0);
  });

  test("?gdprCompliant=true keeps only the de-identified clinical half", async () => {
    const rec = await create(t, userBody());
    expect((await t.req("DELETE", `/api/users/${rec.id}?gdprCompliant=true`)).status).toBe(204);
    expect((await t.req("GET", `/api/users/${rec.id}`)).status).toBe(404);
    expect((await stats(t)).database).toMatchObject({ identity: 0, clinical: 1, deidentified: 1 });
    expect((await t.req("DELETE", `/api/users/${rec.id}?gdprCompliant=true`)).status).toBe(404);
    expect(await json(await t.req("GET", `/api/users?diagnosis=${rec.diagnosis}`))).toEqual([]);
  });
});

describe("GET /api/users (list)", () => {
  const t = fresh();
  const created: Rec[] = [];
  beforeAll(async () => {
    for (let i = 0; i < 120; i++) created.push(await create(t, userBody({ diagnosis: i % 3 === 0 ? "Flu" : null })));
  });

  test("default page of 50 with a Link; limit=500 returns all without a Link", async () => {
    const res = await t.req("GET", "/api/users");
    expect(res.status).toBe(200);
    const page = await json(res);
    expect(Array.isArray(page)).toBe(true);
    expect(page).toEqual(created.slice(0, 50));
    expect(res.headers.get("link")).toBe(`</api/users?cursor=${created[49]!.id}>; rel="next"`);
    const all = await t.req("GET", "/api/users?limit=500");
    expect(await json(all)).toEqual(created);
    expect(all.headers.get("link")).toBeNull();
    const one = await t.req("GET", "/api/users?limit=1");
    expect((await json(one)).map((r: Rec) => r.id)).toEqual([created[0]!.id]);
  });

  for (const limit of [1, 7, 50, 119, 120]) {
    test(`keyset pagination with limit=${limit} visits every record once, in creation order`, async () => {
        const { ids, pages } = await walk(t, `/api/users?limit=${limit}`);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids).toEqual(created.map((r) => r.id));
      expect([...ids].sort()).toEqual(ids);
      expect(pages).toBe(Math.max(1, Math.ceil(120 / limit)));
    });
  }

  test("pagination over a clinical filter", async () => {
    const expected = created.filter((r) => r.diagnosis === "Flu").map((r) => r.id);
    expect(expected.length).toBe(40);
    const { ids, pages } = await walk(t, "/api/users?diagnosis=Flu&limit=6");
    expect(ids).toEqual(expected);
    expect(pages).toBe(7);
  });
});

describe("list pages are built from the cache", () => {
  const t = fresh({ cacheEntries: 4 });

  test("pages equal the stored records whether or not each is cached, also after updates", async () => {
    const created: Rec[] = [];
    for (let i = 0; i < 10; i++) created.push(await create(t, userBody()));
    // creates are not cached: the page reads all 10 from the stores, and does not cache them
    const s0 = (await stats(t)).cache;
    const page1 = await t.req("GET", "/api/users?limit=10");
    expect(page1.headers.get("content-type")).toBe("application/json");
    expect(await json(page1)).toEqual(created);
    const s1 = (await stats(t)).cache;
    // counted apart: a page is not 10 reads, and each record is looked up once
    expect([s1.hits, s1.misses]).toEqual([s0.hits, s0.misses]);
    expect(s1.pageHits + s1.pageMisses - s0.pageHits - s0.pageMisses).toBe(10);
    expect(s1.pageMisses - s0.pageMisses).toBe(10);
    expect([s0.size, s1.size]).toEqual([0, 0]); // read-around: a walk of the pages leaves the cache to reads

    const upd = await json(await t.req("PATCH", `/api/users/${created[2]!.id}`, { diagnosis: "Asthma" }));
    created[2] = upd;
    t.cache.clear();
    expect(await json(await t.req("GET", "/api/users?limit=10"))).toEqual(created);
    // served again (a cached page, or a new one read from the stores)
    expect(await json(await t.req("GET", "/api/users?limit=3&cursor=" + created[6]!.id))).toEqual(created.slice(7));
    expect(await json(await t.req("GET", "/api/users?limit=2"))).toEqual(created.slice(0, 2));
  });

  test("a cached page re-reads an updated record the cache let go from the stores, and does not cache it", async () => {
    const own = fresh();
    const created: Rec[] = [];
    for (let i = 0; i < 3; i++) created.push(await create(own, userBody()));
    expect((await own.req("GET", "/api/users?limit=10")).headers.get("x-cache-hit")).toBe("false");
    created[1] = await json(await own.req("PATCH", `/api/users/${created[1]!.id}`, { diagnosis: "Asthma" }));
    own.cache.delete(created[1]!.id); // written through by the update, then evicted
    const res = await own.req("GET", "/api/users?limit=10");
    expect(res.headers.get("x-cache-hit")).toBe("true");
    expect(await json(res)).toEqual(created);
    const s = (await stats(own)).cache;
    expect([s.pages.patched, s.size]).toEqual([1, 0]);
  });

  test("a page built partly from cached records, partly from the stores, is exact", async () => {
    // ~6 records fit; pages are read around the cache, so its bound holds without them
    const small = fresh({ cacheEntries: 1000, cacheBytes: 2048 });
    const created: Rec[] = [];
    for (let i = 0; i < 40; i++) created.push(await create(small, userBody()));
    for (let round = 0; round < 3; round++) {
      // the page's first records are cached (hits), the rest are read from the stores
      small.cache.clear();
      for (const r of created.slice(0, 5)) expect((await small.req("GET", `/api/users/${r.id}`)).status).toBe(200);
      expect(await json(await small.req("GET", "/api/users?limit=20"))).toEqual(created.slice(0, 20));
      expect(await json(await small.req("GET", `/api/users?limit=20&cursor=${created[19]!.id}`))).toEqual(created.slice(20));
    }
    for (const r of created) expect(await json(await small.req("GET", `/api/users/${r.id}`))).toEqual(r);
    expect(small.cache.bytes).toBeLessThanOrEqual(2048);
  });

  test("an empty page is []", async () => {
    const res = await t.req("GET", "/api/users?lastName=Nobody");
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("[]");
  });
});

describe("list filters across both stores", () => {
  const t = fresh();
  // Each (lastName, accountType, diagnosis) combination gets a different number of records.
  const created: Rec[] = [];
  const lastNames = ["Smith", "Jones"];
  const types = ["premium", "standard", undefined];
  const diagnoses = ["Asthma", "Diabetes", undefined];
  beforeAll(async () => {
    for (const [l, lastName] of lastNames.entries())
      for (const [ti, accountType] of types.entries())
        for (const [d, diagnosis] of diagnoses.entries()) {
          // Asthma/Diabetes x premium/standard: 1, 7, 9, 6 records
          for (let i = 0; i < (ti * 2 + d * 3 + l) % 5; i++) {
            const body: Rec = { firstName: `F${created.length}`, lastName, email: `${lastName.toLowerCase()}@family.example` };
            if (accountType) body.accountType = accountType;
            if (diagnosis) body.diagnosis = diagnosis;
            created.push(await create(t, body));
          }
        }
  });
  const ids = (f: (r: Rec) => boolean) => created.filter(f).map((r) => r.id);
  const list = async (q: string) => {
    const res = await t.req("GET", `/api/users?limit=500&${q}`);
    expect(res.status).toBe(200);
    return ((await json(res)) as Rec[]).map((r) => r.id);
  };

  test("single filters on identity, metadata and clinical fields", async () => {
    expect(await list("lastName=Smith")).toEqual(ids((r) => r.lastName === "Smith"));
    expect(await list("email=jones%40family.example")).toEqual(ids((r) => r.email === "jones@family.example"));
    expect(await list("accountType=standard")).toEqual(ids((r) => r.accountType === "standard"));
    expect(await list("accountType=premium")).toEqual(ids((r) => r.accountType === "premium"));
    expect(await list("diagnosis=Asthma")).toEqual(ids((r) => r.diagnosis === "Asthma"));
    expect(await list("diagnosis=Nothing")).toEqual([]);
    // email is not unique: every record sharing it is listed
    expect((await list("email=smith%40family.example")).length).toBeGreaterThan(1);
  });

  test("every combined diagnosis x accountType x lastName filter returns exactly its records", async () => {
    const sizes = new Set<number>();
    for (const d of ["Asthma", "Diabetes"])
      for (const a of ["premium", "standard"]) {
        const want = ids((r) => r.diagnosis === d && r.accountType === a);
        sizes.add(want.length);
        expect(await list(`diagnosis=${d}&accountType=${a}`)).toEqual(want);
        for (const l of lastNames) {
          expect(await list(`accountType=${a}&lastName=${l}&diagnosis=${d}`)).toEqual(
            ids((r) => r.diagnosis === d && r.accountType === a && r.lastName === l),
          );
        }
      }
    expect([...sizes].sort()).toEqual([1, 6, 7, 9]);
  });

  test("combined filters with pagination", async () => {
    const want = ids((r) => r.diagnosis === "Asthma" && r.accountType === "standard");
    expect(want.length).toBeGreaterThan(2);
    const walked = await walk(t, "/api/users?diagnosis=Asthma&accountType=standard&limit=2");
    expect(walked.ids).toEqual(want);
    const byType = await walk(t, "/api/users?accountType=premium&limit=3");
    expect(byType.ids).toEqual(ids((r) => r.accountType === "premium"));
  });
});

describe("system routes", () => {
  test("GET /health and GET /stats shape", async () => {
    const t = fresh();
    const health = await t.req("GET", "/health");
    expect(health.status).toBe(200);
    expect(await json(health)).toMatchObject({ status: "ok" });
    await create(t, userBody());
    const s = await stats(t);
    expect(s.cache).toMatchObject({ hits: 0, misses: 0, hitRate: 0, size: 0 });
    expect(s.database).toMatchObject({ identity: 1, clinical: 1 });
    for (const k of ["hits", "misses", "hitRate", "size"]) expect(typeof s.cache[k]).toBe("number");
  });

  test("POST /reset is 404 without allowReset and changes nothing", async () => {
    const t = fresh();
    const rec = await create(t, userBody());
    const res = await t.req("POST", "/reset");
    expect(res.status).toBe(404);
    expect((await json(res)).error.code).toBe("not_found");
    expect(await json(await t.req("GET", `/api/users/${rec.id}`))).toEqual(rec);
  });

  test("POST /reset with allowReset empties everything", async () => {
    const t = fresh({ allowReset: true });
    const rec = await create(t, userBody());
    await create(t, userBody());
    await t.req("GET", `/api/users/${rec.id}`);
    await t.req("DELETE", `/api/users/${rec.id}?gdprCompliant=true`);
    const res = await t.req("POST", "/reset");
    expect(res.status).toBe(200);
    expect(await json(await t.req("GET", "/api/users"))).toEqual([]);
    const s = await stats(t);
    expect(s.database).toMatchObject({ identity: 0, clinical: 0, deidentified: 0 });
    expect(s.cache).toMatchObject({ size: 0, hits: 0, misses: 0 });
    expect((await t.req("GET", `/api/users/${rec.id}`)).status).toBe(404);
  });
});
