/**
 * A line chart as inline SVG: axes with round ticks, one polyline per series with a marker at every data point
 * (each carrying its values in `data-*` attributes and a `<title>` tooltip), and a legend. Used for robust
 * accuracy versus ε.
 */
import { escapeXml, linearScale, niceTicks, px, tickLabel } from './svg.js';

export interface LineSeries {
  readonly name: string;
  readonly color: string;
  readonly dashed?: boolean;
  readonly points: readonly { readonly x: number; readonly y: number }[];
}

export interface LineChartOptions {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly LineSeries[];
  /** Fixed y range (default: the data's). */
  readonly yDomain?: readonly [number, number];
  readonly yFormat?: (v: number) => string;
  readonly width?: number;
}

export function lineChart(o: LineChartOptions): string {
  const width = o.width ?? 560;
  const legendRows = o.series.length;
  const plotH = 260;
  const m = { top: 28, right: 16, bottom: 44, left: 56 };
  const height = m.top + plotH + m.bottom + legendRows * 16 + 8;
  const xs = o.series.flatMap((s) => s.points.map((p) => p.x));
  const ys = o.series.flatMap((s) => s.points.map((p) => p.y));
  const [x0, x1] = xs.length ? [Math.min(...xs), Math.max(...xs)] : [0, 1];
  const [y0, y1] = o.yDomain ?? (ys.length ? [Math.min(...ys), Math.max(...ys)] : [0, 1]);
  const sx = linearScale(x0, x1, m.left, width - m.right);
  const sy = linearScale(y0, y1, m.top + plotH, m.top);
  const yFmt = o.yFormat ?? tickLabel;
  const parts: string[] = [];
  parts.push(`<text x="${m.left}" y="18" class="chart-title">${escapeXml(o.title)}</text>`);
  for (const t of niceTicks(y0, y1, 5)) {
    parts.push(`<line class="grid" x1="${m.left}" x2="${width - m.right}" y1="${px(sy(t))}" y2="${px(sy(t))}"/>`);
    parts.push(`<text class="tick" x="${m.left - 6}" y="${px(sy(t) + 4)}" text-anchor="end">${escapeXml(yFmt(t))}</text>`);
  }
  const xTicks = xs.length && new Set(xs).size <= 12 ? [...new Set(xs)].sort((a, b) => a - b) : niceTicks(x0, x1, 6);
  for (const t of xTicks) {
    parts.push(`<line class="axis" x1="${px(sx(t))}" x2="${px(sx(t))}" y1="${m.top + plotH}" y2="${m.top + plotH + 4}"/>`);
    parts.push(`<text class="tick" x="${px(sx(t))}" y="${m.top + plotH + 16}" text-anchor="middle">${escapeXml(tickLabel(t))}</text>`);
  }
  parts.push(`<line class="axis" x1="${m.left}" x2="${width - m.right}" y1="${m.top + plotH}" y2="${m.top + plotH}"/>`);
  parts.push(`<line class="axis" x1="${m.left}" x2="${m.left}" y1="${m.top}" y2="${m.top + plotH}"/>`);
  parts.push(`<text class="label" x="${(m.left + width - m.right) / 2}" y="${m.top + plotH + 34}" text-anchor="middle">${escapeXml(o.xLabel)}</text>`);
  parts.push(`<text class="label" transform="translate(14 ${m.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeXml(o.yLabel)}</text>`);
  o.series.forEach((s, i) => {
    const pts = [...s.points].sort((a, b) => a.x - b.x);
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    parts.push(`<g class="series" data-series="${escapeXml(s.name)}">`);
    if (pts.length > 1) parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2"${dash} points="${pts.map((p) => `${px(sx(p.x))},${px(sy(p.y))}`).join(' ')}"/>`);
    for (const p of pts) {
      parts.push(
        `<circle class="point" cx="${px(sx(p.x))}" cy="${px(sy(p.y))}" r="3.5" fill="${s.color}" data-x="${p.x}" data-y="${p.y}"><title>${escapeXml(`${s.name}: ${tickLabel(p.x)} → ${yFmt(p.y)}`)}</title></circle>`,
      );
    }
    parts.push('</g>');
    const ly = m.top + plotH + m.bottom + i * 16 + 4;
    parts.push(`<line x1="${m.left}" x2="${m.left + 24}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"${dash}/>`);
    parts.push(`<text class="legend" x="${m.left + 30}" y="${ly + 4}">${escapeXml(s.name)}</text>`);
  });
  return `<svg class="chart line-chart" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(o.title)}">${parts.join('')}</svg>`;
}
