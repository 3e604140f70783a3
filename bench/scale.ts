// `bun bench/scale.ts`: the issue's "1 000 000 records vs 10 000: read and list p99 within
// 1.5×", measured in one run. Both servers are seeded and warmed first; then each level of the
// seed's mix runs against one and then the other (which goes first alternates), then the read
// and list maxima the same way, `--rounds` times. Two separate `bun run bench` runs compare two
// states of this shared machine as much as two data sets: session 8's pair, 12 minutes apart,
// gave reads at L2 a p50 of 0.088 ms at 10k and 0.257 ms at 1M, where a cached read costs the
// server the same ~15 µs at both.
// Usage: bun bench/scale.ts [--small N] [--large N] [--duration S] [--rounds R] [--out FILE] [--no-build]
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { cleanupAll, trackDir } from "./cleanup.ts";
import { machineInfo } from "./machine.ts";
import { LEVELS, OPS, opTarget, runMix } from "./mix.ts";
import { findOha, INSTALL_HINT, parseOha, runOha } from "./oha.ts";
import * as progress from "./progress.ts";
import { renderScale, scaleRows, type ScaleSample } from "./scale-report.ts";
import { seedRecords, warm, writeWorkFiles, type WorkFiles } from "./seed.ts";
import { buildPrivata, type Running, startPrivata } from "./server.ts";
import { readLatenciesMs, summarize } from "./stats.ts";

const ROOT = resolve(import.meta.dir, "..");
const { values: a } = parseArgs({
  args: process.argv.slice(2),
  options: {
    small: { type: "string", default: "10000" },
    large: { type: "string", default: "1000000" },
    duration: { type: "string", default: "20" },
    rounds: { type: "string", default: "1" },
    out: { type: "string" },
    "no-build": { type: "boolean", default: false },
  },
  strict: true,
});
const oha = findOha();
if (!oha) {
  console.error(INSTALL_HINT);
  process.exit(2);
}
const [small, large, duration, rounds] = [Number(a.small), Number(a.large), Number(a.duration), Number(a.rounds)];
if (![small, large, duration, rounds].every((x) => Number.isInteger(x) && x > 0)) {
  console.error("usage: bun bench/scale.ts [--small N] [--large N] [--duration S] [--rounds R] [--out FILE] [--no-build]");
  process.exit(2);
}

interface Side {
  name: "small" | "large";
  server: Running;
  files: WorkFiles;
}

/** A server on its own data dir, seeded with `n` records, its read set and list pages warmed. */
async function prepare(name: Side["name"], n: number, tmp: string, bin: string): Promise<Side> {
  const dir = join(tmp, name);
  mkdirSync(dir);
  const server = await startPrivata(bin, join(dir, "data"), "normal");
  const c = progress.counter(`seeding the ${name} server`, n);
  const ids = await seedRecords(server.url, n, (d) => c.update(d));
  c.stop();
  const files = await writeWorkFiles(dir, server.url, ids);
  const bad = await warm([...files.readList, ...files.listList]);
  if (bad > 0) throw new Error(`the ${name} server answered ${bad} warm-up GETs with other than 200`);
  return { name, server, files };
}

/** The p99 (ms) of reads and lists at one level, exact over oha's per-request latencies. */
async function level(side: Side, rate: number, prefix: string): Promise<{ read: number | null; list: number | null; errors: number }> {
  const stop = progress.countdown(`${rate} req/s, ${side.name} server`, duration);
  const mix = await runMix({ ohaPath: oha!, base: side.server.url, files: side.files, durationS: duration, rate, dbPrefix: prefix }).finally(stop);
  const p99 = (op: "read" | "list") => summarize(readLatenciesMs(mix.dbPaths[op]!)).p99;
  const errors = OPS.reduce((n, op) => n + parseOha(JSON.parse(mix.json[op])).errors, 0);
  return { read: p99("read"), list: p99("list"), errors };
}

/** oha's p99 of one operation alone, closed loop, 50 connections (as in bun run bench). */
async function max(side: Side, op: "read" | "list"): Promise<{ p99: number | null; errors: number }> {
  const stop = progress.countdown(`max ${op}, ${side.name} server`, duration);
  const text = await runOha(oha!, { ...opTarget(op, side.server.url, side.files), durationS: duration, connections: 50 }).finally(stop);
  const r = parseOha(JSON.parse(text));
  return { p99: r.p99, errors: r.errors };
}

const tmp = mkdtempSync(join(tmpdir(), "privata-scale-"));
trackDir(tmp);
const sides: Side[] = [];
try {
  if (!a["no-build"]) progress.log("building dist/privata (bun run build)");
  const bin = a["no-build"] ? join(ROOT, "dist", "privata") : buildPrivata(ROOT);
  sides.push(await prepare("small", small, tmp, bin), await prepare("large", large, tmp, bin));
  const samples: ScaleSample[] = [];
  for (let round = 0; round < rounds; round++) {
    let turn = round;
    // each run: one server, then the other, the first of the pair alternating
    const pair = async <T>(measure: (s: Side) => Promise<T>): Promise<Record<Side["name"], T>> => {
      const order = turn++ % 2 === 0 ? sides : [...sides].reverse();
      const out = {} as Record<Side["name"], T>;
      for (const s of order) out[s.name] = await measure(s);
      return out;
    };
    for (const lv of LEVELS) {
      const r = await pair((s) => level(s, lv.rate, join(tmp, s.name, `${lv.name}-${round}`)));
      const errors = r.small.errors + r.large.errors; // of all four operations: a level is one load
      for (const op of ["read", "list"] as const) samples.push({ run: lv.name, op, round, small: r.small[op], large: r.large[op], errors });
    }
    for (const op of ["read", "list"] as const) {
      const r = await pair((s) => max(s, op));
      samples.push({ run: "max", op, round, small: r.small.p99, large: r.large.p99, errors: r.small.errors + r.large.errors });
    }
  }
  const m = machineInfo();
  const text = [
    `# Read and list p99: ${large.toLocaleString("en-US")} records against ${small.toLocaleString("en-US")}, in one run`,
    "",
    `Command: \`bun bench/scale.ts ${process.argv.slice(2).join(" ")}\`; ${new Date().toISOString()}; ${m.cores} cores, ${m.cpuModel}, ${m.memoryMb ?? "?"} MB; Bun ${Bun.version}.`,
    `Levels of the seed's mix at their rates (L1 100 … L4 1 000 req/s, ${duration} s each) and each operation alone (closed loop, -c 50), against each server in turn, ${rounds} round(s).`,
    "",
    renderScale(scaleRows(samples), small, large),
    "",
  ].join("\n");
  console.log(text);
  if (a.out) {
    mkdirSync(dirname(resolve(a.out)), { recursive: true });
    await Bun.write(a.out, text);
  }
} finally {
  for (const s of sides) await s.server.stop();
  await cleanupAll();
}
