// Long kill -9 runs of the crash checker (test/crash/): the CI test's cycles, by the thousand.
//
//   bun scripts/crash-loop.ts [--cycles 1000] [--durability normal|full|both] [--seed N] [--max-minutes 40]
//
// --cycles is per durability mode. Servers listen on 127.0.0.1 only, with temp data dirs that
// are removed afterwards (kept, and named, when a cycle fails). The run is bounded: it stops
// after its cycles, or at --max-minutes (the report then says how many ran). Progress goes to
// stderr; the figures go to the "crash-loop" section of docs/RELIABILITY.md. Exit 1 when a
// cycle failed.
import { parseArgs } from "node:util";
import { killAll } from "../test/process.ts";
import { compiledBinary } from "../test/crash/binary.ts";
import { runCrashCycles, type CrashResult, type Durability } from "../test/crash/cycles.ts";
import { ackedTotal } from "../test/crash/totals.ts";
import { writeSection } from "./report-section.ts";
import { crashLoopSection } from "./crash/report.ts";
import { formatDuration, num } from "./crash/provenance.ts";

function usage(message: string): never {
  console.error(`crash-loop: ${message}\nusage: bun scripts/crash-loop.ts [--cycles N] [--durability normal|full|both] [--seed N] [--max-minutes M]`);
  process.exit(2);
}

function intArg(value: string | undefined, name: string, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > max) usage(`--${name} must be an integer from 1 to ${max}`);
  return Number(value);
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      cycles: { type: "string" },
      durability: { type: "string" },
      seed: { type: "string" },
      "max-minutes": { type: "string" },
    },
    strict: true,
  }));
} catch (err) {
  usage((err as Error).message);
}
const cycles = intArg(values.cycles, "cycles", 1000, 100_000);
const maxMinutes = intArg(values["max-minutes"], "max-minutes", 40, 24 * 60);
const seed = intArg(values.seed, "seed", 1 + Math.floor(Math.random() * (2 ** 31 - 1)), 2 ** 31);
const which = values.durability ?? "both";
if (!["normal", "full", "both"].includes(which)) usage("--durability must be normal, full or both");
const modes: Durability[] = which === "both" ? ["normal", "full"] : [which as Durability];

// the command that reproduces this run, seed included, for the report
const command = `bun scripts/crash-loop.ts --cycles ${cycles} --durability ${which} --seed ${seed}${values["max-minutes"] ? ` --max-minutes ${maxMinutes}` : ""}`;

// Ctrl-C: no server and no half-written report left behind.
process.on("SIGINT", () => {
  console.error("\ncrash-loop: interrupted; stopping servers, no report written (the data dir of the cycle in progress, /tmp/privata-crash-*, is left)");
  void killAll().then(() => {
    process.exit(130);
  });
});

const t0 = performance.now();
const deadline = Date.now() + maxMinutes * 60_000;
console.error(`crash-loop: ${command}`);
const binary = compiledBinary();
const results: CrashResult[] = [];
for (const durability of modes) {
  const started = performance.now();
  let lastPrint = 0;
  const r = await runCrashCycles({
    binary, durability, cycles, seed, deadline,
    onCycle: (cycle, t) => {
      if (cycle !== cycles && performance.now() - lastPrint < 10_000) return;
      lastPrint = performance.now();
      const per = (performance.now() - started) / cycle;
      console.error(`[${durability}] ${num(cycle)}/${num(cycles)} kills survived, ${num(ackedTotal(t))} acknowledged writes checked, ${(per / 1000).toFixed(2)} s/cycle, about ${formatDuration(per * (cycles - cycle))} left`);
    },
  });
  results.push(r);
  console.error(`[${durability}] ${r.problems.length === 0 ? "ok" : "FAILED"}: ${num(r.survived)} of ${num(r.kills)} kills survived in ${formatDuration(r.elapsedMs)}`);
  for (const p of r.problems.slice(0, 20)) console.error(`  ${p}`);
  if (r.problems.length > 0) console.error(`  seed ${seed}; files kept in ${r.dataDir} (key ${r.keyFile})`);
}

writeSection("crash-loop", crashLoopSection(results, command, performance.now() - t0));
console.error(`crash-loop: wrote the crash-loop section of docs/RELIABILITY.md (${formatDuration(performance.now() - t0)})`);
process.exit(results.every((r) => r.problems.length === 0 && r.kills === cycles) ? 0 : 1);
