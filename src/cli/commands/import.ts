/** `qrobust import`: a model file made elsewhere (ONNX, TFLite, Keras HDF5) as a qrobust model directory. */
import { type CommandDef, optNumber, optString, requireString, EXIT_OK } from '../command.js';
import { QrobustError } from '../../core/errors.js';
import { parseBackendName } from '../../backend/backend.js';
import { INPUT_LAYOUTS, type DeclaredPreprocessing, type InputLayout } from '../../import/types.js';
import { importModel } from '../../workflows/import-model.js';

function numberList(raw: string | undefined, flag: string): number[] | undefined {
  if (raw === undefined) return undefined;
  const values = raw.split(',').map((s) => Number(s.trim()));
  if (values.length === 0 || values.some((v) => !Number.isFinite(v))) {
    throw new QrobustError('invalid_option', `--${flag}: expected comma-separated numbers, got '${raw}'`);
  }
  return values;
}

export const importCommand: CommandDef = {
  name: 'import',
  summary: 'import an ONNX, TFLite or Keras HDF5 model as a model directory every command reads',
  positionals: [{ name: 'FILE', description: 'the model file (format detected from its content; .gz accepted)', required: true }],
  options: [
    { name: 'dataset', type: 'string', description: 'the dataset the network classifies (image shape, classes, test images)', placeholder: 'NAME' },
    { name: 'out', type: 'string', description: 'output model directory', placeholder: 'DIR' },
    {
      name: 'layout',
      type: 'string',
      description: 'how the network takes images (default: from its input shape where unambiguous)',
      choices: INPUT_LAYOUTS,
    },
    { name: 'scale', type: 'number', description: 'the network is fed pixel·S with pixels in [0,1] (255 for raw 0..255 values)', default: 1 },
    { name: 'mean', type: 'string', description: 'per-channel mean subtracted after scaling (one value or one per channel)', placeholder: 'M1,M2,M3' },
    { name: 'std', type: 'string', description: 'per-channel std divided by after subtracting the mean', placeholder: 'S1,S2,S3' },
    { name: 'arch', type: 'string', description: 'topology of a weights-only file: a zoo architecture or dense:N1,N2,...', placeholder: 'NAME' },
    { name: 'name', type: 'string', description: "a name for reports (default: the file's name)" },
    { name: 'n', type: 'int', description: 'measure clean accuracy on a seeded subset of N test images (default: all)' },
    { name: 'seed', type: 'int', description: 'seed for the subset', default: 0 },
    { name: 'data-dir', type: 'string', description: 'folder holding the dataset files', placeholder: 'DIR' },
  ],
  async run(args, io) {
    const backend = optString(args, 'backend');
    const mean = numberList(optString(args, 'mean'), 'mean');
    const std = numberList(optString(args, 'std'), 'std');
    const preprocessing: Partial<DeclaredPreprocessing> = {
      scale: optNumber(args, 'scale')!,
      ...(mean ? { mean } : {}),
      ...(std ? { std } : {}),
    };
    const r = await importModel({
      file: args.positionals[0]!,
      dataset: requireString(args, 'dataset', 'import'),
      out: requireString(args, 'out', 'import'),
      layout: optString(args, 'layout') as InputLayout | undefined,
      preprocessing,
      arch: optString(args, 'arch'),
      name: optString(args, 'name'),
      n: optNumber(args, 'n'),
      seed: optNumber(args, 'seed'),
      dataDir: optString(args, 'data-dir'),
      backend: backend ? parseBackendName(backend) : undefined,
    });
    io.stdout.write(JSON.stringify({ dir: r.dir, format: r.source.format, layout: r.source.layout, accuracy: r.testAccuracy.accuracy, n: r.testAccuracy.n }) + '\n');
    io.stderr.write(
      `${r.source.file} (${r.source.format}, ${r.source.layout}) → ${r.dir}: clean accuracy ${(r.testAccuracy.accuracy * 100).toFixed(2)}% on ${r.testAccuracy.n} ${r.meta.dataset} test images\n`,
    );
    return EXIT_OK;
  },
};
