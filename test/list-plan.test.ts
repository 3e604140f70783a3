// Cross-store list filters: both join plans (from the clinical index, or walking identity in
// id order) must give exactly what a filter over all records would, page after page.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { makeApp, removeDir, type TestApp } from "./helpers.ts";

type Rec = { id: string; lastName: string; accountType: string; diagnosis: string | null };
let t: TestApp;
const all: Rec[] = [];

beforeAll(async () => {
  t = makeApp();
  for (let i = 0; i < 300; i++) {
    // 60% "Common", 2 "Rare", the rest spread; accountType alternates; lastName in 3 groups
    // the last 50 are "Late": few enough for a walk to be planned, but clustered at the end
    const diagnosis = i >= 250 ? "Late" : i % 5 < 3 ? "Common" : i === 17 || i === 201 ? "Rare" : i % 7 === 0 ? null : `Other${i % 4}`;
    const body = { firstName: "F", lastName: `L${i % 3}`, email: `p${i}@example.org`, accountType: i % 2 ? "premium" : "standard", diagnosis };
    const res = await t.req("POST", "/api/users", body);
    all.push((await res.json()) as Rec);
  }
});
afterAll(() => {
  t.close();
  removeDir(t.dataDir);
});

/** Follow Link headers to the end; return every id in order. */
async function walk(query: string): Promise<string[]> {
  const ids: string[] = [];
  let path: string | null = `/api/users?${query}`;
  for (let pages = 0; path && pages < 1000; pages++) {
    const res: Response = await t.req("GET", path);
    expect(res.status).toBe(200);
    ids.push(...((await res.json()) as Rec[]).map((r) => r.id));
    path = res.headers.get("Link")?.match(/^<([^>]+)>; rel="next"$/)?.[1] ?? null;
  }
  return ids;
}

const cases: [string, (r: Rec) => boolean][] = [
  ["diagnosis=Common", (r) => r.diagnosis === "Common"], // many matches, spread: walks identity order
  ["diagnosis=Rare", (r) => r.diagnosis === "Rare"], // few matches: from the clinical index
  ["diagnosis=Other1&accountType=premium", (r) => r.diagnosis === "Other1" && r.accountType === "premium"],
  ["diagnosis=Common&lastName=L2&accountType=standard", (r) => r.diagnosis === "Common" && r.lastName === "L2" && r.accountType === "standard"],
  ["diagnosis=Nobody", () => false],
  ["diagnosis=Late", (r) => r.diagnosis === "Late"], // walk runs out of budget, index plan finishes
  ["diagnosis=Late&accountType=premium", (r) => r.diagnosis === "Late" && r.accountType === "premium"],
];

describe("cross-store filters page exactly like a filter over all records", () => {
  for (const [query, pred] of cases) {
    for (const limit of [1, 7, 50, 500]) {
      test(`${query} limit=${limit}`, async () => {
        const expected = all.filter(pred).map((r) => r.id).sort();
        const got = await walk(`${query}&limit=${limit}`);
        expect(got).toEqual(expected);
      });
    }
  }

  test("a cursor in the middle continues after it", async () => {
    const expected = all.filter((r) => r.diagnosis === "Common").map((r) => r.id).sort();
    const cursor = expected[40]!;
    expect(await walk(`diagnosis=Common&limit=25&cursor=${cursor}`)).toEqual(expected.slice(41));
  });
});

describe("a cross-store page with cache misses", () => {
  test("is served from the rows read to filter it, never by reading each record again", async () => {
    t.cache.clear();
    const records = t.stores.records.get("users")!;
    const get = records.get.bind(records);
    let reads = 0;
    records.get = (id: string) => (reads++, get(id)); // count second reads of both stores
    try {
      const res = await t.req("GET", "/api/users?diagnosis=Common&limit=50");
      const page = (await res.json()) as Rec[];
      expect(page.map((r) => r.id)).toEqual(all.filter((r) => r.diagnosis === "Common").map((r) => r.id).sort().slice(0, 50));
      expect(page[0]).toEqual(all.find((r) => r.id === page[0]!.id)!);
      expect(t.cache.stats().pageMisses).toBeGreaterThanOrEqual(50);
      expect(reads).toBe(0);
    } finally {
      records.get = get;
    }
  });
});
