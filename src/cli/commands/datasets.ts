/** `qrobust datasets`: each dataset, split and file variant, whether its files are present and verified. */
import type { CommandDef } from '../command.js';

export const datasetsCommand: CommandDef = {
  name: 'datasets',
  summary: 'list datasets and whether their files are present and verified',
  positionals: [],
  options: [
    { name: 'data-dir', type: 'string', description: 'also search this folder first', placeholder: 'DIR' },
    { name: 'verify', type: 'boolean', negatable: true, description: 'only check presence, skip checksums' },
    { name: 'json', type: 'string', description: 'write the full status as JSON to FILE', placeholder: 'FILE' },
  ],
  action: () => import('../actions/datasets.js'),
};
