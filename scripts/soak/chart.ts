// The soak's SVG (our own code, no chart dependency; escapeXml is the bench chart's): the
// server's RSS over time above, both WAL files below, the warm-up shaded and the RSS limit
// (baseline + 10 %) dashed.
import { escapeXml } from "../../bench/svg.ts";
import type { Sample } from "./sampler.ts";

const W = 760;
const LEFT = 64;
const RIGHT = 20;
const PANEL_H = 170;
const GAP = 56;
const TOP = 52;
const PLOT_W = W - LEFT - RIGHT;

/** A round tick step (1, 2 or 5 × 10^k) giving about `n` ticks up to `max`. */
export function niceStep(max: number, n = 5): number {
  if (!(max > 0)) return 1;
  const raw = max / n;
  const p = 10 ** Math.floor(Math.log10(raw));
  return ([1, 2, 5, 10].find((m) => m * p >= raw) ?? 10) * p;
}

interface Series {
  label: string;
  color: string;
  points: [t: number, v: number][];
}

/** A horizontal segment over [t0, t1] at v: the mean RSS of a window the check compares. */
export interface Mark {
  t0: number;
  t1: number;
  v: number;
}

interface Extras {
  hline?: number | null;
  marks?: readonly Mark[];
  /** seconds at which requests failed: red ticks along the bottom */
  errorTimes?: readonly number[];
}

function panel(out: string[], top: number, title: string, unit: string, series: Series[], tMax: number, warmupS: number, e: Extras = {}): void {
  const hline = e.hline ?? null;
  const vMax = Math.max(hline ?? 0, ...series.flatMap((s) => s.points.map((p) => p[1])), 1e-9) * 1.08;
  const step = niceStep(vMax);
  const yMax = Math.ceil(vMax / step) * step;
  const x = (t: number) => LEFT + (t / tMax) * PLOT_W;
  const y = (v: number) => top + PANEL_H - (v / yMax) * PANEL_H;
  out.push(`<text x="${LEFT}" y="${top - 8}" font-weight="bold">${escapeXml(title)}</text>`);
  out.push(`<rect class="warmup" x="${LEFT}" y="${top}" width="${(x(warmupS) - LEFT).toFixed(1)}" height="${PANEL_H}" fill="#f2f2f2"/>`);
  for (let v = 0; v <= yMax + step / 2; v += step) {
    out.push(`<line x1="${LEFT}" y1="${y(v).toFixed(1)}" x2="${LEFT + PLOT_W}" y2="${y(v).toFixed(1)}" stroke="#dddddd"/>`);
    out.push(`<text x="${LEFT - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${+v.toPrecision(6)}</text>`);
  }
  const tStep = niceStep(tMax, 8);
  for (let t = 0; t <= tMax + 1e-9; t += tStep) {
    out.push(`<text x="${x(t).toFixed(1)}" y="${top + PANEL_H + 15}" text-anchor="middle">${+t.toPrecision(6)}</text>`);
  }
  out.push(`<line x1="${LEFT}" y1="${top}" x2="${LEFT}" y2="${top + PANEL_H}" stroke="#333333"/>`);
  out.push(`<line x1="${LEFT}" y1="${top + PANEL_H}" x2="${LEFT + PLOT_W}" y2="${top + PANEL_H}" stroke="#333333"/>`);
  out.push(`<text transform="translate(16 ${top + PANEL_H / 2}) rotate(-90)" text-anchor="middle">${escapeXml(unit)}</text>`);
  if (hline !== null) {
    out.push(`<line class="limit" x1="${LEFT}" y1="${y(hline).toFixed(1)}" x2="${LEFT + PLOT_W}" y2="${y(hline).toFixed(1)}" stroke="#e45756" stroke-dasharray="6 4"/>`);
  }
  for (const t of new Set((e.errorTimes ?? []).map(Math.round))) {
    out.push(`<line class="error" x1="${x(t).toFixed(1)}" y1="${top + PANEL_H - 12}" x2="${x(t).toFixed(1)}" y2="${top + PANEL_H}" stroke="#d62728" stroke-width="2"/>`);
  }
  for (const m of e.marks ?? []) {
    out.push(`<line class="mark" x1="${x(m.t0).toFixed(1)}" y1="${y(m.v).toFixed(1)}" x2="${x(m.t1).toFixed(1)}" y2="${y(m.v).toFixed(1)}" stroke="#222222" stroke-width="3"/>`);
  }
  series.forEach((s, i) => {
    const pts = s.points.map(([t, v]) => `${x(t).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
    out.push(`<polyline class="series" fill="none" stroke="${s.color}" stroke-width="1.5" points="${pts}"/>`);
    if (series.length === 1) return; // the panel's title names it
    const lx = LEFT + PLOT_W - 200 + i * 100;
    out.push(`<rect x="${lx}" y="${top - 18}" width="10" height="10" fill="${s.color}"/><text x="${lx + 14}" y="${top - 9}">${escapeXml(s.label)}</text>`);
  });
}

/**
 * RSS (MB) and WAL (MiB) against seconds of load; `rssLimitMb` draws the growth limit, `marks`
 * the mean RSS of the windows after warm-up and at the end, `errorTimes` when requests failed.
 */
export function renderSoakChart(title: string, samples: readonly Sample[], warmupS: number, rssLimitMb: number | null, marks: readonly Mark[] = [], errorTimes: readonly number[] = []): string {
  const tMax = Math.max(1, ...samples.map((s) => s.t));
  const height = TOP + 2 * PANEL_H + GAP + 40;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" font-family="sans-serif" font-size="11">`);
  out.push(`<rect x="0" y="0" width="${W}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="${LEFT}" y="20" font-size="14" font-weight="bold">${escapeXml(title)}</text>`);
  const rss = samples.flatMap((s): [number, number][] => (s.rssMb === null ? [] : [[s.t, s.rssMb]]));
  const limit = rssLimitMb === null ? "" : `; dashed: +10 % = ${rssLimitMb.toFixed(1)} MB`;
  const errors = errorTimes.length ? "; red: errors" : "";
  const title1 = `Server RSS (shaded: warm-up; black: compared window means${limit}${errors})`;
  panel(out, TOP, title1, "RSS (MB)", [{ label: "RSS", color: "#4c78a8", points: rss }], tMax, warmupS, { hline: rssLimitMb, marks, errorTimes });
  const mib = (b: number) => b / 1048576;
  // The sawtooth is a beat: the checkpoint thread empties the files every second plus the
  // checkpoint's own time, so each sample catches a slowly shifting share of a second's writes.
  panel(out, TOP + PANEL_H + GAP, "WAL sizes, once a second (writes since the last 1 s checkpoint)", "WAL (MiB)", [
    { label: "identity", color: "#f58518", points: samples.map((s) => [s.t, mib(s.walIdentity)]) },
    { label: "clinical", color: "#54a24b", points: samples.map((s) => [s.t, mib(s.walClinical)]) },
  ], tMax, warmupS);
  out.push(`<text x="${LEFT + PLOT_W / 2}" y="${height - 8}" text-anchor="middle">seconds of load</text>`);
  out.push(`</svg>`);
  return out.join("\n") + "\n";
}
