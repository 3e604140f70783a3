import { describe, expect, test } from "bun:test";
import { RangeIndex, TOP, type Range } from "./range-index.ts";

/** a small deterministic PRNG, so a failure can be replayed */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0) / 2 ** 32);
}

const id = (n: number) => n.toString(16).padStart(4, "0");
type R = Range & { n: number };

describe("RangeIndex", () => {
  test("holding(id) is the ranges with lo < id ≤ hi: the lo end is open, the hi end closed", () => {
    const ix = new RangeIndex<R>();
    const a = { lo: "", hi: "0010", n: 1 };
    const b = { lo: "0010", hi: "0020", n: 2 };
    const c = { lo: "0015", hi: TOP, n: 3 };
    for (const r of [c, a, b]) ix.add(r);
    const at = (s: string) => ix.holding(s).map((r) => r.n).sort();
    expect(at("0001")).toEqual([1]);
    expect(at("0010")).toEqual([1]);
    expect(at("0011")).toEqual([2]);
    expect(at("0015")).toEqual([2]);
    expect(at("0016")).toEqual([2, 3]);
    expect(at("0021")).toEqual([3]);
    expect(at("ffff-anything")).toEqual([3]);
    ix.remove(b);
    expect(at("0016")).toEqual([3]);
    expect(ix.size).toBe(2);
  });

  test("a long range early in the order is found past many short ones after it", () => {
    // the reach (largest hi so far) must carry the long range over the short ones
    const ix = new RangeIndex<R>();
    ix.add({ lo: "0000", hi: "0900", n: 0 });
    for (let i = 1; i < 50; i++) ix.add({ lo: id(i * 10), hi: id(i * 10 + 5), n: i });
    expect(ix.holding("0800").map((r) => r.n)).toEqual([0]);
    expect(ix.holding("0901")).toEqual([]);
  });

  test("removing one of several ranges with the same lo removes exactly that one", () => {
    const ix = new RangeIndex<R>();
    const rs = [1, 2, 3].map((n) => ({ lo: "0005", hi: id(n * 10), n }));
    for (const r of rs) ix.add(r);
    ix.remove(rs[1]!);
    expect(ix.holding("0006").map((r) => r.n).sort()).toEqual([1, 3]);
    ix.remove(rs[1]!); // not held any more: no change
    expect(ix.size).toBe(2);
  });

  test("under random adds and removes it answers exactly what a scan of all ranges answers", () => {
    const r = rng(7);
    const ix = new RangeIndex<R>();
    const live: R[] = [];
    for (let step = 0; step < 4000; step++) {
      const roll = r();
      if (roll < 0.45 || live.length === 0) {
        const lo = r() < 0.1 ? "" : id(Math.floor(r() * 1000));
        const hi = r() < 0.1 ? TOP : id(Math.floor(r() * 1000));
        const range = { lo, hi: hi > lo ? hi : TOP, n: step };
        ix.add(range);
        live.push(range);
      } else if (roll < 0.7) {
        const [gone] = live.splice(Math.floor(r() * live.length), 1);
        ix.remove(gone!);
      } else {
        const q = id(Math.floor(r() * 1000));
        const want = live.filter((x) => x.lo < q && q <= x.hi).map((x) => x.n).sort((p, s) => p - s);
        expect(ix.holding(q).map((x) => x.n).sort((p, s) => p - s)).toEqual(want);
      }
      expect(ix.size).toBe(live.length);
    }
  });

  test("clear empties it", () => {
    const ix = new RangeIndex<R>();
    ix.add({ lo: "", hi: TOP, n: 1 });
    ix.clear();
    expect(ix.size).toBe(0);
    expect(ix.holding("0001")).toEqual([]);
  });
});
