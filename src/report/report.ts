/**
 * The library function behind `qrobust report`: read an experiment directory's records, compute the papers'
 * metrics from them, and write one self-contained HTML page, plus every table as CSV when asked.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { QrobustError } from '../core/errors.js';
import { readExperimentFile, readResults, RESULTS_FILE } from '../experiments/results-file.js';
import { renderPage } from './html.js';
import type { Section } from './section.js';
import type { PaperTable } from '../reproduce/paper-table.js';
import { examplesSection } from './sections/examples.js';
import { reproductionSection } from './sections/reproduction.js';
import { lossesSection } from './sections/losses.js';
import { maskingSection } from './sections/masking.js';
import { modelsSection } from './sections/models.js';
import { relativeRobustnessSection } from './sections/relative-robustness.js';
import { robustAccuracySection } from './sections/robust-accuracy.js';
import { transferSection } from './sections/transfer.js';
import { valueShiftSection } from './sections/value-shift.js';
import { verificationSection } from './sections/verification.js';
import { tableToCsv } from './table.js';
import { ExperimentView } from './view.js';

export interface ReportOptions {
  /** The experiment directory (holding results.jsonl). */
  readonly dir: string;
  /** The HTML file to write. */
  readonly out: string;
  /** Also write every table as `<id>.csv` into this folder. */
  readonly csvDir?: string;
}

export interface ReportSummary {
  readonly out: string;
  readonly records: number;
  readonly tasks: number;
  readonly sections: number;
  readonly tables: number;
  readonly csvFiles: readonly string[];
}

/** The report's sections, in page order. */
export function reportSections(view: ExperimentView): Section[] {
  return [
    modelsSection(view),
    robustAccuracySection(view),
    transferSection(view),
    relativeRobustnessSection(view),
    verificationSection(view),
    maskingSection(view),
    valueShiftSection(view),
    lossesSection(view),
    examplesSection(view),
  ];
}

export async function loadView(dir: string): Promise<ExperimentView> {
  const experiment = await readExperimentFile(dir);
  const { records } = await readResults(join(dir, RESULTS_FILE));
  if (!experiment && records.length === 0) throw new QrobustError('invalid_argument', `${dir}: no ${RESULTS_FILE} (not a directory written by qrobust run)`);
  return new ExperimentView(records, experiment);
}

export function renderReport(view: ExperimentView, sections: readonly Section[]): string {
  const versions = view.records[0]?.versions ?? {};
  const datasets = view.datasets().map((d) => {
    const data = view.dataResult(d);
    return data ? `${d} ${data.dataset.split} (${data.dataset.variant}), ${data.labels.length} samples, seed ${(data.dataset.selection as { seed?: number }).seed ?? '-'}` : d;
  });
  const lines = [
    `${view.records.length} of ${view.totalTasks} tasks finished${view.configHash ? `; config ${view.configHash.slice(0, 12)}` : ''}${view.ignored ? `; ${view.ignored} records of an earlier config ignored` : ''}`,
    `data: ${datasets.join('; ') || '–'}`,
  ];
  const footer = `qrobust ${versions['qrobust'] ?? ''}, ${Object.entries(versions)
    .filter(([k]) => k !== 'qrobust')
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')}. Metrics: docs/metrics.md.`;
  return renderPage({ title: `qrobust report: ${view.name}`, lines, footer }, sections);
}

/** The table of a `qrobust reproduce` directory, or null for any other. */
async function reproductionTable(dir: string): Promise<PaperTable | null> {
  let text: string;
  try {
    text = await readFile(join(dir, 'paper-vs-ours.json'), 'utf8');
  } catch {
    return null;
  }
  const v = JSON.parse(text) as { format?: string; table?: PaperTable };
  if (v.format !== 'qrobust-reproduction' || !v.table) throw new QrobustError('invalid_argument', `${join(dir, 'paper-vs-ours.json')}: not a qrobust reproduction table`);
  return v.table;
}

export async function writeReport(o: ReportOptions): Promise<ReportSummary> {
  const view = await loadView(o.dir);
  const paper = await reproductionTable(o.dir);
  const sections = [...(paper ? [reproductionSection(paper)] : []), ...reportSections(view)];
  const html = renderReport(view, sections);
  await writeFile(o.out, html);
  const tables = sections.flatMap((s) => s.tables);
  const csvFiles: string[] = [];
  if (o.csvDir) {
    await mkdir(o.csvDir, { recursive: true });
    for (const t of tables) {
      const file = join(o.csvDir, `${t.id}.csv`);
      await writeFile(file, tableToCsv(t));
      csvFiles.push(file);
    }
  }
  return { out: o.out, records: view.records.length, tasks: view.totalTasks, sections: sections.length, tables: tables.length, csvFiles };
}
