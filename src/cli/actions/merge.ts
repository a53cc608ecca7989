/** `qrobust merge`: combine the result directories of the shards of one experiment. */
import { type CliIO, requireString, EXIT_OK } from '../command.js';
import type { ParsedArgs } from '../args.js';
import { QrobustError } from '../../core/errors.js';
import { mergeRuns } from '../../experiments/merge.js';

export async function run(args: ParsedArgs, io: CliIO): Promise<number> {
  const out = requireString(args, 'out', 'merge');
  if (args.positionals.length === 0) throw new QrobustError('invalid_argument', 'merge: give the shard directories');
  const s = await mergeRuns({ dirs: args.positionals, out });
  if (s.dropped) io.stderr.write(`left out ${s.dropped} record${s.dropped === 1 ? '' : 's'} of an earlier config\n`);
  if (s.torn) io.stderr.write(`ignored a torn last record in ${s.torn} director${s.torn === 1 ? 'y' : 'ies'}\n`);
  io.stdout.write(`${s.records} of ${s.tasks} tasks merged into ${s.out}${s.missing ? ` (${s.missing} not finished by any shard)` : ''}\n`);
  return EXIT_OK;
}
