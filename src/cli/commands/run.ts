/** `qrobust run`: run an experiment config into a directory, resumable and shardable. */
import type { CommandDef } from '../command.js';

export const runCommand: CommandDef = {
  name: 'run',
  summary: 'run an experiment config (models, quantized variants, attacks, metrics) into a directory; resumes where it stopped',
  positionals: [{ name: 'CONFIG', description: 'experiment config (JSON, see examples/)', required: true }],
  options: [
    { name: 'out', type: 'string', description: 'experiment directory: results.jsonl, experiment.json, models/', placeholder: 'DIR' },
    { name: 'shard', type: 'string', description: 'run only shard K of N (every N-th task); auto: the Slurm/Kubernetes array index, into DIR/shard-K-of-N; combine shards with qrobust merge', placeholder: 'K/N|auto' },
    { name: 'data-dir', type: 'string', description: 'folder holding the dataset files', placeholder: 'DIR' },
  ],
  action: () => import('../actions/run.js'),
};
