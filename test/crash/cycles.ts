// kill -9 cycles on one data dir (DESIGN §1 guarantee 4): start the compiled server, drive
// concurrent writers, SIGKILL it at a random instant, check the raw files while it is down,
// restart it and check everything the model knows. Used by test/crash.test.ts (CI) and
// scripts/crash-loop.ts (long runs). Assertion-free: problems are returned, not thrown.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Pseudonymizer } from "../../src/crypto/pseudonym.ts";
import { rng as prng } from "../../bench/seed.ts";
import { removeDir, tempDir } from "../helpers.ts";
import { startProcess, type Started } from "../process.ts";
import { Model, show } from "./model.ts";
import { writer, type WriterContext } from "./writer.ts";
import { integrityProblems, rawState, splitHalves } from "./raw.ts";
import { checkServer } from "./check-server.ts";
import { emptyTotals, addCycle, type CrashTotals } from "./totals.ts";

export type Durability = "normal" | "full";

export interface CrashOptions {
  binary: string;
  durability: Durability;
  /** SIGKILLs; one more start follows the last, ending with a clean stop */
  cycles: number;
  seed: number;
  /** concurrent writers */
  loops?: number;
  /** live records above which the writers delete more than they create */
  maxLive?: number;
  killAfterMs?: [number, number];
  /** Date.now() after which no further kill starts: the run ends with its clean-stop round */
  deadline?: number;
  /** after each restart that was checked */
  onCycle?: (cycle: number, totals: CrashTotals) => void;
}

export interface CrashResult extends CrashTotals {
  durability: Durability;
  seed: number;
  planned: number;
  /** empty when every cycle survived */
  problems: string[];
  /** the cycle whose checks failed (the run stops there), else null */
  failedCycle: number | null;
  /** kept for inspection when a cycle failed (the key next to it), removed otherwise */
  dataDir: string;
  keyFile: string;
  elapsedMs: number;
}

export async function runCrashCycles(opts: CrashOptions): Promise<CrashResult> {
  const t0 = performance.now();
  const rng = prng(opts.seed); // seeded, so a failing run can be replayed
  const [lo, hi] = opts.killAfterMs ?? [100, 600];
  const dataDir = tempDir("privata-crash-");
  const keyFile = join(tempDir("privata-crash-key-"), "link.key");
  const cmd = [opts.binary, "--port", "0", "--data-dir", dataDir, "--key-file", keyFile, "--durability", opts.durability];
  const model = new Model();
  const totals = emptyTotals();
  const problems: string[] = [];
  let failedCycle: number | null = null;
  let pz: Pseudonymizer | undefined;
  let server: Started | undefined;
  let completed = false;
  try {
    for (let cycle = 0; cycle <= opts.cycles; cycle++) {
      let orphans = 0;
      if (cycle > 0) {
        // Down after a SIGKILL: the raw files, exactly as the crash left them.
        problems.push(...integrityProblems(dataDir));
        const split = splitHalves(rawState(dataDir), pz!);
        if (split.halfVisible.length > 0) problems.push(`identity halves without clinical half: ${show(split.halfVisible)}`);
        // Only an unanswered create or delete can leave a clinical half without identity.
        const s = model.stats;
        if (split.orphans > s.inflight.create + s.inflight.delete) problems.push(`${split.orphans} orphans after ${show(s.inflight)} cut off`);
        orphans = s.orphansBeforeRestart = split.orphans;
      }

      server = await startProcess(cmd, { cwd: dataDir });
      if (!server.stderr().includes(`durability ${opts.durability}`)) problems.push(`no "durability ${opts.durability}" in: ${server.stderr()}`);
      pz ??= new Pseudonymizer(Buffer.from(readFileSync(keyFile, "utf8").trim(), "hex"));
      if (cycle > 0) {
        const stats = (await (await fetch(`${server.url}/stats`)).json()) as { reconciledAtStartup: number };
        if (stats.reconciledAtStartup !== orphans) problems.push(`reconciled ${stats.reconciledAtStartup} at startup, the files held ${orphans} orphans`);
        const checked = model.entries.size;
        problems.push(...(await checkServer(server.url, model)));
        // No half left after reconciliation. The server is idle here (it only answered GETs), and
        // a read-only connection to a WAL database never writes the database or its WAL.
        const raw = rawState(dataDir);
        const split = splitHalves(raw, pz);
        if (split.halfVisible.length + split.orphans > 0) problems.push(`after restart: ${show(split)}`);
        if (raw.identityIds.length !== model.live().length) problems.push(`${raw.identityIds.length} identity rows, the model has ${model.live().length}`);
        const [dlo, dhi] = model.deidentified;
        if (raw.deidentified < dlo || raw.deidentified > dhi) problems.push(`${raw.deidentified} de-identified halves, expected ${dlo}..${dhi}`);
        model.deidentified = [raw.deidentified, raw.deidentified];
        if (problems.length > 0) {
          failedCycle = cycle;
          break;
        }
        addCycle(totals, model.stats, checked, model.live().length);
        opts.onCycle?.(cycle, totals);
        model.forgetDeleted();
        model.stats = Model.freshStats();
      }
      if (cycle === opts.cycles || Date.now() > (opts.deadline ?? Infinity)) {
        // Last round: a clean stop, and the files are sound and complete when it is down.
        const code = await server.stop("SIGTERM");
        if (code !== 0) problems.push(`clean stop exited ${code}: ${server.stderr()}`);
        problems.push(...integrityProblems(dataDir));
        const raw = rawState(dataDir);
        if (show(splitHalves(raw, pz)) !== show({ halfVisible: [], orphans: 0 })) problems.push(`after the clean stop: ${show(splitHalves(raw, pz))}`);
        const want = model.live().map((e) => e.id).sort();
        if (show(raw.identityIds.sort()) !== show(want)) problems.push(`after the clean stop: ${raw.identityIds.length} ids, the model has ${want.length}`);
        if (problems.length > 0) failedCycle = cycle;
        break;
      }

      const ctx: WriterContext = { url: server.url, model, rng, killed: false, maxLive: opts.maxLive ?? 2000 };
      const writers = Array.from({ length: opts.loops ?? 8 }, () => writer(ctx));
      await Bun.sleep(lo + rng() * (hi - lo));
      ctx.killed = true;
      server.proc.kill("SIGKILL");
      await server.proc.exited;
      if (server.proc.signalCode !== "SIGKILL") problems.push(`the server ended by ${server.proc.signalCode ?? server.proc.exitCode}, not SIGKILL`);
      await Promise.all(writers);
      await server.stop(); // drains stderr; the process is already gone
      totals.kills++;
      const s = model.stats;
      if (s.creates + s.updates + s.deletes === 0) problems.push(`cycle ${cycle + 1}: the kill landed before any write was answered`);
      problems.push(...model.problems.splice(0));
      if (problems.length > 0) {
        failedCycle = cycle + 1;
        break;
      }
    }
    completed = true;
  } finally {
    if (server && server.proc.exitCode === null && server.proc.signalCode === null) {
      server.proc.kill("SIGKILL");
      await server.proc.exited;
    }
    // kept for inspection when a check failed or the run broke off
    if (completed && failedCycle === null) {
      removeDir(dataDir);
      removeDir(join(keyFile, ".."));
    }
  }
  return { ...totals, durability: opts.durability, seed: opts.seed, planned: opts.cycles, problems, failedCycle, dataDir, keyFile, elapsedMs: performance.now() - t0 };
}
