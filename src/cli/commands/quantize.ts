/** `qrobust quantize`: post-training quantization of a model directory, one variant per weight width. */
import { writeFile } from 'node:fs/promises';
import { type CommandDef, optNumber, optString, requireString, EXIT_OK } from '../command.js';
import type { ParsedArgs } from '../args.js';
import { parseBackendName } from '../../backend/backend.js';
import { QrobustError } from '../../core/errors.js';
import { quantizeDir, type QuantizedVariant } from '../../quant/quantize-dir.js';
import {
  makeQuantSpec,
  parseBitsList,
  type CalibrationSpec,
  type FirstLastPolicy,
  type Granularity,
  type QuantScheme,
  type QuantSpec,
  type WeightKind,
} from '../../quant/spec.js';

const pct = (a: number): string => `${(a * 100).toFixed(2)}%`;

/** The specs the options describe: one per entry of --bits. */
export function specsFromArgs(args: ParsedArgs): QuantSpec[] {
  const kind = (optString(args, 'weights') ?? 'uniform') as WeightKind;
  const bitsText = optString(args, 'bits') ?? (kind === 'binary' ? '1' : kind === 'ternary' ? '2' : '8');
  const actBits = optNumber(args, 'act-bits');
  const inputBits = optNumber(args, 'input-bits') ?? (actBits !== undefined ? 8 : undefined);
  const method = optString(args, 'calibration') ?? 'minmax';
  const calibration: CalibrationSpec =
    method === 'percentile' ? { method, percentile: optNumber(args, 'percentile') ?? 99.99 } : { method: method as 'minmax' | 'mse' };
  if (method !== 'percentile' && optNumber(args, 'percentile') !== undefined) {
    throw new QrobustError('invalid_option', 'quantize: --percentile needs --calibration percentile');
  }
  return parseBitsList(bitsText).map((bits) =>
    makeQuantSpec({
      weights: {
        bits,
        kind: bits === 1 && kind === 'uniform' ? 'binary' : kind,
        scheme: optString(args, 'scheme') as QuantScheme,
        ...(optString(args, 'granularity') ? { granularity: optString(args, 'granularity') as Granularity } : {}),
      },
      activations: actBits === undefined ? null : { bits: actBits, scheme: optString(args, 'act-scheme') as QuantScheme, calibration },
      inputs: inputBits === undefined ? null : { bits: inputBits },
      firstLast: optString(args, 'first-last') as FirstLastPolicy,
    }),
  );
}

function line(v: QuantizedVariant): string {
  const parts = [v.label.padEnd(14)];
  if (v.fakeQuant) parts.push(`fake-quant ${pct(v.fakeQuant.accuracy)}`);
  if (v.integer) parts.push(`integer ${pct(v.integer.accuracy)}`, `agreement ${pct(v.agreement ?? 0)}`);
  else if (!v.integerExecutable) parts.push('integer n/a');
  parts.push(`→ ${v.dir}`);
  return parts.join('  ');
}

export const quantizeCommand: CommandDef = {
  name: 'quantize',
  summary: 'post-training quantization (1-8 bit, binary, ternary, float16), one directory per variant',
  positionals: [{ name: 'DIR', description: 'full-precision model directory (written by train)', required: true }],
  options: [
    { name: 'out', type: 'string', description: 'output directory (several widths: one subdirectory per variant, named by its label)', placeholder: 'QDIR' },
    { name: 'bits', type: 'string', description: 'weight widths, e.g. 8 or 8,4,2,1 (1 = binary) or float16 (default 8)', placeholder: 'LIST' },
    { name: 'weights', type: 'string', description: 'weight quantizer', choices: ['uniform', 'binary', 'ternary'], default: 'uniform' },
    { name: 'scheme', type: 'string', description: 'weight grid', choices: ['symmetric', 'affine'], default: 'symmetric' },
    { name: 'granularity', type: 'string', description: 'weight scales per tensor or per output channel (default per-tensor; binary: per-channel)', choices: ['per-tensor', 'per-channel'] },
    { name: 'act-bits', type: 'int', description: 'quantize activations to N bits (default: float activations)' },
    { name: 'act-scheme', type: 'string', description: 'activation grid', choices: ['affine', 'symmetric'], default: 'affine' },
    { name: 'input-bits', type: 'int', description: 'quantize the input to N bits (default 8 when --act-bits is set)' },
    { name: 'calibration', type: 'string', description: 'activation range rule', choices: ['minmax', 'percentile', 'mse'], default: 'minmax' },
    { name: 'percentile', type: 'number', description: 'percentile for --calibration percentile (default 99.99)' },
    { name: 'first-last', type: 'string', description: 'first and last weight layers', choices: ['same', '8-bit', 'keep-float'], default: 'same' },
    { name: 'calib-n', type: 'int', description: 'calibration images from the training split', default: 1000 },
    { name: 'seed', type: 'int', description: 'seed for the calibration and evaluation subsets', default: 0 },
    { name: 'eval-n', type: 'int', description: 'evaluate on a seeded subset of N test images (default all; 0 skips)' },
    { name: 'json', type: 'string', description: 'write the results as JSON to FILE', placeholder: 'FILE' },
    { name: 'data-dir', type: 'string', description: 'folder holding the dataset files', placeholder: 'DIR' },
  ],
  async run(args, io) {
    const out = requireString(args, 'out', 'quantize');
    const specs = specsFromArgs(args);
    const backend = optString(args, 'backend');
    const result = await quantizeDir({
      dir: args.positionals[0]!,
      out,
      specs,
      calibN: optNumber(args, 'calib-n'),
      seed: optNumber(args, 'seed'),
      evalN: optNumber(args, 'eval-n'),
      dataDir: optString(args, 'data-dir'),
      backend: backend ? parseBackendName(backend) : undefined,
      onVariant: (v) => io.stdout.write(line(v) + '\n'),
    });
    const parentAcc = result.parent.testAccuracy;
    if (parentAcc) io.stderr.write(`parent ${result.parent.dir}: test accuracy ${pct(parentAcc.accuracy)} (float32, ${parentAcc.n} images)\n`);
    const json = optString(args, 'json');
    if (json) await writeFile(json, JSON.stringify(result, null, 2) + '\n');
    return EXIT_OK;
  },
};
