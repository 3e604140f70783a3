// Our own SVG chart (no dependency): p50/p95/p99 bars per operation, grouped by level, on a
// log-scale latency axis.

export interface ChartItem {
  label: string;
  p50: number | null;
  p95: number | null;
  p99: number | null;
}
export interface ChartGroup {
  label: string;
  items: ChartItem[];
}

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" })[c]!);
}

const SERIES = [
  { key: "p50", color: "#4c78a8" },
  { key: "p95", color: "#f58518" },
  { key: "p99", color: "#e45756" },
] as const;

const BAR = 9;
const ITEM = SERIES.length * BAR + 8;
const GROUP_GAP = 22;
const LEFT = 70;
const TOP = 50;
const PLOT_H = 300;
const BOTTOM = 95;

function fmtTick(v: number): string {
  return v >= 1 ? String(v) : v.toPrecision(1).replace(/0+$/, "");
}

function fmtVal(ms: number): string {
  return ms < 1 ? ms.toFixed(3) : ms < 100 ? ms.toFixed(2) : ms.toFixed(0);
}

/** The chart; a bar is drawn for every finite positive value (others are left out). */
export function renderChart(title: string, groups: readonly ChartGroup[]): string {
  const values: number[] = [];
  for (const g of groups) for (const it of g.items) for (const s of SERIES) {
    const v = it[s.key];
    if (v !== null && Number.isFinite(v) && v > 0) values.push(v);
  }
  const lo = values.length ? Math.floor(Math.log10(Math.min(...values))) : -1;
  let hi = values.length ? Math.ceil(Math.log10(Math.max(...values))) : 1;
  if (hi <= lo) hi = lo + 1;
  const y = (v: number) => TOP + PLOT_H - ((Math.log10(v) - lo) / (hi - lo)) * PLOT_H;

  const nItems = groups.reduce((n, g) => n + g.items.length, 0);
  const plotW = Math.max(200, nItems * ITEM + Math.max(0, groups.length - 1) * GROUP_GAP + 20);
  const width = LEFT + plotW + 20;
  const height = TOP + PLOT_H + BOTTOM;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`);
  out.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="${LEFT}" y="20" font-size="14" font-weight="bold">${escapeXml(title)}</text>`);
  // legend
  SERIES.forEach((s, i) => {
    const lx = LEFT + i * 70;
    out.push(`<rect class="legend" x="${lx}" y="30" width="10" height="10" fill="${s.color}"/>`);
    out.push(`<text x="${lx + 14}" y="39">${s.key}</text>`);
  });
  // y axis: a grid line per decade
  for (let e = lo; e <= hi; e++) {
    const v = 10 ** e;
    const yy = y(v).toFixed(1);
    out.push(`<line x1="${LEFT}" y1="${yy}" x2="${LEFT + plotW}" y2="${yy}" stroke="#dddddd"/>`);
    out.push(`<text x="${LEFT - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${fmtTick(v)}</text>`);
  }
  out.push(`<line x1="${LEFT}" y1="${TOP}" x2="${LEFT}" y2="${TOP + PLOT_H}" stroke="#333333"/>`);
  out.push(`<line x1="${LEFT}" y1="${TOP + PLOT_H}" x2="${LEFT + plotW}" y2="${TOP + PLOT_H}" stroke="#333333"/>`);
  out.push(`<text transform="translate(18 ${TOP + PLOT_H / 2}) rotate(-90)" text-anchor="middle">latency (ms, log scale)</text>`);
  // bars
  let x = LEFT + 10;
  const base = TOP + PLOT_H;
  groups.forEach((g, gi) => {
    if (gi > 0) x += GROUP_GAP;
    const gx = x;
    for (const it of g.items) {
      SERIES.forEach((s, si) => {
        const v = it[s.key];
        if (v === null || !Number.isFinite(v) || v <= 0) return;
        const top = Math.min(base - 1, y(v));
        out.push(
          `<rect class="bar ${s.key}" x="${x + si * BAR}" y="${top.toFixed(1)}" width="${BAR - 1}" height="${(base - top).toFixed(1)}" fill="${s.color}"><title>${escapeXml(`${g.label} ${it.label} ${s.key}: ${fmtVal(v)} ms`)}</title></rect>`,
        );
      });
      const cx = x + (SERIES.length * BAR) / 2;
      out.push(`<text transform="translate(${cx.toFixed(1)} ${base + 8}) rotate(60)" font-size="10">${escapeXml(it.label)}</text>`);
      x += ITEM;
    }
    const mid = (gx + x - 8) / 2;
    out.push(`<text x="${mid.toFixed(1)}" y="${base + 70}" text-anchor="middle" font-weight="bold">${escapeXml(g.label)}</text>`);
  });
  out.push(`<text x="${LEFT + plotW / 2}" y="${height - 6}" text-anchor="middle">level or run / operation</text>`);
  out.push(`</svg>`);
  return out.join("\n") + "\n";
}
