// `bun bench/compare.ts A B`: two bench results (dirs or summary.json files), e.g. 10 000 vs
// 1 000 000 records. Prints read and list p99 of both, the ratio B/A against the 1.5× target,
// and peak RSS against the 300 MB target. Exit 0 when both files were read, 2 on bad usage.
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fmtMb, fmtMs, fmtNum, table } from "./format.ts";
import { TARGETS } from "./targets.ts";
import type { Summary } from "./types.ts";

export function loadSummary(path: string): Summary {
  const file = existsSync(path) && statSync(path).isDirectory() ? join(path, "summary.json") : path;
  const s = JSON.parse(readFileSync(file, "utf8")) as Summary;
  if (s.schema !== 1 || !Array.isArray(s.levels)) throw new Error(`${file} is not a bench summary.json`);
  return s;
}

interface Row {
  name: string;
  a: number | null;
  b: number | null;
}

function p99Rows(a: Summary, b: Summary): Row[] {
  const rows: Row[] = [];
  const max = (s: Summary, k: string) => s.maxima.find((m) => m.key === k)?.result.p99 ?? null;
  rows.push({ name: "read by id p99, single-op max", a: max(a, "read"), b: max(b, "read") });
  rows.push({ name: "list page p99, single-op max", a: max(a, "list"), b: max(b, "list") });
  for (const la of a.levels) {
    const lb = b.levels.find((l) => l.name === la.name);
    for (const op of ["read", "list"]) {
      rows.push({
        name: `${op} p99, ${la.name}`,
        a: la.ops.find((o) => o.op === op)?.p99 ?? null,
        b: lb?.ops.find((o) => o.op === op)?.p99 ?? null,
      });
    }
  }
  return rows;
}

export function compareText(a: Summary, b: Summary, nameA = "A", nameB = "B"): string {
  const out: string[] = [];
  out.push(`A: ${nameA}: ${fmtNum(a.config.records)} records, durability ${a.config.durability}, ${a.date}, ${a.machine.hostname}`);
  out.push(`B: ${nameB}: ${fmtNum(b.config.records)} records, durability ${b.config.durability}, ${b.date}, ${b.machine.hostname}`);
  out.push("");
  const rows = p99Rows(a, b).map((r) => {
    const ratio = r.a !== null && r.b !== null && r.a > 0 ? r.b / r.a : null;
    const status = ratio === null ? "—" : ratio <= TARGETS.scaleP99Ratio ? "✅ PASS" : "❌ FAIL";
    return [r.name, fmtMs(r.a), fmtMs(r.b), ratio === null ? "—" : `${ratio.toFixed(2)}×`, `≤ ${TARGETS.scaleP99Ratio}×`, status];
  });
  out.push(table(["Measure", "A", "B", "B/A", "Target", "Status"], rows));
  out.push("");
  const rss = (v: number | null) => (v === null ? "—" : v < TARGETS.peakRssMb ? "✅ PASS" : "❌ FAIL");
  out.push(
    table(["Peak RSS (VmHWM)", "A", "B", "Target", "Status A", "Status B"], [
      ["privata, main run", fmtMb(a.peakRssMb), fmtMb(b.peakRssMb), `< ${TARGETS.peakRssMb} MB`, rss(a.peakRssMb), rss(b.peakRssMb)],
    ]),
  );
  if (a.machine.hostname !== b.machine.hostname || a.machine.cpuModel !== b.machine.cpuModel) {
    out.push("");
    out.push("Note: A and B come from different machines; the ratios mean little.");
  }
  return out.join("\n") + "\n";
}

if (import.meta.main) {
  const [a, b, ...rest] = process.argv.slice(2);
  if (!a || !b || rest.length) {
    console.error("usage: bun bench/compare.ts <result dir or summary.json A> <… B>   (e.g. 10k run, then 1M run)");
    process.exit(2);
  }
  try {
    process.stdout.write(compareText(loadSummary(a), loadSummary(b), a, b));
  } catch (e) {
    console.error(`compare: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  }
}
