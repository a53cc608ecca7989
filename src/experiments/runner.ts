/**
 * The library function behind `qrobust run`: expand a config into tasks, skip those already in
 * `<out>/results.jsonl`, run the rest of this shard's share in order and append each one's record the moment
 * it finishes. Killing a run loses at most the task in flight: the next run finds every finished record (a torn
 * last line is dropped), skips those tasks and reruns the one that was cut short. A lock file keeps two runs
 * from writing to the same directory at once.
 */
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { initBackend, type BackendName } from '../backend/backend.js';
import { QrobustError } from '../core/errors.js';
import { versions } from '../core/versions.js';
import { loadExperimentConfig } from './config.js';
import { TaskContext } from './context.js';
import { buildModel } from './executors/index.js';
import {
  appendRecord,
  EXPERIMENT_FILE,
  experimentFile,
  readExperimentFile,
  readResults,
  RESULTS_FILE,
  writeFileAtomic,
} from './results-file.js';
import { runTask } from './run-task.js';
import { formatShard, shardTasks, type Shard } from './shard.js';
import { expandTasks, type Task } from './tasks.js';

export { taskSeed } from './run-task.js';

export interface RunExperimentOptions {
  /** The config file. */
  readonly config: string;
  /** The experiment directory (created if missing). */
  readonly out: string;
  readonly shard?: Shard | null;
  readonly dataDir?: string;
  readonly backend?: BackendName;
  readonly onEvent?: (event: RunEvent) => void;
}

export type RunEvent =
  | {
      readonly type: 'start';
      readonly tasks: number;
      readonly inShard: number;
      readonly finished: number;
      readonly todo: number;
      /** The directory's last run used another config (its finished tasks that still match are kept). */
      readonly configChanged: boolean;
      /** Bytes of a torn last record that were dropped. */
      readonly tornBytes: number;
    }
  | { readonly type: 'task-start'; readonly index: number; readonly todo: number; readonly task: Task }
  | { readonly type: 'status'; readonly text: string }
  | { readonly type: 'task-done'; readonly index: number; readonly todo: number; readonly task: Task; readonly seconds: number }
  /** `qrobust run --queue`: the tasks were put on the broker (`already`: on it from an earlier run). */
  | { readonly type: 'queued'; readonly queued: number; readonly already: number; readonly broker: string }
  /** A queued task that failed on every attempt (`qrobust run --queue`); it is not in results.jsonl. */
  | { readonly type: 'task-failed'; readonly task: Task; readonly attempts: number; readonly reason: string };

export interface RunSummary {
  readonly out: string;
  readonly tasks: number;
  readonly inShard: number;
  /** Tasks of the share that were already finished. */
  readonly skipped: number;
  readonly ran: number;
  readonly seconds: number;
  readonly shard: string | null;
}

export const LOCK_FILE = '.lock';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the directory's lock, or fails naming the live process that holds it. A dead holder's lock is taken over. */
export async function acquireLock(out: string): Promise<() => Promise<void>> {
  const path = join(out, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const h = await open(path, 'wx');
      await h.write(`${process.pid}\n`);
      await h.close();
      return () => rm(path, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) {
        throw new QrobustError('io_error', `${out}: another qrobust run (pid ${pid}) is writing to this directory`);
      }
      await rm(path, { force: true });
    }
  }
  throw new QrobustError('io_error', `${out}: cannot take the lock ${path}`);
}

export async function runExperiment(o: RunExperimentOptions): Promise<RunSummary> {
  const start = performance.now();
  const config = await loadExperimentConfig(o.config);
  const plan = expandTasks(config);
  const out = o.out;
  await mkdir(out, { recursive: true });
  const release = await acquireLock(out);
  try {
    const previous = await readExperimentFile(out);
    await writeFileAtomic(join(out, EXPERIMENT_FILE), JSON.stringify(experimentFile(config, plan), null, 2) + '\n');
    const resultsPath = join(out, RESULTS_FILE);
    const { records, tornBytes } = await readResults(resultsPath, { repair: true });
    const finished = new Set(records.map((r) => r.id));
    const shard = o.shard ?? null;
    const share = shardTasks(plan.tasks, shard);
    const todo = share.filter((t) => !finished.has(t.id));
    const emit = o.onEvent ?? (() => undefined);
    emit({
      type: 'start',
      tasks: plan.tasks.length,
      inShard: share.length,
      finished: share.length - todo.length,
      todo: todo.length,
      configChanged: previous !== null && previous.configHash !== plan.configHash,
      tornBytes,
    });
    if (todo.length === 0) return summary();
    const backend = await initBackend(o.backend);
    const recordVersions = { ...versions(), backend: backend.name };
    const ctx = new TaskContext({
      outDir: out,
      baseDir: dirname(resolve(o.config)),
      tasks: plan.tasks,
      backend: backend.name,
      ...(o.dataDir ? { dataDir: o.dataDir } : {}),
      build: buildModel,
      onStatus: (text) => emit({ type: 'status', text }),
    });
    for (const [index, task] of todo.entries()) {
      emit({ type: 'task-start', index, todo: todo.length, task });
      const record = await runTask(task, ctx, { versions: recordVersions, shard: shard ? formatShard(shard) : null });
      await appendRecord(resultsPath, record);
      emit({ type: 'task-done', index, todo: todo.length, task, seconds: record.run.seconds });
    }
    return summary();

    function summary(): RunSummary {
      return {
        out,
        tasks: plan.tasks.length,
        inShard: share.length,
        skipped: share.length - todo.length,
        ran: todo.length,
        seconds: (performance.now() - start) / 1000,
        shard: shard ? formatShard(shard) : null,
      };
    }
  } finally {
    await release();
  }
}
