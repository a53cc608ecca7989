/** Small helpers shared by the hand-drawn SVG charts: escaping, linear scales and round tick values. */

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** Maps [d0, d1] linearly onto [r0, r1] (a degenerate domain maps to the middle of the range). */
export function linearScale(d0: number, d1: number, r0: number, r1: number): (v: number) => number {
  if (d1 === d0) return () => (r0 + r1) / 2;
  return (v) => r0 + ((v - d0) / (d1 - d0)) * (r1 - r0);
}

/** About `count` round tick values covering [lo, hi] (steps of 1, 2 or 5 times a power of ten). */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/** A number for an axis label: no trailing zeros, at most 4 significant digits. */
export function tickLabel(v: number): string {
  return String(Number(v.toPrecision(4)));
}

/** A rough width in pixels of a line of text, for sizing a chart around its labels (no font metrics offline). */
export function textWidth(s: string, pxPerChar: number): number {
  return Math.ceil(s.length * pxPerChar);
}

/** Coordinates rounded to 0.01 px, to keep the SVG small. */
export function px(v: number): string {
  return String(Math.round(v * 100) / 100);
}

/** Distinct series colors (Okabe & Ito's colour-blind-safe palette, then darker variants). */
export const PALETTE = ['#000000', '#E69F00', '#56B4E9', '#009E73', '#D55E00', '#0072B2', '#CC79A7', '#F0E442', '#7F3C8D', '#11A579', '#3969AC', '#E73F74'];

export function color(i: number): string {
  return PALETTE[i % PALETTE.length]!;
}
