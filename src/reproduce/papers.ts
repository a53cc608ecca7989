/**
 * The reproducible papers: each gives the experiment config of a budget and the paper-vs-ours table of the
 * finished run's records. Names are listed apart from the implementations so the CLI's help loads nothing.
 */
import { QrobustError } from '../core/errors.js';
import type { ResultRecord } from '../experiments/results-file.js';
import type { RunEvent, RunSummary } from '../experiments/runner.js';
import type { Shard } from '../experiments/shard.js';
import type { BackendName } from '../backend/backend.js';
import type { Budget } from './budget.js';
import type { PaperTable } from './paper-table.js';

export const PAPER_NAMES = ['duncan2020', 'bernhard2019', 'song2021', 'gorsline2021'] as const;
export type PaperName = (typeof PAPER_NAMES)[number];

export interface Reproduction {
  readonly name: PaperName;
  readonly config: (budget: Budget) => Record<string, unknown>;
  readonly table: (records: readonly ResultRecord[], budget: Budget) => PaperTable;
  /**
   * A paper whose experiment the runner's task kinds cannot express runs its own resumable loop, writing the
   * same `results.jsonl` records into `out`; without it, the config is run by the experiment runner.
   */
  readonly run?: (o: PaperRunOptions) => Promise<RunSummary>;
}

export interface PaperRunOptions {
  readonly budget: Budget;
  readonly out: string;
  readonly shard?: Shard | null;
  readonly dataDir?: string;
  readonly backend?: BackendName;
  readonly onEvent?: (event: RunEvent) => void;
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
  if (name === 'duncan2020') {
    const [{ duncanTable }, { duncanConfig }, { runDuncan }] = await Promise.all([import('./duncan2020.js'), import('./duncan2020-settings.js'), import('./duncan2020-run.js')]);
    return { name, config: duncanConfig, table: duncanTable, run: runDuncan };
  }
  throw new QrobustError('invalid_argument', `reproduce: ${name} is not implemented yet (gorsline2021 and duncan2020 are)`);
}
