// The cached lane (src/routes/cached-lane.ts) answers cached reads and list pages outside Hono's chain.
// It must answer exactly as the chain would: the same status, headers and body, the same audit
// event, the same metrics, and every refusal left to the chain. Here each request goes to two
// apps over the same stores, cache and trail, one with the lane and one without, and the two
// answers are compared; then the lane is asked directly which requests it takes.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Hono } from "hono";
import { createApp } from "../src/app.ts";
import type { AppEnv } from "../src/auth/env.ts";
import { Authenticator, generateKey, hashKey, ROLES } from "../src/auth/keys.ts";
import { RateLimiter } from "../src/auth/rate-limit.ts";
import { HttpMetrics } from "../src/metrics/http.ts";
import { MODELS } from "../src/models/registry.ts";
import { AnswerHeaders } from "../src/response-headers.ts";
import { cachedLane } from "../src/routes/cached-lane.ts";
import { ModelKits } from "../src/routes/record-views.ts";
import { recordHeaders } from "../src/routes/record-headers.ts";
import { keysPerRole, makeApp, removeDir, type TestApp } from "./helpers.ts";

const NOW = "2026-11-27T00:00:00.000Z";
type Caller = "none" | "malformed" | "basic" | "revoked" | (typeof ROLES)[number];
const CALLERS: Caller[] = ["none", "malformed", "basic", "revoked", ...ROLES];

/** An app over t's stores, cache and trail; `cachedLane: false` sends everything through the chain. */
function twin(t: TestApp, opts: { auth: boolean; cachedLane: boolean; rateLimit?: number }): Hono<AppEnv> {
  return createApp({
    stores: t.stores, cache: t.cache, models: MODELS, audit: t.audit,
    auth: opts.auth ? new Authenticator(t.stores.keys) : null,
    rateLimit: opts.rateLimit ?? 0, authFailRate: 0, bodyLimit: 64 * 1024, allowReset: false, durability: "normal",
    cachedLane: opts.cachedLane,
  });
}

/** One request's whole effect: the answer (without its request id and date) and its audit events. */
async function observe(t: TestApp, app: Hono<AppEnv>, method: string, path: string, headers: Record<string, string>) {
  await t.audit.log.settle(); // what came before (warming the cache) is not this request's
  const before = t.audit.store.last()?.seq ?? 0;
  const res = await app.request(path, { method, headers });
  const body = await res.text();
  await t.audit.log.settle();
  const rows = [...t.audit.store.all()].filter((e) => e.seq > before);
  // the event names the request the answer names
  for (const r of rows) expect(r.requestId).toBe(res.headers.get("x-request-id"));
  return {
    status: res.status,
    headers: [...res.headers].filter(([k]) => k !== "x-request-id" && k !== "date"),
    body,
    events: rows.map(({ principal, role, action, collection, pseudonym, fields, outcome }) => ({ principal, role, action, collection, pseudonym, fields, outcome })),
  };
}

const httpSeries = async (app: Hono<AppEnv>, key: string) =>
  (await (await app.request("/metrics", { headers: { authorization: `Bearer ${key}` } })).text()).split("\n").filter((l) => /^privata_http_request(s_total|_duration_seconds_count)\{/.test(l));

describe("with API keys: every caller x every kind of read path, lane against chain", () => {
  let t: TestApp;
  let lane: Hono<AppEnv>, chain: Hono<AppEnv>, warm: Hono<AppEnv>;
  const key = new Map<Caller, string>();
  let cached: string, restricted: string, uncached: string, first: string;

  beforeAll(async () => {
    t = makeApp({ auth: true });
    lane = t.app;
    chain = twin(t, { auth: true, cachedLane: false });
    warm = twin(t, { auth: true, cachedLane: false }); // fills the cache, counted in neither's metrics
    for (const [caller, k] of keysPerRole(t.stores, NOW)) key.set(caller, k);
    const users = t.stores.model("users");
    const mk = (n: string) => users.create({ firstName: n, lastName: "Lane", email: `${n}@x.org`, diagnosis: "Asthma", medications: ["salbutamol"] }).id;
    [cached, restricted, uncached] = [mk("c"), mk("r"), mk("u")];
    first = [cached, uncached].sort()[0]!; // the first record of a list (the restricted one is left out)
    const res = await warm.request(`/api/users/${restricted}/restriction`, { method: "POST", headers: { authorization: `Bearer ${key.get("admin")}` } });
    expect(res.status).toBe(200);
  });
  afterAll(async () => {
    await t.close();
    removeDir(t.dataDir);
  });

  const headersOf = (c: Caller): Record<string, string> => {
    if (c === "none") return {};
    if (c === "malformed") return { authorization: "Bearer not a key at all" };
    if (c === "basic") return { authorization: `Basic ${key.get("admin")}` };
    return { authorization: `Bearer ${key.get(c)}` };
  };
  // the role whose view the cache should hold: the caller's own, or an admin's for the rest
  const warmer = (c: Caller): Caller => (c === "registrar" || c === "clinician" ? c : "admin");

  // `warm`: what is read first to fill the cache (by default the cached record); `then`: a
  // change after warming (a page left with a record to re-read)
  const PATHS: { name: string; method?: string; path: () => string; warm?: () => string | null; then?: () => void }[] = [
    { name: "cached", path: () => `/api/users/${cached}` },
    { name: "cached, id in capitals", path: () => `/api/users/${cached.toUpperCase()}` },
    { name: "cached, with a query", path: () => `/api/users/${cached}?x=1` },
    { name: "cached, trailing slash", path: () => `/api/users/${cached}/` },
    { name: "cached, a percent-encoded character", path: () => `/api/users/%${cached.charCodeAt(0).toString(16)}${cached.slice(1)}` },
    { name: "cached, HEAD", method: "HEAD", path: () => `/api/users/${cached}` },
    { name: "cached, another model's path", path: () => `/api/nobody/${cached}` },
    { name: "not cached", path: () => `/api/users/${uncached}`, warm: () => null },
    { name: "restricted", path: () => `/api/users/${restricted}` },
    { name: "no such record", path: () => "/api/users/01930000-0000-7000-8000-000000000000" },
    { name: "malformed id", path: () => "/api/users/not-an-id" },
    { name: "page, cached", path: () => "/api/users", warm: () => "/api/users" },
    { name: "page of 2, cached, with a next link", path: () => "/api/users?limit=2", warm: () => "/api/users?limit=2" },
    { name: "page after a cursor, cached", path: () => `/api/users?limit=1&cursor=${first}`, warm: () => `/api/users?limit=1&cursor=${first}` },
    { name: "page, cursor in capitals and first", path: () => `/api/users?cursor=${first.toUpperCase()}&limit=1`, warm: () => `/api/users?limit=1&cursor=${first}` },
    { name: "page, limit 0", path: () => "/api/users?limit=0", warm: () => "/api/users" },
    { name: "page, limit past the maximum", path: () => "/api/users?limit=501", warm: () => "/api/users?limit=500" },
    { name: "page, limit with a sign", path: () => "/api/users?limit=+2", warm: () => "/api/users?limit=2" },
    { name: "page, limit given twice", path: () => "/api/users?limit=2&limit=2", warm: () => "/api/users?limit=2" },
    { name: "page, percent-encoded limit", path: () => "/api/users?limit=%32", warm: () => "/api/users?limit=2" },
    { name: "page, malformed cursor", path: () => "/api/users?cursor=nope", warm: () => "/api/users" },
    { name: "page, a filter", path: () => "/api/users?lastName=Lane", warm: () => "/api/users?lastName=Lane" },
    { name: "page, an unknown parameter", path: () => "/api/users?x=1", warm: () => "/api/users" },
    { name: "page, an empty query", path: () => "/api/users?", warm: () => "/api/users" },
    { name: "page, not cached", path: () => "/api/users?limit=3", warm: () => "/api/users?limit=2" },
    { name: "page, a record to re-read", path: () => "/api/users", warm: () => "/api/users", then: () => t.cache.pages.changed(cached) },
  ];

  for (const p of PATHS) {
    test(`${p.name}: the same answer, event and counters from both`, async () => {
      for (const c of CALLERS) {
        const results = [];
        for (const app of [chain, lane]) {
          t.cache.delete(cached);
          t.cache.delete(uncached);
          t.cache.pages.removed();
          const w = p.warm ? p.warm() : `/api/users/${cached}`;
          if (w !== null) expect((await warm.request(w, { headers: headersOf(warmer(c)) })).status).toBe(200);
          p.then?.();
          results.push(await observe(t, app, p.method ?? "GET", p.path(), headersOf(c)));
        }
        const [viaChain, viaLane] = results;
        expect({ caller: c, ...viaLane }).toEqual({ caller: c, ...viaChain! });
      }
    });
  }

  test("the lane answered the cached reads: same metrics series and counts as the chain", async () => {
    expect((await warm.request(`/api/users/${cached}`, { headers: headersOf("admin") })).status).toBe(200);
    const ok = await observe(t, lane, "GET", `/api/users/${cached}`, headersOf("admin"));
    expect(ok.headers).toContainEqual(["x-cache-hit", "true"]);
    await observe(t, chain, "GET", `/api/users/${cached}`, headersOf("admin"));
    const [a, b] = [await httpSeries(lane, key.get("admin")!), await httpSeries(chain, key.get("admin")!)];
    expect(a.some((l) => l.includes('route="/api/users/:id",status="2xx"'))).toBe(true);
    expect(a).toEqual(b);
  });

  test("a trail that cannot take events: both answer 503 before any work", async () => {
    const bound = t.audit.log.maxBacklog;
    t.audit.log.maxBacklog = 0;
    try {
      const [viaChain, viaLane] = [await observe(t, chain, "GET", `/api/users/${cached}`, headersOf("admin")), await observe(t, lane, "GET", `/api/users/${cached}`, headersOf("admin"))];
      expect(viaChain.status).toBe(503);
      expect(viaLane).toEqual(viaChain);
    } finally {
      t.audit.log.maxBacklog = bound;
    }
  });

  // last: the failure is noted on the stores (/health)
  test("a key table that cannot be read: both answer the chain's 503, noted as a store failure", async () => {
    const version = t.stores.keys.version.bind(t.stores.keys);
    t.stores.keys.version = () => {
      throw Object.assign(new Error("disk I/O error"), { name: "SQLiteError" });
    };
    try {
      const results = [];
      for (const app of [chain, lane]) {
        await Bun.sleep(2); // past KEYS_RECHECK_MS: each app's Authenticator reads the table again
        results.push(await observe(t, app, "GET", `/api/users/${cached}`, headersOf("admin")));
      }
      const [viaChain, viaLane] = results;
      expect(viaChain!.status).toBe(503);
      expect(viaLane).toEqual(viaChain!);
    } finally {
      t.stores.keys.version = version;
    }
  });
});

describe("past a key's rate, and under --no-auth", () => {
  test("a key past its rate: 200, 200, then the chain's 429 from both", async () => {
    const t = makeApp({ auth: true, rateLimit: 1 }); // bursts of 2
    try {
      const k = generateKey();
      t.stores.keys.create("reader", "clinician", hashKey(k), NOW);
      const id = t.stores.model("users").create({ firstName: "R", lastName: "L", email: "r@x.org", diagnosis: "Flu" }).id;
      const headers = { authorization: `Bearer ${k}` };
      const chain = twin(t, { auth: true, cachedLane: false, rateLimit: 1 });
      // cached by a third app, so neither bucket pays for it
      expect((await twin(t, { auth: true, cachedLane: false }).request(`/api/users/${id}`, { headers })).status).toBe(200);
      const runs = [];
      for (const app of [chain, t.app]) {
        const run = [];
        for (let i = 0; i < 3; i++) run.push(await observe(t, app, "GET", `/api/users/${id}`, headers));
        runs.push(run);
      }
      expect(runs[0]!.map((r) => r.status)).toEqual([200, 200, 429]);
      expect(runs[1]).toEqual(runs[0]!);
    } finally {
      await t.close();
      removeDir(t.dataDir);
    }
  });

  test("--no-auth: the same answer and event (principal no-auth) from both", async () => {
    const t = makeApp();
    try {
      const id = t.stores.model("users").create({ firstName: "N", lastName: "A", email: "n@x.org" }).id;
      const chain = twin(t, { auth: false, cachedLane: false });
      expect((await chain.request(`/api/users/${id}`)).status).toBe(200);
      const [viaChain, viaLane] = [await observe(t, chain, "GET", `/api/users/${id}`, {}), await observe(t, t.app, "GET", `/api/users/${id}`, {})];
      expect(viaChain.events).toEqual([expect.objectContaining({ principal: "no-auth", role: "admin", action: "read", outcome: "ok" })]);
      expect(viaLane).toEqual(viaChain);
    } finally {
      await t.close();
      removeDir(t.dataDir);
    }
  });
});

describe("the lane itself: which requests it answers", () => {
  let t: TestApp;
  let id: string;
  const key = new Map<string, string>();
  const readWith = (opts: { path?: string; method?: string; key?: string | null; limiter?: RateLimiter }) => {
    const lane = cachedLane({ kits: MODELS.map((m) => new ModelKits(m)), cache: t.cache, auth: new Authenticator(t.stores.keys), limiter: opts.limiter ?? null, log: t.audit.log, metrics: new HttpMetrics(), headers: recordHeaders(new AnswerHeaders(false)) });
    const k = opts.key === undefined ? key.get("admin") : opts.key;
    return lane(new Request(`http://localhost${opts.path ?? `/api/users/${id}`}`, { method: opts.method ?? "GET", headers: k === null ? {} : { authorization: `Bearer ${k}` } }));
  };

  beforeAll(async () => {
    t = makeApp({ auth: true });
    for (const role of ROLES) {
      const k = generateKey();
      t.stores.keys.create(`l-${role}`, role, hashKey(k), NOW);
      key.set(role, k);
    }
    id = t.stores.model("users").create({ firstName: "L", lastName: "D", email: "l@x.org", diagnosis: "Flu" }).id;
    expect((await t.req("GET", `/api/users/${id}`, undefined, { authorization: `Bearer ${key.get("admin")}` })).status).toBe(200);
  });
  afterAll(async () => {
    await t.close();
    removeDir(t.dataDir);
  });

  test("a cached read by a reader of that view: answered, counted as a hit, its event queued", async () => {
    await t.audit.log.settle();
    const [hits, written] = [t.cache.hits, t.audit.log.written];
    const res = readWith({});
    expect(res?.status).toBe(200);
    expect(JSON.parse(await res!.text()).id).toBe(id);
    expect(t.cache.hits).toBe(hits + 1);
    await t.audit.log.settle();
    expect(t.audit.log.written).toBe(written + 1);
    expect(readWith({ key: key.get("clinician") })?.status).toBe(200);
  });

  test("a cached page: answered with its next link, counted as a page hit; with a record to re-read, left to the app", async () => {
    t.stores.model("users").create({ firstName: "M", lastName: "E", email: "m@x.org" }); // a second record: a next page
    const first = await t.req("GET", "/api/users?limit=1", undefined, { authorization: `Bearer ${key.get("admin")}` });
    expect(first.headers.get("x-cache-hit")).toBe("false");
    await first.arrayBuffer();
    const hits = t.cache.pages.hits;
    const res = readWith({ path: "/api/users?limit=1" });
    expect(res?.status).toBe(200);
    expect(res!.headers.get("link")).toMatch(/^<\/api\/users\?limit=1&cursor=[0-9a-f-]{36}>; rel="next"$/);
    expect(JSON.parse(await res!.text())).toHaveLength(1);
    expect(t.cache.pages.hits).toBe(hits + 1);
    t.cache.pages.changed(id);
    expect(readWith({ path: "/api/users?limit=1" })).toBeNull();
    expect(t.cache.pages.hits).toBe(hits + 1);
  });

  test("everything else goes to the app, with nothing counted, spent or recorded", () => {
    const { pages } = t.cache;
    const counters = () => [t.cache.hits, t.cache.misses, pages.hits, pages.misses, t.audit.log.backlog];
    const before = counters();
    const drained = new RateLimiter(1, 1);
    drained.take("l-admin");
    // a full bucket of 2 that no refused request may take from (refilling 1 a second: not within this test)
    const spare = new RateLimiter(1, 2);
    const read = (opts: Parameters<typeof readWith>[0]) => readWith({ limiter: spare, ...opts });
    const refused = [
      read({ key: null }),
      read({ key: "prv_" + "x".repeat(43) }),
      read({ key: key.get("researcher") }),
      read({ key: key.get("registrar") }), // the cache holds the full view; the registrar's is another
      read({ method: "HEAD" }),
      read({ method: "POST" }),
      read({ path: `/api/users/${id}?x=1` }),
      read({ path: `/api/users/${id}/` }),
      read({ path: `/api/users/${id}/restriction` }),
      read({ path: "/api/users/01930000-0000-7000-8000-000000000000" }),
      read({ path: `/api/other/${id}` }),
      read({ path: "/api/users" }), // a page not cached
      read({ path: "/api/users?lastName=D" }),
      read({ path: "/api/users?limit=7" }), // a page not cached
      read({ limiter: drained }),
    ];
    expect(refused).toEqual(refused.map(() => null));
    expect(counters()).toEqual(before);
    expect([spare.take("l-admin"), spare.take("l-admin")]).toEqual([0, 0]);
  });
});
