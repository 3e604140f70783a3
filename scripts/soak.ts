// `bun scripts/soak.ts`: the long-run stability soak (issue "Long-run stability"). Builds (or
// with --no-build reuses) dist/privata, runs the seed's mix open-loop at L3 for --duration
// seconds on loopback with a small cache, samples RSS, WAL sizes and the cache every second,
// and checks: zero errors, RSS growth after warm-up < 10 %, WAL bounded, cache at its cap.
// Writes docs/soak-rss.svg and the "soak" section of docs/RELIABILITY.md. Exit 0 when every
// check passed, 1 when one failed or the run broke, 2 for bad flags.
import { chmodSync, copyFileSync, existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cleanupAll, trackDir } from "../bench/cleanup.ts";
import { machineInfo } from "../bench/machine.ts";
import { loadAvg, privataVersion, shellQuote } from "../bench/run.ts";
import { writeSection } from "./report-section.ts";
import { parseSoakArgs, USAGE } from "./soak/args.ts";
import { renderSoakChart } from "./soak/chart.ts";
import { RSS_GROWTH_LIMIT, rssWindowS } from "./soak/checks.ts";
import { renderSoakSection } from "./soak/report.ts";
import { runSoak } from "./soak/run.ts";

const ROOT = join(import.meta.dir, "..");
const SVG = join(ROOT, "docs", "soak-rss.svg");
const say = (line: string) => process.stderr.write(`soak: ${line}\n`);

async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseSoakArgs(argv);
  } catch (err) {
    say((err as Error).message);
    return 2;
  }
  if (args.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const bin = join(ROOT, "dist", "privata");
  if (args.build || !existsSync(bin)) {
    say("building dist/privata (bun run build)");
    const b = Bun.spawnSync([process.execPath, "run", "build"], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
    if (b.exitCode !== 0) throw new Error(`bun run build failed: ${b.stderr.toString().trim().slice(-500)}`);
  } else say("reusing dist/privata (--no-build)");
  // Run a private copy: a rebuild of dist/privata during a 10-minute run neither changes the
  // server under test nor fails on a busy executable.
  const binDir = mkdtempSync(join(tmpdir(), "privata-soak-bin-"));
  trackDir(binDir);
  const runBin = join(binDir, "privata");
  copyFileSync(bin, runBin);
  chmodSync(runBin, 0o755);

  const warmupS = args.warmupS ?? Math.round(args.durationS * 0.2);
  const loadAvgStart = loadAvg();
  const started = new Date();
  const r = await runSoak({
    server: [runBin], records: args.records, durationS: args.durationS, rate: args.rate, concurrency: args.concurrency,
    warmupS, cacheEntries: args.cacheEntries, cacheBytes: args.cacheBytes, log: say,
  });
  for (const c of r.checks) say(`${c.ok ? "PASS" : "FAIL"} ${c.name}: ${c.detail}`);

  const { rssAfterWarmupMb: base, rssEndMb: end } = r.figures;
  const w = rssWindowS(r.samples, warmupS);
  const tEnd = r.samples.at(-1)?.t ?? 0;
  const svg = renderSoakChart(
    `Privata soak: ${r.options.durationS} s at ${r.options.rate} req/s, seed mix (${started.toISOString().slice(0, 10)})`,
    r.samples, warmupS, base === null ? null : base * (1 + RSS_GROWTH_LIMIT),
    base === null || end === null ? [] : [{ t0: warmupS, t1: warmupS + w, v: base }, { t0: tEnd - w, t1: tEnd, v: end }],
    r.load.errorTimes,
  );
  const section = renderSoakSection(r, {
    command: `bun scripts/soak.ts${argv.map((a) => ` ${shellQuote(a)}`).join("")}`,
    date: started.toISOString().replace(/\.\d+Z$/, "Z"),
    machine: machineInfo(),
    bun: Bun.version,
    privata: privataVersion(),
    loadAvgStart,
    loadAvgEnd: loadAvg(),
    svg: "soak-rss.svg",
  });
  if (args.docs) {
    writeFileSync(SVG, svg);
    writeSection("soak", section);
    say("wrote docs/soak-rss.svg and the soak section of docs/RELIABILITY.md");
  } else process.stdout.write(`${section}\n`);
  return r.ok ? 0 : 1;
}

if (import.meta.main) {
  const onSignal = () => void cleanupAll().finally(() => process.exit(130));
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  let code = 1;
  try {
    code = await main(process.argv.slice(2));
  } catch (err) {
    say(`failed: ${(err as Error).message}`);
  } finally {
    await cleanupAll();
  }
  process.exit(code);
}
