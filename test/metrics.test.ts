// GET /metrics: valid text format 0.0.4, exact counts per route pattern and status class,
// histograms that add up, gauges that agree with /stats, and never a value or id of a record.
import { describe, test, expect, afterAll } from "bun:test";
import { Database } from "bun:sqlite";
import { join } from "node:path";
import { HttpMetrics } from "../src/metrics/http.ts";
import { distinctBody, makeApp, removeDir, type TestApp } from "./helpers.ts";

type Labels = Record<string, string>;
type Sample = { name: string; labels: Labels; value: number };

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)/y;
const SUFFIXES: Record<string, string[]> = { histogram: ["_bucket", "_sum", "_count"], counter: [""], gauge: [""] };

/** Parses the exposition strictly: fails the test on any line that is not well-formed. */
function parse(text: string): { samples: Sample[]; types: Map<string, string> } {
  expect(text.endsWith("\n")).toBe(true);
  const helps = new Set<string>();
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.slice(0, -1).split("\n")) {
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$/.exec(line);
    if (meta) {
      const [, kind, name, rest] = meta as unknown as [string, string, string, string];
      if (kind === "HELP") {
        expect(helps.has(name)).toBe(false);
        helps.add(name);
      } else {
        expect(types.has(name)).toBe(false);
        expect(["counter", "gauge", "histogram"]).toContain(rest);
        types.set(name, rest);
      }
      continue;
    }
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels: Labels = {};
    const body = m[2] ?? "";
    LABEL.lastIndex = 0;
    while (LABEL.lastIndex < body.length) {
      const l = LABEL.exec(body);
      if (!l) throw new Error(`bad labels: ${line}`);
      labels[l[1]!] = l[2]!;
    }
    const value = m[3] === "+Inf" ? Infinity : Number(m[3]);
    expect(Number.isNaN(value)).toBe(false);
    samples.push({ name: m[1]!, labels, value });
  }
  // every sample belongs to a family declared (HELP and TYPE) before it
  for (const s of samples) {
    const family = [...types].find(([f, type]) => SUFFIXES[type]!.some((x) => s.name === f + x));
    expect(family).toBeDefined();
    expect(helps.has(family![0])).toBe(true);
  }
  return { samples, types };
}

const matches = (s: Sample, name: string, labels: Labels) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v);
function value(samples: Sample[], name: string, labels: Labels = {}): number {
  return samples.filter((s) => matches(s, name, labels)).reduce((n, s) => n + s.value, 0);
}

const apps: TestApp[] = [];
afterAll(() => apps.forEach((t) => (t.close(), removeDir(t.dataDir))));

async function scrape(t: TestApp): Promise<{ text: string; samples: Sample[] }> {
  const res = await t.req("GET", "/metrics");
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
  expect(res.headers.get("cache-control")).toBe("no-store");
  const text = await res.text();
  return { text, samples: parse(text).samples };
}

const REQS = "privata_http_requests_total";
const DUR = "privata_http_request_duration_seconds";

describe("GET /metrics", () => {
  const t = makeApp();
  apps.push(t);
  const bodies = [distinctBody("met1"), distinctBody("met2"), distinctBody("met3")];
  const ids: string[] = [];

  test("counts each request once under its route pattern and status class", async () => {
    const before = (await scrape(t)).samples;
    const delta = (after: Sample[], labels: Labels) => value(after, REQS, labels) - value(before, REQS, labels);

    for (const b of bodies) {
      const res = await t.req("POST", "/api/users", b);
      expect(res.status).toBe(201);
      ids.push(((await res.json()) as { id: string }).id);
    }
    for (const id of ids) expect((await t.req("GET", `/api/users/${id}`)).status).toBe(200);
    expect((await t.req("GET", "/api/users/01900000-0000-7000-8000-000000000000")).status).toBe(404);
    expect((await t.req("POST", "/api/users", { bogus: 1 })).status).toBe(400);
    expect((await t.req("GET", "/no/such/path/here")).status).toBe(404);
    expect((await t.req("DELETE", "/metrics")).status).toBe(405);
    // an error that reaches onError is counted with the status onError answered
    const users = t.stores.model("users");
    const read = users.read;
    users.read = () => { throw Object.assign(new Error("simulated"), { name: "SQLiteError" }); };
    try {
      t.cache.clear();
      expect((await t.req("GET", `/api/users/${ids[0]}`)).status).toBe(503);
    } finally {
      users.read = read;
    }

    const after = (await scrape(t)).samples;
    expect(delta(after, { method: "POST", route: "/api/users", status: "2xx" })).toBe(3);
    expect(delta(after, { method: "GET", route: "/api/users/:id", status: "2xx" })).toBe(3);
    expect(delta(after, { method: "GET", route: "/api/users/:id", status: "4xx" })).toBe(1);
    expect(delta(after, { method: "POST", route: "/api/users", status: "4xx" })).toBe(1);
    expect(delta(after, { method: "GET", route: "unmatched", status: "4xx" })).toBe(1);
    expect(delta(after, { method: "DELETE", route: "/metrics", status: "4xx" })).toBe(1);
    expect(delta(after, { method: "GET", route: "/api/users/:id", status: "5xx" })).toBe(1);
    // the first scrape itself, and nothing else
    expect(delta(after, {})).toBe(3 + 3 + 1 + 1 + 1 + 1 + 1 + 1);
    // only route patterns: no raw path was ever used as a label
    for (const s of after) if (s.labels.route !== undefined) expect(s.labels.route === "unmatched" || /^\/[a-z/:]*$/.test(s.labels.route)).toBe(true);
  });

  test("histograms are cumulative, +Inf equals _count, _sum is positive", async () => {
    const { samples } = await scrape(t);
    const series = samples.filter((s) => s.name === `${DUR}_count`);
    expect(series.length).toBeGreaterThan(5);
    for (const c of series) {
      const { le: _, ...labels } = c.labels;
      const buckets = samples.filter((s) => matches(s, `${DUR}_bucket`, labels) && Object.keys(s.labels).length === 4);
      expect(buckets.map((b) => b.labels.le)).toEqual(["0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf"]);
      for (let i = 1; i < buckets.length; i++) expect(buckets[i]!.value).toBeGreaterThanOrEqual(buckets[i - 1]!.value);
      expect(buckets.at(-1)!.value).toBe(c.value);
      expect(c.value).toBe(value(samples, REQS, labels));
      expect(value(samples, `${DUR}_sum`, labels)).toBeGreaterThan(0);
    }
  });

  test("page cache counters and gauge agree with /stats, and move with list pages", async () => {
    const before = (await scrape(t)).samples;
    for (let i = 0; i < 3; i++) expect((await t.req("GET", "/api/users?limit=2")).status).toBe(200);
    const stats = (await (await t.req("GET", "/stats")).json()) as { cache: { pages: Record<string, number> } };
    const { samples } = await scrape(t);
    expect(value(samples, "privata_page_cache_hits_total")).toBe(stats.cache.pages.hits!);
    expect(value(samples, "privata_page_cache_misses_total")).toBe(stats.cache.pages.misses!);
    expect(value(samples, "privata_page_cache_pages")).toBe(stats.cache.pages.size!);
    expect(value(samples, "privata_page_cache_bytes")).toBe(stats.cache.pages.bytes!);
    expect(value(samples, "privata_page_cache_capacity_bytes")).toBe(stats.cache.pages.maxBytes!);
    // the first of the three was built (unless an earlier test cached it), the others hit
    expect(value(samples, "privata_page_cache_hits_total") - value(before, "privata_page_cache_hits_total")).toBeGreaterThanOrEqual(2);
    expect(value(samples, "privata_page_cache_pages")).toBeGreaterThanOrEqual(1);
  });

  test("cache and record gauges agree with /stats; WAL and process gauges are sane", async () => {
    await t.req("DELETE", `/api/users/${ids[2]}?gdprCompliant=true`);
    const stats = (await (await t.req("GET", "/stats")).json()) as { cache: Record<string, number>; database: Record<string, number> };
    const { samples } = await scrape(t);
    expect(value(samples, "privata_cache_hits_total")).toBe(stats.cache.hits!);
    expect(value(samples, "privata_cache_misses_total")).toBe(stats.cache.misses!);
    expect(value(samples, "privata_cache_entries")).toBe(stats.cache.size!);
    expect(value(samples, "privata_cache_capacity_entries")).toBe(stats.cache.capacity!);
    expect(value(samples, "privata_records", { model: "users", store: "identity" })).toBe(2);
    expect(value(samples, "privata_records", { model: "users", store: "clinical" })).toBe(3);
    expect(value(samples, "privata_records_deidentified", { model: "users" })).toBe(1);
    expect(stats.database).toMatchObject({ identity: 2, clinical: 3, deidentified: 1 });
    for (const store of ["identity", "clinical"]) {
      const wal = samples.filter((s) => matches(s, "privata_wal_bytes", { store }));
      expect(wal.length).toBe(1);
      expect(Number.isInteger(wal[0]!.value) && wal[0]!.value >= 0).toBe(true);
    }
    await t.audit.log.settle();
    const audited = await scrape(t);
    const inFile = t.audit.store.db.query<{ n: number }, []>("SELECT count(*) AS n FROM events").get()!.n;
    expect(inFile).toBeGreaterThan(0);
    expect(value(audited.samples, "privata_audit_backlog_events")).toBe(0);
    expect(value(audited.samples, "privata_audit_written_total")).toBe(inFile);
    // events appended and not yet written show as backlog: another connection holds audit.db's
    // write lock, so they stay queued however long the scrape takes
    const holder = new Database(join(t.dataDir, "audit.db"));
    holder.run("BEGIN IMMEDIATE");
    for (let i = 0; i < 3; i++) t.audit.log.append({ time: Date.now(), principal: "test", role: "admin", action: "read", collection: null, pseudonym: null, fields: [], outcome: "ok", requestId: null });
    t.audit.log.flush();
    expect(value((await scrape(t)).samples, "privata_audit_backlog_events")).toBe(3);
    holder.run("ROLLBACK");
    holder.close();
    await t.audit.log.settle();
    expect(t.audit.log.backlog).toBe(0);
    expect(value(samples, "process_resident_memory_bytes")).toBeGreaterThan(1 << 20);
    expect(value(samples, "privata_uptime_seconds")).toBeGreaterThanOrEqual(0);
  });

  test("no record value and no record id ever appears", async () => {
    const { text } = await scrape(t);
    const values = bodies.flatMap((b) => Object.values(b).flat() as string[]);
    expect(values.length).toBe(21);
    for (const v of [...values, ...ids]) expect(text).not.toContain(v);
    // nor any uuid-shaped or email-shaped string
    expect(text).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-/);
    expect(text).not.toContain("@");
  });

  test("HEAD answers like GET; other methods get 405 with Allow", async () => {
    const head = await t.req("HEAD", "/metrics");
    expect(head.status).toBe(200);
    expect(head.headers.get("content-type")).toStartWith("text/plain; version=0.0.4");
    const post = await t.req("POST", "/metrics");
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD");
    expect(((await post.json()) as { error: { code: string } }).error.code).toBe("method_not_allowed");
  });
});

test("unusual methods share one label value, and label values are escaped", () => {
  // Bun's Request turns unknown methods into GET, so this is checked on the recorder itself.
  const m = new HttpMetrics();
  m.record("BREW", "/a", 200, 0.001);
  m.record("PROPFIND", "/a", 201, 0.001);
  m.record("GET", 'x"\\y', 503, 3);
  const { samples } = parse(m.render());
  expect(value(samples, REQS, { method: "OTHER", route: "/a", status: "2xx" })).toBe(2);
  expect(value(samples, REQS, { route: 'x\\"\\\\y', status: "5xx" })).toBe(1);
  expect(value(samples, `${DUR}_bucket`, { route: "/a", le: "0.001" })).toBe(2);
  expect(value(samples, `${DUR}_bucket`, { status: "5xx", le: "2.5" })).toBe(0);
  expect(value(samples, `${DUR}_bucket`, { status: "5xx", le: "+Inf" })).toBe(1);
});
