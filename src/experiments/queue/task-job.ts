/**
 * What a queued task carries: the experiment's config file as the enqueuer read it (path and parsed content),
 * the hash of its task plan and the task's stable id, which is also the job's id, so a task is queued at most
 * once however often its experiment is enqueued. A worker validates the config itself, checks that it expands to
 * the same plan and runs the task by id.
 */
export const DEFAULT_QUEUE_NAME = 'qrobust';
export const TASK_JOB_FORMAT = 'qrobust-task-job';

export interface TaskJobData {
  readonly format: typeof TASK_JOB_FORMAT;
  readonly version: 1;
  /** Absolute path of the config file (paths in it are relative to its folder, on a filesystem shared with the workers). */
  readonly configFile: string;
  /** The config file's parsed content. */
  readonly config: unknown;
  /** The plan's config hash (experiment.json's `configHash`). */
  readonly configHash: string;
  readonly task: string;
  readonly label: string;
}

/** How a job is retried: attempts in all, and the first wait before a retry (doubling after each failure). */
export interface RetryPolicy {
  readonly attempts: number;
  readonly backoffSeconds: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 3, backoffSeconds: 5 };

/** The lease a worker holds on a running task: renewed every half lease while it runs; a dead worker's task is taken back after it. */
export const DEFAULT_LEASE_SECONDS = 120;
