// One sample a second while the soak runs: the server's RSS, both WAL files, the cache from
// /stats, and the load's counters so far.
import { statSync } from "node:fs";
import { statusMb } from "../../bench/server.ts";
import { join } from "node:path";
import type { LoadCounters } from "./load.ts";

export interface Sample {
  /** seconds since the load started */
  t: number;
  rssMb: number | null;
  walIdentity: number;
  walClinical: number;
  /** null when /stats did not answer (counted in `statsFailures`) */
  cache: { size: number; capacity: number; bytes: number; maxBytes: number } | null;
  checkpoints: { done: number; failed: number } | null;
  sent: number;
  errors: number;
}

/** Resident set size (VmRSS) of a live process in MB (bench/server.ts reads /proc). */
export function rssMb(pid: number): number | null {
  return statusMb(pid, "VmRSS");
}

/** Bytes of a WAL file; 0 when absent (a TRUNCATE checkpoint leaves it empty, a clean stop removes it). */
function walBytes(path: string): number {
  return statSync(path, { throwIfNoEntry: false })?.size ?? 0;
}

async function stats(base: string): Promise<Pick<Sample, "cache" | "checkpoints">> {
  const res = await fetch(`${base}/stats`, { signal: AbortSignal.timeout(5000) });
  if (res.status !== 200) throw new Error(`GET /stats answered ${res.status}`);
  const j = (await res.json()) as { cache: Sample["cache"]; walCheckpoints: Sample["checkpoints"] };
  const c = j.cache!;
  return { cache: { size: c.size, capacity: c.capacity, bytes: c.bytes, maxBytes: c.maxBytes }, checkpoints: j.walCheckpoints };
}

export interface Sampler {
  samples: Sample[];
  statsFailures: number;
  stop: () => Promise<void>;
}

/** Sample now and then every `intervalMs` until stop(); a failed /stats is kept as a null. */
export function startSampler(o: { pid: number; dataDir: string; base: string; load: LoadCounters; intervalMs?: number; onSample?: (s: Sample) => void }): Sampler {
  const t0 = performance.now();
  const s: Sampler = { samples: [], statsFailures: 0, stop: async () => {} };
  let busy: Promise<void> | null = null;
  const take = async () => {
    const t = (performance.now() - t0) / 1000;
    const rss = rssMb(o.pid);
    const sample: Sample = {
      t, rssMb: rss, cache: null, checkpoints: null, sent: o.load.sent, errors: o.load.errors,
      walIdentity: walBytes(join(o.dataDir, "identity.db-wal")),
      walClinical: walBytes(join(o.dataDir, "clinical.db-wal")),
    };
    try {
      Object.assign(sample, await stats(o.base));
    } catch {
      s.statsFailures++;
    }
    s.samples.push(sample);
    o.onSample?.(sample);
  };
  const tick = () => {
    // one at a time: a slow /stats must not pile samples up
    if (!busy) busy = take().finally(() => (busy = null));
  };
  tick();
  const timer = setInterval(tick, o.intervalMs ?? 1000);
  s.stop = async () => {
    clearInterval(timer);
    await busy;
  };
  return s;
}
