/** `qrobust worker`: take experiment tasks from a work queue and run them, on any number of machines. */
import type { CommandDef } from '../command.js';

export const workerCommand: CommandDef = {
  name: 'worker',
  summary: 'take tasks queued by qrobust run --queue from a Redis broker and run them (any number of machines; docs/scale-out.md)',
  positionals: [],
  options: [
    { name: 'queue', type: 'string', description: 'the Redis broker, redis://HOST:PORT', placeholder: 'URL' },
    { name: 'queue-name', type: 'string', description: 'the queue on the broker (as given to qrobust run)', default: 'qrobust', placeholder: 'NAME' },
    { name: 'concurrency', type: 'int', description: 'tasks run at once by this process (they share one JavaScript thread; start one worker per core instead)', default: 1 },
    { name: 'lease', type: 'number', description: 'seconds a running task stays with this worker without renewal; a dead worker\'s task runs elsewhere after it', default: 120, placeholder: 'SECONDS' },
    { name: 'idle', type: 'number', description: 'stop after this many seconds without a task (default: run until SIGINT/SIGTERM)', placeholder: 'SECONDS' },
    { name: 'work-dir', type: 'string', description: 'where the models the tasks read are built and kept (default: a temporary folder, removed at the end)', placeholder: 'DIR' },
    { name: 'data-dir', type: 'string', description: 'folder holding the dataset files', placeholder: 'DIR' },
  ],
  action: () => import('../actions/worker.js'),
};
