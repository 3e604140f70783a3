// What authentication and the audit trail cost on the closed-loop mixed run (issue target:
// under 10%). Three builds measured in the same run, in rotating order, `--rounds` times:
//   base   dist/privata built from --baseline-rev (before auth and audit existed), with the
//          commits given by --pick applied: later changes that are not auth or audit (a faster
//          cache, say) go into the baseline too, so they do not pass for a cheaper audit; and
//          the diffs given by --patch (git apply), for such changes that do not cherry-pick
//          onto the old code (bench/baselines/)
//   audit  today's binary with --no-auth (every request still audited)
//   auth   today's binary with an admin key on every request (and --rate-limit 0)
// Usage: bun bench/auth-cost.ts --baseline-rev REV [--pick REV]... [--patch FILE]... [--records N] [--duration S] [--rounds R] [--out FILE]
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { findOha, INSTALL_HINT, parseOha } from "./oha.ts";
import { OPS, runMix } from "./mix.ts";
import { seedRecords, warm, writeWorkFiles } from "./seed.ts";
import { start, type Running } from "./server.ts";
import { machineInfo } from "./machine.ts";
import { fmtNum, table } from "./format.ts";

const ROOT = join(import.meta.dir, "..");
const { values: a } = parseArgs({
  args: process.argv.slice(2),
  options: { "baseline-rev": { type: "string" }, pick: { type: "string", multiple: true, default: [] }, patch: { type: "string", multiple: true, default: [] }, records: { type: "string", default: "10000" }, duration: { type: "string", default: "10" }, rounds: { type: "string", default: "3" }, out: { type: "string" } },
  strict: true,
});
const oha = findOha();
if (!oha) {
  console.error(INSTALL_HINT);
  process.exit(2);
}
if (!a["baseline-rev"]) {
  console.error("usage: bun bench/auth-cost.ts --baseline-rev REV [--pick REV]... [--patch FILE]... [--records N] [--duration S] [--rounds R] [--out FILE]");
  process.exit(2);
}
const [records, duration, rounds] = [Number(a.records), Number(a.duration), Number(a.rounds)];
const tmp = mkdtempSync(join(tmpdir(), "privata-auth-cost-"));
const sh = (cmd: string[], cwd = ROOT) => {
  const r = Bun.spawnSync(cmd, { cwd, stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${cmd.join(" ")}: ${r.stderr.toString().slice(-400)}`);
  return r.stdout.toString().trim();
};

// ---- the two binaries
const rev = sh(["git", "rev-parse", "--short", a["baseline-rev"]]);
const head = sh(["git", "rev-parse", "--short", "HEAD"]);
console.error(`building dist/privata (${head}) and the baseline (${rev})`);
sh([process.execPath, "run", "build"]);
const baseTree = join(tmp, "base");
const picks = (a.pick ?? []).map((p) => sh(["git", "rev-parse", "--short", p]));
const patches = (a.patch ?? []).map((f) => resolve(f));
/** The worktree and temp dir go whatever happens, a failed cherry-pick or build included. */
function cleanup(): void {
  Bun.spawnSync(["git", "worktree", "remove", "--force", baseTree], { cwd: ROOT });
  rmSync(tmp, { recursive: true, force: true });
}
try {
  sh(["git", "worktree", "add", "--detach", baseTree, rev]);
  for (const p of picks) sh(["git", "-c", "user.name=bench", "-c", "user.email=bench@localhost", "cherry-pick", p], baseTree);
  for (const f of patches) sh(["git", "apply", f], baseTree);
  symlinkSync(join(ROOT, "node_modules"), join(baseTree, "node_modules"));
  sh([process.execPath, "run", "build"], baseTree);
} catch (err) {
  cleanup();
  throw err;
}
const BINS = { base: join(baseTree, "dist", "privata"), audit: join(ROOT, "dist", "privata"), auth: join(ROOT, "dist", "privata") };
type Variant = keyof typeof BINS;

async function measure(v: Variant, round: number): Promise<{ rps: number; errors: number }> {
  const dir = join(tmp, `${v}-${round}`);
  const args = [BINS[v], "--host", "127.0.0.1", "--port", "0", "--data-dir", dir];
  if (v === "audit") args.push("--no-auth");
  if (v === "auth") args.push("--rate-limit", "0");
  const s: Running = await start(v, args);
  try {
    // the first keyed start writes the admin key into the data dir
    const key = v === "auth" ? readFileSync(join(dir, "admin.key"), "utf8").trim() : null;
    const headers: Record<string, string> = key ? { authorization: `Bearer ${key}` } : {};
    const ids = await seedRecords(s.url, records, () => {}, 64, headers);
    const work = join(tmp, `${v}-${round}-work`);
    mkdirSync(work, { recursive: true });
    const files = await writeWorkFiles(work, s.url, ids);
    await warm([...files.readList, ...files.listList], 64, headers);
    const mix = await runMix({ ohaPath: oha!, base: s.url, files, durationS: duration, ...(key ? { headers: [`Authorization: Bearer ${key}`] } : {}) });
    const ops = OPS.map((op) => parseOha(JSON.parse(mix.json[op])));
    return { rps: ops.reduce((n, o) => n + o.rps, 0), errors: ops.reduce((n, o) => n + o.errors, 0) };
  } finally {
    await s.stop();
  }
}

const results: Record<Variant, { rps: number; errors: number }[]> = { base: [], audit: [], auth: [] };
const order: Variant[] = ["base", "audit", "auth"];
try {
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < order.length; i++) {
      const v = order[(i + r) % order.length]!; // rotate: no variant always runs first
      console.error(`round ${r + 1}/${rounds}: ${v}`);
      results[v].push(await measure(v, r));
    }
  }
} finally {
  cleanup();
}

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
const base = median(results.base.map((x) => x.rps));
// The machine's speed drifts within a run: each round's cost is taken against the same
// round's base (measured within a minute of it), and the median of those is the second measure.
const paired = (v: Variant) => results[v].map((x, r) => 1 - x.rps / results.base[r]!.rps);
const rows = order.map((v) => {
  const m = median(results[v].map((x) => x.rps));
  return [v, results[v].map((x) => fmtNum(Math.round(x.rps))).join(" / "), fmtNum(Math.round(m)), pct(1 - m / base), v === "base" ? "—" : `${paired(v).map(pct).join(" / ")} (median ${pct(median(paired(v)))})`, String(results[v].reduce((n, x) => n + x.errors, 0))];
});
const m = machineInfo();
const cmd = `bun bench/auth-cost.ts ${process.argv.slice(2).join(" ")}`;
const md = `# Cost of authentication and audit on the closed-loop mixed run

Command: \`${cmd}\` (baseline ${rev}${picks.length ? ` with ${picks.join(", ")} applied` : ""}${a.patch?.length ? `, patched with ${a.patch.join(", ")}` : ""}, measured ${head}), ${records} records, ${duration} s per run, ${rounds} rounds in rotating order.
Machine: ${m.cores} cores, ${m.cpuModel}, ${m.memoryMb} MB; Bun ${Bun.version}.

${table(["build", "req/s per round", "median req/s", "cost vs base (medians)", "cost vs the same round's base", "errors"], rows)}

Target: under 10 % (issue 4). "audit" is --no-auth (every request audited, no key checked);
"auth" checks an admin key on every request and audits it.
`;
console.log(md);
if (a.out) await Bun.write(a.out, md);
