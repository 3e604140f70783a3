// One soak run: start the server on a temp data dir and a free loopback port with a small
// cache, seed it, run the open-loop mix while sampling every second, stop it with SIGTERM,
// evaluate the checks. Shared by scripts/soak.ts (10 minutes) and test/soak.test.ts (30 s).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { trackDir } from "../../bench/cleanup.ts";
import { start } from "../../bench/server.ts";
import { seedRecords } from "../../bench/seed.ts";
import { type Check, evaluate, type Figures } from "./checks.ts";
import { assertLoopback, emptyCounters, type LoadCounters, runLoad } from "./load.ts";
import { Workload } from "./ops.ts";
import { startSampler, type Sample } from "./sampler.ts";

export interface SoakOptions {
  /** the server command without flags: [dist/privata] or [bun, src/main.ts] */
  server: string[];
  records: number;
  durationS: number;
  rate: number;
  concurrency: number;
  warmupS: number;
  cacheEntries: number;
  cacheBytes: number;
  log?: (line: string) => void;
}

export interface SoakResult {
  options: Omit<SoakOptions, "log">;
  load: LoadCounters;
  samples: Sample[];
  statsFailures: number;
  seedSeconds: number;
  peakRssMb: number | null;
  exitCode: number | null;
  /** server stderr lines other than "listening on" (5xx causes, never PHI) */
  serverLog: string[];
  figures: Figures;
  checks: Check[];
  ok: boolean;
}

/** Wait until `n` more background checkpoints have completed (at most 15 s). */
async function checkpointsAfter(base: string, n: number): Promise<void> {
  const done = async () => ((await (await fetch(`${base}/stats`)).json()) as { walCheckpoints: { done: number } }).walCheckpoints.done;
  const target = (await done()) + n;
  for (const t0 = Date.now(); Date.now() - t0 < 15_000 && (await done()) < target; ) await Bun.sleep(100);
}

export async function runSoak(o: SoakOptions): Promise<SoakResult> {
  const log = o.log ?? (() => {});
  const dataDir = mkdtempSync(join(tmpdir(), "privata-soak-"));
  trackDir(dataDir); // removed on Ctrl-C of scripts/soak.ts too
  const args = [
    "--host", "127.0.0.1", "--port", "0", "--data-dir", dataDir,
    "--cache-entries", String(o.cacheEntries), "--cache-bytes", String(o.cacheBytes),
    "--no-auth", // the seed's mix plays keyless clients (loopback only); every request is still audited
  ];
  const server = await start("privata (soak)", [...o.server, ...args]).catch((err: unknown) => {
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  });
  let stopped: { peakRssMb: number | null; exitCode: number | null } | null = null;
  try {
    assertLoopback(server.url);
    const t = performance.now();
    const ids = await seedRecords(server.url, o.records, () => {});
    const seedSeconds = (performance.now() - t) / 1000;
    log(`seeded ${ids.length} records in ${seedSeconds.toFixed(1)} s; load ${o.rate} req/s for ${o.durationS} s`);
    // The seeding's burst of creates leaves a large WAL: let the checkpoint thread empty it,
    // so the WAL samples describe the soak's load and not the seeding.
    await checkpointsAfter(server.url, 2);

    const load = emptyCounters();
    let next = 10;
    const sampler = startSampler({
      pid: server.pid, dataDir, base: server.url, load,
      onSample: (s) => {
        if (s.t < next) return;
        next += 10;
        log(`${s.t.toFixed(0)} s: sent ${s.sent}, errors ${s.errors}, RSS ${s.rssMb?.toFixed(1)} MB, WAL ${(s.walIdentity / 1024).toFixed(0)}/${(s.walClinical / 1024).toFixed(0)} KiB, cache ${s.cache?.size}/${s.cache?.capacity}`);
      },
    });
    await runLoad({ base: server.url, workload: new Workload(server.url, ids), rate: o.rate, durationS: o.durationS, concurrency: o.concurrency }, load);
    await sampler.stop();
    const died = server.died();
    if (died) throw new Error(died);
    // peak RSS is read by stop() just before its SIGTERM
    stopped = await server.stop();
    const serverLog = server.stderrLines.filter((l) => !/listening on/.test(l));
    const { figures, checks } = evaluate({ samples: sampler.samples, warmupS: o.warmupS, rate: o.rate, errors: load.errors, statsFailures: sampler.statsFailures, exitCode: stopped.exitCode });
    const { log: _, ...options } = o;
    return {
      options, load, samples: sampler.samples, statsFailures: sampler.statsFailures, seedSeconds,
      peakRssMb: stopped.peakRssMb, exitCode: stopped.exitCode, serverLog, figures, checks, ok: checks.every((c) => c.ok),
    };
  } finally {
    if (!stopped) await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
