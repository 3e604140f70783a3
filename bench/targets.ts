// The targets of the issue ("The performance to reach"), and the PASS/FAIL logic.
import { fmtMs, fmtNum, fmtPct, fmtRatio } from "./format.ts";
import type { Check, ClosedMixedResult, LevelResult, MaxKey, MaxResult, Status } from "./types.ts";

export const TARGETS = {
  /** L1–L4: errors */
  levelErrors: 0,
  /** L1–L3 overall */
  p95Ms: 2,
  p99Ms: 5,
  /** L4 overall */
  l4P99Ms: 10,
  /** per level, reads by id */
  cacheHitRate: 0.95,
  mixedRps: 15000,
  mixedOfLimit: 0.15,
  readOfLimit: 0.6,
  listOfLimit: 0.1,
  createNormalRps: 8000,
  createFullRps: 3000,
  /** compare: 1M vs 10k, read and list p99 */
  scaleP99Ratio: 1.5,
  peakRssMb: 300,
} as const;

const pass = (ok: boolean): Status => (ok ? "PASS" : "FAIL");

/** Below a limit; an unknown value (no response at all) fails. */
function below(v: number | null, limit: number): Status {
  return v === null || !Number.isFinite(v) ? "FAIL" : pass(v < limit);
}
function atLeast(v: number | null, min: number): Status {
  return v === null || !Number.isFinite(v) ? "FAIL" : pass(v >= min);
}

export function levelChecks(l: LevelResult): Check[] {
  const scope = l.name;
  const strict = l.name !== "L4"; // L1–L3 have p95/p99 targets; L4 has p99 < 10 ms
  const rows: Check[] = [
    { scope, metric: "Requests/s", target: `${fmtNum(l.rate)} (offered)`, actual: fmtNum(l.overall.rps), status: "info" },
    { scope, metric: "Total requests", target: `~${fmtNum(l.rate * l.durationS)}`, actual: fmtNum(l.overall.count), status: "info" },
    {
      scope,
      metric: "Errors",
      target: String(TARGETS.levelErrors),
      actual: `${fmtNum(l.overall.errors)} (${fmtPct(l.overall.errorShare)})`,
      status: pass(l.overall.errors <= TARGETS.levelErrors),
    },
    { scope, metric: "P50 latency", target: "—", actual: fmtMs(l.overall.p50), status: "info" },
    strict
      ? { scope, metric: "P95 latency", target: `< ${TARGETS.p95Ms} ms`, actual: fmtMs(l.overall.p95), status: below(l.overall.p95, TARGETS.p95Ms) }
      : { scope, metric: "P95 latency", target: "—", actual: fmtMs(l.overall.p95), status: "info" },
    strict
      ? { scope, metric: "P99 latency", target: `< ${TARGETS.p99Ms} ms`, actual: fmtMs(l.overall.p99), status: below(l.overall.p99, TARGETS.p99Ms) }
      : { scope, metric: "P99 latency", target: `< ${TARGETS.l4P99Ms} ms`, actual: fmtMs(l.overall.p99), status: below(l.overall.p99, TARGETS.l4P99Ms) },
    {
      scope,
      metric: "Cache hit rate (reads)",
      target: `≥ ${fmtPct(TARGETS.cacheHitRate, 0)}`,
      actual: l.cache.rate === null ? "— (no lookups)" : `${fmtPct(l.cache.rate)} (${fmtNum(l.cache.hits)} / ${fmtNum(l.cache.hits + l.cache.misses)})`,
      status: l.cache.rate === null ? "FAIL" : atLeast(l.cache.rate, TARGETS.cacheHitRate),
    },
  ];
  if (l.overall.aborted > 0) {
    rows.push({ scope, metric: "Aborted at deadline (not errors)", target: "0 with -w", actual: fmtNum(l.overall.aborted), status: "info" });
  }
  return rows;
}

export function fractionOf(rps: number | null | undefined, limit: number | null): number | null {
  if (rps === null || rps === undefined || limit === null || !(limit > 0)) return null;
  return rps / limit;
}

export function maximaChecks(closed: ClosedMixedResult | null, maxima: readonly MaxResult[], limit: number | null, durability: "normal" | "full"): Check[] {
  const scope = "maxima";
  const get = (k: MaxKey) => maxima.find((m) => m.key === k)?.result.rps ?? null;
  const rows: Check[] = [];
  const mixed = closed?.rps ?? null;
  rows.push({ scope, metric: "Closed-loop mixed req/s", target: `≥ ${fmtNum(TARGETS.mixedRps)}`, actual: fmtNum(mixed), status: atLeast(mixed, TARGETS.mixedRps) });
  const frac = (metric: string, rps: number | null, min: number) =>
    rows.push({ scope, metric, target: `≥ ${fmtRatio(min)} limit`, actual: fmtRatio(fractionOf(rps, limit)), status: atLeast(fractionOf(rps, limit), min) });
  frac("Closed-loop mixed / limit", mixed, TARGETS.mixedOfLimit);
  frac("Read by id (cache hit) / limit", get("read"), TARGETS.readOfLimit);
  frac("List page of 50 / limit", get("list"), TARGETS.listOfLimit);
  const createNormal = durability === "normal" ? get("create") : null;
  rows.push({
    scope,
    metric: "Create req/s, durability normal",
    target: `≥ ${fmtNum(TARGETS.createNormalRps)}`,
    actual: durability === "normal" ? fmtNum(createNormal) : "not measured (main run is full)",
    status: durability === "normal" ? atLeast(createNormal, TARGETS.createNormalRps) : "n/a",
  });
  const createFull = durability === "full" ? get("create") : get("createFull");
  rows.push({ scope, metric: "Create req/s, durability full", target: `≥ ${fmtNum(TARGETS.createFullRps)}`, actual: fmtNum(createFull), status: atLeast(createFull, TARGETS.createFullRps) });
  return rows;
}

/** One line per maximum run that had errors: a maximum measured while answering errors is not a maximum. */
export function maximaErrorNotes(maxima: readonly MaxResult[]): string[] {
  return maxima
    .filter((m) => m.result.errors > 0)
    .map((m) => `${m.label}: ${fmtNum(m.result.errors)} errors of ${fmtNum(m.result.count)} requests (statuses ${JSON.stringify(m.result.statusCounts)}${Object.keys(m.result.errorKinds).length ? `, ${JSON.stringify(m.result.errorKinds)}` : ""})`);
}
