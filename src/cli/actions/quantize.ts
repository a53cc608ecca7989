/**
 * `qrobust quantize`: quantization of a model directory, one variant per weight width: post-training, or with
 * `--qat-epochs N` fine-tuned by quantization-aware training from the PTQ starting point; with `--from-scratch
 * --arch A --dataset D` (and no directory) the architecture is trained quantized from its initialisation.
 */
import { writeFile } from 'node:fs/promises';
import { type CliIO, optBool, optNumber, optString, requireString, EXIT_OK } from '../command.js';
import { TrainingProgress } from '../training-progress.js';
import type { ParsedArgs } from '../args.js';
import { parseBackendName } from '../../backend/backend.js';
import { QrobustError } from '../../core/errors.js';
import { quantizeDir, type QatDirOptions, type QuantizedVariant } from '../../workflows/quantize-model.js';
import type { ActivationRangeMode, WeightRangeRule } from '../../quant/qat.js';
import {
  makeQuantSpec,
  parseBitsList,
  type CalibrationSpec,
  type FirstLastPolicy,
  type Granularity,
  type QuantScheme,
  type QuantSpec,
  type ActivationKind,
  type WeightKind,
} from '../../quant/spec.js';

const pct = (a: number): string => `${(a * 100).toFixed(2)}%`;

/** The specs the options describe: one per entry of --bits. */
export function specsFromArgs(args: ParsedArgs): QuantSpec[] {
  const kind = (optString(args, 'weights') ?? 'uniform') as WeightKind;
  const bitsText = optString(args, 'bits') ?? (kind === 'binary' ? '1' : kind === 'ternary' || kind === 'dorefa' ? '2' : '8');
  const actBits = optNumber(args, 'act-bits');
  const inputBits = optNumber(args, 'input-bits') ?? (actBits !== undefined ? 8 : undefined);
  const method = optString(args, 'calibration') ?? 'minmax';
  const calibration: CalibrationSpec =
    method === 'percentile' ? { method, percentile: optNumber(args, 'percentile') ?? 99.99 } : { method: method as 'minmax' | 'mse' };
  if (actBits === undefined && optString(args, 'act-kind') !== undefined) {
    throw new QrobustError('invalid_option', 'quantize: --act-kind needs --act-bits');
  }
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
      activations:
        actBits === undefined
          ? null
          : { kind: (optString(args, 'act-kind') ?? 'uniform') as ActivationKind, bits: actBits, scheme: optString(args, 'act-scheme') as QuantScheme, calibration },
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
  if (v.qat) {
    const from = v.qat.fromScratch ? 'from scratch' : v.ptq ? `from PTQ ${pct(v.ptq.accuracy)}` : 'from PTQ';
    parts.push(`(QAT ${v.qat.epochs} epoch${v.qat.epochs === 1 ? '' : 's'} ${from}, ${v.qat.seconds.toFixed(1)} s)`);
  }
  parts.push(`→ ${v.dir}`);
  return parts.join('  ');
}

const QAT_ONLY = ['qat-lr', 'qat-batch-size', 'qat-n', 'qat-schedule', 'act-ranges', 'weight-range', 'latent-clip', 'augment'];

/** The QAT options, or undefined without --qat-epochs (then no QAT-only option may be given). */
function qatFromArgs(args: ParsedArgs, io: { stderr: NodeJS.WritableStream & { isTTY?: boolean } }): QatDirOptions | undefined {
  const epochs = optNumber(args, 'qat-epochs');
  if (epochs === undefined || epochs === 0) {
    const stray = QAT_ONLY.find((n) => args.options[n] !== undefined);
    if (stray) throw new QrobustError('invalid_option', `quantize: --${stray} needs --qat-epochs`);
    return undefined;
  }
  if (epochs < 0) throw new QrobustError('invalid_option', `quantize: --qat-epochs must be a positive integer, got ${epochs}`);
  const clip = optNumber(args, 'latent-clip');
  const progress = new TrainingProgress(io.stderr, 'qat');
  return {
    epochs,
    learningRate: optNumber(args, 'qat-lr'),
    batchSize: optNumber(args, 'qat-batch-size'),
    n: optNumber(args, 'qat-n'),
    schedule: optString(args, 'qat-schedule') as 'cosine' | 'constant' | undefined,
    augmentation: optString(args, 'augment') as 'none' | 'crop-flip' | undefined,
    activationRanges: optString(args, 'act-ranges') as ActivationRangeMode | undefined,
    weightRange: optString(args, 'weight-range') as WeightRangeRule | undefined,
    ...(clip !== undefined ? { latentClip: clip === 0 ? null : clip } : {}),
    onStart: (info) => {
      io.stderr.write(
        `QAT ${info.label}${info.fromScratch ? ' from scratch' : ''} on ${info.dataset} (${info.trainCount} images, ${info.epochs} epoch${info.epochs === 1 ? '' : 's'})\n`,
      );
      progress.start(info.epochs, info.stepsPerEpoch);
    },
    onStep: progress.onStep,
    onEpoch: progress.onEpoch,
  };
}

export async function run(args: ParsedArgs, io: CliIO): Promise<number> {
  const out = requireString(args, 'out', 'quantize');
  const scratch = optBool(args, 'from-scratch');
  const dir = args.positionals[0];
  if (scratch && dir !== undefined) throw new QrobustError('invalid_argument', 'quantize: --from-scratch trains a new model; leave out DIR');
  if (!scratch && dir === undefined) throw new QrobustError('invalid_argument', 'quantize: missing DIR (full-precision model directory), or use --from-scratch');
  for (const name of ['arch', 'dataset']) {
    if (!scratch && args.options[name] !== undefined) throw new QrobustError('invalid_option', `quantize: --${name} is only for --from-scratch`);
  }
  const specs = specsFromArgs(args);
  const qat = qatFromArgs(args, io);
  if (scratch && !qat) throw new QrobustError('invalid_option', 'quantize: --from-scratch needs --qat-epochs N (N >= 1)');
  const backend = optString(args, 'backend');
  const result = await quantizeDir({
    ...(scratch ? { fromScratch: { arch: requireString(args, 'arch', 'quantize --from-scratch'), dataset: requireString(args, 'dataset', 'quantize --from-scratch') } } : { dir: dir! }),
    out,
    specs,
    ...(qat ? { qat } : {}),
    calibN: optNumber(args, 'calib-n'),
    seed: optNumber(args, 'seed'),
    evalN: optNumber(args, 'eval-n'),
    dataDir: optString(args, 'data-dir'),
    backend: backend ? parseBackendName(backend) : undefined,
    onVariant: (v) => io.stdout.write(line(v) + '\n'),
  });
  const parentAcc = result.parent?.testAccuracy;
  if (parentAcc) io.stderr.write(`parent ${result.parent!.dir}: test accuracy ${pct(parentAcc.accuracy)} (float32, ${parentAcc.n} images)\n`);
  const json = optString(args, 'json');
  if (json) await writeFile(json, JSON.stringify(result, null, 2) + '\n');
  return EXIT_OK;
}
