/**
 * `qrobust worker --queue URL`: takes tasks from the work queue and runs them with the same task runner as
 * `qrobust run`, handing each record back to the process that collects them (workers never write to the
 * experiment directory). A running task is held under a lease that BullMQ renews every half lease; a worker that
 * dies stops renewing it, and once the lease has run out another worker's stalled-job check puts the task back
 * in the queue, where any worker takes it. A task that throws is retried with backoff (attempts and backoff are
 * the enqueuer's), on whichever worker is free: a user error on one machine (a dataset missing there) may not
 * happen on another. Only a job that is no qrobust task of its config fails at once.
 *
 * The worker reads the config file and the `load` model directories at the paths the enqueuer saw (a filesystem
 * shared by the machines, as in a Slurm cluster), and the datasets from its own `--data-dir` or the usual places.
 * The models its tasks read are built in its own work directory (seeded, so every worker builds the same weights;
 * each record carries their SHA-256).
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { initBackend, type BackendName } from '../../backend/backend.js';
import { QrobustError } from '../../core/errors.js';
import { versions } from '../../core/versions.js';
import { validateExperimentConfig } from '../config.js';
import { TaskContext } from '../context.js';
import { buildModel } from '../executors/index.js';
import type { ResultRecord } from '../results-file.js';
import { runTask } from '../run-task.js';
import { acquireLock } from '../runner.js';
import { expandTasks, type ExperimentPlan } from '../tasks.js';
import { connectionOf, loadQueueLibrary, probeBroker } from './broker.js';
import { parseBrokerUrl } from './broker-url.js';
import { DEFAULT_LEASE_SECONDS, DEFAULT_QUEUE_NAME, TASK_JOB_FORMAT, type TaskJobData } from './task-job.js';

export interface QueueWorkerOptions {
  readonly queue: string;
  readonly queueName?: string;
  /** Tasks run at once in this process (default 1; they share one JavaScript thread). */
  readonly concurrency?: number;
  /** Seconds of the lease on a running task (default 120). */
  readonly leaseSeconds?: number;
  /** Where the models are built; default a fresh temporary folder, removed at the end. */
  readonly workDir?: string;
  readonly dataDir?: string;
  readonly backend?: BackendName;
  /** Stop after this many seconds without a task (default: run until stopped). */
  readonly idleSeconds?: number;
  /** Stops taking tasks; the running ones finish first. */
  readonly signal?: AbortSignal;
  readonly onEvent?: (event: WorkerEvent) => void;
}

export type WorkerEvent =
  | { readonly type: 'ready'; readonly worker: string; readonly broker: string; readonly queue: string; readonly concurrency: number; readonly leaseSeconds: number }
  | { readonly type: 'task-start'; readonly id: string; readonly label: string; readonly attempt: number }
  | { readonly type: 'task-done'; readonly id: string; readonly label: string; readonly seconds: number }
  | { readonly type: 'task-failed'; readonly id: string; readonly label: string; readonly reason: string; readonly final: boolean }
  | { readonly type: 'broker-error'; readonly message: string }
  | { readonly type: 'stopping'; readonly reason: string };

export interface QueueWorkerSummary {
  readonly worker: string;
  readonly done: number;
  readonly failed: number;
}

interface Experiment {
  readonly plan: ExperimentPlan;
  readonly ctx: TaskContext;
}

export async function runQueueWorker(o: QueueWorkerOptions): Promise<QueueWorkerSummary> {
  const broker = parseBrokerUrl(o.queue);
  const concurrency = o.concurrency ?? 1;
  const leaseSeconds = o.leaseSeconds ?? DEFAULT_LEASE_SECONDS;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new QrobustError('invalid_option', `--concurrency: expected an integer >= 1, got ${concurrency}`);
  if (!(leaseSeconds >= 1)) throw new QrobustError('invalid_option', `--lease: expected seconds >= 1, got ${leaseSeconds}`);
  if (o.idleSeconds !== undefined && !(o.idleSeconds > 0)) throw new QrobustError('invalid_option', `--idle: expected seconds > 0, got ${o.idleSeconds}`);
  const { Worker, UnrecoverableError } = await loadQueueLibrary();
  await probeBroker(broker);
  const emit = o.onEvent ?? (() => undefined);
  const name = `${hostname()}/${process.pid}`;
  const workDir = o.workDir ?? (await mkdtemp(join(tmpdir(), 'qrobust-worker-')));
  await mkdir(workDir, { recursive: true });
  const release = await acquireLock(workDir);
  try {
    const backend = await initBackend(o.backend);
    const recordVersions = { ...versions(), backend: backend.name };
    const experiments = new Map<string, Promise<Experiment>>();
    const experimentOf = (data: TaskJobData): Promise<Experiment> => {
      let e = experiments.get(data.configHash);
      if (!e) {
        e = (async () => {
          const baseDir = dirname(data.configFile);
          const plan = expandTasks(await validateExperimentConfig(data.config, { file: data.configFile, baseDir }));
          if (plan.configHash !== data.configHash) {
            throw new QrobustError('invalid_argument', `${data.configFile}: expands to another plan here (config hash ${plan.configHash.slice(0, 12)}…) than where it was queued (${data.configHash.slice(0, 12)}…); is this another qrobust version?`);
          }
          const ctx = new TaskContext({ outDir: join(workDir, data.configHash.slice(0, 16)), baseDir, tasks: plan.tasks, backend: backend.name, ...(o.dataDir ? { dataDir: o.dataDir } : {}), build: buildModel });
          return { plan, ctx };
        })();
        experiments.set(data.configHash, e);
        e.catch(() => experiments.delete(data.configHash));
      }
      return e;
    };

    let active = 0;
    let lastBusy = Date.now();
    let done = 0;
    let failed = 0;
    const worker = new Worker<TaskJobData, ResultRecord>(
      o.queueName ?? DEFAULT_QUEUE_NAME,
      async (job) => {
        const data = job.data;
        const label = data?.label ?? '?';
        active++;
        emit({ type: 'task-start', id: job.id ?? '?', label, attempt: job.attemptsMade + 1 });
        try {
          if (data?.format !== TASK_JOB_FORMAT || data.version !== 1) throw new UnrecoverableError(`job ${job.id}: not a qrobust task (format ${String(data?.format)})`);
          const { plan, ctx } = await experimentOf(data);
          const task = plan.tasks.find((t) => t.id === data.task);
          if (!task) throw new UnrecoverableError(`${data.configFile}: has no task ${data.task}`);
          return await runTask(task, ctx, { versions: recordVersions, shard: null, worker: name });
        } finally {
          active--;
          lastBusy = Date.now();
        }
      },
      {
        connection: connectionOf(broker),
        concurrency,
        lockDuration: leaseSeconds * 1000,
        stalledInterval: leaseSeconds * 1000,
        // A task whose worker died goes back to the queue this many times before it counts as failed.
        maxStalledCount: 3,
        autorun: false,
      },
    );
    worker.on('completed', (job, record) => {
      done++;
      emit({ type: 'task-done', id: job.id ?? '?', label: job.data.label, seconds: record.run.seconds });
    });
    worker.on('failed', (job, err) => {
      failed++;
      if (job) emit({ type: 'task-failed', id: job.id ?? '?', label: job.data.label, reason: err.message, final: job.finishedOn !== undefined && job.attemptsMade >= (job.opts.attempts ?? 1) });
    });
    worker.on('error', (err) => emit({ type: 'broker-error', message: err.message }));

    const stopped = new Promise<string>((resolveStop) => {
      if (o.signal?.aborted) resolveStop('asked to stop');
      o.signal?.addEventListener('abort', () => resolveStop('asked to stop'), { once: true });
      if (o.idleSeconds !== undefined) {
        const idleMs = o.idleSeconds * 1000;
        const timer = setInterval(() => {
          if (active === 0 && Date.now() - lastBusy >= idleMs) {
            clearInterval(timer);
            resolveStop(`no task for ${o.idleSeconds} s`);
          }
        }, Math.min(1000, idleMs));
        o.signal?.addEventListener('abort', () => clearInterval(timer), { once: true });
      }
    });
    emit({ type: 'ready', worker: name, broker: broker.display, queue: o.queueName ?? DEFAULT_QUEUE_NAME, concurrency, leaseSeconds });
    const running = worker.run();
    const reason = await stopped;
    emit({ type: 'stopping', reason });
    await worker.close();
    await running;
    return { worker: name, done, failed };
  } finally {
    await release();
    if (o.workDir === undefined) await rm(workDir, { recursive: true, force: true });
  }
}
