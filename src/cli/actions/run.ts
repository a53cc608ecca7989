/** `qrobust run`: run an experiment config into a directory, resumable and shardable. */
import { type CliIO, optString, requireString, EXIT_OK } from '../command.js';
import type { ParsedArgs } from '../args.js';
import { ProgressBar, progressEnabled } from '../../core/progress.js';
import { parseBackendName } from '../../backend/backend.js';
import { runExperiment, type RunEvent } from '../../experiments/runner.js';
import { parseShard } from '../../experiments/shard.js';

export async function run(args: ParsedArgs, io: CliIO): Promise<number> {
  const out = requireString(args, 'out', 'run');
  const shardText = optString(args, 'shard');
  const backend = optString(args, 'backend');
  const tty = progressEnabled(io.stderr);
  let bar: ProgressBar | undefined;
  let done = 0;
  let current = '';
  const onEvent = (e: RunEvent): void => {
    switch (e.type) {
      case 'start':
        if (e.tornBytes > 0) io.stderr.write(`dropped a torn last record (${e.tornBytes} bytes) left by an interrupted run\n`);
        if (e.configChanged) io.stderr.write('the config changed since the last run here: finished tasks that still match are kept\n');
        io.stderr.write(`${e.tasks} tasks${e.inShard !== e.tasks ? `, ${e.inShard} in this shard` : ''}: ${e.finished} finished, ${e.todo} to run\n`);
        bar = new ProgressBar(io.stderr, e.todo, 'run');
        break;
      case 'task-start':
        current = e.task.label;
        bar?.update(done, current);
        break;
      case 'status':
        bar?.update(done, e.text);
        break;
      case 'task-done':
        done++;
        if (tty) bar?.update(done, current);
        else io.stderr.write(`[${e.index + 1}/${e.todo}] ${e.task.label} (${e.seconds.toFixed(1)} s)\n`);
        break;
    }
  };
  const summary = await runExperiment({
    config: args.positionals[0]!,
    out,
    shard: shardText ? parseShard(shardText) : null,
    ...(optString(args, 'data-dir') ? { dataDir: optString(args, 'data-dir')! } : {}),
    ...(backend ? { backend: parseBackendName(backend) } : {}),
    onEvent,
  });
  bar?.done();
  io.stdout.write(
    `${summary.ran} task${summary.ran === 1 ? '' : 's'} run, ${summary.skipped} already finished${summary.shard ? ` (shard ${summary.shard})` : ''}, ` +
      `${summary.seconds.toFixed(1)} s; results in ${summary.out}/results.jsonl\n`,
  );
  return EXIT_OK;
}
