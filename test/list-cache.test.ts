// The whole-page list cache (src/cache/page-cache.ts) must never answer with stale or wrong
// data: every write that can change a cached page must reach it, through the HTTP routes.
import { afterAll, describe, expect, test } from "bun:test";
import { distinctBody, makeApp, removeDir, userBody, type TestApp } from "./helpers.ts";
import { generateKey, hashKey } from "../src/auth/keys.ts";
import type { Fields } from "../src/models/schema.ts";

type Rec = Record<string, any>;
const apps: TestApp[] = [];
const fresh = (opts: Parameters<typeof makeApp>[0] = {}) => apps[apps.push(makeApp(opts)) - 1]!;
afterAll(async () => {
  for (const t of apps) await t.close(), removeDir(t.dataDir);
});

/** n records straight into the stores (before any list, so no cached page can miss them). */
const seed = (t: TestApp, n: number): Rec[] => Array.from({ length: n }, () => t.stores.model("users").create(userBody() as Fields));
const ids = (recs: Rec[]) => recs.map((r) => r.id as string);
const page = (limit: number, cursor?: string | null) => `/api/users?limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`;
const status = async (t: TestApp, method: string, path: string, body?: unknown, h?: Record<string, string>) => (await t.req(method, path, body, h)).status;

/** One list answer: raw text, parsed body, X-Cache-Hit, raw Link and the cursor it names. */
async function list(t: TestApp, path: string, headers: Record<string, string> = {}) {
  const res = await t.req("GET", path, undefined, headers);
  expect(res.status).toBe(200);
  const text = await res.text();
  const link = res.headers.get("link");
  const m = link === null ? null : /^<([^>]+)>; rel="next"$/.exec(link);
  if (link !== null) expect(m).not.toBeNull();
  const next = m ? new URL(m[1]!, "http://x").searchParams.get("cursor") : null;
  return { text, body: JSON.parse(text) as Rec[], hit: res.headers.get("x-cache-hit"), link, next };
}
/** The page as the stores hold it now, in the full view. */
function truth(t: TestApp, cursor: string | null, limit: number) {
  const p = t.stores.model("users").listIds({}, cursor, limit);
  return { body: p.ids.map((id) => t.stores.model("users").read(id)!.record), next: p.next };
}

describe("page cache", () => {
  // the basic contract: a repeat is served from the cache, byte for byte, with the same Link
  test("a page fetched twice: the second is a hit with the same body and Link", async () => {
    const t = fresh();
    const r = ids(seed(t, 5));
    for (const path of [page(2), page(2, r[1])]) {
      const [a, b] = [await list(t, path), await list(t, path)];
      expect([a.hit, b.hit, b.text, b.link]).toEqual(["false", "true", a.text, a.link]);
      expect(a.next).not.toBeNull();
    }
  });

  // an update is patched into every cached page that holds the record, overlapping pages too
  test("updates show in every cached page holding the record, still as hits", async () => {
    const t = fresh();
    const r = ids(seed(t, 6));
    const [A, B] = [page(3), page(3, r[0])]; // both hold r1 and r2
    expect([(await list(t, A)).hit, (await list(t, B)).hit]).toEqual(["false", "false"]);
    for (const [id, patch] of [[r[1]!, { lastName: "Changed" }], [r[2]!, { diagnosis: "Patched", medications: ["x"] }]] as const) {
      expect(await status(t, "PUT", `/api/users/${id}`, patch)).toBe(200);
      for (const path of [B, A]) {
        const got = await list(t, path);
        expect(got.hit).toBe("true");
        expect(got.body.find((x) => x.id === id)).toMatchObject(patch);
        expect(got.body).toEqual(truth(t, path === A ? null : r[0]!, 3).body);
      }
    }
  });

  // a create must reach the last pages (an empty one at the end, a first page that held the
  // whole list and so had no Link), but not earlier full pages
  test("create: the last pages get the record, earlier full pages stay hits and unchanged", async () => {
    const t = fresh();
    const r = ids(seed(t, 5));
    const paths = [page(2), page(2, r[1]), page(2, r[3]), page(2, r[4]), page(5)];
    const before = [];
    for (const p of paths) before.push(await list(t, p));
    const made = (await (await t.req("POST", "/api/users", userBody())).json()) as Rec;
    for (const i of [0, 1]) expect(await list(t, paths[i]!)).toEqual({ ...before[i]!, hit: "true" });
    const last = await list(t, paths[2]!);
    expect([ids(last.body), last.next]).toEqual([[r[4]!, made.id], null]);
    expect(ids((await list(t, paths[3]!)).body)).toEqual([made.id]); // was empty
    // the list held exactly `limit` records: the first page was also the last (no Link) until now
    const whole = await list(t, paths[4]!);
    expect([before[4]!.link, ids(whole.body), whole.next]).toEqual([null, r, r[4]!]);
  });

  // a delete can end the page before it (its next link then points at nothing)
  test("delete: records leave pages, and the page before the end loses its next link", async () => {
    const t = fresh();
    const r = ids(seed(t, 4));
    const [first, second] = [page(2), page(2, r[1])];
    expect([(await list(t, first)).next, (await list(t, second)).next]).toEqual([r[1]!, null]);
    expect(await status(t, "DELETE", `/api/users/${r[3]}`)).toBe(204);
    expect([ids((await list(t, second)).body), (await list(t, first)).next]).toEqual([[r[2]!], r[1]!]);
    expect(await status(t, "DELETE", `/api/users/${r[2]}?gdprCompliant=true`)).toBe(204);
    const got = await list(t, first);
    expect([ids(got.body), got.link, (await list(t, second)).body]).toEqual([[r[0]!, r[1]!], null, []]);
  });

  // erasure: no copy of the values in the page cache, nor in any list answer afterwards
  test("erasure empties the page cache and no list answer carries the erased values", async () => {
    const t = fresh();
    seed(t, 3);
    const victim = (await (await t.req("POST", "/api/users", distinctBody("erase"))).json()) as Rec;
    const values = [victim.firstName, victim.lastName, victim.email, victim.accountType, victim.diagnosis, ...victim.medications] as string[];
    const paths = [1, 2, 3, 5, 50].map((n) => page(n)).concat(page(2, ids(seed(t, 3))[0]), page(1, t.stores.model("users").listIds({}, null, 3).ids[2]));
    const texts = [];
    for (const p of paths) texts.push((await list(t, p)).text, (await list(t, p)).text);
    expect(texts.filter((x) => x.includes(victim.diagnosis)).length).toBeGreaterThan(0); // it was in cached pages
    expect(t.cache.stats().pages.size).toBe(paths.length);
    expect(await status(t, "DELETE", `/api/users/${victim.id}?gdprCompliant=true`)).toBe(204);
    expect(t.cache.stats().pages.size).toBe(0);
    // each path twice: the second answer is a hit, so its text is the cached page's bytes
    for (const p of paths) for (const { text } of [await list(t, p), await list(t, p)]) for (const v of values) expect(text).not.toContain(v);
  });

  // a restricted record leaves every list, and comes back exactly where it was
  test("restrict then lift: the record leaves every page, then comes back in place", async () => {
    const t = fresh();
    const r = ids(seed(t, 6));
    const paths = [page(2), page(3), page(2, r[1]), page(4, r[0]), page(7)];
    const before = [];
    for (const p of paths) before.push(await list(t, p));
    expect(await status(t, "POST", `/api/users/${r[2]}/restriction`)).toBe(200);
    for (const p of paths) for (const got of [await list(t, p), await list(t, p)]) expect(got.text).not.toContain(r[2]!); // miss, then hit
    expect(await status(t, "DELETE", `/api/users/${r[2]}/restriction`)).toBe(200);
    for (const [i, p] of paths.entries()) expect(await list(t, p)).toMatchObject({ text: before[i]!.text, link: before[i]!.link });
  });

  // each view has its own pages: a registrar never gets a clinician's cached bytes, nor the reverse
  test("views: a registrar's page never has clinical fields, a clinician's always does", async () => {
    const t = fresh({ auth: true });
    const as: Record<string, Record<string, string>> = {};
    for (const role of ["clinician", "registrar"] as const) {
      const k = generateKey();
      t.stores.keys.create(`the-${role}`, role, hashKey(k), "2026-11-27T00:00:00.000Z");
      as[role] = { authorization: `Bearer ${k}` };
    }
    const recs = seed(t, 4);
    const check = async (role: string, path: string) => {
      const got = await list(t, path, as[role]);
      expect(got.body.length).toBeGreaterThan(0);
      for (const rec of got.body) expect("diagnosis" in rec && "medications" in rec).toBe(role === "clinician");
      if (role === "registrar") for (const r of recs) expect(got.text).not.toContain(r.diagnosis);
      return got;
    };
    for (const order of [["clinician", "registrar"], ["registrar", "clinician"]]) {
      const path = page(order[0] === "clinician" ? 3 : 2);
      for (const hit of ["false", "true"]) for (const role of order) expect((await check(role, path)).hit).toBe(hit);
    }
    // a write through one view must not leave that view's bytes in the other view's pages
    expect(await status(t, "PUT", `/api/users/${recs[0]!.id}`, { lastName: "Reg" }, as.registrar)).toBe(200);
    expect(await status(t, "PUT", `/api/users/${recs[1]!.id}`, { diagnosis: "NewDx" }, as.clinician)).toBe(200);
    for (const role of ["clinician", "registrar"]) {
      const got = await check(role, page(3));
      expect([got.hit, got.body[0]!.lastName, got.text.includes("NewDx")]).toEqual(["true", "Reg", role === "clinician"]);
    }
  });

  // filtered lists are never cached whole, and still follow writes
  test("a filtered list has no X-Cache-Hit header and reflects updates", async () => {
    const t = fresh();
    const r = ids(seed(t, 4));
    const path = "/api/users?accountType=premium&limit=3";
    expect((await list(t, path)).hit).toBeNull();
    expect(await status(t, "PUT", `/api/users/${r[0]}`, { accountType: "standard" })).toBe(200);
    expect(await status(t, "PUT", `/api/users/${r[1]}`, { lastName: "Filtered" })).toBe(200);
    const got = await list(t, path);
    expect([got.hit, ids(got.body), got.body[0]!.lastName]).toEqual([null, r.slice(1, 4), "Filtered"]);
  });

  // The order that makes an update safe: its pages are told after the commit. A list built
  // while the update waits for its batch holds the old record; it must not outlive the update.
  test("a page built while an update waits for its commit is re-read once the update answers", async () => {
    const t = fresh();
    const r = ids(seed(t, 4));
    const path = page(3);
    await list(t, path);
    // hold the update's batch until the list below has been answered
    const commits = t.stores.commits;
    const run = commits.run.bind(commits);
    let queued!: () => void;
    let release!: () => void;
    const [isQueued, gate] = [new Promise<void>((ok) => (queued = ok)), new Promise<void>((ok) => (release = ok))];
    commits.run = (job) => (queued(), gate.then(() => run(job)));
    const pending = t.req("PUT", `/api/users/${r[1]}`, { lastName: "Later" });
    await isQueued;
    const during = await list(t, path);
    expect(during.body[1]!.lastName).not.toBe("Later");
    release();
    expect((await pending).status).toBe(200);
    const after = await list(t, path);
    expect(after.body[1]!.lastName).toBe("Later");
    expect(after.body).toEqual(truth(t, null, 3).body);
  });

  // /reset empties the stores: no cached page may answer for what they held
  test("POST /reset drops every cached page", async () => {
    const t = fresh({ allowReset: true });
    seed(t, 3);
    expect((await list(t, page(2))).body.length).toBe(2);
    expect(await status(t, "POST", "/reset")).toBe(200);
    // emptied, and its counters restart at 0 like the record cache's
    expect(t.cache.stats().pages).toMatchObject({ size: 0, bytes: 0, hits: 0, misses: 0, patched: 0 });
    const got = await list(t, page(2));
    expect([got.hit, got.body, got.link]).toEqual(["false", [], null]);
  });

  // A write that fails after its commit (the answer is an error, the stores changed) must not
  // leave cached pages behind: the handlers invalidate on failure too.
  for (const what of ["update", "create"] as const) {
    test(`${what}: committed, then its answer failed: no page left stale`, async () => {
      const t = fresh();
      const r = ids(seed(t, 3));
      const path = what === "update" ? page(3) : page(5);
      await list(t, path);
      const commits = t.stores.commits;
      const run = commits.run.bind(commits);
      commits.run = (job) => run(job).then(() => Promise.reject(new Error("after the commit")));
      const res = what === "update" ? await t.req("PUT", `/api/users/${r[1]}`, { lastName: "Committed" }) : await t.req("POST", "/api/users", userBody());
      expect(res.status).toBe(500);
      const got = await list(t, path);
      expect(got.body).toEqual(truth(t, null, what === "update" ? 3 : 5).body);
      expect(got.body.length).toBe(what === "update" ? 3 : 4);
      if (what === "update") expect(got.body[1]!.lastName).toBe("Committed");
    });
  }

  // A seeded random mix of every write and many lists, each list checked against the stores
  // themselves. Writes aim mostly at records of recently listed pages and lists mostly repeat
  // recent pages, so writes do land in cached pages that are then served again. Run twice: with
  // a small byte bound too, so pages and records are also evicted along the way.
  for (const cacheBytes of [undefined, 12_000]) {
    test(`model: 400 random steps, every list equals the stores (cacheBytes ${cacheBytes ?? "default"})`, async () => {
      const t = fresh({ cacheBytes });
      const rnd = mulberry32(20261127);
      const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)]!;
      const [store, hits0, restricted] = [t.stores.model("users"), t.cache.stats().pages.hits, new Set<string>()];
      const all = ids(seed(t, 120)); // every id ever made: live, restricted or deleted
      const recent: [string | null, number][] = [];
      let [focus, lists] = [[] as string[], 0]; // focus: the ids of the last pages listed
      for (let step = 0; step < 400; step++) {
        const x = rnd();
        const id = focus.length > 0 && rnd() < 0.6 ? pick(focus) : pick(all);
        const exists = store.read(id) !== null;
        if (x < 0.08) {
          const res = await t.req("POST", "/api/users", userBody());
          all.push(((await res.json()) as Rec).id);
          expect(res.status).toBe(201);
        } else if (x < 0.23) {
          const patch = pick([{ lastName: `L${step}` }, { email: `e${step}@x.org` }, { accountType: `T${step}` }, { diagnosis: `D${step}` }, { medications: [`M${step}`] }]);
          expect(await status(t, "PUT", `/api/users/${id}`, patch)).toBe(exists ? 200 : 404);
        } else if (x < 0.27) {
          expect(await status(t, "DELETE", `/api/users/${id}${rnd() < 0.5 ? "?gdprCompliant=true" : ""}`)).toBe(exists ? 204 : 404);
          restricted.delete(id);
        } else if (x < 0.35) {
          const on = x < 0.31;
          // lifting mostly one that falls inside a recently listed page (likely still cached)
          const held = [...restricted];
          const near = held.filter((r) => recent.some(([c, l]) => (c === null || r > c) && r <= (store.listIds({}, c, l).next ?? r)));
          const target = on || held.length === 0 ? id : near.length > 0 && rnd() < 0.8 ? pick(near) : pick(held);
          const [code, found] = [await status(t, on ? "POST" : "DELETE", `/api/users/${target}/restriction`), store.read(target) !== null];
          expect(code).toBe(found ? 200 : 404);
          if (found) on ? restricted.add(target) : restricted.delete(target);
        } else {
          // a recent page, or: the first page, a page near the end (creates land there), any id
          const y = rnd();
          const other: [string | null, number] = [y < 0.15 ? null : y < 0.45 ? pick(all.slice(-10)) : pick(all), 1 + Math.floor(rnd() * 7)];
          const [cursor, limit] = recent.length > 0 && rnd() < 0.6 ? pick(recent) : other;
          const [got, want] = [await list(t, page(limit, cursor)), truth(t, cursor, limit)];
          expect(got.body).toEqual(JSON.parse(JSON.stringify(want.body)));
          expect(got.link).toBe(want.next ? `<${page(limit, want.next)}>; rel="next"` : null);
          lists++;
          if (recent.push([cursor, limit]) > 6) recent.shift();
          focus = [...ids(got.body), ...focus].slice(0, 15);
        }
      }
      expect(lists).toBeGreaterThan(200);
      expect(t.cache.stats().pages.hits - hits0).toBeGreaterThan(lists / 4);
      expect(t.cache.pages.indexed).toBe(t.cache.pages.size);
    });
  }
});

function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}
