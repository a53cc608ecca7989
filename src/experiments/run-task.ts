/**
 * The one task runner: runs a task with its executor in a task context and makes its result record. `qrobust
 * run` appends the record itself; a queue worker hands it back to the process that collects the queue's results,
 * so a task gives the same record whichever way it ran (apart from `run`, which says how it went).
 */
import { EXECUTORS } from './executors/index.js';
import type { TaskContext } from './context.js';
import { RECORD_FORMAT, type ResultRecord } from './results-file.js';
import { MODEL_KINDS, type Task, type TaskConfig } from './tasks.js';

/** The seed a task's randomness comes from (recorded with its result). */
export function taskSeed(c: TaskConfig): number {
  switch (c.kind) {
    case 'data':
    case 'eval':
    case 'gradients':
      return c.data.seed;
    case 'train':
      return c.train.seed;
    case 'load':
      return 0;
    default:
      return c.seed;
  }
}

function modelName(c: TaskConfig): string {
  if (c.kind === 'train' || c.kind === 'load' || c.kind === 'quantize') return c.model;
  throw new Error(`a ${c.kind} task makes no model`);
}

export interface TaskRunInfo {
  /** Library versions and backend, recorded with the result. */
  readonly versions: Readonly<Record<string, string>>;
  /** The shard (`K/N`) that ran the task, or null. */
  readonly shard: string | null;
  /** The queue worker that ran it (`host/pid`), when it came from a work queue. */
  readonly worker?: string;
}

/** Runs one task (building the models it reads when they are missing) and returns its record. */
export async function runTask(task: Task, ctx: TaskContext, info: TaskRunInfo): Promise<ResultRecord> {
  const t0 = performance.now();
  const output = await EXECUTORS[task.config.kind](task, ctx);
  const inputs: Record<string, string> = {};
  const read = MODEL_KINDS.includes(task.config.kind) ? [...task.deps, task.id] : task.deps;
  for (const id of read) inputs[modelName(ctx.task(id).config)] = await ctx.modelSha(id);
  const seconds = (performance.now() - t0) / 1000;
  return {
    format: RECORD_FORMAT,
    version: 1,
    id: task.id,
    kind: task.config.kind,
    label: task.label,
    config: task.config,
    seed: taskSeed(task.config),
    inputs,
    versions: info.versions,
    result: output.result,
    run: {
      seconds,
      finishedAt: new Date().toISOString(),
      shard: info.shard,
      ...(info.worker ? { worker: info.worker } : {}),
      ...(output.timing ? { timing: output.timing } : {}),
    },
  };
}
