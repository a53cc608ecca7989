/**
 * `qrobust relative-robustness FP_DIR Q_DIR --eps E --n N`: of the test samples verified robust for the
 * full-precision model, the share also verified robust for the quantized one, and the reverse (Duncan et al.,
 * IJCNN 2020), both verified on the same seeded samples.
 */
import { writeFile } from 'node:fs/promises';
import { type CliIO, EXIT_OK, optNumber, optString, requireString } from '../command.js';
import type { ParsedArgs } from '../args.js';
import { parseEpsilon } from '../epsilon.js';
import { ProgressBar } from '../../core/progress.js';
import { parseBackendName } from '../../backend/backend.js';
import { QrobustError } from '../../core/errors.js';
import type { RequantRounding } from '../../quant/integer/fixed-point.js';
import { relativeRobustness } from '../../workflows/relative-robustness.js';
import { releaseZ3 } from '../../verify/smt/z3-runtime.js';
import type { VerifyMethod } from '../../verify/methods.js';

function share(v: number | null): string {
  return v === null ? 'n/a (none verified)' : `${(v * 100).toFixed(1)}%`;
}

export async function run(args: ParsedArgs, io: CliIO): Promise<number> {
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
}
