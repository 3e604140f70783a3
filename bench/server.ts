// Start and stop the processes under test: dist/privata and the bare limit server.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import type { Durability } from "./args.ts";
import { track, untrack } from "./cleanup.ts";

const LISTENING = /listening on (http:\/\/\S+)/;

/** `bun run build` in `root`: dist/privata from the working tree; its path. Throws when the build fails. */
export function buildPrivata(root: string): string {
  const b = Bun.spawnSync([process.execPath, "run", "build"], { cwd: root, stdout: "pipe", stderr: "pipe" });
  if (b.exitCode !== 0) throw new Error(`bun run build failed (exit ${b.exitCode}): ${b.stderr.toString().trim().slice(-500)}`);
  return join(root, "dist", "privata");
}

export interface Running {
  name: string;
  url: string;
  pid: number;
  proc: Subprocess<"ignore", "ignore", "pipe">;
  /** stderr lines so far (the server logs 5xx causes there, never PHI) */
  stderrLines: string[];
  /** exited before we stopped it? (a harness failure) */
  died(): string | null;
  /** read peak RSS, SIGTERM, wait (SIGKILL after 15 s); returns peak RSS in MB (null if unknown) */
  stop(): Promise<{ peakRssMb: number | null; exitCode: number | null }>;
}

/** A memory figure of a live process in MB from /proc/<pid>/status (Linux only), or null. */
export function statusMb(pid: number, field: "VmHWM" | "VmRSS"): number | null {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+)\\s+kB`).exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** Peak resident set size (VmHWM) of a live process in MB. */
export function peakRssMb(pid: number): number | null {
  return statusMb(pid, "VmHWM");
}

/**
 * Reset a live process's VmHWM to its current RSS (Linux: "5" > /proc/<pid>/clear_refs), so
 * the peak of the measured runs can be told from the peak of seeding. False if not possible.
 */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}

/** The environment without PRIVATA_* (a developer's shell must not change what is measured). */
function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("PRIVATA_")) env[k] = v;
  return env;
}

/** Start any server command that prints "listening on <url>" (also used by scripts/soak). */
export async function start(name: string, cmd: string[], timeoutMs = 20000): Promise<Running> {
  const proc = Bun.spawn(cmd, { stdin: "ignore", stdout: "ignore", stderr: "pipe", env: cleanEnv() });
  track(proc);
  const lines: string[] = [];
  let resolveUrl: (u: string) => void = () => {};
  const urlP = new Promise<string>((r) => (resolveUrl = r));
  let stopping = false;
  // drain stderr for the whole life of the process
  void (async () => {
    const dec = new TextDecoder();
    let buf = "";
    for await (const chunk of proc.stderr) {
      buf += dec.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        lines.push(line);
        if (lines.length > 2000) lines.splice(0, 1000);
        const m = LISTENING.exec(line);
        if (m) resolveUrl(m[1]!);
      }
    }
    if (buf) lines.push(buf);
  })();
  let timer: Timer | undefined;
  const outcome = await Promise.race([
    urlP.then((url) => ({ url })),
    proc.exited.then((code) => ({ exit: code })),
    new Promise<{ timeout: true }>((r) => (timer = setTimeout(() => r({ timeout: true }), timeoutMs))),
  ]);
  clearTimeout(timer);
  if (!("url" in outcome)) {
    proc.kill("SIGKILL");
    await proc.exited;
    untrack(proc);
    await Bun.sleep(50);
    const why = "exit" in outcome ? `exited with code ${outcome.exit}` : `did not print "listening on" within ${timeoutMs} ms`;
    throw new Error(`${name} ${why}; command: ${cmd.join(" ")}; stderr: ${lines.slice(-5).join(" | ") || "(empty)"}`);
  }
  const url = outcome.url.replace(/\/+$/, "");
  return {
    name,
    url,
    pid: proc.pid,
    proc,
    stderrLines: lines,
    died() {
      if (stopping || proc.exitCode === null && proc.signalCode === null) return null;
      return `${name} exited unexpectedly (code ${proc.exitCode}, signal ${proc.signalCode}); last stderr: ${lines.slice(-5).join(" | ") || "(empty)"}`;
    },
    async stop() {
      stopping = true;
      const peak = peakRssMb(proc.pid);
      proc.kill("SIGTERM");
      const t = setTimeout(() => proc.kill("SIGKILL"), 15000);
      const exitCode = await proc.exited;
      clearTimeout(t);
      untrack(proc);
      return { peakRssMb: peak, exitCode };
    },
  };
}

export function startPrivata(bin: string, dataDir: string, durability: Durability): Promise<Running> {
  return start(`privata (durability ${durability})`, [
    // --no-auth (loopback only): the seed's workload has no keys; audit still runs
    bin, "--host", "127.0.0.1", "--port", "0", "--data-dir", dataDir, "--allow-reset", "--durability", durability, "--no-auth",
  ]);
}

export function startBare(script: string): Promise<Running> {
  return start("bare Bun.serve", [process.execPath, script]);
}

export interface CacheCounters {
  hits: number;
  misses: number;
  pageHits: number | null;
  pageMisses: number | null;
  /** whole list pages answered from the page cache, and built */
  listHits: number | null;
  listMisses: number | null;
  size: number | null;
  identity: number | null;
  clinical: number | null;
}

/** GET /stats and pick the counters the bench uses. */
export async function getStats(base: string): Promise<CacheCounters> {
  const res = await fetch(`${base}/stats`);
  if (res.status !== 200) throw new Error(`GET /stats answered ${res.status}`);
  const j = (await res.json()) as { cache?: Record<string, unknown> & { pages?: Record<string, unknown> }; database?: Record<string, unknown> };
  const n = (v: unknown) => (typeof v === "number" ? v : null);
  const hits = n(j.cache?.hits);
  const misses = n(j.cache?.misses);
  if (hits === null || misses === null) throw new Error("GET /stats has no cache.hits / cache.misses");
  return {
    hits,
    misses,
    pageHits: n(j.cache?.pageHits),
    pageMisses: n(j.cache?.pageMisses),
    listHits: n(j.cache?.pages?.hits),
    listMisses: n(j.cache?.pages?.misses),
    size: n(j.cache?.size),
    identity: n(j.database?.identity),
    clinical: n(j.database?.clinical),
  };
}

/** Δhits / (Δhits + Δmisses); null when there was no lookup at all. */
export function hitRate(before: CacheCounters, after: CacheCounters): { rate: number | null; hits: number; misses: number } {
  const hits = after.hits - before.hits;
  const misses = after.misses - before.misses;
  return { rate: hits + misses === 0 ? null : hits / (hits + misses), hits, misses };
}
