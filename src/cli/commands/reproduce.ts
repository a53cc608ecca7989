/** `qrobust reproduce`: one seed paper's experiments and the table of its numbers beside ours. */
import type { CommandDef } from '../command.js';
import { PAPER_NAMES } from '../../reproduce/papers.js';

export const reproduceCommand: CommandDef = {
  name: 'reproduce',
  summary: "run a seed paper's experiments and write the paper's numbers beside ours (paper-vs-ours.md/.csv/.json); resumable and shardable like run",
  positionals: [{ name: 'PAPER', description: PAPER_NAMES.join(' | '), required: true }],
  options: [
    { name: 'budget', type: 'string', description: 'smoke (minutes on two cores) or full (what docs/reproduce.md reports)', placeholder: 'smoke|full', default: 'smoke' },
    { name: 'out', type: 'string', description: 'experiment directory (config, results.jsonl, models/, the tables)', placeholder: 'DIR' },
    { name: 'shard', type: 'string', description: 'run only shard K of N (auto: from Slurm/Kubernetes, into DIR/shard-K-of-N); merge the shards, then run once more for the tables', placeholder: 'K/N|auto' },
    { name: 'data-dir', type: 'string', description: 'folder holding the dataset files', placeholder: 'DIR' },
  ],
  action: () => import('../actions/reproduce.js'),
};
