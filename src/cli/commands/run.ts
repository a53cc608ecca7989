/** `qrobust run`: run an experiment config into a directory, resumable, shardable, or on a work queue. */
import type { CommandDef } from '../command.js';

export const runCommand: CommandDef = {
  name: 'run',
  summary: 'run an experiment config (models, quantized variants, attacks, metrics) into a directory; resumes where it stopped',
  positionals: [{ name: 'CONFIG', description: 'experiment config (JSON, see examples/)', required: true }],
  options: [
    { name: 'out', type: 'string', description: 'experiment directory: results.jsonl, experiment.json, models/', placeholder: 'DIR' },
    { name: 'shard', type: 'string', description: 'run only shard K of N (every N-th task); auto: the Slurm/Kubernetes array index, into DIR/shard-K-of-N; combine shards with qrobust merge', placeholder: 'K/N|auto' },
    { name: 'data-dir', type: 'string', description: 'folder holding the dataset files', placeholder: 'DIR' },
    { name: 'queue', type: 'string', description: 'queue the tasks on this Redis broker (redis://HOST:PORT) for qrobust worker processes and collect their results here (docs/scale-out.md)', placeholder: 'URL' },
    { name: 'queue-name', type: 'string', description: 'the queue on the broker (as given to the workers)', default: 'qrobust', placeholder: 'NAME' },
    { name: 'attempts', type: 'int', description: 'with --queue: attempts per task before it counts as failed', default: 3 },
    { name: 'backoff', type: 'number', description: 'with --queue: seconds before the first retry of a failed task, doubling after each', default: 5, placeholder: 'SECONDS' },
  ],
  action: () => import('../actions/run.js'),
};
