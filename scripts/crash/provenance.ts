// Where a generated figure comes from: the machine, Bun, the checkout, the time. Shared by the
// scripts that write sections of docs/RELIABILITY.md (crash-loop, faults).
import { join } from "node:path";
import { machineInfo } from "../../bench/machine.ts";

const ROOT = join(import.meta.dir, "..", "..");

function git(args: string[]): string {
  const r = Bun.spawnSync(["git", ...args], { cwd: ROOT, stdout: "pipe", stderr: "ignore" });
  return r.exitCode === 0 ? r.stdout.toString().trim() : "";
}

/** One markdown line: machine (cores, CPU, memory, OS, kernel), Bun, commit. */
export function provenanceLine(): string {
  const m = machineInfo();
  const mem = m.memoryMb === null ? "memory unknown" : `${(m.memoryMb / 1024).toFixed(1)} GiB`;
  const commit = git(["rev-parse", "--short", "HEAD"]) || "unknown";
  // others may have uncommitted edits in the checkout: say so instead of claiming a clean commit
  const dirty = git(["status", "--porcelain", "--", "src", "scripts/build.ts"]) !== "" ? " + uncommitted changes in src/" : "";
  return `Machine: ${m.cores} cores, ${m.cpuModel}, ${mem}, ${m.os}, ${m.kernel}. Bun ${Bun.version}. Checkout ${commit}${dirty}.`;
}

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}

/** "2026-11-27 05:40 UTC" */
export function utcStamp(d = new Date()): string {
  return `${d.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/** 12345 -> "12 345" (the README's number style) */
export function num(n: number): string {
  return Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, " ");
}
