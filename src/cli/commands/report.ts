/** `qrobust report`: one self-contained HTML page of an experiment's results, and every table as CSV. */
import { type CommandDef, optString, requireString, EXIT_OK } from '../command.js';
import { writeReport } from '../../report/report.js';

export const reportCommand: CommandDef = {
  name: 'report',
  summary: "write an experiment's results as one self-contained HTML page (charts, tables, examples); tables as CSV",
  positionals: [{ name: 'DIR', description: 'experiment directory (written by qrobust run or merge)', required: true }],
  options: [
    { name: 'out', type: 'string', description: 'the HTML file to write', placeholder: 'FILE', default: 'report.html' },
    { name: 'csv', type: 'string', description: 'also write every table as CSV into this folder', placeholder: 'DIR' },
  ],
  async run(args, io) {
    const out = requireString(args, 'out', 'report');
    const csvDir = optString(args, 'csv');
    const s = await writeReport({ dir: args.positionals[0]!, out, ...(csvDir ? { csvDir } : {}) });
    io.stdout.write(`report of ${s.records}/${s.tasks} tasks written to ${s.out}${s.csvFiles.length ? `; ${s.csvFiles.length} CSV files in ${csvDir}` : ''}\n`);
    return EXIT_OK;
  },
};
