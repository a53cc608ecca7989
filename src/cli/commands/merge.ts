/** `qrobust merge`: combine the result directories of the shards of one experiment. */
import { type CommandDef, requireString, EXIT_OK } from '../command.js';
import { QrobustError } from '../../core/errors.js';
import { mergeRuns } from '../../experiments/merge.js';

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
  async run(args, io) {
    const out = requireString(args, 'out', 'merge');
    if (args.positionals.length === 0) throw new QrobustError('invalid_argument', 'merge: give the shard directories');
    const s = await mergeRuns({ dirs: args.positionals, out });
    if (s.dropped) io.stderr.write(`left out ${s.dropped} record${s.dropped === 1 ? '' : 's'} of an earlier config\n`);
    if (s.torn) io.stderr.write(`ignored a torn last record in ${s.torn} director${s.torn === 1 ? 'y' : 'ies'}\n`);
    io.stdout.write(`${s.records} of ${s.tasks} tasks merged into ${s.out}${s.missing ? ` (${s.missing} not finished by any shard)` : ''}\n`);
    return EXIT_OK;
  },
};
