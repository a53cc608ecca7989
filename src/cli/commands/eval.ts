/** `qrobust eval`: clean accuracy of a model directory. */
import { writeFile } from 'node:fs/promises';
import { type CommandDef, optBool, optNumber, optString, EXIT_OK } from '../command.js';
import { evaluateModelDir } from '../../models/evaluate-dir.js';
import { parseBackendName } from '../../backend/backend.js';
import type { RequantRounding } from '../../quant/integer/fixed-point.js';
import { DATASET_PLACEHOLDER } from '../../data/index.js';

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
      choices: ['double', 'single', 'onnxruntime'],
    },
    { name: 'json', type: 'string', description: 'write the result as JSON to FILE', placeholder: 'FILE' },
    { name: 'data-dir', type: 'string', description: 'folder holding the dataset files', placeholder: 'DIR' },
  ],
  async run(args, io) {
    const backend = optString(args, 'backend');
    const r = await evaluateModelDir({
      dir: args.positionals[0]!,
      dataset: optString(args, 'dataset'),
      split: optString(args, 'split') as 'test' | 'train',
      n: optNumber(args, 'n'),
      seed: optNumber(args, 'seed'),
      integer: optBool(args, 'integer'),
      rounding: optString(args, 'rounding') as RequantRounding | undefined,
      dataDir: optString(args, 'data-dir'),
      backend: backend ? parseBackendName(backend) : undefined,
    });
    const json = optString(args, 'json');
    if (json) await writeFile(json, JSON.stringify(r, null, 2) + '\n');
    io.stdout.write(JSON.stringify({ accuracy: r.accuracy, n: r.n }) + '\n');
    io.stderr.write(
      `${r.dataset} ${r.split} (${r.variant}), ${r.path}: ${r.correct}/${r.n} correct, ${(r.accuracy * 100).toFixed(2)}%\n`,
    );
    return EXIT_OK;
  },
};
