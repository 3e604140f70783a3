// The tables (stdout and REPORT.md) and the chart input, all from a Summary.
import { fmtMb, fmtMs, fmtNum, fmtPct, fmtRatio, table } from "./format.ts";
import { renderChart, type ChartGroup } from "./svg.ts";
import { fractionOf } from "./targets.ts";
import type { Check, LevelResult, Summary } from "./types.ts";

const STATUS: Record<Check["status"], string> = { PASS: "✅ PASS", FAIL: "❌ FAIL", info: "—", "n/a": "n/a" };

function checkTable(checks: readonly Check[]): string {
  return table(["Metric", "Target", "Actual", "Status"], checks.map((c) => [c.metric, c.target, c.actual, STATUS[c.status]]));
}

function opTable(l: LevelResult): string {
  const rows = l.ops.map((o) => [o.op, fmtNum(o.count), `${fmtNum(o.errors)}${o.errors ? ` (${statusList(o.statusCounts, o.errorKinds)})` : ""}`, fmtNum(o.rps), fmtMs(o.p50), fmtMs(o.p95), fmtMs(o.p99)]);
  rows.push(["**all**", fmtNum(l.overall.count), fmtNum(l.overall.errors), fmtNum(l.overall.rps), fmtMs(l.overall.p50), fmtMs(l.overall.p95), fmtMs(l.overall.p99)]);
  return table(["Operation", "Count", "Errors", "req/s", "p50", "p95", "p99"], rows);
}

function statusList(status: Record<string, number>, kinds: Record<string, number>): string {
  const parts = Object.entries(status).filter(([c]) => !/^2/.test(c)).map(([c, n]) => `${c}×${n}`);
  for (const [k, n] of Object.entries(kinds)) parts.push(`${k}×${n}`);
  return parts.join(", ");
}

/** The tables: what stdout shows and what REPORT.md repeats. */
export function renderTables(s: Summary): string {
  const out: string[] = [];
  for (const l of s.levels) {
    out.push(`### Level ${l.name.slice(1)}: ${fmtNum(l.rate)} req/s offered, ${l.durationS} s`);
    out.push("");
    out.push(checkTable(s.checks.filter((c) => c.scope === l.name)));
    out.push("");
    out.push(opTable(l));
    if (l.cache.pageHits !== null && l.cache.pageMisses !== null && l.cache.pageHits + l.cache.pageMisses > 0) {
      out.push("");
      out.push(`Records looked up to build or patch list pages, found in the record cache (cache.pageHits / pageMisses): ${fmtPct(l.cache.pageHits / (l.cache.pageHits + l.cache.pageMisses))} (${fmtNum(l.cache.pageHits)} / ${fmtNum(l.cache.pageHits + l.cache.pageMisses)})`);
    }
    const { listHits: lh, listMisses: lm } = l.cache;
    if (lh != null && lm != null && lh + lm > 0) {
      out.push("");
      out.push(`Whole list pages served from the page cache (cache.pages.hits / misses): ${fmtPct(lh / (lh + lm))} (${fmtNum(lh)} / ${fmtNum(lh + lm)})`);
    }
    out.push("");
  }
  const c = s.closedMixed;
  if (c) {
    out.push(`### Closed-loop mixed run: ${c.durationS} s, no rate limit, 50 connections`);
    out.push("");
    const rows = c.ops.map((o) => [o.op, String(o.connections), fmtNum(o.count), fmtPct(o.share, 1), fmtNum(o.errors), fmtNum(o.rps), fmtMs(o.p50), fmtMs(o.p95), fmtMs(o.p99)]);
    rows.push(["**all**", "50", fmtNum(c.count), "100%", fmtNum(c.errors), fmtNum(c.rps), "—", "—", "—"]);
    out.push(table(["Operation", "Conns", "Count", "Share", "Errors", "req/s", "p50", "p95", "p99"], rows));
    out.push("");
  }
  if (s.maxima.length) {
    out.push(`### Maxima: each operation alone, closed loop (-c 50 -w), and the limit (bare Bun.serve)`);
    out.push("");
    const rows = s.maxima.map((m) => [m.label, fmtNum(m.result.rps), m.key === "limit" ? "1.000×" : fmtRatio(fractionOf(m.result.rps, s.limitRps)), fmtNum(m.result.errors), fmtMs(m.result.p50), fmtMs(m.result.p95), fmtMs(m.result.p99)]);
    if (c) rows.splice(0, 0, ["mixed (closed loop, 4 processes)", fmtNum(c.rps), fmtRatio(fractionOf(c.rps, s.limitRps)), fmtNum(c.errors), "—", "—", "—"]);
    out.push(table(["Run", "req/s", "of limit", "Errors", "p50", "p95", "p99"], rows));
    out.push("");
    out.push(checkTable(s.checks.filter((x) => x.scope === "maxima")));
    out.push("");
  }
  const readMax = s.maxima.find((m) => m.key === "read");
  if (readMax?.cacheHitRate != null) out.push(`Read by id max: the server's cache hit rate during the run was ${(readMax.cacheHitRate * 100).toFixed(2)}%.`, "");
  out.push(`Server peak RSS: ${fmtMb(s.peakRssMb)} (durability ${s.config.durability}, ${fmtNum(s.config.records)} records seeded)${s.peakRssSeedMb != null ? `: ${fmtMb(s.peakRssSeedMb)} while seeding and warming, ${fmtMb(s.peakRssMeasuredMb ?? null)} during the measured runs` : ""}${s.peakRssFullMb !== null ? `; durability-full server: ${fmtMb(s.peakRssFullMb)}` : ""}`);
  const byRun = Object.entries(s.peakRssByRunMb ?? {});
  if (byRun.length) out.push("", `Peak RSS of each measured run: ${byRun.map(([k, v]) => `${k} ${fmtMb(v)}`).join(", ")}.`, "");
  const pass = s.checks.filter((x) => x.status === "PASS").length;
  const fail = s.checks.filter((x) => x.status === "FAIL").length;
  out.push(`Targets: ${pass} passed, ${fail} failed`);
  if (s.notes.length) {
    out.push("");
    out.push("Notes:");
    for (const n of s.notes) out.push(`- ${n}`);
  }
  return out.join("\n") + "\n";
}

export function renderMarkdown(s: Summary): string {
  const m = s.machine;
  const out: string[] = [];
  out.push(`# Privata load bench: ${s.date}, ${m.hostname}${s.config.quick ? " (--quick smoke run, not a measurement to quote)" : ""}`);
  out.push("");
  out.push("Produced by:");
  out.push("");
  out.push("```sh");
  out.push(s.command);
  out.push("```");
  out.push("");
  out.push("## Machine and setup");
  out.push("");
  out.push(
    table(["", ""], [
      ["CPU", `${m.cpuModel}, ${m.cores} cores`],
      ["Memory", m.memoryMb === null ? "—" : `${fmtNum(m.memoryMb)} MB`],
      ["OS", `${m.os} (${m.kernel})`],
      ["Bun", s.versions.bun],
      ["oha", s.versions.oha],
      ["Privata", s.versions.privata],
      ["Records seeded", fmtNum(s.config.records)],
      ["Durability", s.config.durability],
      ["Server peak RSS (VmHWM), whole run", fmtMb(s.peakRssMb)],
      ["… while seeding and warming / during the measured runs", `${fmtMb(s.peakRssSeedMb ?? null)} / ${fmtMb(s.peakRssMeasuredMb ?? null)}`],
      ["Levels", `L1 ${s.config.level1DurationS} s, L2–L4 ${s.config.levelDurationS} s each; four oha processes (read/list/create/update) at 40/30/20/10% of the rate, -c ${s.config.levelConnectionsPerOp} each, --latency-correction`],
      ["Closed-loop runs", `${s.config.maxDurationS} s each`],
      ["Other load", `CPUs ${s.cpuBusyBeforeStart === null ? "—" : fmtPct(s.cpuBusyBeforeStart, 0)} busy in the second before the start; load average ${s.loadAvg.start.join(" ")} at start, ${s.loadAvg.end.join(" ")} at end`],
      ["Date", s.date],
    ]),
  );
  out.push("");
  out.push(
    `The read set (${fmtNum(s.warm.urls)} ids sampled at random from the seeded records; reads and updates use it) was warmed before Level 1: every read URL${s.warm.listUrls ? ` and each of the ${fmtNum(s.warm.listUrls)} distinct list URLs` : ""} was fetched once, so reads and list pages measure a hot working set in the server's cache, whatever the record count (warm-up non-200 answers: ${s.warm.non200}). oha, the server and the limit server share this machine. Seeding took ${s.seed.seconds.toFixed(1)} s (${fmtNum(s.seed.perSecond)} records/s over HTTP, 64 in flight).`,
  );
  out.push("");
  out.push(
    "Errors are every non-2xx status from oha's statusCodeDistribution (oha's own successRate counts 4xx/5xx as success) plus every connection error of its errorDistribution. Level percentiles are exact over the merged per-request latencies (oha --db-url, latency-corrected) of the four processes; per-operation percentiles of closed-loop runs are oha's. The cache hit rate is Δhits / (Δhits + Δmisses) of GET /stats before and after each level.",
  );
  out.push("");
  out.push("## Results");
  out.push("");
  out.push(renderTables(s));
  out.push("![p50/p95/p99 per level and operation](chart.svg)");
  out.push("");
  return out.join("\n");
}

/** Chart groups: every level (overall + each op), the closed-loop mixed run, the maxima. */
export function chartGroups(s: Summary): ChartGroup[] {
  const groups: ChartGroup[] = s.levels.map((l) => ({
    label: `${l.name} ${l.rate}/s`,
    items: [{ label: "all", p50: l.overall.p50, p95: l.overall.p95, p99: l.overall.p99 }, ...l.ops.map((o) => ({ label: o.op, p50: o.p50, p95: o.p95, p99: o.p99 }))],
  }));
  if (s.closedMixed) groups.push({ label: "mixed, closed", items: s.closedMixed.ops.map((o) => ({ label: o.op, p50: o.p50, p95: o.p95, p99: o.p99 })) });
  if (s.maxima.length) groups.push({ label: "maxima", items: s.maxima.map((m) => ({ label: m.key, p50: m.result.p50, p95: m.result.p95, p99: m.result.p99 })) });
  return groups;
}

export function renderSummaryChart(s: Summary): string {
  return renderChart(`Privata latency, ${fmtNum(s.config.records)} records, durability ${s.config.durability} (${s.machine.hostname}, ${s.date})`, chartGroups(s));
}
