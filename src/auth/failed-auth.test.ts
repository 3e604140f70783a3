import { describe, expect, test } from "bun:test";
import { addressKey, ALL_ADDRESSES_FACTOR, FailedAuthLimiter } from "./failed-auth.ts";

describe("failed authentications per client address", () => {
  test("a burst, then one a second; another address has its own budget", () => {
    let now = 0;
    const lim = new FailedAuthLimiter(1, 3, 100, () => now);
    expect([1, 2, 3].map(() => lim.take("10.0.0.1").wait)).toEqual([0, 0, 0]);
    expect(lim.take("10.0.0.1").wait).toBeCloseTo(1); // over: wait a second
    expect(lim.take("10.0.0.2").wait).toBe(0);
    now = 1000;
    expect(lim.take("10.0.0.1").wait).toBe(0); // one token back after a second
    expect(lim.take("10.0.0.1").wait).toBeGreaterThan(0);
    now = 10_000;
    expect([1, 2, 3].map(() => lim.take("10.0.0.1").wait)).toEqual([0, 0, 0]); // refilled, never past the burst
    expect(lim.take("10.0.0.1").wait).toBeGreaterThan(0);
  });

  test("a recorded failure tells how many of its address's were answered 429 before it; a shared bucket tells none", () => {
    let now = 0;
    const lim = new FailedAuthLimiter(1, 2, 1, () => now);
    expect([lim.take("a"), lim.take("a")]).toEqual([{ wait: 0, suppressed: 0 }, { wait: 0, suppressed: 0 }]);
    for (let i = 0; i < 5; i++) expect(lim.take("a").wait).toBeGreaterThan(0);
    now = 1000; // one token back
    expect(lim.take("a")).toEqual({ wait: 0, suppressed: 5 });
    expect(lim.take("a").wait).toBeGreaterThan(0); // told once: this one is counted anew
    // the table is full ("a"): new addresses share the overflow bucket, whose 429s are nobody's own
    expect([lim.take("b"), lim.take("b")].map((r) => r.wait)).toEqual([0, 0]);
    for (let i = 0; i < 3; i++) expect(lim.take("b").wait).toBeGreaterThan(0);
    now = 2000;
    expect(lim.take("c")).toEqual({ wait: 0, suppressed: 0 });
    // an address whose bucket has refilled is forgotten when room is needed, with its count
    now = 60_000;
    expect(lim.take("d").wait).toBe(0);
    expect(lim.addresses).toBe(1); // "a" is gone; "d" shares the overflow bucket (the table holds one)
    expect(lim.take("a")).toEqual({ wait: 0, suppressed: 0 });
  });

  test("all addresses together have a budget too (a /48 holds 65 536 /64s)", () => {
    let now = 0;
    const lim = new FailedAuthLimiter(1, 2, 100_000, () => now);
    // 100 addresses' worth of bursts (ALL_ADDRESSES_FACTOR), then nobody new is recorded
    for (let i = 0; i < ALL_ADDRESSES_FACTOR; i++) expect([lim.take(`10.1.${i}.1`).wait, lim.take(`10.1.${i}.1`).wait]).toEqual([0, 0]);
    expect(lim.take("10.2.0.1").wait).toBeGreaterThan(0);
    now = 1000; // a second later: the budget of all of them refills at 100/s
    expect(lim.take("10.2.0.1").wait).toBe(0);
  });

  test("IPv6 counts by /64, an IPv4-mapped address as its IPv4 address", () => {
    expect(addressKey("192.0.2.7")).toBe("192.0.2.7");
    expect(addressKey("::ffff:192.0.2.7")).toBe("192.0.2.7");
    expect(addressKey("2001:db8:1:2::1")).toBe("2001:db8:1:2::/64");
    expect(addressKey("2001:db8:1:2:aaaa:bbbb:cccc:dddd")).toBe("2001:db8:1:2::/64");
    expect(addressKey("2001:0DB8:0001:0002:0:0:0:9")).toBe("2001:db8:1:2::/64");
    expect(addressKey("2001:db8::5")).toBe("2001:db8:0:0::/64");
    expect(addressKey("::1")).toBe("0:0:0:0::/64");
    expect(addressKey("fe80::1%eth0")).toBe("fe80:0:0:0::/64");
    let now = 0;
    const lim = new FailedAuthLimiter(1, 1, 100, () => now);
    expect(lim.take("2001:db8:1:2::1").wait).toBe(0);
    expect(lim.take("2001:db8:1:2::ffff").wait).toBeGreaterThan(0); // same /64, same bucket
    expect(lim.take("2001:db8:1:3::1").wait).toBe(0);
  });

  test("the table is bounded: refilled buckets make room, then new addresses share one bucket", () => {
    let now = 0;
    const lim = new FailedAuthLimiter(1, 2, 3, () => now);
    for (const a of ["a", "b", "c"]) lim.take(a).wait;
    expect(lim.addresses).toBe(3);
    // all three still spent: "d" and "e" land in the shared overflow bucket (burst 2)
    expect(lim.take("d").wait).toBe(0);
    expect(lim.take("e").wait).toBe(0);
    expect(lim.take("f").wait).toBeGreaterThan(0);
    expect(lim.addresses).toBe(4);
    // once the others have refilled they are forgotten, and a new address gets its own bucket again
    now = 5000;
    expect(lim.take("g").wait).toBe(0);
    expect(lim.take("g").wait).toBe(0);
    expect(lim.take("g").wait).toBeGreaterThan(0);
    expect(lim.addresses).toBeLessThanOrEqual(3);
  });
});
