/**
 * A heat map as inline SVG: one cell per (row, column) pair with its value printed in it and a `<title>`
 * tooltip; empty cells (no value) are drawn hatched-grey. Used for transfer rates from source to target models.
 */
import { escapeXml, px, textWidth } from './svg.js';

export interface HeatmapOptions {
  readonly title: string;
  readonly rowLabel: string;
  readonly columnLabel: string;
  readonly rows: readonly string[];
  readonly columns: readonly string[];
  /** values[r][c] in [0, 1], or null when not measured. */
  readonly values: readonly (readonly (number | null)[])[];
  /** Extra tooltip text per cell. */
  readonly tooltips?: readonly (readonly (string | null)[])[];
  readonly format?: (v: number) => string;
}

/** White (0) to dark blue (1). */
function shade(v: number): string {
  const t = Math.max(0, Math.min(1, v));
  const mix = (a: number, b: number): number => Math.round(a + (b - a) * t);
  return `rgb(${mix(247, 8)},${mix(251, 48)},${mix(255, 107)})`;
}

export function heatmap(o: HeatmapOptions): string {
  const cell = 52;
  const labelW = Math.min(200, 12 + 7 * Math.max(...o.rows.map((r) => r.length), 4));
  const labelH = Math.min(160, 12 + 6 * Math.max(...o.columns.map((c) => c.length), 4));
  const top = 28 + labelH;
  const footnote = `rows: ${o.rowLabel}; columns: ${o.columnLabel}`;
  const width = Math.max(labelW + o.columns.length * cell + 20, textWidth(o.title, 7) + 8, labelW + textWidth(footnote, 6.5));
  const height = top + o.rows.length * cell + 30;
  const fmt = o.format ?? ((v: number) => `${Math.round(v * 100)}%`);
  const parts: string[] = [`<text x="4" y="18" class="chart-title">${escapeXml(o.title)}</text>`];
  o.columns.forEach((c, j) => {
    const x = labelW + j * cell + cell / 2;
    parts.push(`<text class="tick" transform="translate(${px(x + 4)} ${top - 6}) rotate(-55)">${escapeXml(c)}</text>`);
  });
  o.rows.forEach((r, i) => {
    const y = top + i * cell;
    parts.push(`<text class="tick" x="${labelW - 6}" y="${px(y + cell / 2 + 4)}" text-anchor="end">${escapeXml(r)}</text>`);
    o.columns.forEach((c, j) => {
      const v = o.values[i]?.[j] ?? null;
      const x = labelW + j * cell;
      const tip = `${r} → ${c}: ${v === null ? 'not measured' : fmt(v)}${o.tooltips?.[i]?.[j] ? `; ${o.tooltips[i]![j]}` : ''}`;
      if (v === null) {
        parts.push(`<rect class="cell empty" x="${x}" y="${y}" width="${cell - 2}" height="${cell - 2}" fill="#e5e5e5"><title>${escapeXml(tip)}</title></rect>`);
        return;
      }
      parts.push(`<rect class="cell" x="${x}" y="${y}" width="${cell - 2}" height="${cell - 2}" fill="${shade(v)}" data-row="${escapeXml(r)}" data-column="${escapeXml(c)}" data-value="${v}"><title>${escapeXml(tip)}</title></rect>`);
      parts.push(`<text class="cell-value" x="${x + (cell - 2) / 2}" y="${y + cell / 2 + 3}" text-anchor="middle" fill="${v > 0.55 ? '#fff' : '#111'}">${escapeXml(fmt(v))}</text>`);
    });
  });
  parts.push(`<text class="label" x="${labelW}" y="${height - 8}">${escapeXml(footnote)}</text>`);
  return `<svg class="chart heatmap" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(o.title)}">${parts.join('')}</svg>`;
}
