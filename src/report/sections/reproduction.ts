/**
 * The paper-vs-ours table of a `qrobust reproduce` directory (`paper-vs-ours.json`, written from the same
 * records): the paper's number or claim, ours with its 95% interval, the verdict and its rule
 * (docs/reproduce.md). Absent from reports of plain `qrobust run` directories.
 */
import type { PaperTable } from '../../reproduce/paper-table.js';
import type { Section } from '../section.js';
import type { CellValue } from '../table.js';

export function reproductionSection(table: PaperTable): Section {
  const rows: Record<string, CellValue>[] = table.rows.map((r) => ({
    id: r.id,
    what: r.what,
    paper: r.paper,
    ours: r.ours ? r.ours.value : r.oursText,
    lo: r.ours ? r.ours.lo : null,
    hi: r.ours ? r.ours.hi : null,
    verdict: r.verdict,
    rule: r.rule,
  }));
  return {
    id: 'reproduction',
    title: `${table.title}: the paper beside qrobust`,
    intro: `Budget: ${table.budget}. Ours with its 95% interval; verdicts by the rules of docs/reproduce.md (N: a number, C: curves cross).`,
    figures: [],
    tables: [
      {
        id: `reproduction-${table.paper}`,
        title: 'paper vs ours',
        columns: [
          { key: 'id', label: 'id' },
          { key: 'what', label: 'what' },
          { key: 'paper', label: 'paper', format: 'number' },
          { key: 'ours', label: 'ours', format: 'number' },
          { key: 'lo', label: '95% low', format: 'number' },
          { key: 'hi', label: '95% high', format: 'number' },
          { key: 'verdict', label: 'verdict', format: 'status' },
          { key: 'rule', label: 'rule' },
        ],
        rows,
      },
    ],
  };
}
