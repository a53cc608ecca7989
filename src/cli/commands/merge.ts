/** `qrobust merge`: combine the result directories of the shards of one experiment. */
import type { CommandDef } from '../command.js';

const MAX_DIRS = 16;

export const mergeCommand: CommandDef = {
  name: 'merge',
  summary: 'combine the directories of the shards of one experiment (qrobust run --shard K/N) into one',
  // The argument parser takes a fixed list of positionals, so the shard directories are slots DIR1..DIR16.
  positionals: Array.from({ length: MAX_DIRS }, (_, i) => ({
    name: `DIR${i + 1}`,
    description: i === 0 ? 'a shard directory (written by qrobust run)' : i === 1 ? `more shard directories, up to ${MAX_DIRS} in all` : '',
    required: i === 0,
  })),
  options: [{ name: 'out', type: 'string', description: 'directory for the merged results (must not hold results yet)', placeholder: 'DIR' }],
  action: () => import('../actions/merge.js'),
};
