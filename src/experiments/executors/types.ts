/** What every task executor returns: the result stored in the record, and timings kept apart from it. */
import type { TaskContext } from '../context.js';
import type { Task } from '../tasks.js';

export interface TaskOutput<R = unknown> {
  readonly result: R;
  /** Wall times of parts of the task, in seconds (stored under the record's `run`, not in its result). */
  readonly timing?: Readonly<Record<string, number>>;
}

export type Executor = (task: Task, ctx: TaskContext) => Promise<TaskOutput>;

/** The config of a task of one kind (for executors, which are registered per kind). */
export type ConfigOf<K extends Task['config']['kind']> = Extract<Task['config'], { kind: K }>;

/** Narrows a task to its kind; an executor registered for another kind is a bug. */
export function configOf<K extends Task['config']['kind']>(task: Task, kind: K): ConfigOf<K> {
  if (task.config.kind !== kind) throw new Error(`task ${task.id} is a ${task.config.kind} task, not ${kind}`);
  return task.config as ConfigOf<K>;
}
