import { describe, expect, test } from "bun:test";
import { PageCache, type PageParts } from "./page-cache.ts";
import { joinJsonArray } from "./json-array.ts";

const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** a page of records {id, v} after `cursor`, ending at its last id or, when `last`, the end */
function page(ids: string[], last = false, v = 0): PageParts {
  return { ids: [...ids], parts: ids.map((id) => enc({ id, v })), next: last ? null : (ids.at(-1) ?? null) };
}

function put(pc: PageCache, key: string, cursor: string | null, p: PageParts) {
  pc.set(key, cursor, p, joinJsonArray(p.parts));
}

const never = () => {
  throw new Error("a fresh page re-reads nothing");
};

describe("PageCache", () => {
  test("a stored page is served as stored, with its next cursor; an unknown key is a counted miss", () => {
    const pc = new PageCache(10, 1 << 20);
    put(pc, "k", "a0", page(["a1", "a2"]));
    const hit = pc.get("k", never)!;
    expect(JSON.parse(text(hit.bytes))).toEqual([{ id: "a1", v: 0 }, { id: "a2", v: 0 }]);
    expect(hit.next).toBe("a2");
    expect(pc.get("other", never)).toBeUndefined();
    expect([pc.hits, pc.misses]).toEqual([1, 1]);
  });

  test("changed(id) re-reads only that record, only in the pages whose range holds it", () => {
    const pc = new PageCache(10, 1 << 20);
    put(pc, "p1", null, page(["a1", "a2"]));
    put(pc, "p2", "a2", page(["a3", "a4"]));
    pc.changed("a3");
    const reads: string[] = [];
    const reread = (id: string) => (reads.push(id), enc({ id, v: 1 }));
    expect(JSON.parse(text(pc.get("p1", reread)!.bytes))).toEqual([{ id: "a1", v: 0 }, { id: "a2", v: 0 }]);
    expect(JSON.parse(text(pc.get("p2", reread)!.bytes))).toEqual([{ id: "a3", v: 1 }, { id: "a4", v: 0 }]);
    expect(reads).toEqual(["a3"]);
    // patched once: the next get re-reads nothing
    expect(pc.get("p2", never)).toBeDefined();
  });

  test("several changed records of one page, first and last among them, are re-read into the same bytes a fresh page has", () => {
    const pc = new PageCache(10, 1 << 20);
    const ids = ["a1", "a2", "a3", "a4", "a5"];
    put(pc, "p", null, page(ids, true));
    const v: Record<string, unknown> = {};
    for (const [id, value] of [["a1", "a much longer value"], ["a5", 1], ["a3", ""], ["a1", 2]] as const) {
      v[id] = value;
      pc.changed(id);
    }
    const reread = (id: string) => enc({ id, v: v[id] });
    const expected = ids.map((id) => ({ id, v: v[id] ?? 0 }));
    expect(JSON.parse(text(pc.get("p", reread)!.bytes))).toEqual(expected);
    expect(pc.bytes).toBe(joinJsonArray(expected.map(enc)).byteLength + 4 * ids.length);
    // and again after a second round of changes to the patched page
    v.a2 = "two";
    pc.changed("a2");
    expect(JSON.parse(text(pc.get("p", reread)!.bytes))).toEqual(ids.map((id) => ({ id, v: v[id] ?? 0 })));
  });

  test("a re-read that throws leaves the page as it was: the next get patches it from there", () => {
    const pc = new PageCache(10, 1 << 20);
    put(pc, "p", null, page(["a1", "a2", "a3"], true));
    pc.changed("a1");
    pc.changed("a3");
    const v1 = (id: string) => enc({ id, v: "longer " + id });
    expect(() =>
      pc.get("p", (id) => {
        if (id === "a3") throw new Error("store unavailable");
        return v1(id);
      }),
    ).toThrow("store unavailable");
    expect(JSON.parse(text(pc.get("p", v1)!.bytes))).toEqual([{ id: "a1", v: "longer a1" }, { id: "a2", v: 0 }, { id: "a3", v: "longer a3" }]);
  });

  test("a page is counted its joined size and 4 bytes a record", () => {
    const pc = new PageCache(10, 1 << 20);
    const p = page(["a1", "a2", "a3"]);
    put(pc, "p", null, p);
    expect(pc.bytes).toBe(joinJsonArray(p.parts).byteLength + 3 * 4);
    put(pc, "q", "a3", page([], true));
    expect([pc.size, pc.bytes]).toEqual([2, joinJsonArray(p.parts).byteLength + 3 * 4 + 2]);
    expect(text(pc.get("q", never)!.bytes)).toBe("[]");
  });

  test("a changed record that can no longer be read drops the page: a miss, not a stale answer", () => {
    const pc = new PageCache(10, 1 << 20);
    put(pc, "p", null, page(["a1", "a2"]));
    pc.changed("a2");
    expect(pc.get("p", () => undefined)).toBeUndefined();
    expect([pc.size, pc.indexed, pc.bytes]).toEqual([0, 0, 0]);
  });

  test("a change inside a page's range to an id it does not hold (a restricted record) drops it", () => {
    const pc = new PageCache(10, 1 << 20);
    put(pc, "p", null, page(["a1", "a3"]));
    pc.changed("a2");
    expect(pc.get("p", (id) => enc({ id }))).toBeUndefined();
  });

  test("added(id) drops the pages it falls in, the last page for any id after its cursor", () => {
    const pc = new PageCache(10, 1 << 20);
    put(pc, "full", null, page(["a1", "a2"]));
    put(pc, "last", "a2", page(["a3"], true));
    pc.added("a9");
    expect(pc.get("full", never)).toBeDefined();
    expect(pc.get("last", never)).toBeUndefined();
    pc.added("a15"); // between a1 and a2 in string order
    expect(pc.get("full", never)).toBeUndefined();
  });

  test("removed() drops every page", () => {
    const pc = new PageCache(10, 1 << 20);
    put(pc, "p1", null, page(["a1"]));
    put(pc, "p2", "a1", page(["a2"], true));
    pc.removed();
    expect([pc.size, pc.indexed, pc.bytes]).toEqual([0, 0, 0]);
    expect(pc.get("p1", never)).toBeUndefined();
  });

  test("a page updated again and again without being read is dropped, not given a growing list", () => {
    const pc = new PageCache(10, 1 << 20);
    put(pc, "p", null, page(["a1", "a2"]));
    for (let i = 0; i < 3; i++) pc.changed("a1");
    expect(pc.size).toBe(0);
  });

  test("bounded by pages and by bytes (the joined size and 4 bytes a record for its end), oldest first", () => {
    const one = joinJsonArray(page(["a1"]).parts).byteLength + 4;
    const byCount = new PageCache(2, 1 << 20);
    for (const k of ["x", "y", "z"]) put(byCount, k, k, page([`${k}1`]));
    expect(byCount.get("x", never)).toBeUndefined();
    expect(byCount.get("z", never)).toBeDefined();
    const byBytes = new PageCache(100, 2 * one + 1);
    for (const k of ["x", "y", "z"]) put(byBytes, k, k, page([`${k}1`]));
    expect(byBytes.size).toBe(2);
    expect(byBytes.bytes).toBeLessThanOrEqual(byBytes.maxBytes);
    expect(byBytes.get("x", never)).toBeUndefined();
    // an evicted page is out of the range index too
    expect([byCount.indexed, byBytes.indexed]).toEqual([byCount.size, byBytes.size]);
  });

  test("eviction passes over pages served since it last passed them (a walk does not push out hot pages)", () => {
    const pc = new PageCache(3, 1 << 20);
    for (const k of ["hot", "b", "c"]) put(pc, k, k, page([`${k}1`]));
    expect(pc.get("hot", never)).toBeDefined();
    put(pc, "d", "d", page(["d1"])); // evicts b, the oldest not served
    expect([pc.get("b", never), pc.get("hot", never)].map((x) => x !== undefined)).toEqual([false, true]);
    put(pc, "e", "e", page(["e1"])); // hot was served again: c goes
    expect(pc.get("c", never)).toBeUndefined();
    expect(pc.get("hot", never)).toBeDefined();
    expect([pc.size, pc.indexed]).toEqual([3, 3]); // evicted pages left the range index too
  });

  test("a patched hit is counted as such; a page that grows past the byte bound is dropped", () => {
    const one = joinJsonArray(page(["a1"]).parts).byteLength + 4;
    const pc = new PageCache(10, one + 8);
    put(pc, "p", null, page(["a1"]));
    pc.changed("a1");
    expect(pc.get("p", (id) => enc({ id, v: 1 }))).toBeDefined();
    expect([pc.hits, pc.patched]).toEqual([1, 1]);
    pc.changed("a1");
    expect(pc.get("p", (id) => enc({ id, v: "a much longer value than before" }))).toBeUndefined();
    expect([pc.size, pc.indexed, pc.bytes, pc.patched, pc.misses]).toEqual([0, 0, 0, 1, 1]);
  });

  test("a cache of capacity 0 keeps nothing", () => {
    const pc = new PageCache(0, 1 << 20);
    put(pc, "p", null, page(["a1"]));
    expect(pc.size).toBe(0);
  });

  test("setting a key again replaces its page and its range", () => {
    const pc = new PageCache(10, 1 << 20);
    put(pc, "p", null, page(["a1", "a2"]));
    put(pc, "p", "a3", page(["a4", "a5"], false, 2));
    expect([pc.size, pc.indexed]).toEqual([1, 1]);
    pc.added("a2"); // in the old range only
    expect(JSON.parse(text(pc.get("p", never)!.bytes))).toEqual([{ id: "a4", v: 2 }, { id: "a5", v: 2 }]);
    pc.added("a45"); // in the new one
    expect(pc.get("p", never)).toBeUndefined();
  });
});
