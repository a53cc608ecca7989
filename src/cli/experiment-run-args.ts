/**
 * What `run` and `reproduce` share on the command line: the output directory and shard (`--shard auto` moves it
 * into the shard's folder), `--data-dir`, `--backend`, and the progress of the run on stderr (a bar with ETA on a
 * TTY, one line per task otherwise).
 */
import { parseBackendName, type BackendName } from '../backend/backend.js';
import { ProgressBar, progressEnabled } from '../core/progress.js';
import type { RunEvent } from '../experiments/runner.js';
import { resolveShardOption, type Shard } from '../experiments/shard.js';
import type { ParsedArgs } from './args.js';
import { optString, requireString, type CliIO } from './command.js';

export interface ExperimentRunArgs {
  readonly out: string;
  readonly shard: Shard | null;
  readonly dataDir?: string;
  readonly backend?: BackendName;
  readonly onEvent: (e: RunEvent) => void;
}

/** The options of a runner call from the arguments, with the progress printer; `done()` ends the bar. */
export function experimentRunArgs(args: ParsedArgs, io: CliIO, command: string): { options: ExperimentRunArgs; done: () => void } {
  const placed = resolveShardOption(optString(args, 'shard'), requireString(args, 'out', command));
  if (placed.source) io.stderr.write(`shard ${placed.shard!.index}/${placed.shard!.count} from ${placed.source} → ${placed.out}\n`);
  const backend = optString(args, 'backend');
  const dataDir = optString(args, 'data-dir');
  const progress = runProgress(io.stderr, command);
  return {
    options: {
      out: placed.out,
      shard: placed.shard,
      ...(dataDir ? { dataDir } : {}),
      ...(backend ? { backend: parseBackendName(backend) } : {}),
      onEvent: progress.onEvent,
    },
    done: progress.done,
  };
}

export interface RunProgress {
  readonly onEvent: (e: RunEvent) => void;
  readonly done: () => void;
}

export function runProgress(stderr: NodeJS.WritableStream & { isTTY?: boolean }, label: string): RunProgress {
  const tty = progressEnabled(stderr);
  let bar: ProgressBar | undefined;
  let done = 0;
  let current = '';
  const onEvent = (e: RunEvent): void => {
    switch (e.type) {
      case 'start':
        if (e.tornBytes > 0) stderr.write(`dropped a torn last record (${e.tornBytes} bytes) left by an interrupted run\n`);
        if (e.configChanged) stderr.write('the config changed since the last run here: finished tasks that still match are kept\n');
        stderr.write(`${e.tasks} tasks${e.inShard !== e.tasks ? `, ${e.inShard} in this shard` : ''}: ${e.finished} finished, ${e.todo} to run\n`);
        bar = new ProgressBar(stderr, e.todo, label);
        break;
      case 'task-start':
        current = e.task.label;
        bar?.update(done, current);
        break;
      case 'status':
        bar?.update(done, e.text);
        break;
      case 'queued':
        stderr.write(`${e.queued} queued on ${e.broker}${e.already ? `, ${e.already} there already` : ''}; results are collected as qrobust worker processes finish them\n`);
        break;
      case 'task-failed':
        stderr.write(`${tty ? '\n' : ''}failed after ${e.attempts} attempt${e.attempts === 1 ? '' : 's'}: ${e.task.label}: ${e.reason}\n`);
        break;
      case 'task-done':
        done++;
        if (tty) bar?.update(done, current);
        else stderr.write(`[${e.index + 1}/${e.todo}] ${e.task.label} (${e.seconds.toFixed(1)} s)\n`);
        break;
    }
  };
  return { onEvent, done: () => bar?.done() };
}
