/**
 * The table a reproduction writes: one row per number or claim of the paper, the paper's value (a number, or
 * its claim in words), ours with its 95% interval, the verdict and the rule that gave it (`verdict.ts`), as
 * Markdown (`paper-vs-ours.md`, with the measurements and notes after it) and CSV (`paper-vs-ours.csv`).
 */
import type { Estimate, Verdict } from './verdict.js';

export interface PaperRow {
  readonly id: string;
  readonly what: string;
  /** The paper's number, or its qualitative claim. */
  readonly paper: number | string;
  /** Our estimate (null for a claim judged on curves). */
  readonly ours: Estimate | null;
  /** Our side in words (for a claim), or the estimate's unit. */
  readonly oursText: string;
  readonly verdict: Verdict;
  readonly rule: string;
}

export interface PaperTable {
  readonly paper: string;
  readonly title: string;
  readonly budget: string;
  readonly rows: readonly PaperRow[];
  /** Further Markdown sections (measurements with no number in the paper, fitted models, notes). */
  readonly sections: readonly { readonly heading: string; readonly body: string }[];
}

function show(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(2);
}

function oursCell(r: PaperRow): string {
  return r.ours ? `${show(r.ours.value)} [${show(r.ours.lo)}, ${show(r.ours.hi)}]` : r.oursText;
}

function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function paperTableMarkdown(t: PaperTable): string {
  const lines = [
    `# ${t.title}: the paper beside qrobust`,
    '',
    `Budget: ${t.budget}. Intervals are 95%; verdict rules in docs/reproduce.md.`,
    '',
    '| id | what | paper | ours | verdict | rule |',
    '|---|---|---|---|---|---|',
    ...t.rows.map((r) => `| ${r.id} | ${cell(r.what)} | ${cell(typeof r.paper === 'number' ? show(r.paper) : r.paper)} | ${cell(oursCell(r))} | ${r.verdict} | ${r.rule} |`),
  ];
  for (const s of t.sections) lines.push('', `## ${s.heading}`, '', s.body.trimEnd());
  return lines.join('\n') + '\n';
}

function csvField(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function paperTableCsv(t: PaperTable): string {
  const header = ['paper', 'id', 'what', 'paper_value', 'ours', 'ours_lo', 'ours_hi', 'ours_text', 'verdict', 'rule'];
  const rows = t.rows.map((r) => [
    t.paper, r.id, r.what, String(r.paper), r.ours ? String(r.ours.value) : '', r.ours ? String(r.ours.lo) : '', r.ours ? String(r.ours.hi) : '', r.oursText, r.verdict, r.rule,
  ]);
  return [header, ...rows].map((r) => r.map(csvField).join(',')).join('\n') + '\n';
}
