/** `qrobust eval`: clean accuracy of a model directory. */
import { REQUANT_ROUNDINGS } from '../../quant/integer/fixed-point.js';
import type { CommandDef } from '../command.js';
import { DATASET_PLACEHOLDER } from '../../data/source-names.js';

export const evalCommand: CommandDef = {
  name: 'eval',
  summary: 'clean accuracy of a model on a dataset split',
  positionals: [{ name: 'DIR', description: 'model directory (written by train or quantize)', required: true }],
  options: [
    { name: 'dataset', type: 'string', description: "dataset (default: the model's own)", placeholder: DATASET_PLACEHOLDER },
    { name: 'split', type: 'string', description: 'split', choices: ['test', 'train'], default: 'test' },
    { name: 'n', type: 'int', description: 'evaluate on a seeded subset of N images' },
    { name: 'seed', type: 'int', description: 'seed for the subset', default: 0 },
    { name: 'integer', type: 'boolean', description: 'run the integer-exact path (quantized models only)' },
    {
      name: 'rounding',
      type: 'string',
      description: "integer requantization rounding: double (TFLite's default), single (TFLite Micro) or onnxruntime (ONNX Runtime's float requantization)",
      choices: REQUANT_ROUNDINGS,
    },
    { name: 'json', type: 'string', description: 'write the result as JSON to FILE', placeholder: 'FILE' },
    { name: 'data-dir', type: 'string', description: 'folder holding the dataset files', placeholder: 'DIR' },
  ],
  action: () => import('../actions/eval.js'),
};
