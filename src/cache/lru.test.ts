import { describe, expect, test } from "bun:test";
import { LruCache } from "./lru.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

describe("LruCache", () => {
  test("counts every lookup exactly once, as a hit or a miss", () => {
    const c = new LruCache(10);
    expect(c.lookup("a")).toBeUndefined();
    c.set("a", bytes("1"));
    expect(c.lookup("a")).toEqual(bytes("1"));
    expect(c.lookup("a")).toEqual(bytes("1"));
    expect(c.lookup("b")).toBeUndefined();
    expect(c.stats()).toMatchObject({ hits: 2, misses: 2, hitRate: 0.5, size: 1, capacity: 10, bytes: 1 });
  });

  test("an entry answers only lookups from its own collection", () => {
    const c = new LruCache(10);
    c.set("id-1", bytes("users"), "users");
    expect(c.lookup("id-1", "notes")).toBeUndefined();
    expect(c.lookupForPage("id-1", "notes")).toBeUndefined();
    expect(c.lookup("id-1", "users")).toEqual(bytes("users"));
    // the same id in another collection replaces the entry: a miss for the first, never its bytes
    c.set("id-1", bytes("notes"), "notes");
    expect(c.lookup("id-1", "users")).toBeUndefined();
    expect(c.lookup("id-1", "notes")).toEqual(bytes("notes"));
    expect(c.stats()).toMatchObject({ hits: 2, misses: 2, pageMisses: 1, size: 1, bytes: 5 });
  });

  test("is bounded and evicts the least recently used entry", () => {
    const c = new LruCache(2);
    c.set("a", bytes("a"));
    c.set("b", bytes("b"));
    c.lookup("a"); // a is now more recent than b
    c.set("c", bytes("c"));
    expect(c.size).toBe(2);
    expect(c.lookup("b")).toBeUndefined();
    expect(c.lookup("a")).toEqual(bytes("a"));
    expect(c.lookup("c")).toEqual(bytes("c"));
  });

  test("never grows past its capacity", () => {
    const c = new LruCache(100);
    for (let i = 0; i < 1000; i++) c.set(`k${i}`, bytes(String(i)));
    expect(c.size).toBe(100);
    expect(c.lookup("k999")).toEqual(bytes("999"));
    expect(c.lookup("k0")).toBeUndefined();
  });

  test("is bounded by bytes too, and keeps its byte count exact", () => {
    const c = new LruCache(100, 10);
    c.set("a", bytes("aaaa"));
    c.set("b", bytes("bbbb"));
    expect(c.bytes).toBe(8);
    c.set("c", bytes("cccc")); // 12 > 10: the oldest goes
    expect(c.bytes).toBe(8);
    expect(c.lookup("a")).toBeUndefined();
    c.set("b", bytes("bb")); // replacing an entry adjusts the count
    expect(c.bytes).toBe(6);
    c.set("huge", bytes("x".repeat(11))); // larger than the whole budget: not cached
    expect(c.lookup("huge")).toBeUndefined();
    expect(c.bytes).toBe(6);
    c.delete("b");
    c.delete("c");
    expect(c.bytes).toBe(0);
  });

  test("capacity 0 disables caching", () => {
    const c = new LruCache(0);
    c.set("a", bytes("a"));
    expect(c.size).toBe(0);
    expect(c.lookup("a")).toBeUndefined();
  });

  test("delete, clear and resetCounters", () => {
    const c = new LruCache(5);
    c.set("a", bytes("a"));
    c.set("b", bytes("b"));
    c.delete("a");
    expect(c.lookup("a")).toBeUndefined();
    c.clear();
    expect(c.size).toBe(0);
    c.resetCounters();
    expect(c.stats().hits + c.stats().misses).toBe(0);
  });
  test("page lookups refresh recency but are counted apart from reads", () => {
    const c = new LruCache(2);
    c.set("a", bytes("a"));
    c.set("b", bytes("b"));
    expect(c.lookupForPage("a")).toEqual(bytes("a"));
    expect(c.lookupForPage("x")).toBeUndefined();
    c.set("c", bytes("c")); // evicts b: a was refreshed by the page lookup
    expect(c.lookup("b")).toBeUndefined();
    expect(c.stats()).toMatchObject({ hits: 0, misses: 1, pageHits: 1, pageMisses: 1 });
    c.resetCounters();
    expect(c.stats()).toMatchObject({ hits: 0, misses: 0, pageHits: 0, pageMisses: 0 });
  });
  test("a hit keeps an entry for at least half the capacity of further insertions", () => {
    const cap = 100;
    for (const hitAt of [0, 10, 49, 50, 51, 99]) {
      const c = new LruCache(cap);
      for (let i = 0; i < cap; i++) c.set(`k${i}`, bytes(String(i)));
      // k{hitAt} is the (hitAt+1)-th oldest entry when it is hit
      expect(c.lookup(`k${hitAt}`)).toEqual(bytes(String(hitAt)));
      for (let i = 0; i < cap / 2; i++) c.set(`new${i}`, bytes("x"));
      expect(c.lookup(`k${hitAt}`)).toEqual(bytes(String(hitAt)));
      expect(c.size).toBe(cap);
    }
  });

  test("eviction passes over entries hit since it last passed them, oldest unhit first", () => {
    const c = new LruCache(4);
    for (let i = 0; i < 4; i++) c.set(`k${i}`, bytes(String(i)));
    c.lookup("k0");
    c.lookupForPage("k2");
    c.set("n1", bytes("n1")); // k0 is passed over (hit), k1 goes
    c.set("n2", bytes("n2")); // k2 is passed over (hit), k3 goes
    expect([..."0123"].map((i) => c.lookupForPage(`k${i}`) !== undefined)).toEqual([true, false, true, false]);
    expect(c.size).toBe(4);
  });

  test("a new entry is kept even when every older one was hit", () => {
    const c = new LruCache(3);
    for (const k of ["a", "b", "c"]) c.set(k, bytes(k));
    for (const k of ["a", "b", "c"]) c.lookup(k);
    c.set("d", bytes("d"));
    expect(c.lookup("d")).toEqual(bytes("d"));
    expect(c.size).toBe(3);
  });

  test("one insertion gives at most 16 second chances, however many entries were hit", () => {
    const c = new LruCache(100);
    for (let i = 0; i < 100; i++) c.set(`k${i}`, bytes(String(i)));
    for (let i = 0; i < 100; i++) c.lookupForPage(`k${i}`);
    c.set("new", bytes("new"));
    // k0..k15 were moved to the young end; k16, the oldest left, went although it was hit
    expect(c.lookupForPage("k16")).toBeUndefined();
    for (const k of ["k0", "k15", "k17", "k99", "new"]) expect(c.lookupForPage(k)).toBeDefined();
    expect(c.size).toBe(100);
  });

  test("without hits, eviction is strictly oldest first", () => {
    const c = new LruCache(10);
    for (let i = 0; i < 25; i++) c.set(`k${i}`, bytes(String(i)));
    for (let i = 0; i < 15; i++) expect(c.lookupForPage(`k${i}`)).toBeUndefined();
    for (let i = 15; i < 25; i++) expect(c.lookupForPage(`k${i}`)).toEqual(bytes(String(i)));
  });
  test("under random churn a hit is always exactly the bytes last set for its key, within both bounds", () => {
    let seed = 42;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    // small byte caps wrap the slab; the last case grows it from 1 MiB (keys x sizes > 1 MiB)
    for (const [cap, maxBytes, keys] of [[50, 4096, 300], [1000, 8192, 300], [20, 1 << 20, 300], [5000, 200_000, 300], [10_000, 8 << 20, 6000]] as const) {
      const c = new LruCache(cap, maxBytes);
      const truth = new Map<string, string>();
      for (let op = 0; op < 20_000; op++) {
        const key = `k${Math.floor(rnd() * keys)}`;
        const r = rnd();
        if (r < (keys > 1000 ? 0.8 : 0.45)) {
          const v = `${key}:${op}:`.padEnd(1 + Math.floor(rnd() * 600), "x");
          c.set(key, bytes(v));
          truth.set(key, v);
        } else if (r < 0.55) {
          c.delete(key);
          truth.delete(key);
        } else {
          const got = r < 0.8 ? c.lookup(key) : c.lookupForPage(key);
          if (got !== undefined) expect(new TextDecoder().decode(got)).toBe(truth.get(key)!);
        }
        expect(c.size).toBeLessThanOrEqual(cap);
        expect(c.bytes).toBeLessThanOrEqual(maxBytes);
      }
      // the byte count is exact: the sum of what is still there
      let sum = 0;
      for (const [k, v] of truth) if (c.lookupForPage(k) !== undefined) sum += bytes(v).byteLength;
      expect(c.bytes).toBe(sum);
    }
  });

});
