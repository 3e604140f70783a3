// Everything about oha: find it, check its version, build its arguments, run it, parse its
// JSON output. Parsing is pure so the test can run it on saved samples without oha.
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { track, untrack } from "./cleanup.ts";

const quote = (a: string) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`);

export const MIN_OHA = [1, 14] as const;
export const INSTALL_HINT = "bench: oha not found; install it with: cargo install oha --locked";

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** `oha` on PATH, else ~/.cargo/bin/oha, else null. */
export function findOha(env: Record<string, string | undefined> = process.env): string | null {
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (dir && executable(join(dir, "oha"))) return join(dir, "oha");
  }
  if (env.HOME) {
    const cargo = join(env.HOME, ".cargo", "bin", "oha");
    if (executable(cargo)) return cargo;
  }
  return null;
}

/** "oha 1.16.0" -> [1, 16, 0]; null when unrecognisable. */
export function parseOhaVersion(text: string): [number, number, number] | null {
  const m = /(\d+)\.(\d+)(?:\.(\d+))?/.exec(text);
  if (!m) return null;
  return [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
}

export function versionAtLeast(v: readonly number[], min: readonly number[]): boolean {
  for (let i = 0; i < min.length; i++) {
    const a = v[i] ?? 0;
    const b = min[i] ?? 0;
    if (a !== b) return a > b;
  }
  return true;
}

export function ohaVersion(path: string): string | null {
  const r = Bun.spawnSync([path, "--version"], { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) return null;
  const v = parseOhaVersion(r.stdout.toString());
  return v ? v.join(".") : null;
}

// ---------------------------------------------------------------- arguments

export interface OhaRun {
  /** URL, or a file of URLs when urlsFile is true */
  target: string;
  urlsFile: boolean;
  method: "GET" | "POST" | "PUT";
  /** -Z: one body per request, taken from the lines of this file */
  bodyLines?: string;
  durationS: number;
  connections: number;
  /** -q; absent = closed loop */
  rate?: number;
  /** --db-url: every answered request with its timings */
  dbPath?: string;
  /** extra request headers ("Name: value"), e.g. the API key */
  headers?: readonly string[];
}

export function ohaArgs(run: OhaRun): string[] {
  const a = ["--no-tui", "--output-format", "json", "-z", `${run.durationS}s`, "-w", "-c", String(run.connections)];
  if (run.rate !== undefined) a.push("-q", String(run.rate), "--latency-correction");
  if (run.method !== "GET") a.push("-m", run.method);
  if (run.bodyLines !== undefined) a.push("-Z", run.bodyLines, "-H", "Content-Type: application/json");
  if (run.dbPath !== undefined) a.push("--db-url", run.dbPath);
  for (const h of run.headers ?? []) a.push("-H", h);
  if (run.urlsFile) a.push("--urls-from-file");
  a.push(run.target);
  return a;
}

// ---------------------------------------------------------------- parsing

export const ABORTED = "aborted due to deadline";

export interface OhaResult {
  /** summary.requestsPerSec (oha: answered requests / wall time) */
  rps: number;
  /** seconds the run took */
  wallS: number;
  /** requests with a status + requests that ended in an error */
  total: number;
  statusCounts: Record<string, number>;
  /** responses with a 2xx status */
  ok: number;
  /** responses whose status is not 2xx (oha's successRate counts them as success; we do not) */
  non2xx: number;
  /** errorDistribution without "aborted due to deadline" (connection errors, timeouts, …) */
  connectionErrors: number;
  /** "aborted due to deadline": should be 0 with -w; counted apart, not as errors */
  aborted: number;
  errorKinds: Record<string, number>;
  /** non2xx + connectionErrors */
  errors: number;
  /** errors / total (0 when total is 0) */
  errorShare: number;
  /** oha's own percentiles, in ms (null when absent, e.g. no response at all) */
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

function num(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

function obj(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function counts(v: unknown, what: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, c] of Object.entries(obj(v))) {
    const n = num(c);
    if (n === null) throw new Error(`oha JSON: ${what}["${k}"] is not a number`);
    out[k] = n;
  }
  return out;
}

export function parseOha(json: unknown): OhaResult {
  const root = obj(json);
  if (!("summary" in root) || !("statusCodeDistribution" in root)) {
    throw new Error("oha JSON: no summary or statusCodeDistribution (not oha --output-format json?)");
  }
  const summary = obj(root.summary);
  const statusCounts = counts(root.statusCodeDistribution, "statusCodeDistribution");
  const errorKinds = counts(root.errorDistribution, "errorDistribution");
  let ok = 0;
  let non2xx = 0;
  for (const [code, n] of Object.entries(statusCounts)) {
    if (/^2\d\d$/.test(code)) ok += n;
    else non2xx += n;
  }
  let aborted = 0;
  let connectionErrors = 0;
  for (const [kind, n] of Object.entries(errorKinds)) {
    if (kind === ABORTED) aborted += n;
    else connectionErrors += n;
  }
  const total = ok + non2xx + aborted + connectionErrors;
  const errors = non2xx + connectionErrors;
  const pct = obj(root.latencyPercentiles);
  const ms = (k: string) => {
    const s = num(pct[k]);
    return s === null ? null : s * 1000;
  };
  return {
    rps: num(summary.requestsPerSec) ?? 0,
    wallS: num(summary.total) ?? 0,
    total,
    statusCounts,
    ok,
    non2xx,
    connectionErrors,
    aborted,
    errorKinds,
    errors,
    errorShare: total === 0 ? 0 : errors / total,
    p50: ms("p50"),
    p95: ms("p95"),
    p99: ms("p99"),
  };
}

// ---------------------------------------------------------------- running

/** Run oha to completion; returns its raw JSON text. Throws when oha fails (a harness error). */
export async function runOha(ohaPath: string, run: OhaRun): Promise<string> {
  const cmd = [ohaPath, ...ohaArgs(run)];
  const proc = Bun.spawn(cmd, { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  track(proc);
  try {
    const [stdout, stderr, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    if (code !== 0) {
      throw new Error(`oha exited with ${code ?? proc.signalCode}: ${stderr.trim().split("\n").slice(-3).join(" | ")}\n  command: ${cmd.map(quote).join(" ")}`);
    }
    try {
      JSON.parse(stdout);
    } catch {
      throw new Error(`oha printed no JSON (stderr: ${stderr.trim().slice(0, 300)})\n  command: ${cmd.map(quote).join(" ")}`);
    }
    return stdout;
  } finally {
    untrack(proc);
  }
}
