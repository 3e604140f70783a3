// What authentication and the audit trail cost on the closed-loop mixed run (issue target:
// under 10%). Three or four builds measured in the same run, in rotating order, `--rounds` times:
//   base      dist/privata built from --baseline-rev (before auth and audit existed), with the
//             commits given by --pick applied: later changes that are not auth or audit (a faster
//             cache, say) go into the baseline too, so they do not pass for a cheaper audit; and
//             the diffs given by --patch (git apply), for such changes that do not cherry-pick
//             onto the old code (bench/baselines/)
//   hardened  (with --hardening-patch FILE) base with that diff applied too: issue 4's hardening
//             that is neither auth nor audit (the security headers and a request id on every
//             answer), so that auth and audit are measured alone against it
//   audit     today's binary with --no-auth (every request still audited)
//   auth      today's binary with an admin key on every request (and --rate-limit 0)
// Usage: bun bench/auth-cost.ts --baseline-rev REV [--pick REV]... [--patch FILE]... [--hardening-patch FILE] [--records N] [--duration S] [--rounds R] [--out FILE]
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
  options: { "baseline-rev": { type: "string" }, pick: { type: "string", multiple: true, default: [] }, patch: { type: "string", multiple: true, default: [] }, "hardening-patch": { type: "string" }, records: { type: "string", default: "10000" }, duration: { type: "string", default: "10" }, rounds: { type: "string", default: "3" }, out: { type: "string" } },
  strict: true,
});
const oha = findOha();
if (!oha) {
  console.error(INSTALL_HINT);
  process.exit(2);
}
if (!a["baseline-rev"]) {
  console.error("usage: bun bench/auth-cost.ts --baseline-rev REV [--pick REV]... [--patch FILE]... [--hardening-patch FILE] [--records N] [--duration S] [--rounds R] [--out FILE]");
  process.exit(2);
}
const [records, duration, rounds] = [Number(a.records), Number(a.duration), Number(a.rounds)];
const tmp = mkdtempSync(join(tmpdir(), "privata-auth-cost-"));
const sh = (cmd: string[], cwd = ROOT) => {
  const r = Bun.spawnSync(cmd, { cwd, stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${cmd.join(" ")}: ${r.stderr.toString().slice(-400)}`);
  return r.stdout.toString().trim();
};

// ---- the binaries
const rev = sh(["git", "rev-parse", "--short", a["baseline-rev"]]);
// the binary is built from the working tree: say so when src differs from HEAD
const head = sh(["git", "rev-parse", "--short", "HEAD"]) + (sh(["git", "status", "--porcelain", "--", "src"]) ? " with uncommitted changes in src" : "");
console.error(`building dist/privata (${head}) and the baseline (${rev})`);
const picks = (a.pick ?? []).map((p) => sh(["git", "rev-parse", "--short", p]));
const patches = (a.patch ?? []).map((f) => resolve(f));
const hardening = a["hardening-patch"] ? resolve(a["hardening-patch"]) : null;
const trees: string[] = [];
/** The worktrees and temp dir go whatever happens, a failed cherry-pick or build included. */
function cleanup(): void {
  for (const t of trees) Bun.spawnSync(["git", "worktree", "remove", "--force", t], { cwd: ROOT });
  Bun.spawnSync(["git", "worktree", "prune"], { cwd: ROOT }); // entries of trees that could not be removed
  rmSync(tmp, { recursive: true, force: true });
}
/** The baseline's binary, built in a worktree of its own with the picks and patches applied. */
function baseline(name: string, extra: string[]): string {
  const tree = join(tmp, name);
  trees.push(tree);
  sh(["git", "worktree", "add", "--detach", tree, rev]);
  for (const p of picks) sh(["git", "-c", "user.name=bench", "-c", "user.email=bench@localhost", "cherry-pick", p], tree);
  for (const f of [...patches, ...extra]) sh(["git", "apply", f], tree);
  symlinkSync(join(ROOT, "node_modules"), join(tree, "node_modules"));
  sh([process.execPath, "run", "build"], tree);
  return join(tree, "dist", "privata");
}
const BINS: Record<string, string> = {};
try {
  sh([process.execPath, "run", "build"]);
  BINS.base = baseline("base", []);
  if (hardening) BINS.hardened = baseline("hardened", [hardening]);
} catch (err) {
  cleanup();
  throw err;
}
BINS.audit = BINS.auth = join(ROOT, "dist", "privata");
type Variant = "base" | "hardened" | "audit" | "auth";

async function measure(v: Variant, round: number): Promise<{ rps: number; errors: number }> {
  const dir = join(tmp, `${v}-${round}`);
  const args = [BINS[v]!, "--host", "127.0.0.1", "--port", "0", "--data-dir", dir];
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

const order: Variant[] = hardening ? ["base", "hardened", "audit", "auth"] : ["base", "audit", "auth"];
const results: Record<Variant, { rps: number; errors: number }[]> = { base: [], hardened: [], audit: [], auth: [] };
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

// Of an even count, the upper of the two middle values (as in every report since session 4).
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
// The machine's speed drifts within a run: each round's cost is taken against the same
// round's reference (measured within a minute or two of it), and the median of those is the
// second measure.
const against = (ref: Variant) => {
  const refMedian = median(results[ref].map((x) => x.rps));
  return (v: Variant) => {
    if (v === ref || v === "base") return ["—", "—"];
    const paired = results[v].map((x, r) => 1 - x.rps / results[ref][r]!.rps);
    return [pct(1 - median(results[v].map((x) => x.rps)) / refMedian), `${paired.map(pct).join(" / ")} (median ${pct(median(paired))})`];
  };
};
const vsBase = against("base");
const vsHardened = hardening ? against("hardened") : null;
const rows = order.map((v) => [
  v,
  results[v].map((x) => fmtNum(Math.round(x.rps))).join(" / "),
  fmtNum(Math.round(median(results[v].map((x) => x.rps)))),
  ...vsBase(v),
  ...(vsHardened ? vsHardened(v) : []),
  String(results[v].reduce((n, x) => n + x.errors, 0)),
]);
const heads = ["build", "req/s per round", "median req/s", "cost vs base (medians)", "cost vs the same round's base"];
if (hardening) heads.push("cost vs hardened (medians)", "cost vs the same round's hardened");
const m = machineInfo();
const cmd = `bun bench/auth-cost.ts ${process.argv.slice(2).join(" ")}`;
const md = `# Cost of authentication and audit on the closed-loop mixed run

Command: \`${cmd}\` (baseline ${rev}${picks.length ? ` with ${picks.join(", ")} applied` : ""}${a.patch?.length ? `, patched with ${a.patch.join(", ")}` : ""}${hardening ? `; hardened: the same with ${a["hardening-patch"]}` : ""}, measured ${head}), ${records} records, ${duration} s per run, ${rounds} rounds in rotating order.
Machine: ${m.cores} cores, ${m.cpuModel}, ${m.memoryMb} MB; Bun ${Bun.version}.

${table([...heads, "errors"], rows)}

Medians of an even number of rounds are the upper of the two middle values.
Target: under 10 % (issue 4). "audit" is --no-auth (every request audited, no key checked);
"auth" checks an admin key on every request and audits it.${hardening ? `
Against "base" the cost is all of issue 4 (auth, audit and hardening), and hardened's is the
hardening's own; against "hardened", whose answers carry the same security headers and request
id as today's, it is auth and audit alone.` : ""}
`;
console.log(md);
if (a.out) await Bun.write(a.out, md);
