// The "soak" section of docs/RELIABILITY.md: what ran, on what, the figures and the checks.
import { fmtMb, fmtMs, fmtNum, table } from "../../bench/format.ts";
import type { Machine } from "../../bench/types.ts";
import { summarize } from "../../bench/stats.ts";
import { OPS } from "../../bench/mix.ts";
import { RSS_GROWTH_LIMIT, rssWindowS, walBoundBytes } from "./checks.ts";
import type { SoakResult } from "./run.ts";

export interface ReportMeta {
  command: string;
  date: string;
  machine: Machine;
  bun: string;
  privata: string;
  loadAvgStart: number[];
  loadAvgEnd: number[];
  svg: string;
}

const mib = (b: number) => `${(b / 1048576).toFixed(2)} MiB`;

export function renderSoakSection(r: SoakResult, m: ReportMeta): string {
  const o = r.options;
  const f = r.figures;
  const l = r.load;
  const errorKinds = Object.entries(l.errorKinds).map(([k, n]) => `${k} × ${n}`).join(", ") || "none";
  const errorAt = l.errorTimes.length ? `; at ${[...new Set(l.errorTimes.map((t) => `${t.toFixed(0)} s`))].join(", ")} of the load` : "";
  const mc = m.machine;
  const w = rssWindowS(r.samples, o.warmupS);
  const out: string[] = [];
  out.push(`## Soak: ${o.durationS} s at ${o.rate} req/s (${r.ok ? "all checks passed" : "CHECKS FAILED"})`);
  out.push("");
  out.push("Produced by (`scripts/soak.ts`; the server is the compiled `dist/privata`):");
  out.push("");
  out.push("```sh", m.command, "```", "");
  out.push(
    `${m.date} on ${mc.hostname}: ${mc.cpuModel}, ${mc.cores} cores, ${mc.memoryMb === null ? "?" : fmtNum(mc.memoryMb)} MB, ${mc.os} (${mc.kernel}); ` +
      `Bun ${m.bun}, Privata ${m.privata}. Load average (1/5/15 min) at the start ${m.loadAvgStart.join(" / ") || "unknown"}, ` +
      `at the end ${m.loadAvgEnd.join(" / ") || "unknown"}: the load generator runs on the same cores as the server, and the machine may ` +
      "be shared with other work, which makes RSS and latency noisier (the checks stay the same).",
  );
  out.push("");
  out.push(
    `Workload: the seed's mix (40 % read by id, 30 % list page of 50, 20 % create, 10 % update with PUT), open loop at ${o.rate} req/s ` +
      `(a request starts when it is due, not when the one before ended), at most ${o.concurrency} in flight, loopback only, ` +
      `after seeding ${fmtNum(o.records)} records. The server runs with \`--cache-entries ${o.cacheEntries} --cache-bytes ${o.cacheBytes}\`, ` +
      "a cache far smaller than the data, so it fills within seconds and evicts on nearly every read and list page for the rest of the run.",
  );
  out.push("");
  const lat = OPS.map((op) => {
    const s = summarize(l.latencies[op]);
    return [op, fmtNum(l.byOp[op]), fmtMs(s.p50), fmtMs(s.p99), fmtMs(s.max)];
  });
  out.push(table(["figure", "value"], [
    ["duration, rate", `${o.durationS} s at ${o.rate} req/s`],
    ["requests sent / answered 2xx-3xx", `${fmtNum(l.sent)} / ${fmtNum(l.ok)}`],
    ["errors (non-2xx/3xx status, network error, timeout 10 s)", `${fmtNum(l.errors)} (${errorKinds}${errorAt})`],
    ["due but not sent (in-flight cap full until the end) / largest start delay", `${fmtNum(l.unsent)} / ${fmtMs(l.maxLagMs)}`],
    [`RSS after warm-up (warm-up: the first ${o.warmupS} s; mean of the ${w.toFixed(0)} s after it)`, fmtMb(f.rssAfterWarmupMb)],
    [`RSS at the end (mean of the last ${w.toFixed(0)} s)`, fmtMb(f.rssEndMb)],
    ["RSS growth after warm-up", f.rssGrowth === null ? "—" : `${(f.rssGrowth * 100).toFixed(1)} % (limit ${RSS_GROWTH_LIMIT * 100} %)`],
    ["peak RSS (VmHWM, seeding included)", fmtMb(r.peakRssMb)],
    ["max WAL, identity / clinical (sampled every second)", `${mib(f.maxWalIdentity)} / ${mib(f.maxWalClinical)} (bound ${mib(walBoundBytes(o.rate))} each)`],
    ["cache cap / size after warm-up (min–max)", `${fmtNum(f.cacheCapacity)} entries / ${fmtNum(f.cacheSizeMin)}–${fmtNum(f.cacheSizeMax)}`],
    ["seeding", `${fmtNum(o.records)} records in ${r.seedSeconds.toFixed(1)} s`],
    ["server exit code after the final SIGTERM", String(r.exitCode)],
  ]));
  out.push("");
  out.push("Latency of answered requests, from the moment each was sent (the start delay above is not included):");
  out.push("");
  out.push(table(["operation", "requests", "p50", "p99", "max"], lat));
  out.push("");
  out.push(table(["check", "result", "measured"], r.checks.map((c) => [c.name, c.ok ? "PASS" : "FAIL", c.detail])));
  out.push("");
  out.push(
    "Why these definitions: RSS swings by 20 % and more with the garbage collector's cycles, so RSS after warm-up and at the end are means over " +
      "windows spanning several cycles (a single sample could differ by more than the 10 % being checked). The checkpoint thread empties both WAL " +
      "files every second; at 500 req/s one second of writes is about 3.5 MiB of identity WAL, so the bound (16 MiB per file, scaled up above " +
      "500 req/s) is a few seconds of writes: a WAL the thread stopped emptying passes it within seconds, while SQLite's own " +
      "`wal_autocheckpoint` (10 000 pages, src/db/sqlite.ts) would let it reach about 39 MiB. The seeding's WAL is checkpointed before the load starts. " +
      "The WAL curve's sawtooth is a beat between the sampler (every second) and the checkpoint thread (every second plus the checkpoint's own " +
      "time): each sample holds the writes since the last checkpoint, a slowly shifting share of one second's.",
  );
  if (r.serverLog.length) out.push("", `The server wrote ${r.serverLog.length} line(s) to stderr, e.g. \`${r.serverLog[0]!.slice(0, 160)}\`.`);
  out.push("", `![server RSS and WAL sizes over the soak](${m.svg})`);
  return out.join("\n");
}
