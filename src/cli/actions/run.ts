/** `qrobust run`: run an experiment config into a directory, resumable, shardable, or on a work queue. */
import { type CliIO, EXIT_FAILURE, EXIT_OK, optNumber, optString } from '../command.js';
import type { ParsedArgs } from '../args.js';
import { QrobustError } from '../../core/errors.js';
import { runExperiment } from '../../experiments/runner.js';
import { experimentRunArgs } from '../experiment-run-args.js';

export async function run(args: ParsedArgs, io: CliIO): Promise<number> {
  const queue = optString(args, 'queue');
  if (queue !== undefined) return runOnQueue(args, io, queue);
  const { options, done } = experimentRunArgs(args, io, 'run');
  const summary = await runExperiment({ config: args.positionals[0]!, ...options });
  done();
  io.stdout.write(
    `${summary.ran} task${summary.ran === 1 ? '' : 's'} run, ${summary.skipped} already finished${summary.shard ? ` (shard ${summary.shard})` : ''}, ` +
      `${summary.seconds.toFixed(1)} s; results in ${summary.out}/results.jsonl\n`,
  );
  return EXIT_OK;
}

async function runOnQueue(args: ParsedArgs, io: CliIO, queue: string): Promise<number> {
  if (optString(args, 'shard') !== undefined) throw new QrobustError('invalid_option', '--queue and --shard exclude each other (the workers share the tasks out)');
  if (optString(args, 'data-dir') !== undefined || optString(args, 'backend') !== undefined) {
    throw new QrobustError('invalid_option', 'with --queue the workers run the tasks: give --data-dir and --backend to qrobust worker');
  }
  const { parseBrokerUrl } = await import('../../experiments/queue/broker-url.js');
  parseBrokerUrl(queue);
  const { runExperimentOnQueue } = await import('../../experiments/queue/queue-run.js');
  const { options, done } = experimentRunArgs(args, io, 'run');
  const summary = await runExperimentOnQueue({
    config: args.positionals[0]!,
    out: options.out,
    queue,
    queueName: optString(args, 'queue-name')!,
    retry: { attempts: optNumber(args, 'attempts')!, backoffSeconds: optNumber(args, 'backoff')! },
    onEvent: options.onEvent,
  });
  done();
  io.stdout.write(
    `${summary.ran} task${summary.ran === 1 ? '' : 's'} run on the queue, ${summary.skipped} already finished, ${summary.failed.length} failed, ` +
      `${summary.seconds.toFixed(1)} s; results in ${summary.out}/results.jsonl\n`,
  );
  return summary.failed.length > 0 ? EXIT_FAILURE : EXIT_OK;
}
