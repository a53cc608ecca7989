/** `qrobust report`: one self-contained HTML page of an experiment's results, and every table as CSV. */
import { type CliIO, optString, requireString, EXIT_OK } from '../command.js';
import type { ParsedArgs } from '../args.js';
import { writeReport } from '../../report/report.js';

export async function run(args: ParsedArgs, io: CliIO): Promise<number> {
  const out = requireString(args, 'out', 'report');
  const csvDir = optString(args, 'csv');
  const s = await writeReport({ dir: args.positionals[0]!, out, ...(csvDir ? { csvDir } : {}) });
  io.stdout.write(`report of ${s.records}/${s.tasks} tasks written to ${s.out}${s.csvFiles.length ? `; ${s.csvFiles.length} CSV files in ${csvDir}` : ''}\n`);
  return EXIT_OK;
}
