/**
 * The reproducible papers: each gives the experiment config of a budget and the paper-vs-ours table of the
 * finished run's records. Names are listed apart from the implementations so the CLI's help loads nothing.
 */
import { QrobustError } from '../core/errors.js';
import type { ResultRecord } from '../experiments/results-file.js';
import type { Budget } from './budget.js';
import type { PaperTable } from './paper-table.js';

export const PAPER_NAMES = ['duncan2020', 'bernhard2019', 'song2021', 'gorsline2021'] as const;
export type PaperName = (typeof PAPER_NAMES)[number];

export interface Reproduction {
  readonly name: PaperName;
  readonly config: (budget: Budget) => Record<string, unknown>;
  readonly table: (records: readonly ResultRecord[], budget: Budget) => PaperTable;
}

/**
 * The reproduction of a paper.
 * @throws QrobustError('invalid_argument') for an unknown name or a paper whose reproduction is not written yet.
 */
export async function reproductionFor(name: string): Promise<Reproduction> {
  if (!(PAPER_NAMES as readonly string[]).includes(name)) throw new QrobustError('invalid_argument', `reproduce: unknown paper '${name}': expected one of ${PAPER_NAMES.join(', ')}`);
  if (name === 'gorsline2021') {
    const { gorslineConfig, gorslineTable } = await import('./gorsline2021.js');
    return { name, config: gorslineConfig, table: gorslineTable };
  }
  throw new QrobustError('invalid_argument', `reproduce: ${name} is not implemented yet (gorsline2021 is)`);
}
