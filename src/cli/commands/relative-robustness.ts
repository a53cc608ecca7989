/**
 * `qrobust relative-robustness FP_DIR Q_DIR --eps E --n N`: of the test samples verified robust for the
 * full-precision model, the share also verified robust for the quantized one, and the reverse (Duncan et al.,
 * IJCNN 2020), both verified on the same seeded samples.
 */
import { writeFile } from 'node:fs/promises';
import { type CommandDef, EXIT_OK, optNumber, optString, requireString } from '../command.js';
import { ProgressBar } from '../progress.js';
import { parseBackendName } from '../../backend/backend.js';
import { QrobustError } from '../../core/errors.js';
import type { RequantRounding } from '../../quant/integer/fixed-point.js';
import { relativeRobustness } from '../../verify/relative-robustness.js';
import { releaseZ3 } from '../../verify/smt/z3-runtime.js';
import { VERIFY_METHODS, type VerifyMethod } from '../../verify/verify-dir.js';
import { parseEpsilon } from './verify.js';

function share(v: number | null): string {
  return v === null ? 'n/a (none verified)' : `${(v * 100).toFixed(1)}%`;
}

export const relativeRobustnessCommand: CommandDef = {
  name: 'relative-robustness',
  summary: 'share of samples verified robust for a full-precision model that stay verified after quantization',
  positionals: [
    { name: 'FP_DIR', description: 'full-precision model directory', required: true },
    { name: 'Q_DIR', description: 'quantized model directory', required: true },
  ],
  options: [
    { name: 'eps', type: 'string', description: 'L∞ radius in pixel units (a number or a fraction such as 2/255)', placeholder: 'E' },
    { name: 'n', type: 'int', description: 'verify a seeded subset of N test images', default: 100 },
    { name: 'seed', type: 'int', description: 'seed for the subset and the attack stage', default: 0 },
    { name: 'method', type: 'string', description: 'ibp, crown, milp, bab, smt or auto', choices: VERIFY_METHODS, placeholder: 'NAME', default: 'auto' },
    { name: 'timeout', type: 'number', description: 'seconds per sample and model', placeholder: 'S', default: 60 },
    { name: 'semantics', type: 'string', description: 'the quantized model as deployed integer program or fake-quant model (default integer)', choices: ['integer', 'fake-quant'], placeholder: 'integer|fake-quant' },
    { name: 'rounding', type: 'string', description: 'integer semantics: requantization rounding (default double)', choices: ['double', 'single', 'onnxruntime'], placeholder: 'MODE' },
    { name: 'json', type: 'string', description: 'write both reports and the shares as JSON to FILE', placeholder: 'FILE' },
    { name: 'data-dir', type: 'string', description: 'folder holding the dataset files', placeholder: 'DIR' },
  ],
  async run(args, io) {
    const [fpDir, quantizedDir] = args.positionals as [string, string];
    const epsilon = parseEpsilon(requireString(args, 'eps', 'relative-robustness'));
    const timeout = optNumber(args, 'timeout')!;
    if (!(timeout > 0)) throw new QrobustError('invalid_option', `relative-robustness: --timeout must be > 0 seconds, got ${timeout}`);
    const n = optNumber(args, 'n')!;
    const backend = optString(args, 'backend');
    const bars = { fp: new ProgressBar(io.stderr, n, 'full precision'), quantized: new ProgressBar(io.stderr, n, 'quantized') };
    try {
      const r = await relativeRobustness({
        fpDir,
        quantizedDir,
        epsilon,
        n,
        seed: optNumber(args, 'seed')!,
        method: optString(args, 'method') as VerifyMethod,
        timeout,
        semantics: optString(args, 'semantics') as 'integer' | 'fake-quant' | undefined,
        rounding: optString(args, 'rounding') as RequantRounding | undefined,
        dataDir: optString(args, 'data-dir'),
        backend: backend ? parseBackendName(backend) : undefined,
        onSample: (which, done) => {
          bars[which].update(done);
          if (done === n) bars[which].done();
        },
      });
      const c = r.counts;
      const fp = r.fp.summary;
      const q = r.quantized.summary;
      io.stdout.write(`full precision: verified ${fp.verified}  falsified ${fp.falsified}  unknown ${fp.unknown}\n`);
      io.stdout.write(`quantized [${r.quantized.semantics}]: verified ${q.verified}  falsified ${q.falsified}  unknown ${q.unknown}\n`);
      io.stdout.write(`verified for both ${c.both}, only full precision ${c.fpOnly}, only quantized ${c.quantizedOnly}, neither ${c.neither}\n`);
      io.stdout.write(`relative robustness (quantized | full precision): ${share(r.quantizedGivenFp)}\n`);
      io.stdout.write(`relative robustness (full precision | quantized): ${share(r.fpGivenQuantized)}\n`);
      const json = optString(args, 'json');
      if (json) await writeFile(json, JSON.stringify(r, null, 2) + '\n');
      return EXIT_OK;
    } finally {
      await releaseZ3();
    }
  },
};
