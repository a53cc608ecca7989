/** `qrobust run`: run an experiment config into a directory, resumable and shardable. */
import { type CliIO, EXIT_OK } from '../command.js';
import type { ParsedArgs } from '../args.js';
import { runExperiment } from '../../experiments/runner.js';
import { experimentRunArgs } from '../experiment-run-args.js';

export async function run(args: ParsedArgs, io: CliIO): Promise<number> {
  const { options, done } = experimentRunArgs(args, io, 'run');
  const summary = await runExperiment({ config: args.positionals[0]!, ...options });
  done();
  io.stdout.write(
    `${summary.ran} task${summary.ran === 1 ? '' : 's'} run, ${summary.skipped} already finished${summary.shard ? ` (shard ${summary.shard})` : ''}, ` +
      `${summary.seconds.toFixed(1)} s; results in ${summary.out}/results.jsonl\n`,
  );
  return EXIT_OK;
}
