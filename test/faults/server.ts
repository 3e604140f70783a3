// The compiled binary on a data dir of the fault tests' choosing, and the checks every fault
// shares: a refused start, /health answering within the busy timeout, recovery by itself.
import { tmpdir } from "node:os";
import { runSync, startProcess, type Started } from "../process.ts";
import { compiledBinary } from "../crash/binary.ts";
import { call, type Answer } from "./client.ts";

export function serverArgs(dataDir: string, keyFile: string, extra: string[] = []): string[] {
  return [compiledBinary(), "--port", "0", "--data-dir", dataDir, "--key-file", keyFile, ...extra];
}

export function startOn(dataDir: string, keyFile: string, extra: string[] = []): Promise<Started> {
  return startProcess(serverArgs(dataDir, keyFile, extra), { cwd: tmpdir() });
}

/** A start that must be refused: its exit code, its stderr, whether it ever said "listening". */
export function startRefused(dataDir: string, keyFile: string): { exitCode: number | null; stderr: string; lines: string[]; listened: boolean } {
  const r = runSync(serverArgs(dataDir, keyFile));
  const lines = r.stderr.split("\n").filter((l) => l.trim() !== "");
  return { exitCode: r.exitCode, stderr: r.stderr, lines, listened: /listening on/.test(r.stderr) };
}

/**
 * The event loop is not stuck: /health answers (503 while a store is failing) within this.
 * The busy timeout is 100 ms (src/db/sqlite.ts); the rest is slack for a shared 2-core machine.
 */
export const HEALTH_WITHIN_MS = 250;

export function health(url: string): Promise<Answer> {
  return call(url, "GET", "/health");
}

/** Poll /health until it answers 200 (a failure is remembered for 5 s); the time it took. */
export async function healthyAgain(url: string, withinMs = 10_000): Promise<number> {
  const t0 = performance.now();
  while (performance.now() - t0 < withinMs) {
    if ((await health(url)).status === 200) return performance.now() - t0;
    await Bun.sleep(100);
  }
  throw new Error(`/health did not answer 200 within ${withinMs} ms after the fault went away`);
}

/** SIGKILL, as hard a stop as there is: what is in the files is all the next start gets. */
export async function killHard(s: Started): Promise<void> {
  s.proc.kill("SIGKILL");
  await s.proc.exited;
  await s.stop();
}
