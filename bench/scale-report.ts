// The table of bench/scale.ts: read and list p99 of the large data set against the small one,
// per level and per single-operation maximum, each round's ratio and their median.
import { fmtMs, table } from "./format.ts";
import { median } from "./stats.ts";

/** The p99 (ms) of one operation in one run, on each server. */
export interface ScaleSample {
  /** "L1" … "L4", or "max" */
  run: string;
  op: "read" | "list";
  round: number;
  small: number | null;
  large: number | null;
  /** error answers of the run (oha's non-2xx and connection errors), both servers together */
  errors: number;
}

export interface ScaleRow {
  run: string;
  op: "read" | "list";
  small: (number | null)[];
  large: (number | null)[];
  ratios: (number | null)[];
  errors: number;
  /** the median of the rounds' ratios; null when a round has none */
  median: number | null;
  pass: boolean | null;
}

export const SCALE_TARGET = 1.5;

/** One row per run and operation, in the order first seen; rounds in order. */
export function scaleRows(samples: readonly ScaleSample[]): ScaleRow[] {
  const rows = new Map<string, ScaleRow>();
  for (const s of [...samples].sort((a, b) => a.round - b.round)) {
    const key = `${s.run}/${s.op}`;
    const row = rows.get(key) ?? { run: s.run, op: s.op, small: [], large: [], ratios: [], errors: 0, median: null, pass: null };
    rows.set(key, row);
    row.small.push(s.small);
    row.large.push(s.large);
    row.errors += s.errors;
    row.ratios.push(s.small !== null && s.large !== null && s.small > 0 ? s.large / s.small : null);
  }
  for (const row of rows.values()) {
    const known = row.ratios.filter((r): r is number => r !== null);
    row.median = known.length === row.ratios.length ? median(known) : null;
    // a server answering errors fast can show a good p99: no verdict on such a run
    row.pass = row.median === null || row.errors > 0 ? null : row.median <= SCALE_TARGET;
  }
  return [...rows.values()];
}

export function renderScale(rows: readonly ScaleRow[], small: number, large: number): string {
  const n = (x: number) => x.toLocaleString("en-US");
  const head = ["run", "op", `p99, ${n(small)} records`, `p99, ${n(large)} records`, "ratio per round", "median ratio", "errors", `≤ ${SCALE_TARGET}×`];
  const cells = rows.map((r) => [
    r.run === "max" ? "single-op max" : r.run,
    r.op,
    r.small.map(fmtMs).join(" / "),
    r.large.map(fmtMs).join(" / "),
    r.ratios.map((x) => (x === null ? "—" : `${x.toFixed(2)}×`)).join(" / "),
    r.median === null ? "—" : `${r.median.toFixed(2)}×`,
    String(r.errors),
    r.pass === null ? "—" : r.pass ? "✅ PASS" : "❌ FAIL",
  ]);
  const passed = rows.filter((r) => r.pass).length;
  return `${table(head, cells)}\n\n${passed} of ${rows.length} within ${SCALE_TARGET}×`;
}
