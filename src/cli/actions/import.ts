/** `qrobust import`: a model file made elsewhere (ONNX, TFLite, Keras HDF5) as a qrobust model directory. */
import { type CliIO, optNumber, optString, requireString, EXIT_OK } from '../command.js';
import type { ParsedArgs } from '../args.js';
import { QrobustError } from '../../core/errors.js';
import { parseBackendName } from '../../backend/backend.js';
import type { DeclaredPreprocessing, InputLayout } from '../../import/types.js';
import { importModel, type ImportPreset } from '../../workflows/import-model.js';

function numberList(raw: string | undefined, flag: string): number[] | undefined {
  if (raw === undefined) return undefined;
  const values = raw.split(',').map((s) => Number(s.trim()));
  if (values.length === 0 || values.some((v) => !Number.isFinite(v))) {
    throw new QrobustError('invalid_option', `--${flag}: expected comma-separated numbers, got '${raw}'`);
  }
  return values;
}

export async function run(args: ParsedArgs, io: CliIO): Promise<number> {
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
    preset: optString(args, 'preset') as ImportPreset | undefined,
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
}
