/** `qrobust worker`: take experiment tasks from a work queue and run them; stops gracefully on SIGINT/SIGTERM. */
import { parseBackendName } from '../../backend/backend.js';
import { parseBrokerUrl } from '../../experiments/queue/broker-url.js';
import { runQueueWorker, type WorkerEvent } from '../../experiments/queue/queue-worker.js';
import type { ParsedArgs } from '../args.js';
import { type CliIO, EXIT_OK, optNumber, optString, requireString } from '../command.js';

export async function run(args: ParsedArgs, io: CliIO): Promise<number> {
  const queue = requireString(args, 'queue', 'worker');
  parseBrokerUrl(queue);
  const backend = optString(args, 'backend');
  const stop = new AbortController();
  io.onInterrupt?.(() => stop.abort());
  const workDir = optString(args, 'work-dir');
  const dataDir = optString(args, 'data-dir');
  const idle = optNumber(args, 'idle');
  const summary = await runQueueWorker({
    queue,
    queueName: optString(args, 'queue-name')!,
    concurrency: optNumber(args, 'concurrency')!,
    leaseSeconds: optNumber(args, 'lease')!,
    ...(idle !== undefined ? { idleSeconds: idle } : {}),
    ...(workDir ? { workDir } : {}),
    ...(dataDir ? { dataDir } : {}),
    ...(backend ? { backend: parseBackendName(backend) } : {}),
    signal: stop.signal,
    onEvent: (e) => io.stderr.write(describe(e) + '\n'),
  });
  io.stdout.write(`worker ${summary.worker}: ${summary.done} task${summary.done === 1 ? '' : 's'} done, ${summary.failed} failed\n`);
  return EXIT_OK;
}

function describe(e: WorkerEvent): string {
  switch (e.type) {
    case 'ready':
      return `worker ${e.worker}: queue '${e.queue}' on ${e.broker}, concurrency ${e.concurrency}, lease ${e.leaseSeconds} s`;
    case 'task-start':
      return `start ${e.id} ${e.label}${e.attempt > 1 ? ` (attempt ${e.attempt})` : ''}`;
    case 'task-done':
      return `done ${e.id} ${e.label} (${e.seconds.toFixed(1)} s)`;
    case 'task-failed':
      return `failed ${e.id} ${e.label}: ${e.reason}${e.final ? '' : ' (it will be retried)'}`;
    case 'broker-error':
      return `broker: ${e.message}`;
    case 'stopping':
      return `stopping (${e.reason}); running tasks finish first`;
  }
}
