/** `qrobust reproduce`: one seed paper's experiments and the paper-vs-ours table. */
import { type CliIO, optString, EXIT_OK } from '../command.js';
import type { ParsedArgs } from '../args.js';
import { parseBudget } from '../../reproduce/budget.js';
import { reproducePaper } from '../../workflows/reproduce.js';
import { RESULTS_FILE } from '../../experiments/results-file.js';
import { experimentRunArgs } from '../experiment-run-args.js';

export async function run(args: ParsedArgs, io: CliIO): Promise<number> {
  const { options, done } = experimentRunArgs(args, io, 'reproduce');
  const r = await reproducePaper({ paper: args.positionals[0]!, budget: parseBudget(optString(args, 'budget') ?? 'smoke'), ...options });
  done();
  io.stdout.write(`${r.run.ran} task${r.run.ran === 1 ? '' : 's'} run, ${r.run.skipped} already finished, ${r.run.seconds.toFixed(1)} s\n`);
  if (!r.table) {
    const how = r.merge === 'concatenate' ? `concatenate the shards' ${RESULTS_FILE} into one directory` : 'merge the shards (qrobust merge)';
    io.stdout.write(`shard ${r.run.shard} done; ${how}, then run reproduce once more there for the tables\n`);
    return EXIT_OK;
  }
  const counts = { reproduced: 0, refuted: 0, inconclusive: 0 };
  for (const row of r.table.rows) counts[row.verdict]++;
  io.stdout.write(`${r.table.title}: ${counts.reproduced} reproduced, ${counts.refuted} refuted, ${counts.inconclusive} inconclusive; ${r.files.join(', ')}\n`);
  return EXIT_OK;
}
