/**
 * A grouped bar chart as inline SVG: one group per category (a layer), one bar per series (a quantized variant),
 * with a reference line (e.g. 1 for a ratio) and a legend. Used for the per-layer perturbation ratio.
 */
import { escapeXml, linearScale, niceTicks, px, textWidth, tickLabel } from './svg.js';

export interface BarChartOptions {
  readonly title: string;
  readonly yLabel: string;
  readonly categories: readonly string[];
  readonly series: readonly { readonly name: string; readonly color: string; readonly values: readonly (number | null)[] }[];
  readonly reference?: number;
}

export function barChart(o: BarChartOptions): string {
  const m = { top: 28, right: 16, bottom: 44, left: 56 };
  const plotH = 220;
  const group = Math.max(48, o.series.length * 14 + 16);
  const width = Math.max(m.left + o.categories.length * group + m.right, m.left + textWidth(o.title, 7), m.left + 30 + Math.max(...o.series.map((s) => textWidth(s.name, 6.5))));
  const height = m.top + plotH + m.bottom + o.series.length * 16 + 8;
  const values = o.series.flatMap((s) => s.values.filter((v): v is number => v !== null));
  const hi = Math.max(...values, o.reference ?? 0, 1e-9) * 1.05;
  const sy = linearScale(0, hi, m.top + plotH, m.top);
  const parts: string[] = [`<text x="${m.left}" y="18" class="chart-title">${escapeXml(o.title)}</text>`];
  for (const t of niceTicks(0, hi, 5)) {
    parts.push(`<line class="grid" x1="${m.left}" x2="${width - m.right}" y1="${px(sy(t))}" y2="${px(sy(t))}"/>`);
    parts.push(`<text class="tick" x="${m.left - 6}" y="${px(sy(t) + 4)}" text-anchor="end">${escapeXml(tickLabel(t))}</text>`);
  }
  const barW = (group - 16) / Math.max(1, o.series.length);
  o.categories.forEach((cat, c) => {
    const gx = m.left + c * group + 8;
    o.series.forEach((s, k) => {
      const v = s.values[c];
      if (v === null || v === undefined) return;
      const y = sy(v);
      parts.push(
        `<rect class="bar" x="${px(gx + k * barW)}" y="${px(y)}" width="${px(barW - 2)}" height="${px(m.top + plotH - y)}" fill="${s.color}" data-series="${escapeXml(s.name)}" data-category="${escapeXml(cat)}" data-value="${v}"><title>${escapeXml(`${s.name}, ${cat}: ${tickLabel(v)}`)}</title></rect>`,
      );
    });
    parts.push(`<text class="tick" x="${px(gx + (group - 16) / 2)}" y="${m.top + plotH + 16}" text-anchor="middle">${escapeXml(cat)}</text>`);
  });
  if (o.reference !== undefined) parts.push(`<line class="reference" x1="${m.left}" x2="${width - m.right}" y1="${px(sy(o.reference))}" y2="${px(sy(o.reference))}"/>`);
  parts.push(`<line class="axis" x1="${m.left}" x2="${width - m.right}" y1="${m.top + plotH}" y2="${m.top + plotH}"/>`);
  parts.push(`<line class="axis" x1="${m.left}" x2="${m.left}" y1="${m.top}" y2="${m.top + plotH}"/>`);
  parts.push(`<text class="label" transform="translate(14 ${m.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeXml(o.yLabel)}</text>`);
  o.series.forEach((s, i) => {
    const ly = m.top + plotH + m.bottom + i * 16 + 4;
    parts.push(`<rect x="${m.left}" y="${ly - 6}" width="14" height="10" fill="${s.color}"/>`);
    parts.push(`<text class="legend" x="${m.left + 20}" y="${ly + 4}">${escapeXml(s.name)}</text>`);
  });
  return `<svg class="chart bar-chart" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(o.title)}">${parts.join('')}</svg>`;
}
