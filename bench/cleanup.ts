// Child processes and temp dirs to remove however the bench ends (normal end, error, SIGINT).
import { rmSync } from "node:fs";
import type { Subprocess } from "bun";

const procs = new Set<Subprocess>();
const dirs = new Set<string>();

export function track(p: Subprocess): void {
  procs.add(p);
}
export function untrack(p: Subprocess): void {
  procs.delete(p);
}
export function trackDir(d: string): void {
  dirs.add(d);
}

/** Kill every tracked child that is still running (SIGTERM, then SIGKILL after 3 s) and remove temp dirs. */
export async function cleanupAll(): Promise<void> {
  const live = [...procs].filter((p) => p.exitCode === null && p.signalCode === null);
  for (const p of live) p.kill("SIGTERM");
  await Promise.all(
    live.map(async (p) => {
      const t = setTimeout(() => p.kill("SIGKILL"), 3000);
      await p.exited;
      clearTimeout(t);
    }),
  );
  procs.clear();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs.clear();
}
