/** `qrobust run`: run an experiment config into a directory, resumable and shardable. */
import { type CliIO, optString, requireString, EXIT_OK } from '../command.js';
import type { ParsedArgs } from '../args.js';
import { parseBackendName } from '../../backend/backend.js';
import { runExperiment } from '../../experiments/runner.js';
import { runProgress } from '../run-progress.js';
import { resolveShardOption } from '../../experiments/shard.js';

export async function run(args: ParsedArgs, io: CliIO): Promise<number> {
  const placed = resolveShardOption(optString(args, 'shard'), requireString(args, 'out', 'run'));
  const out = placed.out;
  if (placed.source) io.stderr.write(`shard ${placed.shard!.index}/${placed.shard!.count} from ${placed.source} → ${out}\n`);
  const backend = optString(args, 'backend');
  const progress = runProgress(io.stderr, 'run');
  const summary = await runExperiment({
    config: args.positionals[0]!,
    out,
    shard: placed.shard,
    ...(optString(args, 'data-dir') ? { dataDir: optString(args, 'data-dir')! } : {}),
    ...(backend ? { backend: parseBackendName(backend) } : {}),
    onEvent: progress.onEvent,
  });
  progress.done();
  io.stdout.write(
    `${summary.ran} task${summary.ran === 1 ? '' : 's'} run, ${summary.skipped} already finished${summary.shard ? ` (shard ${summary.shard})` : ''}, ` +
      `${summary.seconds.toFixed(1)} s; results in ${summary.out}/results.jsonl\n`,
  );
  return EXIT_OK;
}
