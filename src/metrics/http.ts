/**
 * Request counts and latency histograms per (method, route pattern, status class).
 * Recording is on the hot path, so it only finds a preallocated series and bumps numbers;
 * all text is built at scrape time.
 */

/** Upper bounds in seconds: sub-millisecond cache hits up to multi-second stalls. */
export const BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] as const;
const LE = [...BUCKETS.map(String), "+Inf"];

// A client chooses the method token: anything unusual is folded into one value, so a
// scanner sending random methods cannot grow the series without bound.
const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);
const CLASSES = ["1xx", "2xx", "3xx", "4xx", "5xx"] as const;

export const UNMATCHED = "unmatched";

interface Series {
  /** `method="…",route="…",status="…"`, built once when the series is created */
  readonly labels: string;
  /** per-bucket counts (not cumulative; summed at render), last slot is +Inf */
  readonly buckets: Float64Array;
  sum: number;
  count: number;
}

/** Prometheus label values escape backslash, double quote and newline. */
export function escapeLabel(v: string): string {
  return v.replace(/[\\"\n]/g, (ch) => (ch === "\n" ? "\\n" : `\\${ch}`));
}

export class HttpMetrics {
  // route -> method -> series by status class. Nested maps instead of one composite key:
  // the route pattern and method are strings Hono already holds, so a lookup allocates nothing.
  private readonly byRoute = new Map<string, Map<string, (Series | undefined)[]>>();
  /** creation order, so the scrape output is stable between scrapes */
  private readonly all: Series[] = [];

  /** Count one finished request. `route` must be a route pattern or UNMATCHED, never a raw path. */
  record(method: string, route: string, status: number, seconds: number): void {
    const m = METHODS.has(method) ? method : "OTHER";
    let byMethod = this.byRoute.get(route);
    if (byMethod === undefined) this.byRoute.set(route, (byMethod = new Map()));
    let byClass = byMethod.get(m);
    if (byClass === undefined) byMethod.set(m, (byClass = []));
    // statuses outside 100–599 cannot come from a Response; clamp rather than index out of range
    const k = Math.min(Math.max(Math.floor(status / 100), 1), 5) - 1;
    let s = byClass[k];
    if (s === undefined) {
      const labels = `method="${escapeLabel(m)}",route="${escapeLabel(route)}",status="${CLASSES[k]}"`;
      s = { labels, buckets: new Float64Array(BUCKETS.length + 1), sum: 0, count: 0 };
      byClass[k] = s;
      this.all.push(s);
    }
    let i = 0;
    while (i < BUCKETS.length && seconds > BUCKETS[i]!) i++;
    s.buckets[i]!++;
    s.sum += seconds;
    s.count++;
  }

  /** The two HTTP families in text format 0.0.4. */
  render(): string {
    const total = "privata_http_requests_total";
    const dur = "privata_http_request_duration_seconds";
    let out = `# HELP ${total} HTTP requests answered, by method, route pattern and status class.\n# TYPE ${total} counter\n`;
    for (const s of this.all) out += `${total}{${s.labels}} ${s.count}\n`;
    out += `# HELP ${dur} Time from the request entering the app to its response being ready.\n# TYPE ${dur} histogram\n`;
    for (const s of this.all) {
      let cumulative = 0;
      for (let i = 0; i < LE.length; i++) {
        cumulative += s.buckets[i]!;
        out += `${dur}_bucket{${s.labels},le="${LE[i]}"} ${cumulative}\n`;
      }
      out += `${dur}_sum{${s.labels}} ${s.sum}\n${dur}_count{${s.labels}} ${s.count}\n`;
    }
    return out;
  }
}
