// The compiled executable, as shipped (`bun run build`), for the suites that kill and restart
// servers. Built once per process (all test files of one `bun test` run share it) and run from
// a private copy, because other suites (test/binary.test.ts) rebuild dist/privata while these
// servers run.
import { copyFileSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..", "..");
const PREFIX = "privata-bin-copy-";
let built: string | null = null;

/**
 * Remove the copies of runs that have ended. `bun test` fires no "exit" event, so a test run's
 * copy outlives it; the next run (of any suite using this) removes it. Copies carry their
 * process id, and one whose process still runs is left alone.
 */
function removeStaleCopies(): void {
  for (const name of readdirSync(tmpdir())) {
    const pid = Number(new RegExp(`^${PREFIX}(\\d+)-`).exec(name)?.[1] ?? NaN);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      process.kill(pid, 0); // signal 0: only asks whether the process exists
    } catch (err) {
      if ((err as { code?: string }).code === "ESRCH") rmSync(join(tmpdir(), name), { recursive: true, force: true });
    }
  }
}

/** Path of a private copy of a freshly built dist/privata (builds at the first call only). */
export function compiledBinary(): string {
  if (built) return built;
  removeStaleCopies();
  const r = Bun.spawnSync([process.execPath, "run", "build"], { cwd: ROOT, stdout: "pipe", stderr: "pipe", timeout: 120_000 });
  if (r.exitCode !== 0) throw new Error(`bun run build failed (exit ${r.exitCode}):\n${r.stderr.toString()}`);
  const dir = mkdtempSync(join(tmpdir(), `${PREFIX}${process.pid}-`));
  // scripts exit through process.exit and get their copy removed; bun test does not (above)
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  built = join(dir, "privata");
  copyFileSync(join(ROOT, "dist", "privata"), built);
  return built;
}
