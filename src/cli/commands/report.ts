/** `qrobust report`: one self-contained HTML page of an experiment's results, and every table as CSV. */
import type { CommandDef } from '../command.js';

export const reportCommand: CommandDef = {
  name: 'report',
  summary: "write an experiment's results as one self-contained HTML page (charts, tables, examples); tables as CSV",
  positionals: [{ name: 'DIR', description: 'experiment directory (written by qrobust run or merge)', required: true }],
  options: [
    { name: 'out', type: 'string', description: 'the HTML file to write', placeholder: 'FILE', default: 'report.html' },
    { name: 'csv', type: 'string', description: 'also write every table as CSV into this folder', placeholder: 'DIR' },
  ],
  action: () => import('../actions/report.js'),
};
