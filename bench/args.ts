// Command-line flags of `bun run bench`. Pure: no I/O, so the test can exercise it.
import { join } from "node:path";

export type Durability = "normal" | "full";

export interface BenchArgs {
  records: number;
  /** seconds per level (L2–L4, and L1 unless --full) */
  duration: number;
  /** seconds of Level 1 (600 with --full) */
  level1Duration: number;
  /** seconds of the closed-loop mixed run, of each single-operation maximum and of the limit */
  maxDuration: number;
  full: boolean;
  quick: boolean;
  durability: Durability;
  /** absolute or relative output directory */
  out: string;
  build: boolean;
  help: boolean;
}

export type ParseResult = { ok: true; args: BenchArgs } | { ok: false; error: string };

export const USAGE = `usage: bun run bench [--records N] [--duration S] [--full] [--quick]
                     [--durability normal|full] [--out DIR] [--no-build]
  --records N        records to seed (default 10000; --quick: 2000)
  --duration S       seconds per level and per closed-loop run (default 20; --quick: 3)
  --full             Level 1 runs 600 s, like the seed's 10-minute test
  --quick            smoke check: 3 s per run, 2000 records unless --records is given
  --durability M     server durability mode for the main run: normal (default) or full
  --out DIR          output directory (default bench/results/<YYYY-MM-DD>-<hostname>[-quick])
  --no-build         reuse dist/privata instead of running \`bun run build\``;

const VALUE_FLAGS = new Set(["--records", "--duration", "--durability", "--out"]);
const BOOL_FLAGS = new Set(["--full", "--quick", "--no-build", "--help", "-h"]);

function positiveInt(flag: string, v: string): number | string {
  if (!/^\d+$/.test(v)) return `${flag} needs a positive whole number, got "${v}"`;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) return `${flag} needs a positive whole number, got "${v}"`;
  return n;
}

/** YYYY-MM-DD in local time */
export function isoDate(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

export function defaultOut(root: string, now: Date, host: string, quick: boolean): string {
  const safeHost = host.replace(/[^A-Za-z0-9._-]/g, "_") || "host";
  return join(root, "bench", "results", `${isoDate(now)}-${safeHost}${quick ? "-quick" : ""}`);
}

export function parseArgs(argv: readonly string[], opts: { root: string; now: Date; host: string }): ParseResult {
  const values = new Map<string, string>();
  const bools = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i]!;
    const eq = raw.startsWith("--") ? raw.indexOf("=") : -1;
    const flag = eq > 0 ? raw.slice(0, eq) : raw;
    if (VALUE_FLAGS.has(flag)) {
      let v: string | undefined;
      if (eq > 0) v = raw.slice(eq + 1);
      else {
        v = argv[i + 1];
        i++;
      }
      if (v === undefined || v === "") return { ok: false, error: `${flag} needs a value` };
      values.set(flag, v);
    } else if (BOOL_FLAGS.has(flag) && eq < 0) {
      bools.add(flag);
    } else {
      return { ok: false, error: `unknown argument "${raw}" (see --help)` };
    }
  }
  const quick = bools.has("--quick");
  const full = bools.has("--full");
  if (quick && full) return { ok: false, error: "--quick and --full cannot be combined" };

  let records = quick ? 2000 : 10000;
  const r = values.get("--records");
  if (r !== undefined) {
    const n = positiveInt("--records", r);
    if (typeof n === "string") return { ok: false, error: n };
    records = n;
  }
  let duration = quick ? 3 : 20;
  const d = values.get("--duration");
  if (d !== undefined) {
    const n = positiveInt("--duration", d);
    if (typeof n === "string") return { ok: false, error: n };
    duration = n;
  }
  const dm = values.get("--durability") ?? "normal";
  if (dm !== "normal" && dm !== "full") return { ok: false, error: `--durability must be normal or full, got "${dm}"` };

  const out = values.get("--out") ?? defaultOut(opts.root, opts.now, opts.host, quick);
  return {
    ok: true,
    args: {
      records,
      duration,
      level1Duration: full ? 600 : duration,
      maxDuration: duration,
      full,
      quick,
      durability: dm,
      out,
      build: !bools.has("--no-build"),
      help: bools.has("--help") || bools.has("-h"),
    },
  };
}
