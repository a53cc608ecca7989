/**
 * `qrobust verify`: formal verification.
 *
 * - `qrobust verify --onnx NET.onnx --vnnlib PROP.vnnlib [--timeout S] [--out CE.txt]`: one VNN-LIB property,
 *   VNN-COMP style: the first stdout line is `sat`, `unsat`, `unknown` or `timeout` (`sat`: a counterexample
 *   exists, re-checked in float64 and by onnxruntime), and `--out` receives the counterexample in VNN-COMP's
 *   format. The network is read by the model importer, as `qrobust import` reads it, and lowered like a model
 *   directory (`verify/onnx-network.ts`); the IR's inputs and outputs are the file's tensors in ONNX's C order,
 *   VNN-LIB's X_i and Y_i, so the property and the counterexample need no mapping.
 * - `qrobust verify DIR --eps E [--n N] [--method ...] [--json FILE]`: local robustness of test samples of a
 *   model directory (quantized ones in their deployed integer semantics unless `--semantics fake-quant`).
 */
import { writeFile } from 'node:fs/promises';
import { type CliIO, EXIT_OK, optNumber, optString } from '../command.js';
import type { ParsedArgs } from '../args.js';
import { parseEpsilon } from '../epsilon.js';
import { parseIndexRanges } from '../../data/index-ranges.js';
import { ProgressBar } from '../../core/progress.js';
import { parseBackendName } from '../../backend/backend.js';
import { QrobustError } from '../../core/errors.js';
import type { RequantRounding } from '../../quant/integer/fixed-point.js';
import { verifyProblemAuto } from '../../verify/auto.js';
import { irFromOnnx } from '../../verify/onnx-network.js';
import { recheckCounterexample } from '../../verify/counterexample.js';
import { onnxModelCheck } from '../../verify/onnx-check.js';
import type { RequantEncoding } from '../../verify/smt/encode-integer.js';
import { releaseZ3 } from '../../verify/smt/z3-runtime.js';
import { methodOptions, type VerifyMethod } from '../../verify/methods.js';
import { verifyModelDir, type SampleVerdict } from '../../workflows/verify-model.js';
import { formatCounterexample, readVnnlib } from '../../verify/vnnlib.js';

function sampleLine(s: SampleVerdict): string {
  return [String(s.sample).padStart(6), String(s.index).padStart(6), String(s.label).padStart(5), s.outcome.padEnd(9), s.method.padEnd(9), s.seconds.toFixed(2).padStart(8)].join('  ');
}

export async function run(args: ParsedArgs, io: CliIO): Promise<number> {
  const dir = args.positionals[0];
  const onnx = optString(args, 'onnx');
  const vnnlib = optString(args, 'vnnlib');
  const method = optString(args, 'method') as VerifyMethod;
  const timeout = optNumber(args, 'timeout')!;
  if (!(timeout > 0)) throw new QrobustError('invalid_option', `verify: --timeout must be > 0 seconds, got ${timeout}`);
  try {
    if (onnx !== undefined || vnnlib !== undefined) {
      if (dir !== undefined) throw new QrobustError('invalid_argument', 'verify: give either DIR or --onnx with --vnnlib, not both');
      if (!onnx || !vnnlib) throw new QrobustError('invalid_argument', 'verify: --onnx and --vnnlib go together');
      for (const o of ['eps', 'json', 'semantics', 'rounding', 'encoding', 'indices']) {
        if (args.options[o] !== undefined) throw new QrobustError('invalid_option', `verify: --${o} applies to a model directory, not to --onnx`);
      }
      const out = optString(args, 'out');
      let answered = false;
      try {
        const ir = await irFromOnnx(onnx);
        const problem = await readVnnlib(vnnlib);
        for (const note of problem.notes ?? []) io.stderr.write(`verify: note: ${note}\n`);
        if (problem.inputSize !== ir.inputSize || problem.outputSize !== ir.outputSize) {
          throw new QrobustError('shape_mismatch', `${vnnlib} speaks of ${problem.inputSize} inputs and ${problem.outputSize} outputs, ${onnx} has ${ir.inputSize} and ${ir.outputSize}`);
        }
        const ort = await onnxModelCheck(onnx, ir.inputSize, ir.outputSize);
        if (ort.unavailable) io.stderr.write(`verify: warning: ${ort.unavailable}; a counterexample must then hold in exact real arithmetic\n`);
        let r: { verdict: string; method: string; seconds: number; reason?: string; counterexample?: { input: Float64Array; output: Float64Array } } = await verifyProblemAuto(ir, problem, {
          timeLimit: timeout,
          seed: optNumber(args, 'seed')!,
          ...methodOptions(method),
          modelCheck: ort.check,
        });
        let rechecked = '';
        if (r.verdict === 'sat') {
          // Which re-checks ran and what each said, on the very point reported.
          const { rechecks, confirmed } = await recheckCounterexample(ir, problem.cases, r.counterexample!.input, [{ name: ort.label, check: ort.check, failures: ort.failures }]);
          for (const c of rechecks) {
            if (c.result === 'could not run') io.stderr.write(`verify: warning: the ${c.name} re-check could not run${c.reason ? ` (${c.reason})` : ''}; the counterexample rests on the other re-checks\n`);
          }
          rechecked = `; re-checked: ${rechecks.map((c) => `${c.name} ${c.result}`).join(', ')}`;
          if (!confirmed) r = { verdict: 'unknown', method: r.method, seconds: r.seconds, reason: 'the counterexample found was not confirmed by the model or by exact arithmetic' };
        }
        answered = true;
        io.stdout.write(`${r.verdict}\n`);
        io.stdout.write(`method ${r.method}, ${r.seconds.toFixed(2)} s${r.reason ? `, ${r.reason}` : ''}${rechecked}\n`);
        // VNN-COMP's result file: the verdict line, then the counterexample for sat.
        if (out) await writeFile(out, r.verdict === 'sat' && r.counterexample ? `sat\n${formatCounterexample(r.counterexample.input, r.counterexample.output)}` : `${r.verdict}\n`);
      } catch (e) {
        // VNN-COMP scripts read a verdict line whatever happened: `error` where no answer could be computed
        // (a network or property that cannot be loaded); the one-line message goes to stderr, exit code 2.
        if (!answered) {
          io.stdout.write('error\n');
          if (out) await writeFile(out, 'error\n').catch(() => undefined);
        }
        throw e;
      }
      return EXIT_OK;
    }
    if (dir === undefined) throw new QrobustError('invalid_argument', 'verify: missing DIR (a model directory), or --onnx with --vnnlib');
    const epsRaw = optString(args, 'eps');
    if (epsRaw === undefined) throw new QrobustError('invalid_argument', 'verify: --eps is required with DIR');
    const epsilon = parseEpsilon(epsRaw);
    const backend = optString(args, 'backend');
    const indicesText = optString(args, 'indices');
    const indices = indicesText === undefined ? undefined : parseIndexRanges(indicesText);
    const n = indices ? indices.length : optNumber(args, 'n')!;
    const bar = new ProgressBar(io.stderr, n, 'verify');
    let printed = false;
    const report = await verifyModelDir({
      dir,
      epsilon,
      n,
      ...(indices ? { indices } : {}),
      seed: optNumber(args, 'seed')!,
      method,
      timeout,
      semantics: optString(args, 'semantics') as 'integer' | 'fake-quant' | undefined,
      rounding: optString(args, 'rounding') as RequantRounding | undefined,
      encoding: optString(args, 'encoding') as RequantEncoding | undefined,
      dataDir: optString(args, 'data-dir'),
      backend: backend ? parseBackendName(backend) : undefined,
      onSample: (s, done, total) => {
        if (!printed) io.stdout.write(['sample', ' index', 'label', 'outcome  ', 'method   ', ' seconds'].join('  ') + '\n');
        printed = true;
        bar.update(done, `${s.outcome} (${done}/${total})`);
        io.stdout.write(sampleLine(s) + '\n');
      },
    });
    bar.done();
    const s = report.summary;
    io.stdout.write(`verified ${s.verified}  falsified ${s.falsified}  unknown ${s.unknown}  seconds ${s.seconds.toFixed(1)}\n`);
    io.stderr.write(`${report.method} on ${report.model} [${report.semantics}], L∞ ε = ${report.epsilon}, ${report.config.dataset.name} test, n = ${report.config.n}, seed ${report.config.seed}\n`);
    const json = optString(args, 'json');
    if (json) await writeFile(json, JSON.stringify(report, null, 2) + '\n');
    return EXIT_OK;
  } finally {
    await releaseZ3();
  }
}
