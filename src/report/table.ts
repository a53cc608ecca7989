/**
 * Tables: what every report section produces, rendered to HTML and exported to CSV from the same rows, so the
 * CSV holds exactly the numbers the page shows (unrounded).
 */

export type CellValue = string | number | null;

export type ColumnFormat = 'text' | 'percent' | 'number' | 'integer' | 'ratio' | 'status';

export interface Column {
  readonly key: string;
  readonly label: string;
  readonly format?: ColumnFormat;
  /** On the page, the text of this other column is shown under the value (small print). */
  readonly detailKey?: string;
  /** Exported to CSV but not shown as a column on the page (e.g. a detail shown under another column). */
  readonly csvOnly?: boolean;
}

export interface Table {
  /** File-name-safe id, also the CSV file name. */
  readonly id: string;
  readonly title: string;
  readonly columns: readonly Column[];
  readonly rows: readonly Readonly<Record<string, CellValue>>[];
  readonly note?: string;
}

/** A cell as the page shows it. */
export function formatCell(v: CellValue, format: ColumnFormat = 'text'): string {
  if (v === null || v === undefined) return '–';
  if (typeof v === 'string') return v;
  if (!Number.isFinite(v)) return String(v);
  switch (format) {
    case 'percent':
      return `${(v * 100).toFixed(1)}%`;
    case 'integer':
      return String(Math.round(v));
    case 'ratio':
      return v.toFixed(3);
    case 'number':
      return Math.abs(v) >= 1000 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(3) : v.toPrecision(4);
    default:
      return String(v);
  }
}

function csvField(v: CellValue): string {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** RFC 4180 CSV: a header of column labels, then one line per row; numbers unrounded, empty for missing values. */
export function tableToCsv(t: Table): string {
  const lines = [t.columns.map((c) => csvField(c.label)).join(',')];
  for (const row of t.rows) lines.push(t.columns.map((c) => csvField(row[c.key] ?? null)).join(','));
  return lines.join('\r\n') + '\r\n';
}
