/** The progress of an experiment run on stderr (a bar with ETA on a TTY, one line per task otherwise): `run` and `reproduce`. */
import { ProgressBar, progressEnabled } from '../core/progress.js';
import type { RunEvent } from '../experiments/runner.js';

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
      case 'task-done':
        done++;
        if (tty) bar?.update(done, current);
        else stderr.write(`[${e.index + 1}/${e.todo}] ${e.task.label} (${e.seconds.toFixed(1)} s)\n`);
        break;
    }
  };
  return { onEvent, done: () => bar?.done() };
}
