import { expect, test } from "bun:test";
import { RateLimiter } from "./rate-limit.ts";

test("a bucket per principal: a burst, then the rate; others are not affected", () => {
  let now = 0;
  const r = new RateLimiter(10, 3, () => now);
  expect([r.take("a"), r.take("a"), r.take("a")]).toEqual([0, 0, 0]);
  expect(r.take("a")).toBeCloseTo(0.1, 5); // one token comes back in 100 ms
  expect(r.take("b")).toBe(0);
  now += 100;
  expect(r.take("a")).toBe(0);
  expect(r.take("a")).toBeGreaterThan(0);
  now += 10_000; // refills up to the burst, never past it
  expect([r.take("a"), r.take("a"), r.take("a"), r.take("a") > 0]).toEqual([0, 0, 0, true]);
});
