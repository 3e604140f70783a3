// The shapes of the bench's results (what summary.json holds).

export interface OpResult {
  op: string;
  /** requests sent: responses of any status + connection errors + aborted */
  count: number;
  /** non-2xx responses + connection errors */
  errors: number;
  non2xx: number;
  connectionErrors: number;
  /** "aborted due to deadline" (should be 0 with -w; not counted as errors) */
  aborted: number;
  statusCounts: Record<string, number>;
  errorKinds: Record<string, number>;
  /** oha's requestsPerSec */
  rps: number;
  /** ms; from per-request latencies (source "db") or oha's JSON (source "oha") */
  p50: number | null;
  p95: number | null;
  p99: number | null;
  source: "db" | "oha";
  /** raw oha JSON file name in the out dir */
  rawFile: string;
}

export interface CacheDelta {
  hits: number;
  misses: number;
  /** hits / (hits + misses); null when there was no lookup */
  rate: number | null;
  pageHits: number | null;
  pageMisses: number | null;
  /** whole list pages from the page cache / built (absent in reports before it existed) */
  listHits?: number | null;
  listMisses?: number | null;
}

export interface LevelResult {
  name: string;
  /** offered req/s (sum of the four -q) */
  rate: number;
  durationS: number;
  ops: OpResult[];
  overall: {
    count: number;
    errors: number;
    errorShare: number;
    aborted: number;
    /** sum of the four processes' req/s */
    rps: number;
    /** ms, exact over the merged per-request latencies of all four processes */
    p50: number | null;
    p95: number | null;
    p99: number | null;
  };
  cache: CacheDelta;
}

export interface ClosedMixedResult {
  durationS: number;
  ops: (OpResult & { connections: number; share: number })[];
  rps: number;
  count: number;
  errors: number;
  aborted: number;
}

export type MaxKey = "read" | "list" | "create" | "createFull" | "limit";

export interface MaxResult {
  key: MaxKey;
  label: string;
  durationS: number;
  connections: number;
  result: OpResult;
  /** reads by id only: the server's cache hit rate during the run (from /stats) */
  cacheHitRate?: number | null;
}

export interface Machine {
  hostname: string;
  cores: number;
  cpuModel: string;
  memoryMb: number | null;
  os: string;
  kernel: string;
}

export interface Summary {
  schema: 1;
  date: string;
  command: string;
  machine: Machine;
  versions: { bun: string; oha: string; privata: string };
  config: {
    records: number;
    durability: "normal" | "full";
    levelDurationS: number;
    level1DurationS: number;
    maxDurationS: number;
    quick: boolean;
    full: boolean;
    levelConnectionsPerOp: number;
    closedConnections: Record<string, number>;
    readSet: number;
  };
  seed: { records: number; seconds: number; perSecond: number };
  warm: { urls: number; listUrls?: number; non200: number; cacheSizeAfter: number | null };
  levels: LevelResult[];
  closedMixed: ClosedMixedResult | null;
  maxima: MaxResult[];
  /** req/s of the bare Bun.serve */
  limitRps: number | null;
  /** the whole run, seeding included */
  peakRssMb: number | null;
  /** seeding and warm-up only */
  peakRssSeedMb?: number | null;
  /** the measured runs only (VmHWM reset after the warm-up) */
  peakRssMeasuredMb?: number | null;
  /** each measured run's own peak, by level name, "mixed" or maximum key, then "shutdown" (VmHWM reset between runs) */
  peakRssByRunMb?: Record<string, number | null>;
  peakRssFullMb: number | null;
  /** max |our percentile - oha JSON percentile| in ms over every level's ops (should be ~0) */
  percentileCheck: { maxAbsDiffMs: number; runs: number };
  /** /proc/loadavg (1, 5, 15 min) before the build and after the last run: other load skews everything */
  loadAvg: { start: number[]; end: number[] };
  /** share of CPU time not idle in the second before the bench started (null off Linux) */
  cpuBusyBeforeStart: number | null;
  checks: Check[];
  notes: string[];
}

export type Status = "PASS" | "FAIL" | "info" | "n/a";

export interface Check {
  /** "L1", "L2", …, or "maxima" */
  scope: string;
  metric: string;
  target: string;
  actual: string;
  status: Status;
}
