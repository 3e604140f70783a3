// The bench harness (bench/), tested without oha: parsing of saved oha JSON samples, the
// percentile math, the targets, the report, the chart, argument parsing and the no-oha path.
// test/fixtures/oha-rate.json: oha 1.16.0, -q 500 -z 2s over a URL file of "/a" (200) and
// "/missing" (404) on a bare Bun.serve. test/fixtures/oha-closed.json: closed loop, no -w, so it
// has "aborted due to deadline".
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync, chmodSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "../bench/args.ts";
import { compareText } from "../bench/compare.ts";
import { LEVELS, shareRate } from "../bench/mix.ts";
import { INSTALL_HINT, ohaArgs, parseOha, parseOhaVersion, versionAtLeast } from "../bench/oha.ts";
import { chartGroups, renderMarkdown, renderSummaryChart, renderTables } from "../bench/report.ts";
import { levelOverall, opResult } from "../bench/run.ts";
import { merge, percentile, sortedCopy, summarize } from "../bench/stats.ts";
import { escapeXml, renderChart } from "../bench/svg.ts";
import { levelChecks, maximaChecks } from "../bench/targets.ts";
import type { LevelResult, MaxResult, OpResult, Summary } from "../bench/types.ts";

const ROOT = join(import.meta.dir, "..");
const rateJson = await Bun.file(join(import.meta.dir, "fixtures", "oha-rate.json")).json();
const closedJson = await Bun.file(join(import.meta.dir, "fixtures", "oha-closed.json")).json();

describe("oha JSON parsing", () => {
  test("rate-limited sample: rps, totals, 404s are errors", () => {
    const r = parseOha(rateJson);
    expect(r.rps).toBeCloseTo(499.7028866576511, 9);
    expect(r.statusCounts).toEqual({ "200": 507, "404": 493 });
    expect(r.total).toBe(1000);
    expect(r.ok).toBe(507);
    expect(r.non2xx).toBe(493);
    expect(r.errors).toBe(493); // oha's successRate says 1.0 here
    expect(rateJson.summary.successRate).toBe(1);
    expect(r.errorShare).toBeCloseTo(0.493, 12);
    expect(r.aborted).toBe(0);
    expect(r.connectionErrors).toBe(0);
    expect(r.p50).toBeCloseTo(0.041421, 9); // seconds in the JSON, ms here
    expect(r.p99).toBeCloseTo(0.103574, 9);
  });

  test("closed-loop sample: aborted at deadline counted apart, not as errors", () => {
    const r = parseOha(closedJson);
    expect(r.rps).toBeCloseTo(93411.20615882712, 6);
    expect(r.ok).toBe(187018);
    expect(r.aborted).toBe(50);
    expect(r.errors).toBe(0);
    expect(r.total).toBe(187068);
    expect(r.errorKinds).toEqual({ "aborted due to deadline": 50 });
  });

  test("connection errors and 5xx are errors; aborted is not", () => {
    const r = parseOha({
      summary: { requestsPerSec: 10, total: 1 },
      statusCodeDistribution: { "200": 5, "201": 2, "503": 1, "400": 1 },
      errorDistribution: { "connection refused": 3, "aborted due to deadline": 2 },
    });
    expect(r.ok).toBe(7);
    expect(r.non2xx).toBe(2);
    expect(r.connectionErrors).toBe(3);
    expect(r.aborted).toBe(2);
    expect(r.errors).toBe(5);
    expect(r.total).toBe(14);
    expect(r.errorShare).toBeCloseTo(5 / 14, 12);
    expect(r.p50).toBeNull();
  });

  test("not oha JSON is rejected", () => {
    expect(() => parseOha({ hello: 1 })).toThrow(/not oha/);
    expect(() => parseOha({ summary: {}, statusCodeDistribution: { "200": "x" } })).toThrow(/not a number/);
  });

  test("version parsing and the 1.14 minimum", () => {
    expect(parseOhaVersion("oha 1.16.0\n")).toEqual([1, 16, 0]);
    expect(versionAtLeast([1, 16, 0], [1, 14])).toBe(true);
    expect(versionAtLeast([1, 14, 0], [1, 14])).toBe(true);
    expect(versionAtLeast([1, 13, 9], [1, 14])).toBe(false);
    expect(versionAtLeast([2, 0, 0], [1, 14])).toBe(true);
    expect(parseOhaVersion("no digits")).toBeNull();
  });
});

describe("percentiles", () => {
  test("exact values on known arrays (oha's definition: index floor(p·n))", () => {
    expect(percentile([1, 2, 3, 4], 50)).toBe(3);
    expect(percentile([1, 2, 3, 4], 95)).toBe(4);
    const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(hundred, 50)).toBe(51);
    expect(percentile(hundred, 95)).toBe(96);
    expect(percentile(hundred, 99)).toBe(100);
    expect(percentile(hundred, 0)).toBe(1);
    expect(percentile([7], 99)).toBe(7);
    expect(Number.isNaN(percentile([], 50))).toBe(true);
  });

  test("summarize sorts its input and does not change it", () => {
    const input = [5, 1, 4, 2, 3];
    const s = summarize(input);
    expect(s).toEqual({ count: 5, p50: 3, p95: 5, p99: 5, max: 5, mean: 3 });
    expect(input).toEqual([5, 1, 4, 2, 3]);
    expect(Array.from(sortedCopy([3, 1, 2]))).toEqual([1, 2, 3]);
  });

  test("the overall percentile comes from merged latencies, not from averaged percentiles", () => {
    const fast = new Float64Array(1000).fill(1); // 1000 reads at 1 ms
    const slow = new Float64Array(100).fill(50); // 100 creates at 50 ms
    const merged = summarize(merge([fast, slow]));
    expect(merged.count).toBe(1100);
    expect(merged.p50).toBe(1);
    expect(merged.p99).toBe(50);
    const averagedP50 = (summarize(fast).p50 + summarize(slow).p50) / 2;
    expect(averagedP50).toBe(25.5);
    expect(merged.p50).not.toBe(averagedP50);

    // the same through the level code the bench uses
    const a = opResult("read", parseOha(rateJson), "L1-read.json", fast);
    const b = opResult("create", parseOha(rateJson), "L1-create.json", slow);
    expect(a.source).toBe("db");
    expect(a.p99).toBe(1);
    const overall = levelOverall([a, b], [fast, slow]);
    expect(overall.p50).toBe(1);
    expect(overall.p95).toBe(50);
    expect(overall.count).toBe(2000);
    expect(overall.errors).toBe(986);
    expect(overall.rps).toBeCloseTo(2 * 499.7028866576511, 9);
  });

  test("without latencies, a run's percentiles are oha's", () => {
    const r = opResult("limit", parseOha(closedJson), "limit.json");
    expect(r.source).toBe("oha");
    expect(r.p95).toBeCloseTo(1.390314, 9);
  });
});

// ---------------------------------------------------------------- a summary to render

function op(name: string, over: Partial<OpResult> = {}): OpResult {
  return {
    op: name, count: 1000, errors: 0, non2xx: 0, connectionErrors: 0, aborted: 0,
    statusCounts: { "200": 1000 }, errorKinds: {}, rps: 100, p50: 0.3, p95: 0.9, p99: 1.5, source: "db",
    rawFile: `${name}.json`, ...over,
  };
}

function level(name: string, rate: number, over: Partial<LevelResult["overall"]> = {}, hit: number | null = 0.99): LevelResult {
  return {
    name, rate, durationS: 20,
    ops: [op("read"), op("list"), op("create"), op("update")],
    overall: { count: 4000, errors: 0, errorShare: 0, aborted: 0, rps: rate, p50: 0.3, p95: 1.2, p99: 3, ...over },
    cache: { hits: hit === null ? 0 : Math.round(hit * 1000), misses: hit === null ? 0 : 1000 - Math.round(hit * 1000), rate: hit, pageHits: null, pageMisses: null },
  };
}

function maxRun(key: MaxResult["key"], label: string, rps: number): MaxResult {
  return { key, label, durationS: 20, connections: 50, result: op(key, { rps, source: "oha" }) };
}

function summary(): Summary {
  const levels = [level("L1", 100), level("L2", 200), level("L3", 500, { p99: 6 }), level("L4", 1000, { p95: 7, p99: 9.5, errors: 2, errorShare: 0.0005 })];
  const maxima = [
    { ...maxRun("read", "read by id (cache hit)", 70000), cacheHitRate: 0.9995 },
    maxRun("list", "list, page of 50", 9000),
    maxRun("create", "create, durability normal", 9000),
    maxRun("createFull", "create, durability full (fresh server)", 2500),
    maxRun("limit", "limit: bare Bun.serve \"ok\"", 100000),
  ];
  const closedMixed = {
    durationS: 20, rps: 16000, count: 320000, errors: 0, aborted: 0,
    ops: [op("read"), op("list"), op("create"), op("update")].map((o, i) => ({ ...o, connections: [20, 15, 10, 5][i]!, share: [0.4, 0.3, 0.2, 0.1][i]! })),
  };
  const s: Summary = {
    schema: 1, date: "2026-01-02T03:04:05.000Z", command: "bun run bench --records 10000",
    machine: { hostname: "box<1>", cores: 2, cpuModel: "Test CPU @ 1 GHz", memoryMb: 4096, os: "TestOS", kernel: "Linux 6" },
    versions: { bun: "1.4.4", oha: "1.16.0", privata: "0.1.0" },
    config: { records: 10000, durability: "normal", levelDurationS: 20, level1DurationS: 20, maxDurationS: 20, quick: false, full: false, levelConnectionsPerOp: 8, closedConnections: { read: 20, list: 15, create: 10, update: 5 }, readSet: 10000 },
    seed: { records: 10000, seconds: 2, perSecond: 5000 },
    warm: { urls: 10000, non200: 0, cacheSizeAfter: 10000 },
    levels, closedMixed, maxima, limitRps: 100000, peakRssMb: 120.5, peakRssSeedMb: 110, peakRssMeasuredMb: 120.5, peakRssByRunMb: { L1: 101, read: 120.5 }, peakRssFullMb: 80,
    percentileCheck: { maxAbsDiffMs: 0, runs: 16 }, loadAvg: { start: [0.1, 0.2, 0.3], end: [1, 1, 1] }, cpuBusyBeforeStart: 0.02,
    checks: [], notes: ["a note"],
  };
  s.checks = [...levels.flatMap(levelChecks), ...maximaChecks(closedMixed, maxima, 100000, "normal")];
  return s;
}

describe("targets", () => {
  test("level checks: p95/p99 for L1–L3, p99 < 10 ms for L4, errors, cache hit rate", () => {
    const st = (checks: ReturnType<typeof levelChecks>, metric: string) => checks.find((c) => c.metric === metric)?.status;
    const l1 = levelChecks(level("L1", 100));
    expect(st(l1, "Errors")).toBe("PASS");
    expect(st(l1, "P95 latency")).toBe("PASS");
    expect(st(l1, "P99 latency")).toBe("PASS");
    expect(st(l1, "Cache hit rate (reads)")).toBe("PASS");
    expect(st(l1, "Requests/s")).toBe("info");

    const l3 = levelChecks(level("L3", 500, { p95: 2, p99: 5 }, 0.949));
    expect(st(l3, "P95 latency")).toBe("FAIL"); // strictly below 2 ms
    expect(st(l3, "P99 latency")).toBe("FAIL");
    expect(st(l3, "Cache hit rate (reads)")).toBe("FAIL");

    const l4 = levelChecks(level("L4", 1000, { p95: 7, p99: 9.9, errors: 1 }));
    expect(st(l4, "P95 latency")).toBe("info");
    expect(st(l4, "P99 latency")).toBe("PASS");
    expect(st(l4, "Errors")).toBe("FAIL");
    expect(st(levelChecks(level("L4", 1000, { p99: 10 })), "P99 latency")).toBe("FAIL");
    expect(st(levelChecks(level("L2", 200, { p99: null })), "P99 latency")).toBe("FAIL");
    expect(st(levelChecks(level("L2", 200, {}, null)), "Cache hit rate (reads)")).toBe("FAIL");
    expect(levelChecks(level("L2", 200, { aborted: 3 })).some((c) => c.metric.startsWith("Aborted"))).toBe(true);
  });

  test("maxima checks: absolute numbers and fractions of the limit", () => {
    const s = summary();
    const m = Object.fromEntries(s.checks.filter((c) => c.scope === "maxima").map((c) => [c.metric, c.status]));
    expect(m).toEqual({
      "Closed-loop mixed req/s": "PASS", // 16 000 ≥ 15 000
      "Closed-loop mixed / limit": "PASS", // 0.16 ≥ 0.15
      "Read by id (cache hit) / limit": "PASS", // 0.7 ≥ 0.6
      "List page of 50 / limit": "FAIL", // 0.09 < 0.1
      "Create req/s, durability normal": "PASS",
      "Create req/s, durability full": "FAIL", // 2500 < 3000
    });
    // no limit measured: fractions cannot pass
    const none = maximaChecks(s.closedMixed, s.maxima, null, "normal");
    expect(none.find((c) => c.metric === "Read by id (cache hit) / limit")?.status).toBe("FAIL");
    // main run already full: its create is the full one, normal is not measured
    const full = maximaChecks(s.closedMixed, s.maxima.filter((x) => x.key !== "createFull"), 100000, "full");
    expect(full.find((c) => c.metric === "Create req/s, durability normal")?.status).toBe("n/a");
    expect(full.find((c) => c.metric === "Create req/s, durability full")?.status).toBe("PASS"); // 9000 ≥ 3000
  });
});

describe("report", () => {
  test("stdout tables: per level metric rows, per operation rows, maxima with fractions", () => {
    const t = renderTables(summary());
    expect(t).toContain("### Level 1: 100 req/s offered, 20 s");
    expect(t).toContain("| Metric | Target | Actual | Status |");
    expect(t).toContain("| P95 latency | < 2 ms | 1.20 ms | ✅ PASS |");
    expect(t).toContain("| P99 latency | < 5 ms | 6.00 ms | ❌ FAIL |"); // L3
    expect(t).toContain("| P99 latency | < 10 ms | 9.50 ms | ✅ PASS |"); // L4
    expect(t).toContain("| Errors | 0 | 2 (0.05%) | ❌ FAIL |"); // L4
    expect(t).toContain("| Operation | Count | Errors | req/s | p50 | p95 | p99 |");
    expect(t).toContain("| read | 1,000 | 0 | 100 | 0.300 ms | 0.900 ms | 1.50 ms |");
    expect(t).toContain("| read by id (cache hit) | 70,000 | 0.700× |");
    expect(t).toContain("| list, page of 50 | 9,000 | 0.090× |");
    expect(t).toContain("| mixed (closed loop, 4 processes) | 16,000 | 0.160× |");
    expect(t).toContain("| Cache hit rate (reads) | ≥ 95% | 99.00% (990 / 1,000) | ✅ PASS |");
    expect(t).toMatch(/Targets: \d+ passed, \d+ failed/);
    expect(t.match(/^### Level /gm)?.length).toBe(4);
  });

  test("REPORT.md: machine section, command line, warm-up note, chart link", () => {
    const md = renderMarkdown(summary());
    expect(md).toContain("| CPU | Test CPU @ 1 GHz, 2 cores |");
    expect(md).toContain("| Memory | 4,096 MB |");
    expect(md).toContain("| oha | 1.16.0 |");
    expect(md).toContain("| Records seeded | 10,000 |");
    expect(md).toContain("| Durability | normal |");
    expect(md).toContain("| Server peak RSS (VmHWM), whole run | 120.5 MB |");
    expect(md).toContain("Peak RSS of each measured run: L1 101.0 MB, read 120.5 MB.");
    expect(md).toContain("| … while seeding and warming / during the measured runs | 110.0 MB / 120.5 MB |");
    expect(md).toContain("bun run bench --records 10000");
    expect(md).toContain("Read by id max: the server's cache hit rate during the run was 99.95%.");
    expect(md).toContain("was warmed before Level 1");
    expect(md).toContain("| Other load | CPUs 2% busy in the second before the start;");
    expect(md).toContain("![p50/p95/p99 per level and operation](chart.svg)");
  });
});

/** Tags balanced? Returns the element names in document order, throws when not. */
function checkXml(svg: string): string[] {
  const stack: string[] = [];
  const names: string[] = [];
  const re = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<>]*")*)\s*(\/?)>/g;
  let last = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(svg))) {
    const between = svg.slice(last, m.index);
    if (/[<>]/.test(between)) throw new Error(`stray < or > in text: ${between.slice(0, 60)}`);
    if (/&(?!(amp|lt|gt|quot|apos);)/.test(between)) throw new Error(`unescaped & in text: ${between.slice(0, 60)}`);
    last = re.lastIndex;
    const [, close, name, , self] = m;
    if (close) {
      if (stack.pop() !== name) throw new Error(`unbalanced </${name}>`);
    } else {
      names.push(name!);
      if (!self) stack.push(name!);
    }
  }
  if (/[<>]/.test(svg.slice(last).trim())) throw new Error("trailing markup");
  if (stack.length) throw new Error(`unclosed: ${stack.join(",")}`);
  return names;
}

describe("chart", () => {
  test("well-formed SVG, one bar per finite value, text escaped", () => {
    const svg = renderChart(`title <&> "q"`, [
      { label: "L1 100/s", items: [{ label: "read", p50: 0.2, p95: 1, p99: 3 }, { label: "a<b&c", p50: 0.5, p95: null, p99: 40 }] },
      { label: "L2 'x'", items: [{ label: "list", p50: 0.01, p95: 0.02, p99: 250 }] },
    ]);
    const names = checkXml(svg);
    expect(names[0]).toBe("svg");
    expect(svg.match(/<rect class="bar /g)?.length).toBe(8); // 9 values, one null
    expect(svg.match(/<rect class="bar p99"/g)?.length).toBe(3);
    expect(svg).toContain("a&lt;b&amp;c");
    expect(svg).toContain("title &lt;&amp;&gt; &quot;q&quot;");
    expect(svg).toContain("L2 &apos;x&apos;");
    expect(svg).not.toContain("a<b");
    expect(svg).toContain("latency (ms, log scale)");
    for (const k of ["p50", "p95", "p99"]) expect(svg).toContain(`>${k}</text>`);
    // log axis: decades from 0.01 to 1000
    expect(svg).toContain(">0.01</text>");
    expect(svg).toContain(">1000</text>");
    expect(escapeXml(`<>&"'`)).toBe("&lt;&gt;&amp;&quot;&apos;");
  });

  test("the summary's chart: 4 levels × 5 items + 4 mixed + 5 maxima, 3 bars each", () => {
    const s = summary();
    const groups = chartGroups(s);
    expect(groups.map((g) => g.items.length)).toEqual([5, 5, 5, 5, 4, 5]);
    const svg = renderSummaryChart(s);
    checkXml(svg);
    expect(svg.match(/<rect class="bar /g)?.length).toBe(29 * 3);
    expect(svg).toContain("box&lt;1&gt;"); // hostname escaped
  });
});

describe("arguments and oha command lines", () => {
  const opts = { root: "/repo", now: new Date(2026, 0, 2, 12), host: "devbox" };
  test("--quick: 3 s runs, 2000 records, its own out dir", () => {
    const r = parseArgs(["--quick"], opts);
    if (!r.ok) throw new Error(r.error);
    expect(r.args).toMatchObject({ quick: true, records: 2000, duration: 3, level1Duration: 3, maxDuration: 3, durability: "normal", build: true });
    expect(r.args.out).toBe("/repo/bench/results/2026-01-02-devbox-quick");
    const r2 = parseArgs(["--quick", "--records", "50000"], opts);
    expect(r2.ok && r2.args.records).toBe(50000);
  });
  test("defaults, --full, --records=1000000, --durability, --out, --no-build", () => {
    const d = parseArgs([], opts);
    expect(d.ok && d.args).toMatchObject({ records: 10000, duration: 20, level1Duration: 20, out: "/repo/bench/results/2026-01-02-devbox" });
    const f = parseArgs(["--full", "--records=1000000", "--durability", "full", "--out", "x", "--no-build"], opts);
    expect(f.ok && f.args).toMatchObject({ full: true, level1Duration: 600, duration: 20, records: 1000000, durability: "full", out: "x", build: false });
  });
  test("bad arguments are one-line errors", () => {
    for (const bad of [["--bogus"], ["--records", "0"], ["--records", "1e3"], ["--records"], ["--durability", "fast"], ["--quick", "--full"], ["--duration="], ["extra"]]) {
      const r = parseArgs(bad, opts);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error).not.toContain("\n");
    }
  });
  test("oha arguments of a level run and of a closed-loop run", () => {
    const level = ohaArgs({ target: "/t/read-urls.txt", urlsFile: true, method: "GET", durationS: 20, connections: 8, rate: 40, dbPath: "/t/L1-read.db" });
    expect(level.join(" ")).toBe("--no-tui --output-format json -z 20s -w -c 8 -q 40 --latency-correction --db-url /t/L1-read.db --urls-from-file /t/read-urls.txt");
    const closed = ohaArgs({ target: "http://h/api/users", urlsFile: false, method: "POST", bodyLines: "/t/b.txt", durationS: 3, connections: 50 });
    expect(closed.join(" ")).toBe("--no-tui --output-format json -z 3s -w -c 50 -m POST -Z /t/b.txt -H Content-Type: application/json http://h/api/users");
    expect(closed).not.toContain("-q");
    expect(LEVELS.map((l) => ["read", "list", "create", "update"].map((o) => shareRate(l.rate, o as "read")))).toEqual([
      [40, 30, 20, 10], [80, 60, 40, 20], [200, 150, 100, 50], [400, 300, 200, 100],
    ]);
  });
});

describe("compare", () => {
  test("B/A ratios of read and list p99 against 1.5×, peak RSS against 300 MB", () => {
    const a = summary();
    const b = summary();
    b.config.records = 1000000;
    b.maxima = b.maxima.map((m) => (m.key === "read" ? { ...m, result: { ...m.result, p99: 3 } } : m)); // 1.5 -> 3
    b.peakRssMb = 310;
    const t = compareText(a, b, "10k", "1M");
    expect(t).toContain("B: 1M: 1,000,000 records");
    expect(t).toContain("| read by id p99, single-op max | 1.50 ms | 3.00 ms | 2.00× | ≤ 1.5× | ❌ FAIL |");
    expect(t).toContain("| list page p99, single-op max | 1.50 ms | 1.50 ms | 1.00× | ≤ 1.5× | ✅ PASS |");
    expect(t).toContain("| privata, main run | 120.5 MB | 310.0 MB | < 300 MB | ✅ PASS | ❌ FAIL |");
  });
});

describe("bench/run.ts as a process", () => {
  async function run(args: string[], env: Record<string, string>) {
    const p = Bun.spawn([process.execPath, join(ROOT, "bench", "run.ts"), ...args], { env, stdout: "pipe", stderr: "pipe", cwd: ROOT });
    const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    return { out, err, code };
  }

  test("no oha on PATH or in ~/.cargo/bin: one-line install hint, exit 2", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bench-nooha-"));
    try {
      mkdirSync(join(dir, "bin"));
      mkdirSync(join(dir, "home"));
      const r = await run(["--quick"], { PATH: join(dir, "bin"), HOME: join(dir, "home") });
      expect(r.code).toBe(2);
      expect(r.err).toBe(`${INSTALL_HINT}\n`);
      expect(r.err.trim()).toBe("bench: oha not found; install it with: cargo install oha --locked");
      expect(r.out).toBe("");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("an oha older than 1.14: one line, exit 2", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bench-oldoha-"));
    try {
      const fake = join(dir, "oha");
      writeFileSync(fake, "#!/bin/sh\necho 'oha 1.13.2'\n");
      chmodSync(fake, 0o755);
      const r = await run(["--quick"], { PATH: `${dir}:/bin:/usr/bin`, HOME: dir });
      expect(r.code).toBe(2);
      expect(r.err.trim().split("\n")).toHaveLength(1);
      expect(r.err).toContain("oha 1.13.2");
      expect(r.err).toContain("cargo install oha --locked");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("an unknown flag: one line, exit 2, before anything is built", async () => {
    const r = await run(["--nope"], { PATH: "/nonexistent", HOME: "/nonexistent" });
    expect(r.code).toBe(2);
    expect(r.err).toBe('bench: unknown argument "--nope" (see --help)\n');
  });
});
