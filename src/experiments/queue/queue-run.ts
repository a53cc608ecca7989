/**
 * `qrobust run CONFIG --out DIR --queue URL`: the experiment's tasks on a work queue. This process enqueues
 * every task not yet in `DIR/results.jsonl` (the task id is the job id, so a task already queued, or running on
 * a worker, is not queued again), then collects the records as workers hand them back and appends each to
 * results.jsonl: it is the only writer of the directory, as in a local run. A record is appended before its job
 * is removed from the broker, so killing this process loses nothing: run it again and it collects what finished
 * meanwhile and waits for the rest. A task that fails on every attempt is reported and removed from the broker
 * (a later run queues it afresh).
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { QrobustError } from '../../core/errors.js';
import { loadExperimentConfig } from '../config.js';
import { appendRecord, EXPERIMENT_FILE, experimentFile, readExperimentFile, readResults, RESULTS_FILE, writeFileAtomic, type ResultRecord } from '../results-file.js';
import { acquireLock, type RunEvent, type RunSummary } from '../runner.js';
import { expandTasks, type Task } from '../tasks.js';
import { connectionOf, loadQueueLibrary, probeBroker } from './broker.js';
import { parseBrokerUrl } from './broker-url.js';
import { DEFAULT_QUEUE_NAME, DEFAULT_RETRY, TASK_JOB_FORMAT, type RetryPolicy, type TaskJobData } from './task-job.js';

export interface QueueRunOptions {
  readonly config: string;
  readonly out: string;
  /** The broker, `redis://HOST:PORT`. */
  readonly queue: string;
  readonly queueName?: string;
  readonly retry?: RetryPolicy;
  /** How often the broker is asked for finished jobs (default 500 ms). */
  readonly pollMs?: number;
  readonly onEvent?: (event: RunEvent) => void;
}

export interface QueueRunSummary extends RunSummary {
  /** Tasks that failed on every attempt, with the last reason. */
  readonly failed: readonly { readonly id: string; readonly label: string; readonly reason: string }[];
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function runExperimentOnQueue(o: QueueRunOptions): Promise<QueueRunSummary> {
  const start = performance.now();
  const broker = parseBrokerUrl(o.queue);
  const retry = o.retry ?? DEFAULT_RETRY;
  if (!Number.isInteger(retry.attempts) || retry.attempts < 1) throw new QrobustError('invalid_option', `--attempts: expected an integer >= 1, got ${retry.attempts}`);
  if (!(retry.backoffSeconds >= 0)) throw new QrobustError('invalid_option', `--backoff: expected seconds >= 0, got ${retry.backoffSeconds}`);
  const { Queue } = await loadQueueLibrary();
  await probeBroker(broker);
  const configFile = resolve(o.config);
  const config = await loadExperimentConfig(configFile);
  const raw: unknown = JSON.parse(await readFile(configFile, 'utf8'));
  const plan = expandTasks(config);
  const out = o.out;
  await mkdir(out, { recursive: true });
  const release = await acquireLock(out);
  const failed: { id: string; label: string; reason: string }[] = [];
  let ran = 0;
  let skipped = 0;
  try {
    const previous = await readExperimentFile(out);
    await writeFileAtomic(join(out, EXPERIMENT_FILE), JSON.stringify(experimentFile(config, plan), null, 2) + '\n');
    const resultsPath = join(out, RESULTS_FILE);
    const { records, tornBytes } = await readResults(resultsPath, { repair: true });
    const finished = new Set(records.map((r) => r.id));
    const todo = plan.tasks.filter((t) => !finished.has(t.id));
    skipped = plan.tasks.length - todo.length;
    const emit = o.onEvent ?? (() => undefined);
    emit({
      type: 'start',
      tasks: plan.tasks.length,
      inShard: plan.tasks.length,
      finished: skipped,
      todo: todo.length,
      configChanged: previous !== null && previous.configHash !== plan.configHash,
      tornBytes,
    });
    if (todo.length === 0) return summary();

    const queue = new Queue<TaskJobData, ResultRecord>(o.queueName ?? DEFAULT_QUEUE_NAME, { connection: connectionOf(broker) });
    queue.on('error', () => undefined); // the client reconnects by itself; a broker gone for good shows as no progress
    try {
      const pending = new Map<string, Task>(todo.map((t) => [t.id, t]));
      const jobOf = (task: Task) => ({
        name: task.config.kind,
        data: { format: TASK_JOB_FORMAT, version: 1, configFile, config: raw, configHash: plan.configHash, task: task.id, label: task.label } as const,
        opts: {
          jobId: task.id,
          attempts: retry.attempts,
          backoff: { type: 'exponential' as const, delay: retry.backoffSeconds * 1000 },
          removeOnComplete: false,
          removeOnFail: false,
        },
      });
      /**
       * Queues the pending tasks the broker does not hold. At the start a job that an earlier run left failed is
       * queued afresh; later only jobs the broker lost (flushed, removed by hand) are.
       */
      const enqueueMissing = async (fresh: boolean): Promise<number> => {
        const missing: Task[] = [];
        for (const task of pending.values()) {
          const job = await queue.getJob(task.id);
          if (job && fresh && (await job.getState()) === 'failed') await job.remove();
          else if (job) continue;
          missing.push(task);
        }
        if (missing.length > 0) await queue.addBulk(missing.map(jobOf));
        return missing.length;
      };
      const queued = await enqueueMissing(true);
      emit({ type: 'queued', queued, already: pending.size - queued, broker: broker.display });
      let index = 0;
      let polls = 0;
      while (pending.size > 0) {
        for (const job of await queue.getJobs(['completed'])) {
          const task = job.id !== undefined ? pending.get(job.id) : undefined;
          if (!task) {
            // Appended by an earlier run that was stopped before it removed the job.
            if (job.id !== undefined && finished.has(job.id) && job.data?.configHash === plan.configHash) await job.remove();
            continue;
          }
          const record = job.returnvalue;
          if (!record || record.id !== task.id) throw new Error(`job ${job.id}: the worker returned no record of task ${task.id}`);
          await appendRecord(resultsPath, record);
          await job.remove();
          pending.delete(task.id);
          ran++;
          emit({ type: 'task-done', index: index++, todo: todo.length, task, seconds: record.run.seconds });
        }
        for (const job of await queue.getJobs(['failed'])) {
          const task = job.id !== undefined ? pending.get(job.id) : undefined;
          if (!task) continue;
          failed.push({ id: task.id, label: task.label, reason: job.failedReason });
          await job.remove();
          pending.delete(task.id);
          emit({ type: 'task-failed', task, attempts: job.attemptsMade, reason: job.failedReason });
        }
        if (pending.size === 0) break;
        // Now and then, queue again what the broker lost (flushed, or removed by hand).
        if (++polls % 20 === 0) await enqueueMissing(false);
        const c = await queue.getJobCounts('active', 'waiting', 'delayed', 'prioritized');
        emit({ type: 'status', text: `${c['active'] ?? 0} running, ${(c['waiting'] ?? 0) + (c['prioritized'] ?? 0)} waiting, ${c['delayed'] ?? 0} to retry` });
        await sleep(o.pollMs ?? 500);
      }
    } finally {
      await queue.close();
    }
    return summary();
  } finally {
    await release();
  }

  function summary(): QueueRunSummary {
    return { out, tasks: plan.tasks.length, inShard: plan.tasks.length, skipped, ran, seconds: (performance.now() - start) / 1000, shard: null, failed };
  }
}
