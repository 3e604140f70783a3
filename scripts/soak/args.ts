// Flags of scripts/soak.ts. Defaults: the 10-minute run at the seed's L3 (500 req/s).
import { parseArgs } from "node:util";

export interface SoakArgs {
  help: boolean;
  durationS: number;
  rate: number;
  records: number;
  concurrency: number;
  /** null = 20 % of the duration */
  warmupS: number | null;
  cacheEntries: number;
  cacheBytes: number;
  build: boolean;
  docs: boolean;
}

export const USAGE = `Usage: bun scripts/soak.ts [options]

  --duration S        seconds of load (default 600)
  --rate R            requests per second, the seed's mix (default 500, the seed's L3)
  --records N         records seeded before the load (default 100000)
  --concurrency C     cap on requests in flight (default 64)
  --warmup S          seconds excluded from the RSS baseline (default 20 % of --duration)
  --cache-entries N   the server's cache cap in entries (default 5000: small, so it fills)
  --cache-bytes B     the server's cache cap in bytes (default 16777216)
  --no-build          reuse dist/privata instead of building it
  --no-docs           print the report instead of writing docs/RELIABILITY.md and docs/soak-rss.svg
`;

/** Parse argv; throws an Error with a one-line message on a bad flag. */
export function parseSoakArgs(argv: string[]): SoakArgs {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      help: { type: "boolean" }, duration: { type: "string" }, rate: { type: "string" }, records: { type: "string" },
      concurrency: { type: "string" }, warmup: { type: "string" }, "cache-entries": { type: "string" },
      "cache-bytes": { type: "string" }, "no-build": { type: "boolean" }, "no-docs": { type: "boolean" },
    },
  });
  const num = (name: string, v: string | undefined, dflt: number, min: number): number => {
    if (v === undefined) return dflt;
    if (!/^\d+$/.test(v) || Number(v) < min) throw new Error(`--${name} expects a whole number >= ${min}, got "${v}"`);
    return Number(v);
  };
  const durationS = num("duration", values.duration, 600, 10);
  const warmupS = values.warmup === undefined ? null : num("warmup", values.warmup, 0, 0);
  if (warmupS !== null && warmupS >= durationS / 2) throw new Error("--warmup must be under half of --duration");
  return {
    help: values.help === true,
    durationS,
    rate: num("rate", values.rate, 500, 1),
    records: num("records", values.records, 100_000, 1),
    concurrency: num("concurrency", values.concurrency, 64, 1),
    warmupS,
    cacheEntries: num("cache-entries", values["cache-entries"], 5000, 1),
    cacheBytes: num("cache-bytes", values["cache-bytes"], 16 * 1024 * 1024, 1024),
    build: values["no-build"] !== true,
    docs: values["no-docs"] !== true,
  };
}
