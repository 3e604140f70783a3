// `bun run bench`: build, start, seed, warm, run the levels, the closed-loop runs and the limit,
// then write the report. Progress on stderr, tables on stdout, files in --out.
// Exit codes: 0 measured (even when targets fail), 1 the harness failed, 2 bad usage / no oha.
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type BenchArgs, parseArgs, USAGE } from "./args.ts";
import { cleanupAll, trackDir } from "./cleanup.ts";
import { machineInfo } from "./machine.ts";
import { CLOSED_CONNECTIONS, LEVEL_CONNECTIONS, LEVELS, OPS, type Op, opTarget, runMix } from "./mix.ts";
import { findOha, INSTALL_HINT, MIN_OHA, type OhaResult, ohaVersion, parseOha, parseOhaVersion, runOha, versionAtLeast } from "./oha.ts";
import * as progress from "./progress.ts";
import { renderMarkdown, renderSummaryChart, renderTables } from "./report.ts";
import { READ_SET, seedRecords, warm, writeWorkFiles, type WorkFiles } from "./seed.ts";
import { buildPrivata, type CacheCounters, getStats, hitRate, peakRssMb, resetPeakRss, type Running, startBare, startPrivata } from "./server.ts";
import { merge, readLatenciesMs, summarize } from "./stats.ts";
import { levelChecks, maximaChecks, maximaErrorNotes } from "./targets.ts";
import type { ClosedMixedResult, LevelResult, MaxKey, MaxResult, OpResult, Summary } from "./types.ts";

const ROOT = resolve(import.meta.dir, "..");
const MAX_CONNECTIONS = 50;

/** The per-operation result of one oha run; percentiles from `latMs` when given (exact), else oha's. */
export function opResult(op: string, r: OhaResult, rawFile: string, latMs?: Float64Array): OpResult {
  const lat = latMs ? summarize(latMs) : null;
  return {
    op,
    count: r.total,
    errors: r.errors,
    non2xx: r.non2xx,
    connectionErrors: r.connectionErrors,
    aborted: r.aborted,
    statusCounts: r.statusCounts,
    errorKinds: r.errorKinds,
    rps: r.rps,
    p50: lat ? (lat.count ? lat.p50 : null) : r.p50,
    p95: lat ? (lat.count ? lat.p95 : null) : r.p95,
    p99: lat ? (lat.count ? lat.p99 : null) : r.p99,
    source: lat ? "db" : "oha",
    rawFile,
  };
}

/** A level's overall numbers: counts summed, percentiles exact over the merged latencies. */
export function levelOverall(ops: readonly OpResult[], latencies: readonly Float64Array[]): LevelResult["overall"] {
  const all = summarize(merge(latencies));
  const count = ops.reduce((n, o) => n + o.count, 0);
  const errors = ops.reduce((n, o) => n + o.errors, 0);
  return {
    count,
    errors,
    errorShare: count === 0 ? 0 : errors / count,
    aborted: ops.reduce((n, o) => n + o.aborted, 0),
    rps: ops.reduce((n, o) => n + o.rps, 0),
    p50: all.count ? all.p50 : null,
    p95: all.count ? all.p95 : null,
    p99: all.count ? all.p99 : null,
  };
}

export function shellQuote(a: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`;
}

export function privataVersion(): string {
  let v = "unknown";
  try {
    v = (require(join(ROOT, "package.json")) as { version?: string }).version ?? v;
  } catch {}
  const git = Bun.spawnSync(["git", "rev-parse", "--short", "HEAD"], { cwd: ROOT, stdout: "pipe", stderr: "ignore" });
  if (git.exitCode === 0) {
    const dirty = Bun.spawnSync(["git", "diff", "--quiet", "HEAD", "--", "src"], { cwd: ROOT, stdout: "ignore", stderr: "ignore" }).exitCode !== 0;
    v += ` (${git.stdout.toString().trim()}${dirty ? ", with uncommitted src/ changes" : ""})`;
  }
  return v;
}

function alive(s: Running, phase: string): void {
  const why = s.died();
  if (why) throw new Error(`${why} (during ${phase})`);
}

async function main(argv: string[]): Promise<number> {
  const parsed = parseArgs(argv, { root: ROOT, now: new Date(), host: hostname() });
  if (!parsed.ok) {
    console.error(`bench: ${parsed.error}`);
    return 2;
  }
  const args = parsed.args;
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  const oha = findOha();
  if (!oha) {
    console.error(INSTALL_HINT);
    return 2;
  }
  const ohaVer = ohaVersion(oha);
  const v = ohaVer ? parseOhaVersion(ohaVer) : null;
  if (!v || !versionAtLeast(v, MIN_OHA)) {
    console.error(`bench: oha ${ohaVer ?? "(version unknown)"} at ${oha} is too old, ${MIN_OHA.join(".")} or newer is needed: cargo install oha --locked`);
    return 2;
  }
  return await bench(args, oha, ohaVer!, argv);
}

export function loadAvg(): number[] {
  try {
    return readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).map(Number);
  } catch {
    return [];
  }
}

/** Share of all CPU time that was not idle over `ms` (from /proc/stat); null off Linux. */
export async function cpuBusy(ms: number): Promise<number | null> {
  const sample = () => {
    try {
      const f = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
      const idle = (f[3] ?? 0) + (f[4] ?? 0);
      return { idle, total: f.reduce((a, b) => a + b, 0) };
    } catch {
      return null;
    }
  };
  const a = sample();
  await Bun.sleep(ms);
  const b = sample();
  if (!a || !b || b.total <= a.total) return null;
  return 1 - (b.idle - a.idle) / (b.total - a.total);
}

async function bench(args: BenchArgs, oha: string, ohaVer: string, argv: string[]): Promise<number> {
  const started = new Date();
  const loadStart = loadAvg();
  const busyStart = await cpuBusy(1000);
  if (busyStart !== null && busyStart > 0.1) {
    progress.log(`warning: the CPUs were ${(busyStart * 100).toFixed(0)}% busy before the bench started; other work on this machine will skew the numbers`);
  }
  const tmp = mkdtempSync(join(tmpdir(), "privata-bench-"));
  trackDir(tmp);
  const out = resolve(args.out);
  mkdirSync(out, { recursive: true });
  const raw = async (name: string, text: string) => {
    await Bun.write(join(out, name), text);
    return name;
  };
  const notes: string[] = [];

  // ---- build
  const bin = join(ROOT, "dist", "privata");
  if (args.build || !existsSync(bin)) {
    progress.log("building dist/privata (bun run build)");
    buildPrivata(ROOT);
  } else progress.log("reusing dist/privata (--no-build)");

  // ---- main server, seed, warm
  progress.log(`starting privata (durability ${args.durability})`);
  const server = await startPrivata(bin, join(tmp, "data"), args.durability);
  const base = server.url;
  progress.log(`privata listening on ${base}; seeding ${args.records.toLocaleString("en-US")} records`);
  const t0 = performance.now();
  const c = progress.counter("seeding", args.records);
  const ids = await seedRecords(base, args.records, (d) => c.update(d));
  c.stop();
  const seedS = (performance.now() - t0) / 1000;
  alive(server, "seeding");
  progress.log(`seeded in ${seedS.toFixed(1)} s; writing URL and body files`);
  const files: WorkFiles = await writeWorkFiles(tmp, base, ids);
  const readCount = files.readList.length;
  if (readCount < READ_SET) notes.push(`Only ${readCount} records were seeded, so the read set has ${readCount} ids (not ${READ_SET}).`);
  progress.log(`warming the read set and the list pages (${(readCount + files.listList.length).toLocaleString("en-US")} GETs)`);
  // the list pages too: creates are not cached, so after seeding nothing is
  const warmBad = await warm([...files.readList, ...files.listList]);
  const afterWarm = await getStats(base);
  // seeding 1M records at full speed is a bulk import, not the workload: its peak is kept apart
  const peakRssSeedMb = peakRssMb(server.pid);
  if (!resetPeakRss(server.pid)) notes.push("The peak RSS could not be reset after seeding: the measured-runs peak includes seeding.");
  if (warmBad > 0) notes.push(`${warmBad} warm-up reads did not answer 200.`);
  // each measured run's own peak (VmHWM read, then reset), so a report can say which run made it
  const phasePeaks: Record<string, number | null> = {};
  const endPhase = (name: string) => {
    phasePeaks[name] = peakRssMb(server.pid);
    if (!resetPeakRss(server.pid) && !notes.includes(NO_RESET)) notes.push(NO_RESET);
  };

  // ---- levels
  const levels: LevelResult[] = [];
  let checkRuns = 0;
  let maxDiff = 0;
  for (const lv of LEVELS) {
    const dur = lv.name === "L1" ? args.level1Duration : args.duration;
    const before: CacheCounters = await getStats(base);
    const stop = progress.countdown(`${lv.name} ${lv.rate} req/s (4 oha processes)`, dur);
    const prefix = join(tmp, lv.name);
    const mix = await runMix({ ohaPath: oha, base, files, durationS: dur, rate: lv.rate, dbPrefix: prefix }).finally(stop);
    alive(server, lv.name);
    endPhase(lv.name);
    const after = await getStats(base);
    const ops: OpResult[] = [];
    const lats: Float64Array[] = [];
    for (const op of OPS) {
      const parsed = parseOha(JSON.parse(mix.json[op]));
      const lat = readLatenciesMs(mix.dbPaths[op]!);
      lats.push(lat);
      const r = opResult(op, parsed, await raw(`${lv.name}-${op}.json`, mix.json[op]), lat);
      // our percentiles (oha's definition) must equal oha's own for a single process
      for (const k of ["p50", "p95", "p99"] as const) {
        const a = r[k];
        const b = parsed[k];
        if (a !== null && b !== null) maxDiff = Math.max(maxDiff, Math.abs(a - b));
      }
      checkRuns++;
      ops.push(r);
    }
    const hr = hitRate(before, after);
    const level: LevelResult = {
      name: lv.name,
      rate: lv.rate,
      durationS: dur,
      ops,
      overall: levelOverall(ops, lats),
      cache: {
        ...hr,
        pageHits: after.pageHits !== null && before.pageHits !== null ? after.pageHits - before.pageHits : null,
        pageMisses: after.pageMisses !== null && before.pageMisses !== null ? after.pageMisses - before.pageMisses : null,
        listHits: after.listHits !== null && before.listHits !== null ? after.listHits - before.listHits : null,
        listMisses: after.listMisses !== null && before.listMisses !== null ? after.listMisses - before.listMisses : null,
      },
    };
    levels.push(level);
    progress.log(
      `${lv.name}: ${level.overall.count} requests, ${level.overall.errors} errors, p95 ${level.overall.p95?.toFixed(3)} ms, p99 ${level.overall.p99?.toFixed(3)} ms, cache hit rate ${hr.rate === null ? "—" : (hr.rate * 100).toFixed(2) + "%"}`,
    );
  }
  if (maxDiff > 0.01) notes.push(`Per-request percentiles differ from oha's own by up to ${maxDiff.toFixed(3)} ms on a single process: check stats.ts.`);

  // ---- closed-loop mixed
  let stop = progress.countdown("closed-loop mixed (4 oha processes, 50 connections)", args.maxDuration);
  const mixed = await runMix({ ohaPath: oha, base, files, durationS: args.maxDuration }).finally(stop);
  alive(server, "closed-loop mixed run");
  endPhase("mixed");
  const mixedOps: ClosedMixedResult["ops"] = [];
  for (const op of OPS) {
    const r = opResult(op, parseOha(JSON.parse(mixed.json[op])), await raw(`mixed-${op}.json`, mixed.json[op]));
    mixedOps.push({ ...r, connections: CLOSED_CONNECTIONS[op], share: 0 });
  }
  const mixedCount = mixedOps.reduce((n, o) => n + o.count, 0);
  for (const o of mixedOps) o.share = mixedCount ? o.count / mixedCount : 0;
  const closedMixed: ClosedMixedResult = {
    durationS: args.maxDuration,
    ops: mixedOps,
    rps: mixedOps.reduce((n, o) => n + o.rps, 0),
    count: mixedCount,
    errors: mixedOps.reduce((n, o) => n + o.errors, 0),
    aborted: mixedOps.reduce((n, o) => n + o.aborted, 0),
  };

  // ---- single-operation maxima
  const maxima: MaxResult[] = [];
  const single = async (key: MaxKey, label: string, url: string, op: Op | null, srv: Running, fileName: string) => {
    const s = progress.countdown(`max: ${label} (-c ${MAX_CONNECTIONS})`, args.maxDuration);
    const target = op ? opTarget(op, url, files) : { target: url, urlsFile: false, method: "GET" as const };
    const text = await runOha(oha, { ...target, durationS: args.maxDuration, connections: MAX_CONNECTIONS }).finally(s);
    alive(srv, label);
    if (srv === server) endPhase(key);
    maxima.push({ key, label, durationS: args.maxDuration, connections: MAX_CONNECTIONS, result: opResult(key, parseOha(JSON.parse(text)), await raw(fileName, text)) });
  };
  const beforeRead = await getStats(base);
  await single("read", "read by id (cache hit)", base, "read", server, "max-read.json");
  // the label says "cache hit": check it with the server's own counters
  const readHits = hitRate(beforeRead, await getStats(base));
  maxima[maxima.length - 1]!.cacheHitRate = readHits.rate;
  if (readHits.rate === null || readHits.rate < 0.99) notes.push(`Read by id max: the cache hit rate was ${readHits.rate === null ? "unknown" : (readHits.rate * 100).toFixed(2) + "%"}, not all hits.`);
  await single("list", "list, page of 50", base, "list", server, "max-list.json");
  await single("create", `create, durability ${args.durability}`, base, "create", server, `max-create${args.durability === "full" ? "-full" : ""}.json`);
  progress.log("stopping privata");
  const mainStop = await server.stop();
  phasePeaks.shutdown = mainStop.peakRssMb; // from the end of the last run to the stop
  const peaks = Object.values(phasePeaks).filter((v): v is number => v !== null);
  const measuredPeak = peaks.length ? Math.max(...peaks) : null;
  if (mainStop.exitCode !== 0) notes.push(`privata exited with code ${mainStop.exitCode} on SIGTERM (expected 0).`);

  // ---- create on a fresh durability=full server
  let peakRssFullMb: number | null = null;
  if (args.durability === "normal") {
    progress.log("starting a fresh privata with --durability full");
    const full = await startPrivata(bin, join(tmp, "data-full"), "full");
    await single("createFull", "create, durability full (fresh server)", full.url, "create", full, "max-create-full.json");
    const st = await full.stop();
    peakRssFullMb = st.peakRssMb;
    if (st.exitCode !== 0) notes.push(`privata (durability full) exited with code ${st.exitCode} on SIGTERM.`);
  }

  // ---- the limit
  progress.log("starting the bare Bun.serve (the limit)");
  const bare = await startBare(join(import.meta.dir, "bare-server.ts"));
  await single("limit", "limit: bare Bun.serve \"ok\"", `${bare.url}/`, null, bare, "limit.json");
  await bare.stop();
  const limitRps = maxima.find((m) => m.key === "limit")?.result.rps ?? null;

  // ---- report
  const aborted = levels.reduce((n, l) => n + l.overall.aborted, 0) + closedMixed.aborted + maxima.reduce((n, m) => n + m.result.aborted, 0);
  if (aborted > 0) notes.push(`${aborted} requests were "aborted due to deadline" despite -w; they are counted apart, not as errors.`);
  notes.push(...maximaErrorNotes(maxima));
  if (closedMixed.errors > 0) notes.push(`Closed-loop mixed run: ${closedMixed.errors} errors.`);
  const serverErrLines = server.stderrLines.filter((l) => !/listening on/.test(l));
  if (serverErrLines.length) notes.push(`privata wrote ${serverErrLines.length} line(s) to stderr during the run, e.g. "${serverErrLines[0]!.slice(0, 160)}".`);
  const loadEnd = loadAvg();
  if (busyStart !== null && busyStart > 0.1) {
    notes.push(`The CPUs were ${(busyStart * 100).toFixed(0)}% busy in the second before the bench started: something else was running, so these numbers are not clean.`);
  }
  if (args.durability === "normal") notes.push(`"create, durability full" ran on a fresh, empty server started with --durability full.`);

  const summary: Summary = {
    schema: 1,
    date: started.toISOString(),
    command: ["bun", "run", "bench", ...argv].map(shellQuote).join(" "),
    machine: machineInfo(),
    versions: { bun: Bun.version, oha: ohaVer, privata: privataVersion() },
    config: {
      records: args.records,
      durability: args.durability,
      levelDurationS: args.duration,
      level1DurationS: args.level1Duration,
      maxDurationS: args.maxDuration,
      quick: args.quick,
      full: args.full,
      levelConnectionsPerOp: LEVEL_CONNECTIONS,
      closedConnections: { ...CLOSED_CONNECTIONS },
      readSet: readCount,
    },
    seed: { records: ids.length, seconds: seedS, perSecond: ids.length / seedS },
    warm: { urls: readCount, listUrls: files.listList.length, non200: warmBad, cacheSizeAfter: afterWarm.size },
    levels,
    closedMixed,
    maxima,
    limitRps,
    // the whole run's peak (seeding included) is what the target is judged on
    peakRssMb: Math.max(measuredPeak ?? 0, peakRssSeedMb ?? 0) || null,
    peakRssSeedMb,
    peakRssMeasuredMb: measuredPeak,
    peakRssByRunMb: phasePeaks,
    peakRssFullMb,
    percentileCheck: { maxAbsDiffMs: maxDiff, runs: checkRuns },
    loadAvg: { start: loadStart, end: loadEnd },
    cpuBusyBeforeStart: busyStart,
    checks: [],
    notes,
  };
  summary.checks = [...levels.flatMap(levelChecks), ...maximaChecks(closedMixed, maxima, limitRps, args.durability)];

  await Bun.write(join(out, "summary.json"), JSON.stringify(summary, null, 2) + "\n");
  await Bun.write(join(out, "REPORT.md"), renderMarkdown(summary));
  await Bun.write(join(out, "chart.svg"), renderSummaryChart(summary));
  process.stdout.write(renderTables(summary));
  progress.log(`wrote ${out}/{REPORT.md,summary.json,chart.svg} and the raw oha JSON`);
  return 0;
}

const NO_RESET = "The peak RSS could not be reset between runs: each run's own peak includes the runs before it.";

let exiting = false;

if (import.meta.main) {
  const onSignal = (sig: string) => {
    if (exiting) return;
    exiting = true;
    progress.stop();
    progress.log(`${sig}: stopping children and removing temp files`);
    void cleanupAll().finally(() => process.exit(130));
  };
  process.on("SIGINT", () => onSignal("SIGINT"));
  process.on("SIGTERM", () => onSignal("SIGTERM"));
  let code = 1;
  try {
    code = await main(process.argv.slice(2));
  } catch (e) {
    progress.stop();
    // after Ctrl-C the children die on purpose; their failures are not news
    if (!exiting) console.error(`bench: failed: ${e instanceof Error ? e.message : String(e)}`);
    code = 1;
  } finally {
    await cleanupAll();
  }
  process.exit(code);
}
