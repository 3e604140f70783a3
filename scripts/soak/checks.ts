// The soak's pass/fail checks, as pure functions of the samples (unit-tested on made-up
// samples in test/soak.test.ts, so each check is seen to fail when it should).
import type { Sample } from "./sampler.ts";

/** RSS at the end may exceed RSS after warm-up by less than this share (the 10 %). */
export const RSS_GROWTH_LIMIT = 0.1;
/**
 * Per WAL file, at up to 500 req/s (proportionally more above). The checkpoint thread empties
 * both WAL files every second (--checkpoint-seconds 1); at L3 one second of writes measured
 * about 3.5 MiB of identity WAL, so 16 MiB is four seconds of writes and then some. A WAL
 * that stopped being checkpointed by the thread passes it within seconds (SQLite's own
 * wal_autocheckpoint, 10 000 pages, would only hold it near 39 MiB).
 */
export function walBoundBytes(rate: number): number {
  return 16 * 1048576 * Math.max(1, rate / 500);
}
/**
 * RSS swings by 20 % and more with the garbage collector's cycles (seconds apart), so RSS
 * "after warm-up" and "at the end" are means over windows spanning several cycles: this
 * long, or half of what follows the warm-up when the run is shorter (the 30 s CI run).
 */
export const RSS_WINDOW_S = 60;

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

export interface Figures {
  rssAfterWarmupMb: number | null;
  rssEndMb: number | null;
  rssGrowth: number | null;
  maxWalIdentity: number;
  maxWalClinical: number;
  cacheCapacity: number | null;
  cacheSizeMin: number | null;
  cacheSizeMax: number | null;
}

function mean(xs: number[]): number | null {
  return xs.length < 3 ? null : xs.reduce((a, b) => a + b, 0) / xs.length;
}

const rssOf = (ss: readonly Sample[]) => ss.map((s) => s.rssMb).filter((v): v is number => v !== null);

/** The RSS windows of a run: [warm-up, warm-up + w) and (end - w, end]. */
export function rssWindowS(samples: readonly Sample[], warmupS: number): number {
  const tEnd = samples.at(-1)?.t ?? 0;
  return Math.min(RSS_WINDOW_S, Math.max(0, (tEnd - warmupS) / 2));
}

export function figures(samples: readonly Sample[], warmupS: number): Figures {
  const after = samples.filter((s) => s.t >= warmupS);
  const w = rssWindowS(samples, warmupS);
  const tEnd = samples.at(-1)?.t ?? 0;
  const base = mean(rssOf(after.filter((s) => s.t < warmupS + w)));
  const end = mean(rssOf(after.filter((s) => s.t > tEnd - w)));
  const sizes = after.map((s) => s.cache?.size).filter((v): v is number => v !== undefined);
  return {
    rssAfterWarmupMb: base,
    rssEndMb: end,
    rssGrowth: base !== null && end !== null ? end / base - 1 : null,
    maxWalIdentity: Math.max(0, ...samples.map((s) => s.walIdentity)),
    maxWalClinical: Math.max(0, ...samples.map((s) => s.walClinical)),
    cacheCapacity: samples.find((s) => s.cache)?.cache?.capacity ?? null,
    cacheSizeMin: sizes.length ? Math.min(...sizes) : null,
    cacheSizeMax: sizes.length ? Math.max(...sizes) : null,
  };
}

export interface CheckInput {
  samples: readonly Sample[];
  warmupS: number;
  /** req/s of the load (the WAL bound scales with it) */
  rate: number;
  errors: number;
  statsFailures: number;
  /** exit code of the server after the final SIGTERM */
  exitCode: number | null;
}

export function evaluate(i: CheckInput): { figures: Figures; checks: Check[] } {
  const f = figures(i.samples, i.warmupS);
  const after = i.samples.filter((s) => s.t >= i.warmupS);
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  const mb = (b: number) => `${(b / 1048576).toFixed(2)} MiB`;
  const overCap = i.samples.filter((s) => !s.cache || s.cache.size > s.cache.capacity || s.cache.bytes > s.cache.maxBytes);
  const belowCap = after.filter((s) => !s.cache || s.cache.size !== s.cache.capacity);
  const wal = Math.max(f.maxWalIdentity, f.maxWalClinical);
  const walBound = walBoundBytes(i.rate);
  const checks: Check[] = [
    { name: "zero errors", ok: i.errors === 0 && i.statsFailures === 0, detail: `${i.errors} request errors, ${i.statsFailures} failed /stats samples` },
    {
      name: `RSS growth after warm-up < ${pct(RSS_GROWTH_LIMIT)}`,
      ok: f.rssGrowth !== null && f.rssGrowth < RSS_GROWTH_LIMIT,
      detail: f.rssGrowth === null ? "not enough RSS samples after warm-up" : `${f.rssAfterWarmupMb!.toFixed(1)} -> ${f.rssEndMb!.toFixed(1)} MB (${pct(f.rssGrowth)})`,
    },
    { name: `WAL bounded (each file <= ${mb(walBound)})`, ok: i.samples.length > 0 && wal <= walBound, detail: `max ${mb(wal)}` },
    {
      name: "cache never above its cap",
      ok: i.samples.length > 0 && overCap.length === 0,
      detail: overCap.length ? `${overCap.length} samples above the cap or without /stats` : `max ${f.cacheSizeMax} of ${f.cacheCapacity} entries`,
    },
    {
      name: "cache at its cap after warm-up",
      ok: after.length > 0 && belowCap.length === 0,
      detail: belowCap.length ? `${belowCap.length} of ${after.length} samples below the cap` : `${after.length} of ${after.length} samples at ${f.cacheCapacity} entries`,
    },
    { name: "clean stop after the run (exit 0)", ok: i.exitCode === 0, detail: `exit code ${i.exitCode}` },
  ];
  return { figures: f, checks };
}
