/**
 * The library function behind `qrobust reproduce`: write the paper's experiment config for the budget into the
 * output directory, run it there (resumable and shardable exactly like `qrobust run`: the same runner, results
 * file and task ids; or the paper's own resumable loop writing the same records, see `Reproduction.run`), and,
 * once every task has finished, write `paper-vs-ours.md`, `.csv` and `.json` from the
 * records alone.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { versions } from '../core/versions.js';
import { RESULTS_FILE, readResults, writeFileAtomic } from '../experiments/results-file.js';
import { runExperiment, type RunSummary } from '../experiments/runner.js';
import { paperTableCsv, paperTableMarkdown, type PaperTable } from '../reproduce/paper-table.js';
import { reproductionFor, type PaperRunOptions } from '../reproduce/papers.js';

export interface ReproduceOptions extends PaperRunOptions {
  readonly paper: string;
}

export interface ReproduceResult {
  readonly run: RunSummary;
  /** Null when this shard's share is done but other tasks are not (merge the shards, then run again). */
  readonly table: PaperTable | null;
  readonly files: readonly string[];
  /** How shard directories are combined: `qrobust merge`, or (a paper's own loop) concatenating their results.jsonl. */
  readonly merge: 'qrobust merge' | 'concatenate';
}

export const REPRODUCE_CONFIG_FILE = 'reproduce-config.json';

export async function reproducePaper(o: ReproduceOptions): Promise<ReproduceResult> {
  const paper = await reproductionFor(o.paper);
  await mkdir(o.out, { recursive: true });
  const configFile = join(o.out, REPRODUCE_CONFIG_FILE);
  await writeFile(configFile, JSON.stringify(paper.config(o.budget), null, 2) + '\n');
  const common = {
    out: o.out,
    shard: o.shard ?? null,
    ...(o.dataDir ? { dataDir: o.dataDir } : {}),
    ...(o.backend ? { backend: o.backend } : {}),
    ...(o.onEvent ? { onEvent: o.onEvent } : {}),
  };
  const run = paper.run ? await paper.run({ ...common, budget: o.budget }) : await runExperiment({ ...common, config: configFile });
  const merge = paper.run ? 'concatenate' : 'qrobust merge';
  if (run.inShard !== run.tasks) return { run, table: null, files: [], merge };
  const { records } = await readResults(join(o.out, RESULTS_FILE));
  const table = paper.table(records, o.budget);
  const files = ['paper-vs-ours.md', 'paper-vs-ours.csv', 'paper-vs-ours.json'].map((f) => join(o.out, f));
  await writeFileAtomic(files[0]!, paperTableMarkdown(table));
  await writeFileAtomic(files[1]!, paperTableCsv(table));
  await writeFileAtomic(files[2]!, JSON.stringify({ format: 'qrobust-reproduction', version: 1, paper: o.paper, budget: o.budget, config: paper.config(o.budget), versions: versions(), table }, null, 1) + '\n');
  return { run, table, files, merge };
}
