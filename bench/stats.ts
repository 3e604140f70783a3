// Percentiles computed exactly from per-request latencies (oha --db-url), never by averaging
// the percentiles of separate oha processes.
import { Database } from "bun:sqlite";

/**
 * Percentile of an ascending array, defined as oha defines it (so a single run's value equals
 * the one in oha's JSON exactly): the value at 0-based index floor(p/100 * n), clamped to n-1.
 * Exact: no interpolation, no histogram. NaN for an empty array.
 * Example: [1,2,3,4] -> p50 = 3, p95 = 4; [1..100] -> p50 = 51, p99 = 100.
 */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const i = Math.min(n - 1, Math.max(0, Math.floor((p / 100) * n)));
  return sorted[i]!;
}

/** The median of a few values (the mean of the middle two for an even count); null for none. */
export function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

export function sortedCopy(values: ArrayLike<number>): Float64Array {
  const a = Float64Array.from(values as ArrayLike<number>);
  a.sort();
  return a;
}

export function summarize(values: ArrayLike<number>): LatencySummary {
  const s = sortedCopy(values);
  let sum = 0;
  for (let i = 0; i < s.length; i++) sum += s[i]!;
  return {
    count: s.length,
    p50: percentile(s, 50),
    p95: percentile(s, 95),
    p99: percentile(s, 99),
    max: s.length ? s[s.length - 1]! : Number.NaN,
    mean: s.length ? sum / s.length : Number.NaN,
  };
}

/** All values of several runs in one array: the input of an overall percentile. */
export function merge(parts: readonly ArrayLike<number>[]): Float64Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Float64Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p as ArrayLike<number>, o);
    o += p.length;
  }
  return out;
}

/**
 * Latencies in ms of every request an oha run stored with --db-url (only requests that got a
 * response: connection errors are counted from the JSON's errorDistribution instead).
 *
 * Table: oha(url, start, start_latency_correction, end, duration, status, len_bytes, run).
 * With --latency-correction, start_latency_correction is when the request was *scheduled* by
 * the -q rate and start is when it was actually sent; end - start_latency_correction therefore
 * includes time spent waiting for a free connection (no coordinated omission). We use
 * end - start_latency_correction when it is not null, else duration. Checked on oha 1.16.0 with
 * a server that stalls 100 ms on every 20th request, -q 100 -c 1: the duration column already
 * equals end - start_latency_correction for corrected runs, and percentile() of these values
 * gives exactly the JSON's latencyPercentiles (p50 7.80 ms, p95 100.44 ms), while end - start
 * gives p50 0.10 ms, hiding the queueing. The bench re-checks this on every run (summary.json
 * "percentileCheck").
 */
export function readLatenciesMs(dbPath: string): Float64Array {
  const db = new Database(dbPath, { readonly: true });
  try {
    const rows = db
      .query(
        "SELECT CASE WHEN start_latency_correction IS NULL THEN duration ELSE end - start_latency_correction END AS s FROM oha",
      )
      .values() as [number][];
    const out = new Float64Array(rows.length);
    for (let i = 0; i < rows.length; i++) out[i] = rows[i]![0] * 1000;
    return out;
  } finally {
    db.close();
  }
}
