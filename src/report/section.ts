/** A report section: a heading, a short explanation, figures (inline SVG or HTML) and tables. */
import type { Table } from './table.js';

export interface Section {
  readonly id: string;
  readonly title: string;
  /** Plain text (escaped when rendered). */
  readonly intro: string;
  /** Trusted HTML fragments made by the chart and image helpers. */
  readonly figures: readonly string[];
  readonly tables: readonly Table[];
  /** Why the section is empty, when it is. */
  readonly empty?: string;
}
