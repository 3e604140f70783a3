// bench/scale.ts's table, without oha: ratios per round, their median, and the 1.5× verdict.
import { describe, expect, test } from "bun:test";
import { renderScale, scaleRows, type ScaleSample } from "../bench/scale-report.ts";
import { median } from "../bench/stats.ts";

describe("the same-run scale comparison", () => {
  test("one row per run and operation; the verdict is on the median of the rounds' ratios", () => {
    const samples: ScaleSample[] = [
      { run: "L1", op: "read", round: 1, small: 0.5, large: 1.0, errors: 0 }, // given out of order
      { run: "L1", op: "read", round: 0, small: 0.4, large: 0.5, errors: 0 },
      { run: "L1", op: "read", round: 2, small: 0.5, large: 0.6, errors: 0 },
      { run: "L1", op: "list", round: 0, small: 1.0, large: 1.6, errors: 0 },
      { run: "max", op: "read", round: 0, small: 2.0, large: null, errors: 0 }, // a run without a p99
      { run: "L2", op: "read", round: 0, small: 0.5, large: 0.5, errors: 3 }, // errors: no verdict
    ];
    const rows = scaleRows(samples);
    expect(rows.map((r) => `${r.run}/${r.op}`)).toEqual(["L1/read", "L1/list", "max/read", "L2/read"]);
    const read = rows[0]!;
    expect(read.small).toEqual([0.4, 0.5, 0.5]);
    expect(read.ratios.map((x) => x!.toFixed(2))).toEqual(["1.25", "2.00", "1.20"]);
    expect(read.median).toBeCloseTo(1.25);
    expect(read.pass).toBe(true); // one round at 2× does not decide it
    expect(rows[1]!.pass).toBe(false); // 1.6×
    expect([rows[2]!.median, rows[2]!.pass]).toEqual([null, null]); // unknown, neither pass nor fail
    expect([rows[3]!.median, rows[3]!.errors, rows[3]!.pass]).toEqual([1, 3, null]); // a 1.0× with errors is no pass
    const text = renderScale(rows, 10_000, 1_000_000);
    expect(text).toContain("| L1 | read | 0.400 ms / 0.500 ms / 0.500 ms | 0.500 ms / 1.00 ms / 0.600 ms | 1.25× / 2.00× / 1.20× | 1.25× | 0 | ✅ PASS |");
    expect(text).toContain("| single-op max | read | 2.00 ms | — | — | — | 0 | — |");
    expect(text).toContain("| L2 | read | 0.500 ms | 0.500 ms | 1.00× | 1.00× | 3 | — |");
    expect(text.trim().endsWith("1 of 4 within 1.5×")).toBe(true);
  });

  test("median of odd and even counts, and of none", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNull();
  });
});
